package storetest

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"unid/internal/store"
)

func newOperator(login string) store.Operator {
	return store.Operator{
		ID: randID(), LoginName: login, LoginNameKey: strings.ToLower(login),
		Roles: []string{"reviewer"}, Status: store.OperatorActive,
		SetupHash: randBytes(32), SetupExpiresAt: base.Add(24 * time.Hour),
		CreatedAt: base, UpdatedAt: base,
	}
}

// createOperators adds an operator of each login name and returns them.
func createOperators(t *testing.T, s store.Store, logins ...string) []store.Operator {
	t.Helper()
	out := make([]store.Operator, len(logins))
	for i, login := range logins {
		out[i] = newOperator(login)
		if err := s.CreateOperator(context.Background(), out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func testOperators(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)
	if list, err := s.ListOperators(ctx); err != nil || len(list) != 0 {
		t.Fatalf("ListOperators on an empty store = %v, %v", list, err)
	}
	wang := newOperator("Wang")
	if err := s.CreateOperator(ctx, wang); err != nil {
		t.Fatal(err)
	}
	wantConflict(t, "CreateOperator with a login name in use, other case", s.CreateOperator(ctx, newOperator("WANG")), "login_name")
	li := newOperator("li")
	li.Roles = []string{"reviewer", "auditor"}
	li.SetupHash = nil
	if err := s.CreateOperator(ctx, li); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetOperator(ctx, wang.ID)
	if err != nil || !reflect.DeepEqual(got, wang) {
		t.Fatalf("GetOperator = %+v, %v; want %+v", got, err, wang)
	}
	if got, err := s.GetOperatorByLoginName(ctx, "wang"); err != nil || got.ID != wang.ID {
		t.Fatalf("GetOperatorByLoginName = %+v, %v", got, err)
	}
	if got, err := s.GetOperatorBySetupHash(ctx, wang.SetupHash); err != nil || got.ID != wang.ID {
		t.Fatalf("GetOperatorBySetupHash = %+v, %v", got, err)
	}
	for name, err := range map[string]error{
		"GetOperator(unknown)":            second(s.GetOperator(ctx, "nope")),
		"GetOperatorByLoginName(unknown)": second(s.GetOperatorByLoginName(ctx, "nope")),
		"GetOperatorBySetupHash(unknown)": second(s.GetOperatorBySetupHash(ctx, randBytes(32))),
		"GetOperatorBySetupHash(nil)":     second(s.GetOperatorBySetupHash(ctx, nil)),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s = %v, want ErrNotFound", name, err)
		}
	}
	list, err := s.ListOperators(ctx)
	if err != nil || len(list) != 2 || list[0].ID != li.ID || list[1].ID != wang.ID || !reflect.DeepEqual(list[0].Roles, li.Roles) {
		t.Fatalf("ListOperators = %+v, %v", list, err)
	}

	// Set-up: the token goes, a password and a sealed secret arrive.
	later := base.Add(time.Hour)
	secret := sealed()
	secret.Index = nil
	updated, err := s.UpdateOperator(ctx, wang.ID, func(o store.Operator) (store.Operator, error) {
		o.PasswordHash, o.TOTPSecret, o.TOTPLastStep = "$argon2id$x", secret, 12345
		o.SetupHash, o.SetupExpiresAt = nil, time.Time{}
		o.UpdatedAt, o.CreatedAt = later, later // CreatedAt is ignored
		return o, nil
	})
	if err != nil || updated.PasswordHash != "$argon2id$x" || updated.SetupHash != nil || updated.TOTPLastStep != 12345 ||
		!updated.CreatedAt.Equal(base) || !updated.UpdatedAt.Equal(later) || !reflect.DeepEqual(updated.TOTPSecret, secret) {
		t.Fatalf("UpdateOperator = %+v, %v", updated, err)
	}
	if got, _ := s.GetOperator(ctx, wang.ID); !reflect.DeepEqual(got, updated) {
		t.Fatalf("after UpdateOperator, GetOperator = %+v; want %+v", got, updated)
	}
	if _, err := s.GetOperatorBySetupHash(ctx, wang.SetupHash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a used setup token is still found: %v", err)
	}
	// An error from fn changes nothing; so does an attempt to change the ID.
	boom := errors.New("boom")
	if _, err := s.UpdateOperator(ctx, wang.ID, func(o store.Operator) (store.Operator, error) {
		o.Status = store.OperatorDisabled
		return o, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("UpdateOperator with a failing fn = %v", err)
	}
	if _, err := s.UpdateOperator(ctx, wang.ID, func(o store.Operator) (store.Operator, error) {
		o.ID = "other"
		return o, nil
	}); err == nil {
		t.Fatal("UpdateOperator changed the ID")
	}
	if got, _ := s.GetOperator(ctx, wang.ID); !reflect.DeepEqual(got, updated) {
		t.Fatalf("a refused update changed the operator: %+v", got)
	}
	if _, err := s.UpdateOperator(ctx, "nope", func(o store.Operator) (store.Operator, error) { return o, nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateOperator(unknown) = %v", err)
	}

	// Sessions.
	sess := store.OperatorSession{TokenHash: randBytes(32), OperatorID: wang.ID, CreatedAt: base, LastSeenAt: base,
		ExpiresAt: base.Add(8 * time.Hour), IP: "192.0.2.1", UserAgent: "test"}
	if err := s.CreateOperatorSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateOperatorSession(ctx, store.OperatorSession{TokenHash: randBytes(32), OperatorID: "nope",
		CreatedAt: base, LastSeenAt: base, ExpiresAt: base}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CreateOperatorSession of a missing operator = %v", err)
	}
	if got, err := s.GetOperatorSession(ctx, sess.TokenHash); err != nil || !reflect.DeepEqual(got, sess) {
		t.Fatalf("GetOperatorSession = %+v, %v; want %+v", got, err, sess)
	}
	if err := s.TouchOperatorSession(ctx, sess.TokenHash, later); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetOperatorSession(ctx, sess.TokenHash); !got.LastSeenAt.Equal(later) {
		t.Fatalf("TouchOperatorSession: LastSeenAt = %v", got.LastSeenAt)
	}
	if err := s.TouchOperatorSession(ctx, randBytes(32), later); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TouchOperatorSession(unknown) = %v", err)
	}
	idle := store.OperatorSession{TokenHash: randBytes(32), OperatorID: li.ID, CreatedAt: base, LastSeenAt: base,
		ExpiresAt: base.Add(8 * time.Hour)}
	old := store.OperatorSession{TokenHash: randBytes(32), OperatorID: li.ID, CreatedAt: base, LastSeenAt: later,
		ExpiresAt: later.Add(-time.Minute)}
	for _, x := range []store.OperatorSession{idle, old} {
		if err := s.CreateOperatorSession(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	// At later: idle was last seen before later-15m; old has expired; sess is live.
	if n, err := s.DeleteExpiredOperatorSessions(ctx, later, later.Add(-15*time.Minute)); err != nil || n != 2 {
		t.Fatalf("DeleteExpiredOperatorSessions = %d, %v; want 2", n, err)
	}
	if _, err := s.GetOperatorSession(ctx, sess.TokenHash); err != nil {
		t.Fatalf("the live session went: %v", err)
	}
	another := store.OperatorSession{TokenHash: randBytes(32), OperatorID: wang.ID, CreatedAt: later, LastSeenAt: later, ExpiresAt: later.Add(time.Hour)}
	if err := s.CreateOperatorSession(ctx, another); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteOperatorSession(ctx, sess.TokenHash); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteOperatorSession(ctx, sess.TokenHash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteOperatorSession twice = %v", err)
	}
	if n, err := s.DeleteOperatorSessions(ctx, wang.ID); err != nil || n != 1 {
		t.Fatalf("DeleteOperatorSessions = %d, %v", n, err)
	}
	if _, err := s.GetOperatorSession(ctx, another.TokenHash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetOperatorSession after DeleteOperatorSessions = %v", err)
	}
}

// second returns the error of a two-value call.
func second[T any](_ T, err error) error { return err }
