// Package flow holds what the self-service flows share. Each flow lives in its
// own package (registration, login; recovery and settings follow) as a
// service with one entry point per step. A flow never speaks HTTP: the JSON
// API and the pages are adapters that turn requests into flow calls and
// *problem.Problem answers into responses.
//
// # Flow records
//
// State that must outlive one request lives in the store, so that every
// step can be served by any unid instance. Short-lived secrets — captchas
// and SMS codes — are challenges (the captcha and smscode services); a run
// of a multi-step flow is a flow record (store.Flow), read and written
// through Start, Load and Update here, which keep the flow's data as typed
// JSON, so that no package marshals it by hand.
//
// The package that owns a flow names its kind and its states as constants
// and draws the states in its package doc, one arrow per step:
//
//	pending ──signed in──▶ done
//	   │
//	   └── ExpiresAt passed, or the record is missing or done ──▶ 410 flow_expired
//
// A flow that is missing, expired, of another kind, or no longer in a state
// the step accepts answers Expired: problem.Gone with code "flow_expired"
// (HTTP 410, "this step has expired, please start again"). A step never
// tells these cases apart, so an ID reveals nothing about other flows.
package flow

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"unid/internal/problem"
	"unid/internal/store"
)

// Client is who is on the other end of a request, for rate limits and audit.
type Client struct {
	IP        string
	UserAgent string
}

// NewClient bounds the user agent so that a huge header cannot bloat the
// audit log or the session table.
func NewClient(ip, userAgent string) Client {
	const max = 256
	if len(userAgent) > max {
		userAgent = strings.ToValidUTF8(userAgent[:max], "")
	}
	return Client{IP: ip, UserAgent: userAgent}
}

// CodeExpired is the problem code, and message key, of Expired.
const CodeExpired = "flow_expired"

// Expired is the answer to a step of a flow that cannot go on: start again.
func Expired() *problem.Problem { return problem.New(problem.Gone, CodeExpired) }

// NewID returns a random flow ID: 26 characters of base32 (A–Z, 2–7),
// 130 bits.
func NewID() string { return rand.Text() }

// Start stores f as a new flow holding data. The caller sets Kind, State,
// Subject, IssuedAt and ExpiresAt; Start fills in a new ID when f has none,
// and UpdatedAt (as IssuedAt).
func Start[T any](ctx context.Context, fs store.Flows, f store.Flow, data T) (store.Flow, error) {
	if f.ID == "" {
		f.ID = NewID()
	}
	f.UpdatedAt = f.IssuedAt
	if err := Save(&f, data); err != nil {
		return store.Flow{}, err
	}
	if err := fs.CreateFlow(ctx, f); err != nil {
		return store.Flow{}, fmt.Errorf("flow: start %s: %w", f.Kind, err)
	}
	return f, nil
}

// Load returns the flow of kind with the ID and its data, or Expired when
// it is missing, of another kind, or no longer valid at now.
func Load[T any](ctx context.Context, fs store.Flows, kind, id string, now time.Time) (store.Flow, T, error) {
	var data T
	f, err := fs.GetFlow(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Flow{}, data, Expired()
	}
	if err != nil {
		return store.Flow{}, data, fmt.Errorf("flow: load %s: %w", kind, err)
	}
	if f.Kind != kind || !f.Valid(now) {
		return store.Flow{}, data, Expired()
	}
	data, err = Decode[T](f)
	if err != nil {
		return store.Flow{}, data, err
	}
	return f, data, nil
}

// Update changes the flow of kind with the ID in one transaction: fn gets
// the record and its decoded data, changes them (its State, say), and may
// refuse with an error, which aborts the write and is returned unchanged.
// A flow missing, of another kind or no longer valid at now gives Expired
// without calling fn. UpdatedAt is set to now; the ID, Kind and IssuedAt
// cannot change. fn runs inside the store's write transaction: it must not
// write through the store (with SQLite's single write connection that would
// wait forever).
func Update[T any](ctx context.Context, fs store.Flows, kind, id string, now time.Time, fn func(f *store.Flow, data *T) error) (store.Flow, T, error) {
	var data T
	var refused error // an error of this package or of fn, returned as it is
	f, err := fs.UpdateFlow(ctx, id, func(f store.Flow) (store.Flow, error) {
		if f.Kind != kind || !f.Valid(now) {
			refused = Expired()
			return f, refused
		}
		d, err := Decode[T](f)
		if err == nil {
			err = fn(&f, &d)
		}
		if err == nil {
			f.Kind, f.UpdatedAt = kind, now
			err = Save(&f, d)
		}
		if err != nil {
			refused = err
			return f, err
		}
		data = d
		return f, nil
	})
	switch {
	case err == nil:
		return f, data, nil
	case refused != nil && err == refused:
		return store.Flow{}, data, err
	case errors.Is(err, store.ErrNotFound):
		return store.Flow{}, data, Expired()
	default:
		return store.Flow{}, data, fmt.Errorf("flow: update %s: %w", kind, err)
	}
}

// Save encodes data as the flow's Data.
func Save[T any](f *store.Flow, data T) error {
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("flow: encode %s data: %w", f.Kind, err)
	}
	f.Data = b
	return nil
}

// Decode returns the flow's Data decoded; no data decodes as the zero T.
func Decode[T any](f store.Flow) (T, error) {
	var data T
	if len(f.Data) == 0 {
		return data, nil
	}
	if err := json.Unmarshal(f.Data, &data); err != nil {
		return data, fmt.Errorf("flow: decode %s data: %w", f.Kind, err)
	}
	return data, nil
}
