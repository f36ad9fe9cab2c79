// Package sqlitetest gives tests a real, migrated SQLite store in a fresh
// file, closed when the test ends.
package sqlitetest

import (
	"context"
	"path/filepath"
	"testing"

	"unid/internal/store/sqlite"
)

// New returns a migrated store in a new file under t.TempDir().
func New(t testing.TB) *sqlite.Store {
	t.Helper()
	return Open(t, filepath.Join(t.TempDir(), "unid.db"))
}

// Open opens (and migrates) the store at path; opening one path twice gives
// two stores on one database, as two unid instances would have.
func Open(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("sqlitetest: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if _, _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("sqlitetest: migrate: %v", err)
	}
	return s
}
