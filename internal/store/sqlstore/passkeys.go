package sqlstore

import (
	"context"
	"time"

	"unid/internal/store"
)

// CreateOperatorPasskey adds a passkey.
func (s *Store) CreateOperatorPasskey(ctx context.Context, p store.OperatorPasskey) error {
	return errTODO
}

// GetOperatorPasskey returns a passkey by credential ID.
func (s *Store) GetOperatorPasskey(ctx context.Context, credentialID []byte) (store.OperatorPasskey, error) {
	return store.OperatorPasskey{}, errTODO
}

// ListOperatorPasskeys returns an operator's passkeys.
func (s *Store) ListOperatorPasskeys(ctx context.Context, operatorID string) ([]store.OperatorPasskey, error) {
	return nil, errTODO
}

// UsedOperatorPasskey records a sign-in with a passkey.
func (s *Store) UsedOperatorPasskey(ctx context.Context, credentialID, credential []byte, at time.Time) error {
	return errTODO
}

// DeleteOperatorPasskey removes a passkey.
func (s *Store) DeleteOperatorPasskey(ctx context.Context, operatorID string, credentialID []byte) error {
	return errTODO
}
