package sqlstore

import (
	"context"
	"database/sql"
	"io/fs"
)

// Dialect is what differs between the SQL backends.
type Dialect struct {
	// Name is used in error messages ("sqlite", "postgres").
	Name string

	// Migrations holds the numbered, forward-only migration files of the
	// dialect at its root: 0001_init.sql, 0002_....sql.
	Migrations fs.FS

	// UniqueViolation reports whether err is a unique-constraint violation,
	// and if so, a text naming the constraint or column (an index name in
	// PostgreSQL, "table.column" in SQLite) from which the field is derived.
	UniqueViolation func(err error) (constraint string, ok bool)

	// ForeignKeyViolation reports whether err is a foreign-key violation.
	ForeignKeyViolation func(err error) bool

	// ForUpdate is appended to the SELECT inside read-modify-write
	// transactions (" FOR UPDATE" in PostgreSQL). SQLite leaves it empty:
	// its write transactions are already exclusive.
	ForUpdate string

	// Bytewise follows a text column in an ORDER BY to sort it byte by
	// byte, as Go compares strings, whatever the database's collation
	// (` COLLATE "C"` in PostgreSQL; SQLite compares bytes already).
	Bytewise string

	// Retryable reports whether err ended a transaction that may succeed
	// if run again from its start: PostgreSQL's deadlock_detected, which
	// fails one of two transactions that wait for each other, and
	// serialization_failure. Nil where no error is such (SQLite, whose
	// writers take turns).
	Retryable func(err error) bool

	// CacheStatements keeps one prepared statement per query outside
	// transactions. SQLite wants it (parsing is a quarter of a lookup);
	// PostgreSQL does not: pgx caches statements itself, and explicit
	// prepared statements would break PgBouncer in transaction mode.
	CacheStatements bool

	// Positional makes multi-row INSERTs use ? placeholders instead of $N.
	// SQLite binds each $N parameter in time linear in their number, which
	// makes a 15,000-parameter INSERT quadratic.
	Positional bool

	// Arrays makes multi-row writes of records pass one array per column
	// and unnest them (PostgreSQL): a few parameters instead of one per
	// value, which pgx encodes and the server binds and plans in a
	// fraction of the time.
	Arrays bool

	// PlanEachRun, if set, is an argument the driver takes before a
	// query's own to parse and plan the query with its parameters at
	// every run, instead of reusing a plan its connection made earlier
	// (with pgx, pgx.QueryExecModeExec: an unnamed statement). For queries
	// whose best plan depends on how large the table has grown since
	// (see lockRecordsQuery).
	PlanEachRun any

	// WritingWith makes the code exchange and the refresh token rotation
	// one statement each, their writes chained by a data-modifying WITH
	// (PostgreSQL): one round trip where a transaction takes four to six.
	// SQLite has no such statements; its transactions cost no round trips.
	WritingWith bool

	// LockMigrations, if set, keeps concurrent migrators apart for as long
	// as conn is held (a PostgreSQL advisory lock). The returned function
	// releases the lock.
	LockMigrations func(ctx context.Context, conn *sql.Conn) (unlock func() error, err error)
}
