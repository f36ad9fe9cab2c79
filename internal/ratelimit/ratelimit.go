package ratelimit

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"unid/internal/store"
)

// Rule allows Limit hits on the counter Key within Window. A rule whose Limit
// is zero or negative is switched off: Allow ignores it and counts nothing on
// it, so configuration can disable one limit without removing code.
type Rule struct {
	Key    string
	Limit  int64
	Window time.Duration
}

// Off reports whether r is switched off.
func (r Rule) Off() bool { return r.Limit <= 0 }

// Limiter applies rules to the shared counters of the store.
type Limiter struct {
	c store.Counters
}

// New returns a Limiter counting in c.
func New(c store.Counters) *Limiter { return &Limiter{c: c} }

// Allow counts one request against every rule, unless one of them is already
// at its limit. It returns zero when the request is allowed, or how long to
// wait before the most restrictive refusing rule allows again. A refused
// request counts nothing (see the package doc).
//
// Rules are counted in the order given, and a request that loses a race on
// one rule is not counted on the rules after it; list first the rule that a
// burst of requests hits first, usually the one with the shortest window.
func (l *Limiter) Allow(ctx context.Context, now time.Time, rules ...Rule) (retryAfter time.Duration, err error) {
	var wait time.Duration
	for _, r := range rules {
		if r.Off() {
			continue
		}
		w, err := l.Exceeded(ctx, now, r)
		if err != nil {
			return 0, err
		}
		wait = max(wait, w)
	}
	if wait > 0 {
		return wait, nil
	}
	for _, r := range rules {
		if r.Off() {
			continue
		}
		n, resetAt, err := l.Hit(ctx, now, r)
		if err != nil {
			return 0, err
		}
		if n > r.Limit {
			// Lost a race: stop here, so that the losers of a burst of
			// concurrent requests do not also fill the later rules and
			// refuse the winner there.
			return waitUntil(now, resetAt), nil
		}
	}
	return 0, nil
}

// Exceeded reports, without counting, how long to wait until r allows a hit
// again; zero when it allows one now. A switched-off rule never refuses.
func (l *Limiter) Exceeded(ctx context.Context, now time.Time, r Rule) (time.Duration, error) {
	if r.Off() {
		return 0, nil
	}
	n, resetAt, err := l.c.Peek(ctx, r.Key, now)
	if err != nil {
		return 0, fmt.Errorf("ratelimit: peek: %w", err)
	}
	if n < r.Limit {
		return 0, nil
	}
	return waitUntil(now, resetAt), nil
}

// Hit counts one hit on r whatever its limit and returns the count in the
// current window and when that window ends. Lockouts use it to count
// failures; compare count with r.Limit to decide.
func (l *Limiter) Hit(ctx context.Context, now time.Time, r Rule) (count int64, resetAt time.Time, err error) {
	if r.Window <= 0 {
		return 0, time.Time{}, fmt.Errorf("ratelimit: rule %q has no window", r.Key)
	}
	count, resetAt, err = l.c.Incr(ctx, r.Key, r.Window, now)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("ratelimit: incr: %w", err)
	}
	return count, resetAt, nil
}

// First reports whether this is the first call for key within window:
// for what should happen once a window however often it is asked, such
// as auditing that a caller keeps hitting a limit.
func (l *Limiter) First(ctx context.Context, now time.Time, key string, window time.Duration) (bool, error) {
	n, _, err := l.Hit(ctx, now, Rule{Key: key, Limit: 1, Window: window})
	return n == 1, err
}

// Count returns, without counting, the hits of key in its live window;
// zero when there is none. Callers that keep a number in a counter (a
// generation, say) read it with Count and move it on with Hit.
func (l *Limiter) Count(ctx context.Context, now time.Time, key string) (int64, error) {
	n, _, err := l.c.Peek(ctx, key, now)
	if err != nil {
		return 0, fmt.Errorf("ratelimit: peek: %w", err)
	}
	return n, nil
}

// Reset forgets the counter key, for example after a successful login ends a
// run of failures.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if err := l.c.ResetCounter(ctx, key); err != nil {
		return fmt.Errorf("ratelimit: reset: %w", err)
	}
	return nil
}

// waitUntil is the time from now to resetAt, never zero: zero means "allowed"
// to callers, and a refusal must never read as one even when the store's
// millisecond rounding puts resetAt at or just before now.
func waitUntil(now, resetAt time.Time) time.Duration {
	if d := resetAt.Sub(now); d > 0 {
		return d
	}
	return time.Millisecond
}

// Address is what per-address limits count a client address by: an IPv4
// address as it is, an IPv6 address by its /64 network. One subscriber
// usually holds a whole /64, and counting its 2^64 addresses apart would
// let a client take a fresh address for every request.
func Address(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return a.String()
	}
	return p.String()
}
