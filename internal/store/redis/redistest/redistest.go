// Package redistest gives tests clients of the Redis the suite runs with,
// and the challenges a unid server keeps there.
package redistest

import (
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"unid/internal/store"
	"unid/internal/store/redis"
)

// Client is a client of the Redis at url, closed when the test ends.
func Client(t testing.TB, url string) *goredis.Client {
	t.Helper()
	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatalf("redis URL: %v", err)
	}
	client := goredis.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	return client
}

// ServerChallenges are the challenges a unid server keeps in the Redis at
// url (under redis.ServerPrefix), for a test to read or rewrite as someone
// with access to that Redis could.
func ServerChallenges(t testing.TB, url string) store.Challenges {
	return redis.NewChallenges(Client(t, url), redis.ServerPrefix, time.Now)
}
