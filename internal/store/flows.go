package store

import (
	"context"
	"time"
)

// Flow is one run of a multi-step flow (a CAS sign-in waiting for the login
// page; registration, recovery and the like as they move onto it): state
// that must outlive one request, be served by any unid instance, and expire.
// The package that owns the flow names its Kind and States as constants and
// keeps what else it needs in Data, its own JSON (see internal/flow).
type Flow struct {
	ID        string    // random, at least 128 bits, URL-safe; the primary key
	Kind      string    // which flow, e.g. "cas_login"; a constant of the owning package
	State     string    // where the flow stands; a constant of the owning package
	Subject   string    // the account the flow is about, or "" while it is not known
	Data      []byte    // the owning package's JSON; opaque to the store
	IssuedAt  time.Time // when the flow started
	ExpiresAt time.Time // when it can no longer be continued
	UpdatedAt time.Time // when it last changed (IssuedAt until then)
}

// Valid reports whether the flow can still be continued at now.
func (f Flow) Valid(now time.Time) bool { return now.Before(f.ExpiresAt) }

// Flows stores flow records. Get returns a flow expired or not: callers
// check Valid, and the janitor deletes expired flows.
type Flows interface {
	// CreateFlow stores a new flow; an ID in use gives a *ConflictError
	// with Field "id".
	CreateFlow(ctx context.Context, f Flow) error
	GetFlow(ctx context.Context, id string) (Flow, error)
	// UpdateFlow changes one flow inside a transaction, so that concurrent
	// steps of one flow take turns. The ID and IssuedAt cannot change.
	UpdateFlow(ctx context.Context, id string, fn func(Flow) (Flow, error)) (Flow, error)
	DeleteFlow(ctx context.Context, id string) error
	// DeleteExpiredFlows removes the flows that are no longer valid at now.
	DeleteExpiredFlows(ctx context.Context, now time.Time) (int64, error)
}
