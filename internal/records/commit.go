package records

import (
	"context"
	"sync"
	"time"

	"unid/internal/store"
)

// committer merges the UpsertRecords of concurrent small writes into
// fewer transactions (group commit): while maxInFlight transactions run,
// the writes that arrive wait, and go together, up to maxGroup records,
// in the next one. A lone write goes at once, so this adds no wait when
// the API is quiet; under load one commit serves many requests, which is
// what lets single writes scale past one transaction per request. A group
// that fails is retried write by write, so that one write (an owner
// deleted meanwhile) fails alone. Batches of a bulk request are big
// enough on their own and go straight to the store.
type committer struct {
	upsert func(ctx context.Context, writes []store.Record) ([]store.UpsertResult, error)

	mu       sync.Mutex
	queue    []*commitJob
	inFlight int
}

type commitJob struct {
	recs []store.Record
	res  []store.UpsertResult
	err  error
	done chan struct{}
}

const (
	maxInFlight   = 4
	maxGroup      = 1000
	commitTimeout = 30 * time.Second
)

// do applies recs, in one transaction with other writes waiting for one.
func (c *committer) do(ctx context.Context, recs []store.Record) ([]store.UpsertResult, error) {
	if len(recs) >= BatchSize {
		return c.upsert(ctx, recs)
	}
	j := &commitJob{recs: recs, done: make(chan struct{})}
	c.mu.Lock()
	c.queue = append(c.queue, j)
	start := c.inFlight < maxInFlight
	if start {
		c.inFlight++
	}
	c.mu.Unlock()
	if start {
		go c.run(context.WithoutCancel(ctx))
	}
	<-j.done
	return j.res, j.err
}

// run commits groups from the queue until it is empty.
func (c *committer) run(ctx context.Context) {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			c.inFlight--
			c.mu.Unlock()
			return
		}
		n, size := 0, 0
		for n < len(c.queue) && (n == 0 || size+len(c.queue[n].recs) <= maxGroup) {
			size += len(c.queue[n].recs)
			n++
		}
		group := c.queue[:n:n]
		c.queue = c.queue[n:]
		c.mu.Unlock()
		c.commit(ctx, group)
	}
}

func (c *committer) commit(ctx context.Context, group []*commitJob) {
	ctx, cancel := context.WithTimeout(ctx, commitTimeout)
	defer cancel()
	if len(group) == 1 {
		j := group[0]
		j.res, j.err = c.upsert(ctx, j.recs)
		close(j.done)
		return
	}
	var all []store.Record
	for _, j := range group {
		all = append(all, j.recs...)
	}
	res, err := c.upsert(ctx, all)
	if err != nil || len(res) != len(all) {
		for _, j := range group {
			j.res, j.err = c.upsert(ctx, j.recs)
			close(j.done)
		}
		return
	}
	at := 0
	for _, j := range group {
		j.res = res[at : at+len(j.recs)]
		at += len(j.recs)
		close(j.done)
	}
}
