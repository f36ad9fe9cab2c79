// Package sandbox is the offline enterprise registry for development and
// tests (enterprise-registry.provider: sandbox). It answers from
// enterprises.json, a fixture of fictitious enterprises shipped with unid
// and marked TEST DATA, whose legal representatives are the real-name
// sandbox's fictitious people (张三 11010519491231002X …): one of them
// is deregistered, one revoked, and one's legal representative changed
// from 张三 to 李四. SetLegalRep changes a legal representative, as a
// registry does when an enterprise files the change.
package sandbox

import (
	"context"
	_ "embed"
	"encoding/json"
	"sync"

	"unid/internal/enterprise"
)

//go:embed enterprises.json
var fixture []byte

// Enterprise is a fictitious enterprise of the fixture.
type Enterprise struct {
	enterprise.Record
	FormerLegalRep *struct {
		Name     string `json:"name"`
		IDNumber string `json:"id_number"`
	} `json:"former_legal_rep,omitempty"`
}

// Enterprises returns the fixture: fictitious test data.
func Enterprises() []Enterprise {
	var doc struct{ Enterprises []Enterprise }
	if err := json.Unmarshal(fixture, &doc); err != nil {
		panic("sandbox: enterprises.json: " + err.Error()) // embedded; a test parses it
	}
	return doc.Enterprises
}

// Registry is the sandbox registry.
type Registry struct {
	mu  sync.Mutex
	all map[string]enterprise.Record
}

var _ enterprise.Registry = (*Registry)(nil)

// New returns the sandbox registry with the fixture.
func New() *Registry {
	r := &Registry{all: map[string]enterprise.Record{}}
	for _, e := range Enterprises() {
		r.all[e.USCC] = e.Record
	}
	return r
}

// Name is "sandbox".
func (r *Registry) Name() string { return "sandbox" }

// Lookup answers from the fixture.
func (r *Registry) Lookup(ctx context.Context, uscc string) (enterprise.Record, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.all[uscc]
	return e, ok, nil
}

// Put records an enterprise, as the registry does for a new one (or
// after a gap in its data).
func (r *Registry) Put(e enterprise.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all[e.USCC] = e
}

// SetLegalRep changes an enterprise's legal representative, as the
// registry records a change; an unknown enterprise is ignored.
func (r *Registry) SetLegalRep(uscc, name, idNumber string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.all[uscc]; ok {
		e.LegalRepName, e.LegalRepID = name, idNumber
		r.all[uscc] = e
	}
}
