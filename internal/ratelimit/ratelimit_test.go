package ratelimit_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"unid/internal/ratelimit"
	"unid/internal/store/sqlite"
	"unid/internal/store/sqlite/sqlitetest"
)

// openStore opens a migrated SQLite file; every call on the same path is one
// more "unid instance" sharing the database.
func openStore(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	return sqlitetest.Open(t, path)
}

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func TestAllow(t *testing.T) {
	minute := ratelimit.Rule{Key: "m", Limit: 1, Window: time.Minute}
	hour := ratelimit.Rule{Key: "h", Limit: 3, Window: time.Hour}
	two := ratelimit.Rule{Key: "two", Limit: 2, Window: 10 * time.Second}
	off := ratelimit.Rule{Key: "off", Limit: 0, Window: time.Minute}

	type step struct {
		at       time.Duration // since t0
		rules    []ratelimit.Rule
		wantWait time.Duration
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"limit then window ends", []step{
			{0, []ratelimit.Rule{two}, 0},
			{time.Second, []ratelimit.Rule{two}, 0},
			{2 * time.Second, []ratelimit.Rule{two}, 8 * time.Second},
			{9999 * time.Millisecond, []ratelimit.Rule{two}, time.Millisecond},
			{10 * time.Second, []ratelimit.Rule{two}, 0},
		}},
		{"refused request burns no quota of the other rules", []step{
			{0, []ratelimit.Rule{minute, hour}, 0},
			{1 * time.Second, []ratelimit.Rule{minute, hour}, 59 * time.Second},
			{2 * time.Second, []ratelimit.Rule{minute, hour}, 58 * time.Second},
			{3 * time.Second, []ratelimit.Rule{minute, hour}, 57 * time.Second},
			// Only one hit so far on the hourly rule: two more fit.
			{60 * time.Second, []ratelimit.Rule{minute, hour}, 0},
			{120 * time.Second, []ratelimit.Rule{minute, hour}, 0},
			// Now the hourly rule refuses, with the longer wait of the two.
			{180 * time.Second, []ratelimit.Rule{minute, hour}, 57 * time.Minute},
			{time.Hour, []ratelimit.Rule{minute, hour}, 0},
		}},
		{"switched-off rule never refuses", []step{
			{0, []ratelimit.Rule{off}, 0},
			{0, []ratelimit.Rule{off}, 0},
			{0, []ratelimit.Rule{off, two}, 0},
		}},
		{"no rules", []step{{0, nil, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			l := ratelimit.New(openStore(t, filepath.Join(t.TempDir(), "unid.db")))
			for i, s := range tt.steps {
				got, err := l.Allow(ctx, t0.Add(s.at), s.rules...)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if got != s.wantWait {
					t.Errorf("step %d at %v: wait %v, want %v", i, s.at, got, s.wantWait)
				}
			}
		})
	}
}

