package flow_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"unid/internal/flow"
	"unid/internal/i18n"
	"unid/internal/problem"
	"unid/internal/store"
	"unid/internal/store/sqlite/sqlitetest"
)

var t0 = time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)

type cart struct {
	Items []string `json:"items"`
	Step  int      `json:"step"`
}

const kind = "test_cart"

func start(t *testing.T, fs store.Flows) store.Flow {
	t.Helper()
	f, err := flow.Start(context.Background(), fs, store.Flow{
		Kind: kind, State: "open", IssuedAt: t0, ExpiresAt: t0.Add(10 * time.Minute),
	}, cart{Items: []string{"a"}})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return f
}

func wantExpired(t *testing.T, what string, err error) {
	t.Helper()
	var p *problem.Problem
	if !errors.As(err, &p) || p.Kind != problem.Gone || p.Code != flow.CodeExpired {
		t.Errorf("%s: %v, want problem.Gone %q", what, err, flow.CodeExpired)
	}
}

func TestStartAndLoad(t *testing.T) {
	ctx := context.Background()
	fs := sqlitetest.New(t)
	f := start(t, fs)
	if len(f.ID) < 26 || f.UpdatedAt != t0 {
		t.Errorf("Start: ID %q (want ≥ 128 random bits), UpdatedAt %v", f.ID, f.UpdatedAt)
	}
	if other := start(t, fs); other.ID == f.ID {
		t.Errorf("two flows got the ID %q", f.ID)
	}
	got, data, err := flow.Load[cart](ctx, fs, kind, f.ID, t0.Add(time.Minute))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got.State != "open" || len(data.Items) != 1 || data.Items[0] != "a" {
		t.Errorf("Load = %+v, %+v", got, data)
	}

	tests := []struct {
		name, kind, id string
		now            time.Time
	}{
		{"missing", kind, "NOSUCHFLOWNOSUCHFLOWNOSUCH", t0},
		{"expired", kind, f.ID, t0.Add(10 * time.Minute)},
		{"another kind", "other_kind", f.ID, t0},
	}
	for _, tt := range tests {
		_, _, err := flow.Load[cart](ctx, fs, tt.kind, tt.id, tt.now)
		wantExpired(t, "Load of a flow "+tt.name, err)
	}
}

func TestUpdate(t *testing.T) {
	ctx := context.Background()
	fs := sqlitetest.New(t)
	f := start(t, fs)
	now := t0.Add(2 * time.Minute)

	got, data, err := flow.Update(ctx, fs, kind, f.ID, now, func(f *store.Flow, c *cart) error {
		f.State, f.Subject = "paid", "user-1"
		c.Items, c.Step = append(c.Items, "b"), 2
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if got.State != "paid" || got.Subject != "user-1" || !got.UpdatedAt.Equal(now) || data.Step != 2 {
		t.Errorf("Update = %+v, %+v", got, data)
	}
	_, data, err = flow.Load[cart](ctx, fs, kind, f.ID, now)
	if err != nil || len(data.Items) != 2 || data.Step != 2 {
		t.Errorf("Load after Update = %+v, %v", data, err)
	}

	// A step that refuses changes nothing and its error comes back as it is.
	errWrongState := errors.New("not open")
	_, _, err = flow.Update(ctx, fs, kind, f.ID, now, func(f *store.Flow, c *cart) error {
		f.State, c.Step = "broken", 99
		return errWrongState
	})
	if err != errWrongState {
		t.Errorf("Update with a refusing step = %v, want its error", err)
	}
	if got, data, _ := flow.Load[cart](ctx, fs, kind, f.ID, now); got.State != "paid" || data.Step != 2 {
		t.Errorf("a refused step changed the flow: %+v, %+v", got, data)
	}

	called := false
	step := func(*store.Flow, *cart) error { called = true; return nil }
	_, _, err = flow.Update(ctx, fs, kind, f.ID, t0.Add(10*time.Minute), step)
	wantExpired(t, "Update of an expired flow", err)
	_, _, err = flow.Update(ctx, fs, "other_kind", f.ID, now, step)
	wantExpired(t, "Update of a flow of another kind", err)
	_, _, err = flow.Update(ctx, fs, kind, "NOSUCHFLOWNOSUCHFLOWNOSUCH", now, step)
	wantExpired(t, "Update of a missing flow", err)
	if called {
		t.Error("Update called the step for a flow that cannot go on")
	}
}

func TestExpiredHasAMessage(t *testing.T) {
	c, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []i18n.Lang{i18n.ZH, i18n.EN} {
		if msg := c.T(lang, "error."+flow.CodeExpired); msg == "" || msg == "error."+flow.CodeExpired {
			t.Errorf("%v: no message for %s: %q", lang, flow.CodeExpired, msg)
		}
	}
}
