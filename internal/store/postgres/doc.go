// Package postgres owns the production backend: PostgreSQL through pgx's
// database/sql driver, behind the shared sqlstore implementation, and the
// PostgreSQL dialect of the migrations. Any number of unid instances share
// one database: read-modify-write transactions lock their row (FOR UPDATE),
// audit appends queue on the audit_head row, and concurrent migrators wait
// on an advisory lock.
//
// The URL is passed to pgx unchanged, so its options work as documented
// there; behind PgBouncer in transaction mode add
// default_query_exec_mode=exec. The lookup of a records write runs in that
// mode whatever the URL says (sqlstore.Dialect.PlanEachRun).
package postgres
