package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"unid/internal/store"
)

// clockSlack is how far apart in time two events may be stored against
// their order in the chain: every instance stamps an event with its own
// clock before it waits for the chain's head. QueryAudit widens the seq
// bounds it derives from a time range by it and keeps the exact time
// condition, so that an event stamped up to this much out of order is
// still found.
const clockSlack = 10 * time.Minute

const auditColumns = `seq, time, actor, action, result, ip, user_agent, subject, detail, account_id, client_id, prev_hash, hash`

// QueryAudit returns one page of the audit viewer, newest first.
//
// Every query walks an index backwards by seq from beforeSeq: the
// primary key, or (actor, seq), (action, seq), (ip, seq), (account_id,
// seq), (client_id, seq), whichever the planner finds the most selective
// of the fields set. A time range is first turned into seq bounds
// through the time index, so that a range far in the past reads only
// its own part of the log. An account's events are two index walks, of
// account_id and of actor, merged.
func (s *Store) QueryAudit(ctx context.Context, f store.AuditFilter, beforeSeq int64, limit int) ([]store.AuditEvent, error) {
	if limit <= 0 {
		return nil, nil
	}
	lo, hi, err := s.auditSeqBounds(ctx, f.From, f.To)
	if err != nil {
		return nil, err
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	// ipCol is the address as its index holds it: PostgreSQL's compares
	// bytes (COLLATE "C"), which a prefix range needs.
	ipCol := "ip"
	if s.d.Name == "postgres" {
		ipCol = `ip COLLATE "C"`
	}
	var where []string
	if lo > 0 {
		where = append(where, "seq >= "+arg(lo))
	}
	if hi > 0 {
		where = append(where, "seq <= "+arg(hi))
	}
	if beforeSeq > 0 {
		where = append(where, "seq < "+arg(beforeSeq))
	}
	if !f.From.IsZero() {
		where = append(where, "time >= "+arg(ms(f.From)))
	}
	if !f.To.IsZero() {
		where = append(where, "time < "+arg(ms(f.To)))
	}
	if f.Actor != "" {
		where = append(where, "actor = "+arg(f.Actor))
	}
	if f.Action != "" {
		where = append(where, "action = "+arg(f.Action))
	}
	if f.Result != "" {
		where = append(where, "result = "+arg(f.Result))
	}
	if f.IP != "" {
		where = append(where, ipCol+" = "+arg(f.IP))
	}
	if f.IPPrefix != "" {
		// Every address that starts with the prefix sorts from it up to
		// the prefix with its last byte one higher ("10.1." to "10.1/").
		p := f.IPPrefix
		where = append(where, ipCol+" >= "+arg(p), ipCol+" < "+arg(p[:len(p)-1]+string(p[len(p)-1]+1)))
	}
	if f.Client != "" {
		where = append(where, "client_id <> '' AND client_id = "+arg(f.Client))
	}
	lim := arg(limit)
	// The page is found as seqs first and read as rows after: the search
	// then reads only its index where the index holds every column it
	// asks about (an address range over (ip, seq) reads no row of the
	// thousands of events of a network, only the page's fifty).
	seqs := func(extra ...string) string {
		w := append(where[:len(where):len(where)], extra...)
		q := `SELECT seq FROM audit_events`
		if len(w) > 0 {
			q += ` WHERE ` + strings.Join(w, " AND ")
		}
		return q + ` ORDER BY seq DESC LIMIT ` + lim
	}
	var page string
	if f.Account != "" {
		acc := arg(f.Account)
		// The partial index on account_id is used only when the query
		// says account_id <> '' itself.
		page = `SELECT seq FROM (SELECT * FROM (` + seqs("account_id <> ''", "account_id = "+acc) + `) a UNION SELECT * FROM (` +
			seqs("actor = "+acc) + `) b ORDER BY seq DESC LIMIT ` + lim + `) p`
	} else {
		page = seqs()
	}
	query := `SELECT ` + auditColumns + ` FROM audit_events WHERE seq IN (` + page + `) ORDER BY seq DESC`
	return listRows(ctx, s, "query audit", scanAuditEvent, query, args...)
}

// auditSeqBounds turns a time range into seq bounds of the events in it,
// each found by one probe of the time index: lo and hi are 0 where there
// is no bound. An event appended before another is stamped at most
// clockSlack after it, so every event before the last one stamped more
// than clockSlack before from is itself before from, and every event
// after the first one stamped clockSlack or more after to is at or after
// to.
func (s *Store) auditSeqBounds(ctx context.Context, from, to time.Time) (lo, hi int64, err error) {
	if !from.IsZero() {
		err := s.db.QueryRowContext(ctx, `SELECT seq FROM audit_events WHERE time < $1 ORDER BY time DESC LIMIT 1`,
			ms(from.Add(-clockSlack))).Scan(&lo)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, 0, s.wrapErr("query audit: from", err)
		}
	}
	if !to.IsZero() {
		err := s.db.QueryRowContext(ctx, `SELECT seq FROM audit_events WHERE time >= $1 ORDER BY time LIMIT 1`,
			ms(to.Add(clockSlack))).Scan(&hi)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, 0, s.wrapErr("query audit: to", err)
		}
	}
	return lo, hi, nil
}

