package sqlstore_test

import (
	"testing"

	"unid/internal/store"
	"unid/internal/store/postgres/pgtest"
	"unid/internal/store/sqlite/sqlitetest"
	"unid/internal/store/sqlstore"
	"unid/internal/store/storetest"
)

// TestAuditedWrite runs the rollback case of writeAudited on both backends.
func TestAuditedWrite(t *testing.T) {
	backends := []struct {
		name string
		open func(t *testing.T) *sqlstore.Store
	}{
		{"sqlite", func(t *testing.T) *sqlstore.Store { return sqlitetest.New(t).Store }},
		{"postgres", func(t *testing.T) *sqlstore.Store { return pgtest.New(t).Store }},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			storetest.RunAuditedWrite(t, func(t *testing.T) (store.Store, storetest.AuditedWrite) {
				s := b.open(t)
				return s, s.CreateFlowsAudited
			})
		})
	}
}
