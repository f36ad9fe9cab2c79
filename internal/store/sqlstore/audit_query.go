package sqlstore

import (
	"context"
	"errors"

	"unid/internal/store"
)

var errTODO = errors.New("sqlstore: not built yet")

// QueryAudit returns one page of the audit viewer.
func (s *Store) QueryAudit(ctx context.Context, f store.AuditFilter, beforeSeq int64, limit int) ([]store.AuditEvent, error) {
	return nil, errTODO
}

// AuditAnchor returns where the stored chain starts.
func (s *Store) AuditAnchor(ctx context.Context) (store.AuditAnchor, error) {
	return store.AuditAnchor{}, errTODO
}

// CutAudit deletes archived events and moves the anchor.
func (s *Store) CutAudit(ctx context.Context, a store.AuditAnchor) (int64, error) {
	return 0, errTODO
}
