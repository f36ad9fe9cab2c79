package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"unid/internal/store"
)

// Hash lengths AppendAudit accepts: SHA-256 up to SHA-512 sized digests.
const (
	minHashLen = 32
	maxHashLen = 64
)

// AppendAudit appends one event to the chain. The one-row audit_head table
// holds the last seq and hash; updating it first takes its row lock, so
// appends from every instance queue up behind each other and form one
// chain. The event passed to seal is exactly what is stored and what
// ListAudit returns (time in UTC, truncated to the millisecond).
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEvent, seal func(store.AuditEvent) []byte) (store.AuditEvent, error) {
	e.Time = normTime(e.Time)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var prev []byte
		err := tx.QueryRowContext(ctx,
			`UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash`).Scan(&e.Seq, &prev)
		if err != nil {
			return s.wrapErr("append audit: head", err)
		}
		e.PrevHash = normBytes(prev)
		e.Hash = nil
		h := seal(e)
		if len(h) < minHashLen || len(h) > maxHashLen {
			return fmt.Errorf("%s: append audit: seal returned %d bytes, want %d to %d", s.d.Name, len(h), minHashLen, maxHashLen)
		}
		e.Hash = h
		_, err = tx.ExecContext(ctx, `INSERT INTO audit_events
			(seq, time, actor, action, result, ip, user_agent, subject, detail, prev_hash, hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			e.Seq, ms(e.Time), e.Actor, e.Action, e.Result, e.IP, e.UserAgent, e.Subject, e.Detail,
			nullBytes(e.PrevHash), e.Hash)
		if err != nil {
			return s.wrapErr("append audit", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET hash = $1 WHERE id = 1`, e.Hash); err != nil {
			return s.wrapErr("append audit: head", err)
		}
		return nil
	})
	if err != nil {
		return store.AuditEvent{}, err
	}
	return e, nil
}

// ListAudit returns up to limit events with Seq > afterSeq, in order.
func (s *Store) ListAudit(ctx context.Context, afterSeq int64, limit int) ([]store.AuditEvent, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT seq, time, actor, action, result, ip, user_agent,
		subject, detail, prev_hash, hash FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`,
		afterSeq, limit)
	if err != nil {
		return nil, s.wrapErr("list audit", err)
	}
	defer rows.Close()
	var out []store.AuditEvent
	for rows.Next() {
		var e store.AuditEvent
		var t int64
		if err := rows.Scan(&e.Seq, &t, &e.Actor, &e.Action, &e.Result, &e.IP, &e.UserAgent,
			&e.Subject, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			return nil, s.wrapErr("list audit", err)
		}
		e.Time = fromMS(t)
		out = append(out, e)
	}
	return out, s.wrapErr("list audit", rows.Err())
}
