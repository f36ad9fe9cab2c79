package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"unid/internal/store"
)

// RunCounters checks an implementation of store.Counters: windows anchored at
// their first hit, restarting at 1 after expiry, exact counts under
// concurrency. newCounters returns counters that share no keys with any
// other test.
func RunCounters(t *testing.T, newCounters func(t *testing.T) store.Counters) {
	ctx := context.Background()
	const window = time.Minute

	t.Run("anchored window", func(t *testing.T) {
		c := newCounters(t)
		tests := []struct {
			name      string
			at        time.Duration // since base
			wantCount int64
			wantReset time.Duration // since base
		}{
			{"first hit opens the window", 0, 1, window},
			{"counts up", 10 * time.Second, 2, window},
			{"keeps the anchor", window - time.Millisecond, 3, window},
			{"restarts at 1 at expiry", window, 1, 2 * window},
			{"counts in the new window", window + time.Second, 2, 2 * window},
			{"restarts after a long pause", 10 * window, 1, 11 * window},
		}
		for _, tt := range tests {
			count, reset, err := c.Incr(ctx, "login:alice", window, base.Add(tt.at))
			if err != nil {
				t.Fatalf("%s: Incr: %v", tt.name, err)
			}
			if count != tt.wantCount || !reset.Equal(base.Add(tt.wantReset)) {
				t.Errorf("%s: Incr = %d, %v; want %d, %v", tt.name, count, reset, tt.wantCount, base.Add(tt.wantReset))
			}
		}
	})

	t.Run("peek", func(t *testing.T) {
		c := newCounters(t)
		if n, reset, err := c.Peek(ctx, "never", base); err != nil || n != 0 || !reset.IsZero() {
			t.Errorf("Peek of a missing counter = %d, %v, %v; want 0", n, reset, err)
		}
		for range 3 {
			if _, _, err := c.Incr(ctx, "sms:138", window, base); err != nil {
				t.Fatalf("Incr: %v", err)
			}
		}
		tests := []struct {
			name      string
			at        time.Duration
			wantCount int64
		}{
			{"live", window / 2, 3},
			{"last millisecond", window - time.Millisecond, 3},
			{"expired", window, 0},
			{"long expired", 5 * window, 0},
		}
		for _, tt := range tests {
			n, reset, err := c.Peek(ctx, "sms:138", base.Add(tt.at))
			if err != nil {
				t.Fatalf("%s: Peek: %v", tt.name, err)
			}
			wantReset := base.Add(window)
			if tt.wantCount == 0 {
				wantReset = time.Time{}
			}
			if n != tt.wantCount || !reset.Equal(wantReset) {
				t.Errorf("%s: Peek = %d, %v; want %d, %v", tt.name, n, reset, tt.wantCount, wantReset)
			}
		}
		// Peek does not count.
		if n, _, _ := c.Peek(ctx, "sms:138", base); n != 3 {
			t.Errorf("Peek after peeks = %d, want 3", n)
		}
	})

	t.Run("keys are independent", func(t *testing.T) {
		c := newCounters(t)
		c.Incr(ctx, "a", window, base)
		c.Incr(ctx, "a", window, base)
		if n, _, err := c.Incr(ctx, "b", window, base); err != nil || n != 1 {
			t.Errorf("Incr(b) = %d, %v; want 1", n, err)
		}
	})

	t.Run("reset", func(t *testing.T) {
		c := newCounters(t)
		for range 4 {
			c.Incr(ctx, "lock:bob", window, base)
		}
		if err := c.ResetCounter(ctx, "lock:bob"); err != nil {
			t.Fatalf("ResetCounter: %v", err)
		}
		if n, _, _ := c.Peek(ctx, "lock:bob", base); n != 0 {
			t.Errorf("Peek after reset = %d", n)
		}
		later := base.Add(time.Second)
		if n, reset, _ := c.Incr(ctx, "lock:bob", window, later); n != 1 || !reset.Equal(later.Add(window)) {
			t.Errorf("Incr after reset = %d, %v; want a new window", n, reset)
		}
		if err := c.ResetCounter(ctx, "never-counted"); err != nil {
			t.Errorf("ResetCounter of a missing counter: %v", err)
		}
	})

	t.Run("concurrent increments count exactly", func(t *testing.T) {
		c := newCounters(t)
		const each = 50
		var mu sync.Mutex
		seen := map[int64]bool{}
		parallel(func(int) {
			for range each {
				n, reset, err := c.Incr(ctx, "hot", window, base)
				if err != nil {
					t.Errorf("Incr: %v", err)
					return
				}
				if !reset.Equal(base.Add(window)) {
					t.Errorf("Incr reset = %v", reset)
				}
				mu.Lock()
				if seen[n] {
					t.Errorf("count %d returned twice", n)
				}
				seen[n] = true
				mu.Unlock()
			}
		})
		if n, _, err := c.Peek(ctx, "hot", base); err != nil || n != concurrency*each {
			t.Errorf("Peek = %d, %v; want %d", n, err, concurrency*each)
		}
		if len(seen) != concurrency*each {
			t.Errorf("%d distinct counts, want %d", len(seen), concurrency*each)
		}
	})

	t.Run("delete expired", func(t *testing.T) {
		c := newCounters(t)
		c.Incr(ctx, "old", window, base)
		c.Incr(ctx, "new", window, base.Add(window))
		now := base.Add(window)
		if _, err := c.DeleteExpiredCounters(ctx, now); err != nil {
			t.Fatalf("DeleteExpiredCounters: %v", err)
		}
		if n, _, _ := c.Peek(ctx, "new", now); n != 1 {
			t.Errorf("live counter after DeleteExpiredCounters = %d, want 1", n)
		}
		if n, _, _ := c.Peek(ctx, "old", now); n != 0 {
			t.Errorf("expired counter = %d, want 0", n)
		}
	})
}
