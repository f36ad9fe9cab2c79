package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"unid/internal/store"
)

const passkeyColumns = `credential_id, operator_id, name, credential, created_at, last_used_at`

func scanPasskey(r rowScanner) (store.OperatorPasskey, error) {
	var (
		p             store.OperatorPasskey
		cred          string
		created, used int64
	)
	if err := r.Scan(&p.CredentialID, &p.OperatorID, &p.Name, &cred, &created, &used); err != nil {
		return store.OperatorPasskey{}, err
	}
	p.Credential, p.CreatedAt = []byte(cred), fromMS(created)
	p.LastUsedAt = fromMSOrZero(used)
	return p, nil
}

// CreateOperatorPasskey adds a passkey; a credential ID in use is a
// conflict on "credential_id", whoever holds it.
func (s *Store) CreateOperatorPasskey(ctx context.Context, p store.OperatorPasskey) error {
	const op = "create operator passkey"
	_, err := s.exec(ctx, s.wdb, `INSERT INTO operator_passkeys (`+passkeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		p.CredentialID, p.OperatorID, p.Name, string(p.Credential), ms(p.CreatedAt), msOrZero(p.LastUsedAt))
	switch {
	case err == nil:
		return nil
	case s.d.ForeignKeyViolation(err):
		return fmt.Errorf("%s: %s: operator %q: %w", s.d.Name, op, p.OperatorID, store.ErrNotFound)
	}
	if _, ok := s.d.UniqueViolation(err); ok {
		return fmt.Errorf("%s: %s: %w", s.d.Name, op, &store.ConflictError{Field: "credential_id"})
	}
	return s.wrapErr(op, err)
}

// GetOperatorPasskey returns a passkey by credential ID.
func (s *Store) GetOperatorPasskey(ctx context.Context, credentialID []byte) (store.OperatorPasskey, error) {
	const op = "get operator passkey"
	p, err := scanPasskey(s.queryRow(ctx, s.db, `SELECT `+passkeyColumns+` FROM operator_passkeys WHERE credential_id = $1`, credentialID))
	if errors.Is(err, sql.ErrNoRows) {
		return store.OperatorPasskey{}, s.notFound(op)
	}
	return p, s.wrapErr(op, err)
}

// ListOperatorPasskeys returns an operator's passkeys, oldest first.
func (s *Store) ListOperatorPasskeys(ctx context.Context, operatorID string) ([]store.OperatorPasskey, error) {
	return listRows(ctx, s, "list operator passkeys", scanPasskey, `SELECT `+passkeyColumns+`
		FROM operator_passkeys WHERE operator_id = $1 ORDER BY created_at, credential_id`, operatorID)
}

// UsedOperatorPasskey records a sign-in with a passkey: the credential as
// it is now (its sign count) and the time.
func (s *Store) UsedOperatorPasskey(ctx context.Context, credentialID, credential []byte, at time.Time) error {
	return s.execOne(ctx, "used operator passkey", `UPDATE operator_passkeys SET credential = $2, last_used_at = $3
		WHERE credential_id = $1`, credentialID, string(credential), ms(at))
}

// DeleteOperatorPasskey removes one passkey of the operator; another
// operator's is not found.
func (s *Store) DeleteOperatorPasskey(ctx context.Context, operatorID string, credentialID []byte) error {
	return s.execOne(ctx, "delete operator passkey", `DELETE FROM operator_passkeys
		WHERE credential_id = $1 AND operator_id = $2`, credentialID, operatorID)
}
