package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"unid/internal/store"
	"unid/internal/store/redis"
	"unid/internal/store/redis/redistest"
	"unid/internal/store/storetest"
	"unid/internal/testenv"
)

func TestCounters(t *testing.T) {
	url := testenv.RedisURL(t)
	storetest.RunCounters(t, func(t *testing.T) store.Counters {
		c, err := redis.OpenCounters(context.Background(), url, testPrefix(t, url))
		if err != nil {
			t.Fatalf("OpenCounters: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	})
}

// testPrefix returns a key prefix of the test's own in the Redis at url,
// whose keys are deleted when the test ends.
func testPrefix(t *testing.T, url string) string {
	b := make([]byte, 8)
	rand.Read(b)
	prefix := "unid-test:" + hex.EncodeToString(b) + ":"
	client := redistest.Client(t, url)
	t.Cleanup(func() {
		ctx := context.Background()
		keys, err := client.Keys(ctx, prefix+"*").Result()
		if err == nil && len(keys) > 0 {
			client.Del(ctx, keys...)
		}
	})
	return prefix
}

// TestCountersExpireInRedis checks that keys do not outlive their window by
// much, so Redis needs no sweeping.
func TestCountersExpireInRedis(t *testing.T) {
	ctx := context.Background()
	url := testenv.RedisURL(t)
	client := redistest.Client(t, url)
	prefix := testPrefix(t, url)
	c := redis.NewCounters(client, prefix)
	const window = 10 * time.Second
	if _, _, err := c.Incr(ctx, "k", window, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatalf("Incr: %v", err)
	}
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

func TestChallenges(t *testing.T) {
	url := testenv.RedisURL(t)
	client := redistest.Client(t, url)
	storetest.RunChallenges(t, func(t *testing.T) store.Challenges {
		return redis.NewChallenges(client, testPrefix(t, url), time.Now)
	}, false)
}

// TestChallengesExpireInRedis checks that a challenge's key lives until
// the challenge expires by unid's clock, and a little longer, so that
// Redis needs no sweeping and never ends a challenge early.
func TestChallengesExpireInRedis(t *testing.T) {
	ctx := context.Background()
	url := testenv.RedisURL(t)
	client := redistest.Client(t, url)
	prefix := testPrefix(t, url)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := redis.NewChallenges(client, prefix, func() time.Time { return now })
	for _, tt := range []struct {
		name     string
		lifetime time.Duration
		wantTTL  time.Duration
	}{
		{"live", 5 * time.Minute, 5*time.Minute + 5*time.Second},
		{"expired", -time.Minute, 5 * time.Second},
	} {
		ch := store.Challenge{Kind: store.ChallengeCaptcha, ID: tt.name, Secret: []byte{1, 2, 3}, CreatedAt: now, ExpiresAt: now.Add(tt.lifetime)}
		if err := c.PutChallenge(ctx, ch); err != nil {
			t.Fatalf("PutChallenge: %v", err)
		}
		ttl, err := client.PTTL(ctx, prefix+"ch:captcha:"+tt.name).Result()
		if err != nil {
			t.Fatalf("PTTL: %v", err)
		}
		if ttl <= tt.wantTTL-time.Second || ttl > tt.wantTTL {
			t.Errorf("%s: key TTL = %v, want about %v", tt.name, ttl, tt.wantTTL)
		}
	}
	if err := c.PutChallenge(ctx, store.Challenge{Kind: "a:b", ID: "c"}); err == nil {
		t.Error("PutChallenge of a kind with a colon: no error")
	}
}
