// Package sqlstore owns the one database/sql implementation of store.Store,
// shared by the SQLite and PostgreSQL backends. The SQL is written once and
// kept portable ($1 placeholders, ON CONFLICT, RETURNING), within what
// PostgreSQL, SQLite, CockroachDB and YugabyteDB all accept; a small Dialect
// value carries the few things that differ: how a unique or foreign-key
// violation is recognised, the row-locking clause, the embedded migrations
// and how concurrent migrators are kept apart.
//
// Times are stored as BIGINT unix milliseconds UTC and come back as UTC
// time.Time truncated to the millisecond. Absent byte values (a user with no
// email) are stored as NULL, so that unique indexes never collide on them.
//
// Writes go through a separate *sql.DB so that SQLite can funnel them into its
// single writer; PostgreSQL passes the same pool twice.
package sqlstore
