package sqlstore

import (
	"context"

	"unid/internal/store"
)

// ListUsers returns one page of the citizen list, newest first.
func (s *Store) ListUsers(ctx context.Context, after store.UserCursor, status string, limit int) ([]store.User, error) {
	return nil, errTODO
}

// FindEnterprises returns enterprises by a prefix of their name.
func (s *Store) FindEnterprises(ctx context.Context, prefix, afterName, afterUSCC string, limit int) ([]store.Enterprise, error) {
	return nil, errTODO
}
