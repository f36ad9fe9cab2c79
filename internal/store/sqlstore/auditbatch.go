package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
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

	for i, d := range s.appendBatchSafely(batch) {
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

// appendBatchSafely is appendBatch with a panic (a seal's, a driver's)
// turned into every caller's error, so that the queue moves on instead of
// leaving every later append of the instance waiting.
func (s *Store) appendBatchSafely(batch []*auditAppend) (out []auditDone) {
	defer func() {
		if p := recover(); p != nil {
			err := fmt.Errorf("%s: append audit: panic: %v", s.d.Name, p)
			out = make([]auditDone, len(batch))
			for i := range out {
				out[i].err = err
			}
		}
	}()
	return s.appendBatch(batch)
}

// appendBatch appends the batch's events in order. A caller's context
// only carries its values: an append is not abandoned because the request
// that made it was (a password guesser who hangs up is still recorded).
// If the batch transaction fails because of an event (a seal of the wrong
// length), each event is tried alone, so that the bad one fails only its
// own caller; if the database failed, every caller gets the error at once
// rather than each waiting out a deadline of its own against a database
// that does not answer. If only the commit failed, the chain is read
// first, since a commit can fail after the database made it.
func (s *Store) appendBatch(batch []*auditAppend) []auditDone {
	out := make([]auditDone, len(batch))
	if len(batch) > 1 {
		events := make([]store.AuditEvent, len(batch))
		for i, a := range batch {
			events[i] = a.e
		}
		ctx, cancel := detached(batch[0].ctx)
		var sealed []store.AuditEvent
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			sealed, err = s.appendAuditBatchTx(ctx, tx, "append audit", events, func(i int, e store.AuditEvent) []byte {
				return batch[i].seal(e)
			})
			return err
		})
		cancel()
		if err != nil && sealed != nil && s.auditCommitted(batch[0].ctx, sealed[len(sealed)-1]) {
			err = nil
		}
		switch {
		case err == nil:
			for i := range batch {
				out[i].e = sealed[i]
			}
			return out
		case !errors.Is(err, errBadSeal):
			for i := range out {
				out[i].err = err
			}
			return out
		}
	}
	deadline := time.Now().Add(auditBatchFor) // one for them all
	for i, a := range batch {
		ctx, cancel := context.WithDeadline(context.WithoutCancel(a.ctx), deadline)
		out[i].e, out[i].err = s.writeAudited(ctx, a.e, a.seal, nil)
		cancel()
	}
	return out
}

// detached is ctx without its cancellation, with auditBatchFor to run.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), auditBatchFor)
}

// auditCommitted reports whether e, sealed for a transaction whose commit
// failed, is in the chain after all. It has a deadline of its own: the
// commit may have failed on the batch's.
func (s *Store) auditCommitted(ctx context.Context, e store.AuditEvent) bool {
	ctx, cancel := detached(ctx)
	defer cancel()
	var h []byte
	err := s.wdb.QueryRowContext(ctx, `SELECT hash FROM audit_events WHERE seq = $1`, e.Seq).Scan(&h)
	return err == nil && bytes.Equal(h, e.Hash)
}
