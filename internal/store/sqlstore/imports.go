package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"unid/internal/store"
)

// importRows is how many users (or events) one INSERT statement of
// ImportUsers carries: 500 × 18 columns stays below the parameter limits
// of SQLite (32766) and PostgreSQL (65535).
const importRows = 500

// auditColumnCount is the number of columns an audit event is stored in.
const auditColumnCount = 13

// ImportUsers creates the users and appends their events in one
// transaction: see store.Imports. The cost of an import of 100,000
// accounts is the round trips and the commits, not the rows, so a batch
// takes a few statements whatever its size: multi-row INSERTs of the
// users, one look at the closed identifiers, one move of the audit chain's
// head by len(events) with the chain computed here, multi-row INSERTs of
// the events.
func (s *Store) ImportUsers(ctx context.Context, users []store.User, events []store.AuditEvent, seal func(store.AuditEvent) []byte) error {
	const op = "import users"
	if len(users) != len(events) {
		return fmt.Errorf("%s: %s: %d users but %d events", s.d.Name, op, len(users), len(events))
	}
	if len(users) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		args := make([]any, 0, importRows*userColumnCount)
		for start := 0; start < len(users); start += importRows {
			batch := users[start:min(start+importRows, len(users))]
			args = args[:0]
			for _, u := range batch {
				args = append(args, userArgs(u)...)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES `+
				placeholders(len(batch), userColumnCount, s.d.Positional), args...); err != nil {
				return s.wrapErr(op, err)
			}
		}
		if err := s.checkClosedPhones(ctx, tx, op, users); err != nil {
			return err
		}
		_, err := s.appendAuditBatchTx(ctx, tx, op, events, func(_ int, e store.AuditEvent) []byte { return seal(e) })
		return err
	})
}

// checkClosedPhones is checkClosed for many new users at once: a phone a
// closed account gave up, whose cooling-off lasts beyond the user's
// CreatedAt, is a conflict on closed_phone. (Imported accounts have no
// verified ID number.)
func (s *Store) checkClosedPhones(ctx context.Context, tx *sql.Tx, op string, users []store.User) error {
	created := map[string]time.Time{}
	var args []any
	for _, u := range users {
		if len(u.Phone.Index) > 0 {
			created[string(u.Phone.Index)] = u.CreatedAt
		}
	}
	if len(created) == 0 {
		return nil
	}
	var in strings.Builder
	args = append(args, store.ClosedPhone)
	for idx := range created {
		if len(args) > 1 {
			in.WriteString(", ")
		}
		args = append(args, []byte(idx))
		fmt.Fprintf(&in, "$%d", len(args))
	}
	rows, err := tx.QueryContext(ctx, `SELECT blind_index, released_at FROM closed_identifiers
		WHERE kind = $1 AND blind_index IN (`+in.String()+`)`, args...)
	if err != nil {
		return s.wrapErr(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var idx []byte
		var released int64
		if err := rows.Scan(&idx, &released); err != nil {
			return s.wrapErr(op, err)
		}
		if at, ok := created[string(idx)]; ok && released > ms(at) {
			return fmt.Errorf("%s: %s: %w", s.d.Name, op, &store.ConflictError{Field: "closed_" + store.ClosedPhone})
		}
	}
	return s.wrapErr(op, rows.Err())
}

// appendAuditBatchTx appends events to the chain inside the caller's
// transaction, as appendAuditTx does one by one: it moves the head by
// len(events) (taking its lock), chains the events here, sealing event i
// with seal(i, …), and inserts them with multi-row INSERTs. It returns the
// events as stored.
func (s *Store) appendAuditBatchTx(ctx context.Context, tx *sql.Tx, op string, events []store.AuditEvent, seal func(i int, e store.AuditEvent) []byte) ([]store.AuditEvent, error) {
	var last int64
	var prev []byte
	err := tx.QueryRowContext(ctx, `UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash`,
		int64(len(events))).Scan(&last, &prev)
	if err != nil {
		return nil, s.wrapErr(op+": audit head", err)
	}
	prev = normBytes(prev)
	out := make([]store.AuditEvent, len(events))
	args := make([]any, 0, importRows*auditColumnCount)
	for start := 0; start < len(events); start += importRows {
		batch := events[start:min(start+importRows, len(events))]
		args = args[:0]
		for i, e := range batch {
			e.Seq = last - int64(len(events)) + int64(start+i) + 1
			e.Time = normTime(e.Time)
			e.PrevHash, e.Hash = prev, nil
			h := seal(start+i, e)
			if len(h) < minHashLen || len(h) > maxHashLen {
				return nil, fmt.Errorf("%s: %s: %w: %d bytes, want %d to %d", s.d.Name, op, errBadSeal, len(h), minHashLen, maxHashLen)
			}
			e.Hash = h
			out[start+i] = e
			args = append(args, e.Seq, ms(e.Time), e.Actor, e.Action, e.Result, e.IP, e.UserAgent, e.Subject, e.Detail,
				e.Account, e.Client, nullBytes(e.PrevHash), h)
			prev = h
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_events
			(seq, time, actor, action, result, ip, user_agent, subject, detail, account_id, client_id, prev_hash, hash) VALUES `+
			placeholders(len(batch), auditColumnCount, s.d.Positional), args...); err != nil {
			return nil, s.wrapErr(op, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET hash = $1 WHERE id = 1`, prev); err != nil {
		return nil, s.wrapErr(op+": audit head", err)
	}
	return out, nil
}
