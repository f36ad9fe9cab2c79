package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"unid/internal/store"
	"unid/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a PostgreSQL-backed store.Store and store.Migrator.
type Store struct {
	*sqlstore.Store
}

var (
	_ store.Store    = (*Store)(nil)
	_ store.Migrator = (*Store)(nil)
)

// SQLSTATE codes recognised by the dialect.
const (
	uniqueViolation      = "23505"
	foreignKeyViolation  = "23503"
	deadlockDetected     = "40P01"
	serializationFailure = "40001"
)

// migrateLockKey is the pg_advisory_lock key that keeps concurrent migrators
// of one database apart ("unid" in ASCII, then "migr").
const migrateLockKey int64 = 0x756e69646d696772

// Dialect returns the PostgreSQL dialect of sqlstore.
func Dialect() sqlstore.Dialect {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory is fixed at build time
	}
	return sqlstore.Dialect{
		Name:       "postgres",
		Migrations: sub,
		UniqueViolation: func(err error) (string, bool) {
			var e *pgconn.PgError
			if errors.As(err, &e) && e.Code == uniqueViolation {
				return e.ConstraintName, true
			}
			return "", false
		},
		ForeignKeyViolation: func(err error) bool {
			var e *pgconn.PgError
			return errors.As(err, &e) && e.Code == foreignKeyViolation
		},
		ForUpdate: " FOR UPDATE",
		Bytewise:  ` COLLATE "C"`,
		Retryable: func(err error) bool {
			var e *pgconn.PgError
			return errors.As(err, &e) && (e.Code == deadlockDetected || e.Code == serializationFailure)
		},
		Arrays:         true,
		PlanEachRun:    pgx.QueryExecModeExec,
		WritingWith:    true,
		LockMigrations: lockMigrations,
	}
}

// lockMigrations takes a session-level advisory lock on conn; a second
// migrator waits here until the first is done and then finds nothing to do.
func lockMigrations(ctx context.Context, conn *sql.Conn) (func() error, error) {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrateLockKey); err != nil {
		return nil, err
	}
	return func() error {
		// Unlock even when ctx is done, so the pooled connection does not
		// keep the lock.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, migrateLockKey)
		return err
	}, nil
}

// DefaultMaxConns is how many connections one instance keeps to
// PostgreSQL at most unless told otherwise (--database-max-conns).
const DefaultMaxConns = 32

// Open connects to the database at url (postgres://user@host/db?...) and
// checks that it answers; it keeps at most maxConns connections open
// (DefaultMaxConns when maxConns < 1). It does not migrate; call Migrate.
func Open(ctx context.Context, url string, maxConns int) (*Store, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if maxConns < 1 {
		maxConns = DefaultMaxConns
	}
	db := stdlib.OpenDB(*cfg)
	// As many idle connections are kept as may be open: with fewer, a
	// burst of requests opens connections that are closed as soon as they
	// are put back, and the next burst opens them again (a PostgreSQL
	// backend process each time). Connections idle for 5 minutes close.
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: open %s@%s/%s: %w", cfg.User, cfg.Host, cfg.Database, err)
	}
	return &Store{sqlstore.New(db, db, Dialect())}, nil
}
