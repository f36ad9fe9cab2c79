package sqlstore_test

import (
	"testing"

	"unid/internal/audit/audittest"
	"unid/internal/store"
	"unid/internal/store/storetest"
)

// TestAuditedWrite runs the rollback case of writeAudited on both backends.
func TestAuditedWrite(t *testing.T) {
	for _, b := range audittest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			storetest.RunAuditedWrite(t, func(t *testing.T) (store.Store, storetest.AuditedWrite) {
				_, s := b.New(t)
				return s, s.CreateFlowsAudited
			})
		})
	}
}
