// Package audittest gives tests both real backends (the audit trail's,
// and the store's own) and a way to do what the store forbids: change a
// stored event, as someone with direct access to the database could.
package audittest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"unid/internal/store"
	"unid/internal/store/postgres/pgtest"
	"unid/internal/store/sqlite/sqlitetest"
	"unid/internal/store/sqlstore"
)

// Backends are SQLite and PostgreSQL (which skips without
// UNID_TEST_POSTGRES_URL and fails without it under UNID_REQUIRE_ALL=1).
var Backends = []struct {
	Name string
	New  func(t testing.TB) (store.Store, *sqlstore.Store)
}{
	{"sqlite", func(t testing.TB) (store.Store, *sqlstore.Store) { s := sqlitetest.New(t); return s, s.Store }},
	{"postgres", func(t testing.TB) (store.Store, *sqlstore.Store) { s := pgtest.New(t); return s, s.Store }},
}

// Tamper runs set (an SQL SET clause, "detail = 'x'") on the stored event
// seq past the append-only triggers, and puts them back.
func Tamper(t testing.TB, s *sqlstore.Store, seq int64, set string) {
	t.Helper()
	ctx := context.Background()
	var stmts []string
	if s.DB() == s.WriteDB() { // PostgreSQL: one pool
		stmts = []string{
			`ALTER TABLE audit_events DISABLE TRIGGER USER`,
			`UPDATE audit_events SET ` + set + ` WHERE seq = $1`,
			`ALTER TABLE audit_events ENABLE TRIGGER USER`,
		}
	} else {
		stmts = []string{
			`DROP TRIGGER audit_events_no_update`,
			`UPDATE audit_events SET ` + set + ` WHERE seq = $1`,
			`CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
	SELECT RAISE(ABORT, 'audit_events is append-only');
END`,
		}
	}
	for _, q := range stmts {
		var args []any
		if q[0] == 'U' {
			args = []any{seq}
		}
		res, err := s.WriteDB().ExecContext(ctx, q, args...)
		if err != nil {
			t.Fatalf("audittest: tamper with event %d: %v", seq, err)
		}
		if q[0] == 'U' {
			if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("audittest: event %d is not stored", seq)
			}
		}
	}
}

// Fill appends n chained events shaped like sign-ins to an empty store,
// many to a statement and all in one transaction, far faster than
// appending them one by one: for benchmarks of a trail of millions.
// hash is audit.Hash (passed in, as audit's own tests import this
// package).
func Fill(tb testing.TB, s *sqlstore.Store, n int, hash func(store.AuditEvent) []byte) {
	tb.Helper()
	ctx := context.Background()
	tx, err := s.WriteDB().BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	indexes := `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'audit_events' AND indexname <> 'audit_events_pkey'`
	param := func(n int) string { return fmt.Sprintf("$%d", n) }
	if s.DB() != s.WriteDB() {
		// SQLite looks up each $N among the statement's names (slow in
		// thousands); ? is just the next position.
		param = func(int) string { return "?" }
		indexes = `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_events' AND sql IS NOT NULL`
	}
	// The secondary indexes go for the fill and are built again after it:
	// building an index over a million rows at once is many times faster
	// than keeping it up to date row by row.
	var names, defs []string
	rows, err := tx.QueryContext(ctx, indexes)
	if err != nil {
		tb.Fatal(err)
	}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			tb.Fatal(err)
		}
		names, defs = append(names, name), append(defs, def)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	rows.Close()
	for _, name := range names {
		if _, err := tx.ExecContext(ctx, `DROP INDEX `+name); err != nil {
			tb.Fatal(err)
		}
	}
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var prev []byte
	var q strings.Builder
	const batch = 1000
	args := make([]any, 0, batch*13)
	flush := func() {
		if len(args) == 0 {
			return
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			tb.Fatalf("audittest: fill: %v", err)
		}
		q.Reset()
		args = args[:0]
	}
	for i := 1; i <= n; i++ {
		e := store.AuditEvent{Seq: int64(i), Time: at.Add(time.Duration(i) * 10 * time.Millisecond),
			Actor: fmt.Sprintf("u%07d", i%100_000), Action: "session.login", Result: "ok", IP: fmt.Sprintf("10.%d.%d.%d", i%7, i%251, i%13),
			UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
			Subject:   "138****5678", Detail: `{"amr":"pwd","client":"hall"}`, PrevHash: prev}
		if i%5 == 0 {
			e.Account, e.Client = fmt.Sprintf("u%07d", (i+1)%100_000), "hall"
		}
		e.Hash = hash(e)
		prev = e.Hash
		if len(args) == 0 {
			q.WriteString(`INSERT INTO audit_events (seq, time, actor, action, result, ip, user_agent, subject, detail, account_id, client_id, prev_hash, hash) VALUES `)
		} else {
			q.WriteString(", ")
		}
		q.WriteString("(")
		for j := range 13 {
			if j > 0 {
				q.WriteString(", ")
			}
			q.WriteString(param(len(args) + j + 1))
		}
		q.WriteString(")")
		var ph any
		if len(e.PrevHash) > 0 {
			ph = e.PrevHash
		}
		args = append(args, e.Seq, e.Time.UnixMilli(), e.Actor, e.Action, e.Result, e.IP, e.UserAgent, e.Subject, e.Detail,
			e.Account, e.Client, ph, e.Hash)
		if len(args) >= batch*13 {
			flush()
		}
	}
	flush()
	for _, def := range defs {
		if _, err := tx.ExecContext(ctx, def); err != nil {
			tb.Fatalf("audittest: fill: %s: %v", def, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, int64(n), prev); err != nil {
		tb.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	if _, err := s.WriteDB().ExecContext(ctx, `ANALYZE`); err != nil {
		tb.Fatal(err)
	}
}
