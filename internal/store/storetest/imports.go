package storetest

import (
	"context"
	"testing"

	"unid/internal/store"
)

// testImports checks ImportUsers: the users and their events together, or
// nothing at all.
func testImports(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)
	events := func(n int) []store.AuditEvent {
		out := make([]store.AuditEvent, n)
		for i := range out {
			out[i] = newEvent(i + 1)
		}
		return out
	}
	listed := func(t *testing.T) []store.AuditEvent {
		t.Helper()
		all, err := s.ListAudit(ctx, 0, 100)
		if err != nil {
			t.Fatalf("ListAudit: %v", err)
		}
		return all
	}

	a, b, c := newUser(), newUser(), newUser()
	if err := s.ImportUsers(ctx, []store.User{a, b, c}, events(3), seal); err != nil {
		t.Fatalf("ImportUsers: %v", err)
	}
	for _, u := range []store.User{a, b, c} {
		got, err := s.GetUser(ctx, u.ID)
		if err != nil {
			t.Fatalf("GetUser %s: %v", u.ID, err)
		}
		equalUser(t, "imported user", got, stored(u))
	}
	checkChain(t, listed(t), 3)

	// A batch with one taken login name writes nothing, no event either.
	d, e := newUser(), newUser()
	e.LoginName, e.LoginNameKey = a.LoginName, a.LoginNameKey
	wantConflict(t, "ImportUsers with a taken login name", s.ImportUsers(ctx, []store.User{d, e}, events(2), seal), "login_name")
	if _, err := s.GetUser(ctx, d.ID); err == nil {
		t.Error("the user before the conflict was kept")
	} else {
		wantNotFound(t, "GetUser", err)
	}
	checkChain(t, listed(t), 3)

	// A batch whose events do not match its users is refused whole.
	if err := s.ImportUsers(ctx, []store.User{d}, events(2), seal); err == nil {
		t.Error("ImportUsers with 1 user and 2 events: no error")
	}
	if err := s.ImportUsers(ctx, nil, nil, seal); err != nil {
		t.Errorf("ImportUsers of nothing: %v", err)
	}
	if n, err := s.CountUsers(ctx); err != nil || n != 3 {
		t.Errorf("CountUsers = %d, %v; want 3", n, err)
	}
}
