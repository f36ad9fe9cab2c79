package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"unid/internal/store"
)

// Appends that arrive while another is being written are written together
// in one transaction: group commit. Every append takes the lock on the
// chain head until its transaction commits, so one at a time the chain
// grows by one event per commit, and a commit waits for the disk; token
// issuance, which records an event per token, was capped by it at a few
// hundred tokens a second on PostgreSQL. In a batch the head is locked
// once, the events are chained in order and inserted with one statement,
// and every caller returns when the commit that holds its event is done,
// exactly as a single append does.
const (
	maxAuditBatch = 100              // events in one transaction (13 parameters each)
	auditBatchFor = 10 * time.Second // how long a batch may take, whoever waits for it
)

// auditQueue is the appends waiting for a batch. busy is true while one
// caller, the leader, writes a batch; the others wait for their result or
// to be made the next leader.
type auditQueue struct {
	mu      sync.Mutex
	pending []*auditAppend
	busy    bool
}

type auditAppend struct {
	ctx  context.Context
	e    store.AuditEvent
	seal func(store.AuditEvent) []byte
	done chan auditDone // one message at a time: lead, then the result
}

type auditDone struct {
	e    store.AuditEvent
	err  error
	lead bool // write the next batch, which holds this append
}

// appendQueued appends e through the queue.
func (s *Store) appendQueued(ctx context.Context, e store.AuditEvent, seal func(store.AuditEvent) []byte) (store.AuditEvent, error) {
	a := &auditAppend{ctx: ctx, e: e, seal: seal, done: make(chan auditDone, 1)}
	q := &s.audit
	q.mu.Lock()
	q.pending = append(q.pending, a)
	lead := !q.busy
	q.busy = true
	q.mu.Unlock()
	for {
		if lead {
			s.writeAuditBatch()
		}
		d := <-a.done
		if !d.lead {
			return d.e, d.err
		}
		lead = true
	}
}

// writeAuditBatch writes the oldest pending appends, tells each its
// result, and hands the queue to the next waiting caller, if any.
func (s *Store) writeAuditBatch() {
	q := &s.audit
	q.mu.Lock()
	n := min(len(q.pending), maxAuditBatch)
	batch := make([]*auditAppend, n)
	copy(batch, q.pending)
	q.pending = append(q.pending[:0], q.pending[n:]...)
	q.mu.Unlock()

	for i, d := range s.appendBatch(batch) {
		batch[i].done <- d
	}

	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) == 0 {
		q.busy = false
		return
	}
	q.pending[0].done <- auditDone{lead: true}
}

// appendBatch appends the batch's events in order. An append whose caller
// has gone is left out. If the batch transaction fails, each event is
// tried alone, so that one bad event fails only its own caller.
func (s *Store) appendBatch(batch []*auditAppend) []auditDone {
	out := make([]auditDone, len(batch))
	var live []int
	for i, a := range batch {
		if err := a.ctx.Err(); err != nil {
			out[i].err = err
			continue
		}
		live = append(live, i)
	}
	if len(live) > 1 {
		events := make([]store.AuditEvent, len(live))
		for k, i := range live {
			events[k] = batch[i].e
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(batch[live[0]].ctx), auditBatchFor)
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			events, err = s.appendAuditBatchTx(ctx, tx, "append audit", events, func(k int, e store.AuditEvent) []byte {
				return batch[live[k]].seal(e)
			})
			return err
		})
		cancel()
		if err == nil {
			for k, i := range live {
				out[i].e = events[k]
			}
			return out
		}
	}
	for _, i := range live {
		a := batch[i]
		out[i].e, out[i].err = s.writeAudited(a.ctx, a.e, a.seal, nil)
	}
	return out
}
