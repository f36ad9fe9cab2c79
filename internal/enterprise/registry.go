package enterprise

import (
	"context"
	"errors"

	"unid/internal/problem"
)

// Record is what the enterprise registry (企业登记信息) says of an enterprise.
type Record struct {
	USCC         string `json:"uscc"`
	Name         string `json:"name"`
	LegalRepName string `json:"legal_rep_name"`
	LegalRepID   string `json:"legal_rep_id_number"`
	Status       string `json:"status"` // StatusActive, StatusRevoked, StatusDeregistered
}

// Registry is an enterprise registry service. A failure to reach it is a
// *problem.Problem of kind Unavailable with code "registry_unavailable"
// (Unavailable).
type Registry interface {
	Name() string
	// Lookup returns the record of a credit code; found is false when the
	// registry does not know it.
	Lookup(ctx context.Context, uscc string) (r Record, found bool, err error)
}

// Unavailable is the answer when the registry cannot be reached.
func Unavailable(err error) error {
	return &problem.Problem{Kind: problem.Unavailable, Code: "registry_unavailable", Err: err}
}

// None is the registry of a platform without one (enterprise-registry
// provider none): every call answers registry_unavailable.
type None struct{}

var errNone = errors.New("enterprise: no registry is configured")

func (None) Name() string { return "none" }
func (None) Lookup(context.Context, string) (Record, bool, error) {
	return Record{}, false, Unavailable(errNone)
}
