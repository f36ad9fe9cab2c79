// Package sqlite owns the embedded default backend: one SQLite file (pure Go
// driver, WAL, busy timeout, foreign keys) behind the shared sqlstore
// implementation, and the SQLite dialect of the migrations.
//
// SQLite has one writer. Writes therefore go through a pool of exactly one
// connection whose transactions begin IMMEDIATE, so concurrent Update, Incr
// and AppendAudit calls queue in Go instead of failing with SQLITE_BUSY;
// reads use a separate read-only pool and run beside them thanks to WAL.
package sqlite
