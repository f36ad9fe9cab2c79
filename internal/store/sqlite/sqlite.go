package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"unid/internal/store"
	"unid/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a SQLite-backed store.Store and store.Migrator.
type Store struct {
	*sqlstore.Store
}

var (
	_ store.Store    = (*Store)(nil)
	_ store.Migrator = (*Store)(nil)
)

// Dialect returns the SQLite dialect of sqlstore.
func Dialect() sqlstore.Dialect {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory is fixed at build time
	}
	return sqlstore.Dialect{
		Name:                "sqlite",
		Migrations:          sub,
		UniqueViolation:     uniqueViolation,
		ForeignKeyViolation: foreignKeyViolation,
		CacheStatements:     true,
		Positional:          true,
	}
}

func uniqueViolation(err error) (string, bool) {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return "", false
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		// "UNIQUE constraint failed: users.phone_index"
		return e.Error(), true
	}
	return "", false
}

func foreignKeyViolation(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// dsn builds the driver's data source name for the file.
//
// Pages are read with pread, not through a memory map: a connection that
// finds the log changed by another connection, which on a serving instance
// is nearly every read, drops its map and maps the file again, and the
// munmap (page tables torn down on every CPU the process runs on) cost
// more than the reads it saved. Without it, the code flow's steps, CAS
// logins, SMS codes and records took 8–93 % more requests a second under
// the load tool (docs/performance.md, "Scale").
func dsn(path string, extra ...string) string {
	q := []string{
		"_pragma=busy_timeout(5000)",
		"_pragma=journal_mode(WAL)",
		"_pragma=foreign_keys(1)",
		"_pragma=synchronous(NORMAL)",
		"_pragma=mmap_size(0)",
	}
	q = append(q, extra...)
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + strings.Join(q, "&")
}

// Open opens (creating if needed) the database file at path and its parent
// directory. It does not migrate; call Migrate.
func Open(ctx context.Context, path string) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("sqlite: open: %w", err)
		}
	}
	// The writer's page cache (256 MiB at most, used only as the database
	// grows) holds the index pages a large import dirties, so that each
	// transaction writes them once.
	wdb, err := sql.Open("sqlite", dsn(path, "_txlock=immediate", "_pragma=cache_size(-262144)"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	// The writer creates the file and switches it to WAL before any reader
	// opens it.
	if err := wdb.PingContext(ctx); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", dsn(path, "_pragma=cache_size(-32768)", "_pragma=query_only(1)"))
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return &Store{sqlstore.New(db, wdb, Dialect())}, nil
}
