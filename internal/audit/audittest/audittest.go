// Package audittest gives tests of the audit trail both real backends and
// a way to do what the store forbids: change a stored event, as someone
// with direct access to the database could.
package audittest

import (
	"context"
	"testing"

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
