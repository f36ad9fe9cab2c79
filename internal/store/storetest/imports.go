package storetest

import (
	"context"
	"testing"
	"time"

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

	// The imported events continue the chain and are continued.
	if _, err := s.AppendAudit(ctx, newEvent(0), seal); err != nil {
		t.Fatal(err)
	}
	a, b, c := newUser(), newUser(), newUser()
	if err := s.ImportUsers(ctx, []store.User{a, b, c}, events(3), seal); err != nil {
		t.Fatalf("ImportUsers: %v", err)
	}
	if _, err := s.AppendAudit(ctx, newEvent(4), seal); err != nil {
		t.Fatal(err)
	}
	for _, u := range []store.User{a, b, c} {
		got, err := s.GetUser(ctx, u.ID)
		if err != nil {
			t.Fatalf("GetUser %s: %v", u.ID, err)
		}
		equalUser(t, "imported user", got, stored(u))
	}
	checkChain(t, listed(t), 5)

	// A batch with one taken login name writes nothing, no event either.
	d, e := newUser(), newUser()
	e.LoginName, e.LoginNameKey = a.LoginName, a.LoginNameKey
	wantConflict(t, "ImportUsers with a taken login name", s.ImportUsers(ctx, []store.User{d, e}, events(2), seal), "login_name")
	if _, err := s.GetUser(ctx, d.ID); err == nil {
		t.Error("the user before the conflict was kept")
	} else {
		wantNotFound(t, "GetUser", err)
	}
	checkChain(t, listed(t), 5)

	// A phone a closed account gave up is barred until its release.
	closed := newUser()
	if err := s.CreateUser(ctx, closed); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CloseUser(ctx, closed.ID, base.Add(time.Hour), base.Add(48*time.Hour), newEvent(5), seal); err != nil {
		t.Fatal(err)
	}
	early, late := newUser(), newUser()
	early.Phone.Index, late.Phone.Index = closed.Phone.Index, closed.Phone.Index
	early.CreatedAt, late.CreatedAt = base.Add(2*time.Hour), base.Add(49*time.Hour)
	wantConflict(t, "ImportUsers with a phone in cooling-off", s.ImportUsers(ctx, []store.User{d, early}, events(2), seal), "closed_phone")
	checkChain(t, listed(t), 6)
	if err := s.ImportUsers(ctx, []store.User{late}, events(1), seal); err != nil {
		t.Errorf("ImportUsers with a released phone: %v", err)
	}
	checkChain(t, listed(t), 7)

	// A batch whose events do not match its users is refused whole.
	if err := s.ImportUsers(ctx, []store.User{d}, events(2), seal); err == nil {
		t.Error("ImportUsers with 1 user and 2 events: no error")
	}
	if err := s.ImportUsers(ctx, nil, nil, seal); err != nil {
		t.Errorf("ImportUsers of nothing: %v", err)
	}
	if n, err := s.CountUsers(ctx); err != nil || n != 5 {
		t.Errorf("CountUsers = %d, %v; want 5", n, err)
	}
}
