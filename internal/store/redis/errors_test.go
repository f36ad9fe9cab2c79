package redis

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"unid/internal/store"
	"unid/internal/testenv"
)

// TestWrapUnavailable: the answers of a Redis that cannot serve for now,
// as they come over the wire, are store.Unavailable (503, try again), and
// a command unid got wrong is not.
func TestWrapUnavailable(t *testing.T) {
	opt, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opt)
	defer client.Close()
	ctx := context.Background()
	for _, tt := range []struct {
		reply string
		want  bool
	}{
		{"LOADING Redis is loading the dataset in memory", true},
		{"READONLY You can't write against a read only replica.", true},
		{"MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", true},
		{"OOM command not allowed when used memory > 'maxmemory'.", true},
		{"MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk.", true},
		{"ERR wrong number of arguments for 'hset' command", false},
	} {
		// A script answers with the error as Redis itself would send it.
		err := client.Eval(ctx, "return redis.error_reply(ARGV[1])", nil, tt.reply).Err()
		if err == nil {
			t.Fatalf("%s: no error from the script", tt.reply)
		}
		if got := store.Unavailable(wrap("get challenge", err)); got != tt.want {
			t.Errorf("%q: Unavailable = %v, want %v", tt.reply, got, tt.want)
		}
	}
	client.Close()
	if err := client.Ping(ctx).Err(); !store.Unavailable(wrap("ping", err)) {
		t.Errorf("a closed client: %v is not Unavailable", err)
	}
}
