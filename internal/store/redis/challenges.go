package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"unid/internal/store"
)

// ServerPrefix begins every key a unid server keeps in Redis.
const ServerPrefix = "unid:"

// maxUpdateTries bounds the optimistic retries of UpdateChallenge: each
// try that fails lost to a concurrent write of the same challenge, which
// then succeeded, so the bound is the number of writers at once.
const maxUpdateTries = 256

// Challenges is store.Challenges in Redis: captchas, codes, CAS tickets
// and passkey ceremonies, the short-lived records every sign-in makes and
// uses up, kept off the database. Each is a hash {s: secret, u: subject,
// a: attempts, c: created, e: expires (unix ms)} under prefix+"ch:"+kind+
// ":"+id. Callers judge expiry with Challenge.Valid; Redis deletes a key
// gcSlack after its challenge expires by now, the callers' clock.
type Challenges struct {
	client redis.UniversalClient
	prefix string
	now    func() time.Time
}

var _ store.Challenges = (*Challenges)(nil)

// NewChallenges returns challenges stored under prefix in client, expiring
// by the clock now. The caller keeps ownership of the client.
func NewChallenges(client redis.UniversalClient, prefix string, now func() time.Time) *Challenges {
	return &Challenges{client: client, prefix: prefix, now: now}
}

// key is where challenge kind/id lives; a kind holds no colon, so that
// no two kind and ID pairs share a key.
func (c *Challenges) key(op, kind, id string) (string, error) {
	if kind == "" || strings.Contains(kind, ":") {
		return "", fmt.Errorf("redis: %s: kind %q is empty or holds a colon", op, kind)
	}
	return c.prefix + "ch:" + kind + ":" + id, nil
}

// write replaces the hash at key with ch, living until gcSlack after it
// expires.
func (c *Challenges) write(ctx context.Context, p redis.Pipeliner, key string, ch store.Challenge) {
	fields := []any{"s", ch.Secret, "a", ch.Attempts, "c", ch.CreatedAt.UnixMilli(), "e", ch.ExpiresAt.UnixMilli()}
	if len(ch.Subject) > 0 {
		fields = append(fields, "u", ch.Subject)
	}
	p.Del(ctx, key)
	p.HSet(ctx, key, fields...)
	p.PExpire(ctx, key, max(ch.ExpiresAt.Sub(c.now()), 0)+gcSlack)
}

// read decodes the hash of kind/id; no fields: ErrNotFound.
func read(op, kind, id string, h map[string]string) (store.Challenge, error) {
	if len(h) == 0 {
		return store.Challenge{}, fmt.Errorf("redis: %s: %w", op, store.ErrNotFound)
	}
	a, err1 := strconv.Atoi(h["a"])
	created, err2 := strconv.ParseInt(h["c"], 10, 64)
	expires, err3 := strconv.ParseInt(h["e"], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return store.Challenge{}, fmt.Errorf("redis: %s: %w", op, err)
	}
	ch := store.Challenge{Kind: kind, ID: id, Secret: bytesOrNil(h["s"]), Subject: bytesOrNil(h["u"]), Attempts: a,
		CreatedAt: time.UnixMilli(created).UTC(), ExpiresAt: time.UnixMilli(expires).UTC()}
	return ch, nil
}

func bytesOrNil(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

// PutChallenge creates or replaces the challenge with the same kind and ID.
func (c *Challenges) PutChallenge(ctx context.Context, ch store.Challenge) error {
	key, err := c.key("put challenge", ch.Kind, ch.ID)
	if err != nil {
		return err
	}
	_, err = c.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		c.write(ctx, p, key, ch)
		return nil
	})
	if err != nil {
		return wrap("put challenge", err)
	}
	return nil
}

// GetChallenge returns the challenge, expired or not; callers check Valid.
func (c *Challenges) GetChallenge(ctx context.Context, kind, id string) (store.Challenge, error) {
	key, err := c.key("get challenge", kind, id)
	if err != nil {
		return store.Challenge{}, err
	}
	h, err := c.client.HGetAll(ctx, key).Result()
	if err != nil {
		return store.Challenge{}, wrap("get challenge", err)
	}
	return read("get challenge", kind, id, h)
}

// UpdateChallenge reads the challenge, applies fn and writes the result,
// trying again if another write of the challenge came in between (fn may
// then run more than once). Kind and ID cannot change; an error from fn
// aborts the write and is returned unchanged.
func (c *Challenges) UpdateChallenge(ctx context.Context, kind, id string, fn func(store.Challenge) (store.Challenge, error)) (store.Challenge, error) {
	key, err := c.key("update challenge", kind, id)
	if err != nil {
		return store.Challenge{}, err
	}
	var out store.Challenge
	// final is an error that ends the update as it is: fn's own, or a
	// finding about the challenge. Anything else came from Redis.
	var final error
	update := func(tx *redis.Tx) error {
		h, err := tx.HGetAll(ctx, key).Result()
		if err != nil {
			return err
		}
		old, err := read("update challenge", kind, id, h)
		if err == nil {
			var next store.Challenge
			next, err = fn(old)
			if err == nil && (next.Kind != kind || next.ID != id) {
				err = fmt.Errorf("redis: update challenge %s/%s: the kind or ID changed", kind, id)
			}
			out = next
		}
		if err != nil {
			final = err
			return err
		}
		// redis.TxFailedErr when another write of the key came first.
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			c.write(ctx, p, key, out)
			return nil
		})
		return err
	}
	for range maxUpdateTries {
		err = c.client.Watch(ctx, update, key)
		if !errors.Is(err, redis.TxFailedErr) {
			break
		}
	}
	switch {
	case err == nil:
		out.CreatedAt, out.ExpiresAt = out.CreatedAt.UTC().Truncate(time.Millisecond), out.ExpiresAt.UTC().Truncate(time.Millisecond)
		out.Secret, out.Subject = bytesOrNil(string(out.Secret)), bytesOrNil(string(out.Subject))
		return out, nil
	case err == final:
		return store.Challenge{}, err
	case errors.Is(err, redis.TxFailedErr):
		return store.Challenge{}, fmt.Errorf("redis: update challenge: %d concurrent writes in a row: %w", maxUpdateTries, err)
	}
	return store.Challenge{}, wrap("update challenge", err)
}

// TakeChallenge deletes and returns the challenge in one transaction, so
// that of several concurrent callers exactly one gets it.
func (c *Challenges) TakeChallenge(ctx context.Context, kind, id string) (store.Challenge, error) {
	key, err := c.key("take challenge", kind, id)
	if err != nil {
		return store.Challenge{}, err
	}
	var get *redis.MapStringStringCmd
	_, err = c.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		get = p.HGetAll(ctx, key)
		p.Del(ctx, key)
		return nil
	})
	if err != nil {
		return store.Challenge{}, wrap("take challenge", err)
	}
	return read("take challenge", kind, id, get.Val())
}

// DeleteChallenge removes the challenge.
func (c *Challenges) DeleteChallenge(ctx context.Context, kind, id string) error {
	key, err := c.key("delete challenge", kind, id)
	if err != nil {
		return err
	}
	n, err := c.client.Del(ctx, key).Result()
	if err != nil {
		return wrap("delete challenge", err)
	}
	if n == 0 {
		return fmt.Errorf("redis: delete challenge: %w", store.ErrNotFound)
	}
	return nil
}

// DeleteExpiredChallenges does nothing: Redis deletes each key gcSlack
// after its challenge expires.
func (c *Challenges) DeleteExpiredChallenges(ctx context.Context, now time.Time) (int64, error) {
	return 0, nil
}
