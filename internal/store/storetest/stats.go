package storetest

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"unid/internal/store"
)

// testStats: the dashboard's counters sum what every instance adds,
// concurrent adds included, and list by metric and hour range in order.
func testStats(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	h0 := base.Truncate(time.Hour)
	h := func(i int) time.Time { return h0.Add(time.Duration(i) * time.Hour) }
	count := func(metric, key string, hour time.Time, n int64) store.StatCount {
		return store.StatCount{Metric: metric, Key: key, Hour: hour, Count: n}
	}

	t.Run("adds are summed", func(t *testing.T) {
		s := newStore(t)
		adds := [][]store.StatCount{
			{count("signin", "ok", h(0), 3), count("signin", "failed", h(0), 1)},
			{count("signin", "ok", h(0), 2), count("signin", "ok", h(1), 7)},
			// Twice in one batch: summed too.
			{count("sso", "hall", h(0), 1), count("sso", "hall", h(0), 4), count("register", "", h(0), 0)},
		}
		for _, a := range adds {
			if err := s.AddStats(ctx, a); err != nil {
				t.Fatalf("AddStats: %v", err)
			}
		}
		got, err := s.ListStats(ctx, []string{"signin", "sso", "register"}, h(0), h(2))
		if err != nil {
			t.Fatal(err)
		}
		want := []store.StatCount{
			count("signin", "failed", h(0), 1), count("signin", "ok", h(0), 5), count("signin", "ok", h(1), 7),
			count("sso", "hall", h(0), 5),
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ListStats =\n%v\nwant\n%v", got, want)
		}
	})

	t.Run("concurrent adds sum right", func(t *testing.T) {
		s := newStore(t)
		const rounds = 25
		var wg sync.WaitGroup
		errs := make(chan error, 2*rounds)
		for g := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range rounds {
					// Both goroutines write the same rows, in opposite
					// orders within a batch.
					batch := []store.StatCount{count("signin", "ok", h(0), 1), count("sso", "hall", h(1), 2)}
					if g == 1 {
						batch[0], batch[1] = batch[1], batch[0]
					}
					errs <- s.AddStats(ctx, batch)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("AddStats: %v", err)
			}
		}
		got, err := s.ListStats(ctx, []string{"signin", "sso"}, h(0), h(2))
		if err != nil {
			t.Fatal(err)
		}
		want := []store.StatCount{count("signin", "ok", h(0), 2*rounds), count("sso", "hall", h(1), 4*rounds)}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ListStats = %v, want %v", got, want)
		}
	})

	t.Run("sessions estimated only when many", func(t *testing.T) {
		s := newStore(t)
		e, ok := s.(interface {
			EstimateSessions(ctx context.Context) (int64, bool, error)
		})
		if !ok {
			return // an optional method of the SQL stores
		}
		// A few sessions are counted exactly, whatever the planner guesses.
		if n, estimated, err := e.EstimateSessions(ctx); err != nil || n != 0 || estimated {
			t.Errorf("EstimateSessions of an empty store = %d, %v, %v; want 0, exact", n, estimated, err)
		}
	})

	t.Run("list range and order", func(t *testing.T) {
		s := newStore(t)
		if err := s.AddStats(ctx, []store.StatCount{
			count("sso", "zhengwu", h(2), 1), count("sso", "hall", h(2), 1), count("sso", "hall", h(-1), 9),
			count("signin", "ok", h(3), 1), count("signin", "ok", h(1), 1), count("sms", "", h(1), 6),
			count("register", "", h(1), 2),
		}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name     string
			metrics  []string
			from, to time.Time
			want     []store.StatCount
		}{
			{"by metric, hour, key", []string{"sso", "signin"}, h(0), h(4), []store.StatCount{
				count("signin", "ok", h(1), 1), count("signin", "ok", h(3), 1),
				count("sso", "hall", h(2), 1), count("sso", "zhengwu", h(2), 1),
			}},
			{"from is in, to is out", []string{"signin", "sso"}, h(1), h(3), []store.StatCount{
				count("signin", "ok", h(1), 1), count("sso", "hall", h(2), 1), count("sso", "zhengwu", h(2), 1),
			}},
			{"only the metrics asked", []string{"sms"}, h(-5), h(5), []store.StatCount{count("sms", "", h(1), 6)}},
			{"no metrics, nothing", nil, h(-5), h(5), nil},
			{"an empty range", []string{"sso"}, h(2), h(2), nil},
		}
		for _, tt := range tests {
			got, err := s.ListStats(ctx, tt.metrics, tt.from, tt.to)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s: ListStats =\n%v\nwant\n%v", tt.name, got, tt.want)
			}
		}
	})
}
