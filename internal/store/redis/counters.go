package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"unid/internal/store"
)

// gcSlack is how long past its window a key is kept before Redis deletes
// it, so that clock skew between Redis and unid never ends a window early.
const gcSlack = 5 * time.Second

// incrScript starts a window at 1 when there is none or it has ended at now
// (ARGV[1]); otherwise it counts up and keeps the window's end. ARGV[2] is
// the new window's end, ARGV[3] the key's time to live in ms.
var incrScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local e = tonumber(redis.call('HGET', KEYS[1], 'e'))
if e == nil or e <= now then
	redis.call('HSET', KEYS[1], 'c', 1, 'e', ARGV[2])
	redis.call('PEXPIRE', KEYS[1], ARGV[3])
	return {1, tonumber(ARGV[2])}
end
return {redis.call('HINCRBY', KEYS[1], 'c', 1), e}
`)

// Counters is store.Counters in Redis.
type Counters struct {
	client redis.UniversalClient
	prefix string
	owned  bool // Close closes the client
}

var _ store.Counters = (*Counters)(nil)

// NewCounters returns counters stored under keys prefix+key in client. The
// caller keeps ownership of the client.
func NewCounters(client redis.UniversalClient, prefix string) *Counters {
	return &Counters{client: client, prefix: prefix}
}

// OpenCounters connects to the Redis at url (redis://[user:pass@]host:port/db
// or rediss://...) and checks that it answers. Close closes the connection.
func OpenCounters(ctx context.Context, url, prefix string) (*Counters, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis: open: %w", err)
	}
	c := NewCounters(redis.NewClient(opt), prefix)
	c.owned = true
	if err := c.Ping(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Ping reports whether Redis is reachable.
func (c *Counters) Ping(ctx context.Context) error {
	if err := c.client.Ping(ctx).Err(); err != nil {
		return wrap("ping", err)
	}
	return nil
}

// Close closes the client if OpenCounters made it.
func (c *Counters) Close() error {
	if !c.owned {
		return nil
	}
	return c.client.Close()
}

// Incr adds one and returns the new count and when the window ends.
func (c *Counters) Incr(ctx context.Context, key string, window time.Duration, now time.Time) (int64, time.Time, error) {
	if window <= 0 {
		return 0, time.Time{}, fmt.Errorf("redis: incr %q: window %v is not positive", key, window)
	}
	end := now.Add(window).UnixMilli()
	ttl := (window + gcSlack).Milliseconds()
	vals, err := incrScript.Run(ctx, c.client, []string{c.prefix + key}, now.UnixMilli(), end, ttl).Int64Slice()
	if err != nil {
		return 0, time.Time{}, wrap(fmt.Sprintf("incr %q", key), err)
	}
	if len(vals) != 2 {
		return 0, time.Time{}, fmt.Errorf("redis: incr %q: script returned %d values", key, len(vals))
	}
	return vals[0], time.UnixMilli(vals[1]).UTC(), nil
}

// Peek returns the count of a live window, or 0 when there is none.
func (c *Counters) Peek(ctx context.Context, key string, now time.Time) (int64, time.Time, error) {
	vals, err := c.client.HMGet(ctx, c.prefix+key, "c", "e").Result()
	if err != nil {
		return 0, time.Time{}, wrap(fmt.Sprintf("peek %q", key), err)
	}
	cs, ok1 := vals[0].(string)
	es, ok2 := vals[1].(string)
	if !ok1 || !ok2 {
		return 0, time.Time{}, nil
	}
	count, err1 := strconv.ParseInt(cs, 10, 64)
	end, err2 := strconv.ParseInt(es, 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, time.Time{}, fmt.Errorf("redis: peek %q: %w", key, err)
	}
	if end <= now.UnixMilli() {
		return 0, time.Time{}, nil
	}
	return count, time.UnixMilli(end).UTC(), nil
}

// ResetCounter forgets the counter.
func (c *Counters) ResetCounter(ctx context.Context, key string) error {
	if err := c.client.Del(ctx, c.prefix+key).Err(); err != nil {
		return wrap(fmt.Sprintf("reset %q", key), err)
	}
	return nil
}

// DeleteExpiredCounters does nothing: Redis deletes keys whose window is
// over by itself.
func (c *Counters) DeleteExpiredCounters(ctx context.Context, now time.Time) (int64, error) {
	return 0, nil
}
