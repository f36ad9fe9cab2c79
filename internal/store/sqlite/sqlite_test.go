package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"unid/internal/store"
	"unid/internal/store/sqlite"
	"unid/internal/store/sqlite/sqlitetest"
	"unid/internal/store/storetest"
)

// newStore opens a fresh, migrated database in a directory that does not
// exist yet (Open creates it).
func newStore(t *testing.T) *sqlite.Store {
	t.Helper()
	return sqlitetest.Open(t, filepath.Join(t.TempDir(), "data", "unid.db"))
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newStore(t) })
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "unid.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	storetest.RunMigrate(t, s)
}

func TestAuditIsAppendOnly(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.AppendAudit(ctx, store.AuditEvent{Action: "test"}, func(store.AuditEvent) []byte {
		return make([]byte, 32)
	}); err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
	for _, q := range []string{`UPDATE audit_events SET actor = 'x'`, `DELETE FROM audit_events`,
		// A replace deletes without the delete trigger; it is an insert.
		`INSERT OR REPLACE INTO audit_events (seq, time, action, hash) SELECT seq, time, 'forged', hash FROM audit_events WHERE seq = 1`} {
		if _, err := s.WriteDB().ExecContext(ctx, q); err == nil {
			t.Errorf("%s: no error", q)
		}
	}
}

func TestMigrateRefusesNewerDatabase(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.WriteDB().ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES (9999)`); err != nil {
		t.Fatalf("insert version: %v", err)
	}
	if _, _, err := s.Migrate(ctx); err == nil {
		t.Error("Migrate of a database newer than the program: no error")
	}
}

func TestWithdrawalAllOrNothing(t *testing.T) {
	s := newStore(t)
	storetest.RunWithdrawalAllOrNothing(t, s, func() func() {
		exec(t, s, `CREATE TRIGGER refuse_revocation BEFORE UPDATE ON oauth_grants BEGIN SELECT RAISE(ABORT, 'revocation refused'); END`)
		return func() { exec(t, s, `DROP TRIGGER refuse_revocation`) }
	})
}

func exec(t *testing.T, s *sqlite.Store, q string) {
	t.Helper()
	if _, err := s.WriteDB().ExecContext(t.Context(), q); err != nil {
		t.Fatal(err)
	}
}