// AuditAnchor returns where the stored chain starts.
func (s *Store) AuditAnchor(ctx context.Context) (store.AuditAnchor, error) {
	var a store.AuditAnchor
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT seq, hash, archived_at, archive FROM audit_anchor WHERE id = 1`).
		Scan(&a.Seq, &a.Hash, &at, &a.Archive)
	if err != nil {
		return store.AuditAnchor{}, s.wrapErr("audit anchor", err)
	}
	a.Hash = normBytes(a.Hash)
	a.ArchivedAt = fromMSOrZero(at)
	return a, nil
}

// AuditHead returns the last seq and hash the chain's head records.
func (s *Store) AuditHead(ctx context.Context) (int64, []byte, error) {
	var seq int64
	var h []byte
	if err := s.db.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &h); err != nil {
		return 0, nil, s.wrapErr("audit head", err)
	}
	return seq, normBytes(h), nil
}

// CutAudit deletes archived events, moves the anchor and appends e, the
// event that records the cut, in one transaction: the anchor row is
// locked first, so that two cuts at once queue up and the second finds
// its hash check failing or its events gone. The delete trigger lets
// only events up to the anchor go, which is why the anchor moves before
// the delete; the anchor's own trigger (migration 0022) refuses any
// move that these checks would.
func (s *Store) CutAudit(ctx context.Context, a store.AuditAnchor, e store.AuditEvent, seal func(store.AuditEvent) []byte) (int64, error) {
	conflict := fmt.Errorf("%s: cut audit: %w", s.d.Name, &store.ConflictError{Field: "seq"})
	var n int64
	_, err := s.writeAudited(ctx, e, seal, func(tx *sql.Tx) error {
		var cur int64
		if err := tx.QueryRowContext(ctx, `SELECT seq FROM audit_anchor WHERE id = 1`+s.d.ForUpdate).Scan(&cur); err != nil {
			return s.wrapErr("cut audit: anchor", err)
		}
		var head int64
		if err := tx.QueryRowContext(ctx, `SELECT seq FROM audit_head WHERE id = 1`).Scan(&head); err != nil {
			return s.wrapErr("cut audit: head", err)
		}
		var h []byte
		err := tx.QueryRowContext(ctx, `SELECT hash FROM audit_events WHERE seq = $1`, a.Seq).Scan(&h)
		if errors.Is(err, sql.ErrNoRows) {
			return conflict
		}
		if err != nil {
			return s.wrapErr("cut audit: event", err)
		}
		if a.Seq <= cur || a.Seq >= head || !bytes.Equal(h, a.Hash) {
			return conflict
		}
		if _, err := tx.ExecContext(ctx, `UPDATE audit_anchor SET seq = $1, hash = $2, archived_at = $3, archive = $4 WHERE id = 1`,
			a.Seq, a.Hash, ms(a.ArchivedAt), a.Archive); err != nil {
			return s.wrapErr("cut audit: anchor", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM audit_events WHERE seq <= $1`, a.Seq)
		if err != nil {
			return s.wrapErr("cut audit", err)
		}
		n, err = res.RowsAffected()
		return s.wrapErr("cut audit", err)
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
