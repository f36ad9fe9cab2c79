package sqlstore_test

import (
	"testing"

	"unid/internal/store"
	"unid/internal/store/storetest"
)

// TestAuditedWrite runs the rollback case of writeAudited on both backends.
func TestAuditedWrite(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			storetest.RunAuditedWrite(t, func(t *testing.T) (store.Store, storetest.AuditedWrite) {
				s := b.open(t)
				return s, s.CreateFlowsAudited
			})
		})
	}
}
