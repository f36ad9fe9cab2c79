package recordsapi

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"
)

// CacheTTL is how long a verified token of a system (client credentials)
// is taken as good on one instance without asking again: its revocation,
// or the deletion of its client, reaches the records API of each
// instance within this time. A user's token is verified every time.
const CacheTTL = 10 * time.Second

// cacheMax bounds the cache; when full it starts afresh.
const cacheMax = 10_000

// Cached returns v with a cache of the systems' tokens it verified, so
// that a system sending many writes costs one verification every CacheTTL
// rather than a signature check and two store reads a request. now is
// the clock; a token is never taken past its own expiry.
func Cached(v Verifier, now func() time.Time) Verifier {
	return &cached{v: v, now: now, m: map[[32]byte]cachedToken{}}
}

type cached struct {
	v   Verifier
	now func() time.Time
	mu  sync.Mutex
	m   map[[32]byte]cachedToken
}

type cachedToken struct {
	t     Token
	until time.Time
}

func (c *cached) VerifyAccessToken(ctx context.Context, raw string) (Token, error) {
	k := sha256.Sum256([]byte(raw))
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.t, nil
	}
	t, err := c.v.VerifyAccessToken(ctx, raw)
	if err != nil || t.User {
		return t, err
	}
	c.mu.Lock()
	if len(c.m) >= cacheMax {
		c.m = map[[32]byte]cachedToken{}
	}
	until := now.Add(CacheTTL)
	if t.Expiry.Before(until) {
		until = t.Expiry
	}
	c.m[k] = cachedToken{t: t, until: until}
	c.mu.Unlock()
	return t, nil
}
