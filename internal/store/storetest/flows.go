package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"unid/internal/store"
)

func newFlow() store.Flow {
	return store.Flow{
		ID:        randID() + randID(), // 192 bits
		Kind:      "test_flow",
		State:     "started",
		Subject:   "",
		Data:      []byte(`{"n":0}`),
		IssuedAt:  base,
		ExpiresAt: base.Add(15 * time.Minute),
		UpdatedAt: base,
	}
}

// equalFlow compares flows field by field, times with Equal and after the
// store's millisecond truncation.
func equalFlow(t *testing.T, what string, got, want store.Flow) {
	t.Helper()
	if len(want.Data) == 0 {
		want.Data = nil
	}
	for _, tm := range []struct {
		name      string
		got, want time.Time
	}{{"IssuedAt", got.IssuedAt, want.IssuedAt}, {"ExpiresAt", got.ExpiresAt, want.ExpiresAt}, {"UpdatedAt", got.UpdatedAt, want.UpdatedAt}} {
		if !tm.got.Equal(tm.want.Truncate(time.Millisecond)) || tm.got.Location() != time.UTC {
			t.Errorf("%s: %s = %v, want %v in UTC", what, tm.name, tm.got, tm.want)
		}
	}
	got.IssuedAt, got.ExpiresAt, got.UpdatedAt = time.Time{}, time.Time{}, time.Time{}
	want.IssuedAt, want.ExpiresAt, want.UpdatedAt = time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func testFlows(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)

	t.Run("create and get", func(t *testing.T) {
		f := newFlow()
		f.Subject = randID()
		f.ExpiresAt = base.Add(15*time.Minute + 1500*time.Microsecond) // sub-millisecond part is dropped
		if err := s.CreateFlow(ctx, f); err != nil {
			t.Fatalf("CreateFlow: %v", err)
		}
		got, err := s.GetFlow(ctx, f.ID)
		if err != nil {
			t.Fatalf("GetFlow: %v", err)
		}
		equalFlow(t, "GetFlow", got, f)

		empty := newFlow()
		empty.Data = []byte{}
		if err := s.CreateFlow(ctx, empty); err != nil {
			t.Fatalf("CreateFlow without data: %v", err)
		}
		got, err = s.GetFlow(ctx, empty.ID)
		if err != nil {
			t.Fatalf("GetFlow: %v", err)
		}
		equalFlow(t, "GetFlow of a flow without data", got, empty)
	})

	t.Run("not found", func(t *testing.T) {
		_, err := s.GetFlow(ctx, "missing")
		wantNotFound(t, "GetFlow", err)
		_, err = s.UpdateFlow(ctx, "missing", func(f store.Flow) (store.Flow, error) { return f, nil })
		wantNotFound(t, "UpdateFlow", err)
		wantNotFound(t, "DeleteFlow", s.DeleteFlow(ctx, "missing"))
	})

	t.Run("duplicate id", func(t *testing.T) {
		f := newFlow()
		if err := s.CreateFlow(ctx, f); err != nil {
			t.Fatalf("CreateFlow: %v", err)
		}
		other := newFlow()
		other.ID, other.Kind, other.Data = f.ID, "other_flow", []byte(`{"n":7}`)
		wantConflict(t, "CreateFlow with a taken ID", s.CreateFlow(ctx, other), "id")
		got, err := s.GetFlow(ctx, f.ID)
		if err != nil {
			t.Fatalf("GetFlow: %v", err)
		}
		equalFlow(t, "the first flow after the conflict", got, f)
	})

	t.Run("update", func(t *testing.T) {
		f := newFlow()
		if err := s.CreateFlow(ctx, f); err != nil {
			t.Fatalf("CreateFlow: %v", err)
		}
		want := f
		want.State, want.Subject, want.Data = "done", "user-1", []byte(`{"n":1}`)
		want.ExpiresAt, want.UpdatedAt = base.Add(time.Hour), base.Add(time.Minute)
		got, err := s.UpdateFlow(ctx, f.ID, func(old store.Flow) (store.Flow, error) {
			equalFlow(t, "UpdateFlow sees", old, f)
			n := want
			n.IssuedAt = base.Add(time.Hour) // cannot change
			return n, nil
		})
		if err != nil {
			t.Fatalf("UpdateFlow: %v", err)
		}
		equalFlow(t, "UpdateFlow returns", got, want)
		got, _ = s.GetFlow(ctx, f.ID)
		equalFlow(t, "GetFlow after UpdateFlow", got, want)

		errStop := errors.New("wrong state")
		_, err = s.UpdateFlow(ctx, f.ID, func(old store.Flow) (store.Flow, error) {
			old.State = "broken"
			return old, errStop
		})
		if err != errStop {
			t.Errorf("UpdateFlow = %v, want the fn's error unchanged", err)
		}
		got, _ = s.GetFlow(ctx, f.ID)
		equalFlow(t, "after an aborted update", got, want)

		_, err = s.UpdateFlow(ctx, f.ID, func(old store.Flow) (store.Flow, error) {
			old.ID = "other"
			return old, nil
		})
		if err == nil {
			t.Error("UpdateFlow changed the ID without an error")
		}
		got, _ = s.GetFlow(ctx, f.ID)
		equalFlow(t, "after an update that changed the ID", got, want)
	})

	t.Run("concurrent updates take turns", func(t *testing.T) {
		f := newFlow()
		if err := s.CreateFlow(ctx, f); err != nil {
			t.Fatalf("CreateFlow: %v", err)
		}
		const steps = 20
		type counter struct{ N int }
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range steps {
			wg.Go(func() {
				<-start
				if _, err := s.UpdateFlow(ctx, f.ID, func(old store.Flow) (store.Flow, error) {
					var c counter
					if err := json.Unmarshal(old.Data, &c); err != nil {
						return old, err
					}
					c.N++
					b, err := json.Marshal(c)
					old.Data = b
					return old, err
				}); err != nil {
					t.Errorf("UpdateFlow: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		got, err := s.GetFlow(ctx, f.ID)
		if err != nil {
			t.Fatalf("GetFlow: %v", err)
		}
		var c counter
		if err := json.Unmarshal(got.Data, &c); err != nil || c.N != steps {
			t.Errorf("after %d concurrent increments the counter is %d (%v), want %d", steps, c.N, err, steps)
		}
	})

	t.Run("delete", func(t *testing.T) {
		f := newFlow()
		if err := s.CreateFlow(ctx, f); err != nil {
			t.Fatalf("CreateFlow: %v", err)
		}
		if err := s.DeleteFlow(ctx, f.ID); err != nil {
			t.Fatalf("DeleteFlow: %v", err)
		}
		_, err := s.GetFlow(ctx, f.ID)
		wantNotFound(t, "GetFlow after DeleteFlow", err)
		wantNotFound(t, "DeleteFlow twice", s.DeleteFlow(ctx, f.ID))
	})

	t.Run("valid and delete expired", func(t *testing.T) {
		s := newStore(t)
		now := base.Add(time.Hour)
		tests := []struct {
			name      string
			expires   time.Time
			wantValid bool
		}{
			{"live", now.Add(time.Millisecond), true},
			{"expires now", now, false},
			{"expired", now.Add(-time.Minute), false},
		}
		for _, tt := range tests {
			f := newFlow()
			f.ID, f.ExpiresAt = tt.name, tt.expires
			if f.Valid(now) != tt.wantValid {
				t.Errorf("%s: Valid(now) = %v, want %v", tt.name, !tt.wantValid, tt.wantValid)
			}
			if err := s.CreateFlow(ctx, f); err != nil {
				t.Fatalf("CreateFlow: %v", err)
			}
		}
		n, err := s.DeleteExpiredFlows(ctx, now)
		if err != nil || n != 2 {
			t.Errorf("DeleteExpiredFlows = %d, %v; want 2", n, err)
		}
		for _, tt := range tests {
			_, err := s.GetFlow(ctx, tt.name)
			if kept := err == nil; kept != tt.wantValid {
				t.Errorf("%s: kept = %v, want %v (%v)", tt.name, kept, tt.wantValid, err)
			}
		}
	})
}
