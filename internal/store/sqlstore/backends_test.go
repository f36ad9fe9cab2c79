package sqlstore_test

import (
	"testing"

	"unid/internal/store/postgres/pgtest"
	"unid/internal/store/sqlite/sqlitetest"
	"unid/internal/store/sqlstore"
)

// backend opens a fresh, migrated store of one of the two SQL backends.
type backend struct {
	name string
	open func(t *testing.T) *sqlstore.Store
}

// backends are SQLite and PostgreSQL, for the tests that run on both.
var backends = []backend{
	{"sqlite", func(t *testing.T) *sqlstore.Store { return sqlitetest.New(t).Store }},
	{"postgres", func(t *testing.T) *sqlstore.Store { return pgtest.New(t).Store }},
}