func TestAllowSharedAcrossInstances(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "unid.db")
	limiters := []*ratelimit.Limiter{
		ratelimit.New(openStore(t, path)),
		ratelimit.New(openStore(t, path)),
	}
	rule := ratelimit.Rule{Key: "shared", Limit: 3, Window: time.Minute}

	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for i := range 40 {
		wg.Go(func() {
			wait, err := limiters[i%2].Allow(ctx, t0, rule)
			if err != nil {
				t.Error(err)
				return
			}
			if wait == 0 {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 3 {
		t.Errorf("%d of 40 concurrent requests allowed on two instances, want 3", allowed)
	}
}

func TestLockout(t *testing.T) {
	ctx := context.Background()
	l := ratelimit.New(openStore(t, filepath.Join(t.TempDir(), "unid.db")))
	rule := ratelimit.Rule{Key: "login:alice", Limit: 3, Window: 15 * time.Minute}

	tests := []struct {
		name      string
		at        time.Duration
		do        string // "hit", "check" or "reset"
		wantCount int64
		wantWait  time.Duration
	}{
		{"fresh account is not locked", 0, "check", 0, 0},
		{"first failure", 0, "hit", 1, 0},
		{"second failure", time.Minute, "hit", 2, 0},
		{"not locked below the limit", time.Minute, "check", 0, 0},
		{"third failure", 2 * time.Minute, "hit", 3, 0},
		{"locked until the window ends", 5 * time.Minute, "check", 0, 10 * time.Minute},
		{"failures keep counting while locked", 6 * time.Minute, "hit", 4, 0},
		{"unlocked when the window ends", 15 * time.Minute, "check", 0, 0},
		{"new window counts from one", 15 * time.Minute, "hit", 1, 0},
		{"success resets", 16 * time.Minute, "reset", 0, 0},
		{"after reset", 16 * time.Minute, "hit", 1, 0},
	}
	for _, tt := range tests {
		now := t0.Add(tt.at)
		switch tt.do {
		case "hit":
			n, resetAt, err := l.Hit(ctx, now, rule)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if n != tt.wantCount {
				t.Errorf("%s: count %d, want %d", tt.name, n, tt.wantCount)
			}
			if !resetAt.After(now) {
				t.Errorf("%s: resetAt %v not after now %v", tt.name, resetAt, now)
			}
		case "check":
			w, err := l.Exceeded(ctx, now, rule)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if w != tt.wantWait {
				t.Errorf("%s: wait %v, want %v", tt.name, w, tt.wantWait)
			}
		case "reset":
			if err := l.Reset(ctx, rule.Key); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
		}
	}
}

func TestHitWithoutWindow(t *testing.T) {
	l := ratelimit.New(openStore(t, filepath.Join(t.TempDir(), "unid.db")))
	if _, _, err := l.Hit(context.Background(), t0, ratelimit.Rule{Key: "k", Limit: 1}); err == nil {
		t.Error("Hit with a zero window: no error")
	}
}

// A burst of concurrent requests must let one through, not lock everybody
// out by filling the later rules with the losers' hits.
func TestAllowBurstLetsOneThrough(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "unid.db")
	st := openStore(t, path)
	limiters := []*ratelimit.Limiter{ratelimit.New(st), ratelimit.New(openStore(t, path))}
	minute := ratelimit.Rule{Key: "burst:m", Limit: 1, Window: time.Minute}
	hour := ratelimit.Rule{Key: "burst:h", Limit: 5, Window: time.Hour}
	day := ratelimit.Rule{Key: "burst:d", Limit: 10, Window: 24 * time.Hour}

	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for i := range 30 {
		wg.Go(func() {
			wait, err := limiters[i%2].Allow(ctx, t0, minute, hour, day)
			if err != nil {
				t.Error(err)
				return
			}
			if wait == 0 {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 1 {
		t.Errorf("%d of 30 concurrent requests allowed, want 1", allowed)
	}
	for _, r := range []ratelimit.Rule{hour, day} {
		n, _, err := st.Peek(ctx, r.Key, t0)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%s counted %d, want 1: the burst burned quota", r.Key, n)
		}
	}
}

func TestAddress(t *testing.T) {
	tests := []struct{ name, ip, want string }{
		{"IPv4 as it is", "203.0.113.7", "203.0.113.7"},
		{"IPv4-mapped IPv6 is IPv4", "::ffff:203.0.113.7", "203.0.113.7"},
		{"IPv6 by its /64", "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"},
		{"same /64, same key", "2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"another /64", "2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"zone dropped", "fe80::1%eth0", "fe80::/64"},
		{"not an address", "pipe", "pipe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ratelimit.Address(tt.ip); got != tt.want {
				t.Errorf("Address(%q) = %q, want %q", tt.ip, got, tt.want)
			}
		})
	}
}

func TestCount(t *testing.T) {
	ctx := context.Background()
	l := ratelimit.New(openStore(t, filepath.Join(t.TempDir(), "unid.db")))
	rule := ratelimit.Rule{Key: "generation", Window: time.Hour}
	for i, want := range []int64{0, 1, 2} {
		if n, err := l.Count(ctx, t0, rule.Key); err != nil || n != want {
			t.Fatalf("step %d: Count = %d, %v; want %d", i, n, err, want)
		}
		if _, _, err := l.Hit(ctx, t0, rule); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := l.Count(ctx, t0.Add(time.Hour), rule.Key); err != nil || n != 0 {
		t.Errorf("Count after the window = %d, %v; want 0", n, err)
	}
}
