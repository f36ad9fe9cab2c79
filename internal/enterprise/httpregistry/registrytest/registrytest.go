// Package registrytest is a loopback business registry service for
// tests of the http enterprise registry: it checks request signatures,
// answers signed, deduplicates request ids, and can misbehave on demand
// (internal/httpsig/httpsigtest does the signed part).
package registrytest

import (
	"encoding/json"
	"sync"
	"testing"

	"unid/internal/enterprise"
	"unid/internal/httpsig/httpsigtest"
)

// Modes of the next answers (Next).
const (
	Normal    = httpsigtest.Normal
	Slow      = httpsigtest.Slow      // answers after 300ms
	Error5xx  = httpsigtest.Error5xx  // answers 503
	Unsigned  = httpsigtest.Unsigned  // answers without a signature
	Forged    = httpsigtest.Forged    // answers signed with another secret
	OtherID   = httpsigtest.OtherID   // answers to another request id
	Malformed = httpsigtest.Malformed // answers not JSON
)

// Service is the loopback registry.
type Service struct {
	*httpsigtest.Service

	mu      sync.Mutex
	records map[string]enterprise.Record
	lookups map[string]int // distinct requests by operation
}

// Start serves records until the test ends.
func Start(t testing.TB, records ...enterprise.Record) *Service {
	s := &Service{records: map[string]enterprise.Record{}, lookups: map[string]int{}}
	for _, r := range records {
		s.records[r.USCC] = r
	}
	s.Service = httpsigtest.Start(t, []byte("registry-test-secret"), s.answer)
	return s
}

// Set puts or replaces a record.
func (s *Service) Set(r enterprise.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[r.USCC] = r
}

// Lookups returns how many distinct requests op got.
func (s *Service) Lookups(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookups[op]
}

func (s *Service) answer(op, id string, body []byte) ([]byte, bool) {
	var req struct {
		USCC string `json:"uscc"`
	}
	_ = json.Unmarshal(body, &req)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lookups[op]++
	rec, found := s.records[req.USCC]
	a := map[string]any{"id": id, "found": found}
	if found {
		a["uscc"], a["name"], a["legal_rep_name"], a["legal_rep_id_number"], a["status"] = rec.USCC, rec.Name, rec.LegalRepName, rec.LegalRepID, rec.Status
	}
	answer, _ := json.Marshal(a)
	return answer, true
}
