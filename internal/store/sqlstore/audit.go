package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"unid/internal/store"
)

// Hash lengths AppendAudit accepts: SHA-256 up to SHA-512 sized digests.
const (
	minHashLen = 32
	maxHashLen = 64
)

// errBadSeal: a seal function returned a hash of another length. It is the
// event's fault, not the database's.
var errBadSeal = errors.New("seal returned a hash of the wrong length")

// AppendAudit appends one event to the chain. The one-row audit_head table
// holds the last seq and hash; updating it first takes its row lock, so
// appends from every instance queue up behind each other and form one
// chain. The event passed to seal is exactly what is stored and what
// ListAudit returns (time in UTC, truncated to the millisecond). Appends
// that arrive together are committed together (auditbatch.go).
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEvent, seal func(store.AuditEvent) []byte) (store.AuditEvent, error) {
	return s.appendQueued(ctx, e, seal)
}

// writeAudited runs write, if any, and then appends e to the chain, in one
// transaction. It is how a store method that changes several records keeps
// the rule that its audit event is committed with them or not at all: an
// error from write or from the append rolls everything back and is
// returned unchanged.
//
// The append comes last because it takes the lock on the chain head, which
// every other append then waits for until the transaction ends; write
// should be short and must not write through the Store itself.
func (s *Store) writeAudited(ctx context.Context, e store.AuditEvent, seal func(store.AuditEvent) []byte, write func(tx *sql.Tx) error) (store.AuditEvent, error) {
	var out store.AuditEvent
	st := s.writeStmts(ctx, qAuditNext, qAuditInsert, qAuditHead)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if write != nil {
			if err := write(tx); err != nil {
				return err
			}
		}
		var err error
		out, err = s.appendAuditTx(ctx, tx, st, e, seal)
		return err
	})
	if err != nil {
		return store.AuditEvent{}, err
	}
	return out, nil
}

// The statements of one append.
const (
	qAuditNext   = `UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash`
	qAuditInsert = `INSERT INTO audit_events
		(seq, time, actor, action, result, ip, user_agent, subject, detail, account_id, client_id, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`
	qAuditHead = `UPDATE audit_head SET hash = $1 WHERE id = 1`
)

// appendAuditTx appends e to the chain inside the caller's transaction,
// through st: writeStmts of qAuditNext, qAuditInsert and qAuditHead.
func (s *Store) appendAuditTx(ctx context.Context, tx *sql.Tx, st []*sql.Stmt, e store.AuditEvent, seal func(store.AuditEvent) []byte) (store.AuditEvent, error) {
	e.Time = normTime(e.Time)
	var prev []byte
	err := txQueryRow(ctx, tx, st[0], qAuditNext).Scan(&e.Seq, &prev)
	if err != nil {
		return store.AuditEvent{}, s.wrapErr("append audit: head", err)
	}
	e.PrevHash = normBytes(prev)
	e.Hash = nil
	h := seal(e)
	if len(h) < minHashLen || len(h) > maxHashLen {
		return store.AuditEvent{}, fmt.Errorf("%s: append audit: %w: %d bytes, want %d to %d", s.d.Name, errBadSeal, len(h), minHashLen, maxHashLen)
	}
	e.Hash = h
	_, err = txExec(ctx, tx, st[1], qAuditInsert,
		e.Seq, ms(e.Time), e.Actor, e.Action, e.Result, e.IP, e.UserAgent, e.Subject, e.Detail,
		e.Account, e.Client, nullBytes(e.PrevHash), e.Hash)
	if err != nil {
		return store.AuditEvent{}, s.wrapErr("append audit", err)
	}
	if _, err := txExec(ctx, tx, st[2], qAuditHead, e.Hash); err != nil {
		return store.AuditEvent{}, s.wrapErr("append audit: head", err)
	}
	return e, nil
}

// ListAudit returns up to limit events with Seq > afterSeq, in order.
func (s *Store) ListAudit(ctx context.Context, afterSeq int64, limit int) ([]store.AuditEvent, error) {
	if limit <= 0 {
		return nil, nil
	}
	return listRows(ctx, s, "list audit", scanAuditEvent, `SELECT seq, time, actor, action, result, ip,
		user_agent, subject, detail, account_id, client_id, prev_hash, hash FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`,
		afterSeq, limit)
}

// ScanAudit calls fn with the events from..to (to 0: the newest), in
// order, from one query read row by row: no page boundaries to seek
// again, and one event's worth of memory whatever the range. The hashes
// are scanned as sql.RawBytes, the driver's own copy, valid until the
// next row.
func (s *Store) ScanAudit(ctx context.Context, from, to int64, fn func(store.AuditEvent) error) error {
	q := `SELECT ` + auditColumns + ` FROM audit_events WHERE seq >= $1`
	args := []any{from}
	if to > 0 {
		q += ` AND seq <= $2`
		args = append(args, to)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY seq`, args...)
	if err != nil {
		return s.wrapErr("scan audit", err)
	}
	defer rows.Close()
	var (
		e          store.AuditEvent
		t          int64
		prev, hash sql.RawBytes
	)
	dest := []any{&e.Seq, &t, &e.Actor, &e.Action, &e.Result, &e.IP, &e.UserAgent,
		&e.Subject, &e.Detail, &e.Account, &e.Client, &prev, &hash}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return s.wrapErr("scan audit", err)
		}
		e.Time, e.PrevHash, e.Hash = fromMS(t), normBytes(prev), hash
		if err := fn(e); err != nil {
			return err
		}
	}
	return s.wrapErr("scan audit", rows.Err())
}

// ListActorAudit returns up to limit of the newest events of actor, newest
// first, but those whose action is in skip. The audit_events_actor_idx
// index (actor, seq) lets it read only the actor's events.
func (s *Store) ListActorAudit(ctx context.Context, actor string, skip []string, limit int) ([]store.AuditEvent, error) {
	if limit <= 0 {
		return nil, nil
	}
	args := []any{actor, limit}
	var not strings.Builder
	for i, a := range skip {
		if i == 0 {
			not.WriteString(` AND action NOT IN (`)
		} else {
			not.WriteString(`, `)
		}
		args = append(args, a)
		fmt.Fprintf(&not, "$%d", len(args))
		if i == len(skip)-1 {
			not.WriteString(`)`)
		}
	}
	return listRows(ctx, s, "list actor audit", scanAuditEvent, `SELECT seq, time, actor, action, result, ip,
		user_agent, subject, detail, account_id, client_id, prev_hash, hash FROM audit_events WHERE actor = $1`+not.String()+`
		ORDER BY seq DESC LIMIT $2`, args...)
}

func scanAuditEvent(r rowScanner) (store.AuditEvent, error) {
	var e store.AuditEvent
	var t int64
	err := r.Scan(&e.Seq, &t, &e.Actor, &e.Action, &e.Result, &e.IP, &e.UserAgent,
		&e.Subject, &e.Detail, &e.Account, &e.Client, &e.PrevHash, &e.Hash)
	e.Time = fromMS(t)
	return e, err
}
