package sqlstore

import (
	"context"
	"database/sql"

	"unid/internal/store"
)

// CreateFlowsAudited creates the flows and appends e in one transaction:
// the shape of every store method that writes several records, for the
// conformance case that proves such a write rolls back whole.
func (s *Store) CreateFlowsAudited(ctx context.Context, flows []store.Flow, e store.AuditEvent, seal func(store.AuditEvent) []byte) (store.AuditEvent, error) {
	return s.writeAudited(ctx, e, seal, func(tx *sql.Tx) error {
		for _, f := range flows {
			if _, err := tx.ExecContext(ctx, insertFlowSQL, flowArgs(f)...); err != nil {
				return s.wrapErr("create flows audited", err)
			}
		}
		return nil
	})
}

// LockRecordsQuery is the query by which UpsertRecords reads and locks
// the stored records of one system and kind, for the plan test.
func (s *Store) LockRecordsQuery(clientID, kind string, externalIDs []string) (string, []any) {
	return s.lockRecordsQuery(clientID, kind, externalIDs)
}

// WithoutRetries makes the store run every transaction once, for the
// tests that show a deadlock cannot happen rather than that it is
// survived.
func (s *Store) WithoutRetries() { s.d.Retryable = nil }
