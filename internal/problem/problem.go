// Package problem is the one error type that crosses from domain code to the
// protocols. A Problem carries a Kind (which the HTTP layer maps to a status
// in exactly one place), a stable machine Code (which is also the key of the
// user-facing message in the catalog), and optional per-field codes. What is
// shown to users comes from the code; what is logged comes from Err.
package problem

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies a problem for the protocol layer.
type Kind int

// Kinds of problem.
const (
	Internal     Kind = iota // a fault of unid; details are logged, not shown
	Invalid                  // the request is malformed or a field breaks a rule
	Unauthorized             // credentials are missing or wrong
	Forbidden                // the caller may not do this
	NotFound                 // the thing asked for does not exist
	Conflict                 // the request collides with existing data
	Gone                     // a flow, code or captcha expired: start again
	TooMany                  // a rate limit or lockout; RetryAfter says how long
	TooLarge                 // the request body is too large
	Unavailable              // a dependency (SMS gateway, store) is down
)

// CodeBusy is the code of an Unavailable problem that sheds a burst: more
// requests at once than unid can do within its bound (account.Hasher's
// Admit). Nothing of the request was spent; it may be sent again after
// RetryAfter.
const CodeBusy = "busy"

// Problem is a domain error with a kind, a machine code and field codes.
type Problem struct {
	Kind       Kind
	Code       string            // stable machine code, e.g. "password_too_short"
	Fields     map[string]string // field name → machine code of what is wrong with it
	RetryAfter time.Duration     // for TooMany: how long to wait
	Err        error             // underlying cause, for logs only
}

func (p *Problem) Error() string {
	s := "problem: " + p.Code
	if len(p.Fields) > 0 {
		s += fmt.Sprint(" ", p.Fields)
	}
	if p.Err != nil {
		s += ": " + p.Err.Error()
	}
	return s
}

func (p *Problem) Unwrap() error { return p.Err }

// New returns a problem of kind k with code.
func New(k Kind, code string) *Problem { return &Problem{Kind: k, Code: code} }

// Field returns an Invalid problem about one field; the field's code is also
// the problem's code.
func Field(field, code string) *Problem {
	return &Problem{Kind: Invalid, Code: code, Fields: map[string]string{field: code}}
}

// Wrap returns an Internal problem that keeps err for the logs.
func Wrap(err error) *Problem { return &Problem{Kind: Internal, Code: "internal", Err: err} }

// As returns err as a *Problem, turning any other error into an Internal one.
func As(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	return Wrap(err)
}

// Fields collects per-field problems so that a form reports all of them at
// once instead of one per submit.
type FieldSet map[string]string

// Add records code for field unless the field already has a problem.
func (f FieldSet) Add(field string, err error) {
	if err == nil {
		return
	}
	if _, ok := f[field]; ok {
		return
	}
	code := "invalid"
	var p *Problem
	if errors.As(err, &p) {
		code = p.Code
	}
	f[field] = code
}

// Err returns nil when no field has a problem, or one Invalid problem whose
// code is "invalid_fields".
func (f FieldSet) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Problem{Kind: Invalid, Code: "invalid_fields", Fields: f}
}
