package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"unid/internal/store"
	"unid/internal/store/redis"
	"unid/internal/store/storetest"
	"unid/internal/testenv"
)

func TestCounters(t *testing.T) {
	url := testenv.RedisURL(t)
	storetest.RunCounters(t, func(t *testing.T) store.Counters {
		ctx := context.Background()
		b := make([]byte, 8)
		rand.Read(b)
		prefix := "unid-test:" + hex.EncodeToString(b) + ":"
		c, err := redis.OpenCounters(ctx, url, prefix)
		if err != nil {
			t.Fatalf("OpenCounters: %v", err)
		}
		t.Cleanup(func() {
			defer c.Close()
			opt, _ := goredis.ParseURL(url)
			client := goredis.NewClient(opt)
			defer client.Close()
			keys, err := client.Keys(ctx, prefix+"*").Result()
			if err == nil && len(keys) > 0 {
				client.Del(ctx, keys...)
			}
		})
		return c
	})
}

// TestCountersExpireInRedis checks that keys do not outlive their window by
// much, so Redis needs no sweeping.
func TestCountersExpireInRedis(t *testing.T) {
	ctx := context.Background()
	opt, err := goredis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatalf("ParseURL: %v", err)
	}
	client := goredis.NewClient(opt)
	defer client.Close()
	b := make([]byte, 8)
	rand.Read(b)
	prefix := "unid-test:" + hex.EncodeToString(b) + ":"
	c := redis.NewCounters(client, prefix)
	const window = 10 * time.Second
	if _, _, err := c.Incr(ctx, "k", window, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatalf("Incr: %v", err)
	}
	defer client.Del(ctx, prefix+"k")
	ttl, err := client.PTTL(ctx, prefix+"k").Result()
	if err != nil {
		t.Fatalf("PTTL: %v", err)
	}
	if ttl <= window/2 || ttl > window+time.Minute {
		t.Errorf("key TTL = %v, want about the window (%v)", ttl, window)
	}
	if n, err := c.DeleteExpiredCounters(ctx, time.Now()); err != nil || n != 0 {
		t.Errorf("DeleteExpiredCounters = %d, %v", n, err)
	}
}
