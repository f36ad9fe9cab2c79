package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"unid/internal/store"
)

const operatorTokenColumns = `id, operator_id, name, token_hash, created_at, expires_at, last_used_at`

func scanOperatorToken(r rowScanner) (store.OperatorToken, error) {
	var (
		t                      store.OperatorToken
		created, expires, used int64
	)
	if err := r.Scan(&t.ID, &t.OperatorID, &t.Name, &t.TokenHash, &created, &expires, &used); err != nil {
		return store.OperatorToken{}, err
	}
	t.CreatedAt, t.ExpiresAt = fromMS(created), fromMS(expires)
	t.LastUsedAt = fromMSOrZero(used)
	return t, nil
}

// CreateOperatorToken adds a token; a hash or ID in use is a conflict on
// "token_hash" or "id".
func (s *Store) CreateOperatorToken(ctx context.Context, t store.OperatorToken) error {
	const op = "create operator token"
	_, err := s.exec(ctx, s.wdb, `INSERT INTO operator_tokens (`+operatorTokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.ID, t.OperatorID, t.Name, t.TokenHash, ms(t.CreatedAt), ms(t.ExpiresAt), msOrZero(t.LastUsedAt))
	switch {
	case err == nil:
		return nil
	case s.d.ForeignKeyViolation(err):
		return fmt.Errorf("%s: %s: operator %q: %w", s.d.Name, op, t.OperatorID, store.ErrNotFound)
	}
	if c, ok := s.d.UniqueViolation(err); ok {
		field := "id"
		if strings.Contains(c, "hash") {
			field = "token_hash"
		}
		return fmt.Errorf("%s: %s: %w", s.d.Name, op, &store.ConflictError{Field: field})
	}
	return s.wrapErr(op, err)
}

// GetOperatorTokenByHash returns the token with the hash, expired or not.
func (s *Store) GetOperatorTokenByHash(ctx context.Context, h []byte) (store.OperatorToken, error) {
	const op = "get operator token by hash"
	t, err := scanOperatorToken(s.queryRow(ctx, s.db, `SELECT `+operatorTokenColumns+` FROM operator_tokens WHERE token_hash = $1`, h))
	if errors.Is(err, sql.ErrNoRows) {
		return store.OperatorToken{}, s.notFound(op)
	}
	return t, s.wrapErr(op, err)
}

// GetOperatorToken returns one token of the operator.
func (s *Store) GetOperatorToken(ctx context.Context, operatorID, id string) (store.OperatorToken, error) {
	const op = "get operator token"
	t, err := scanOperatorToken(s.queryRow(ctx, s.db, `SELECT `+operatorTokenColumns+` FROM operator_tokens
		WHERE id = $1 AND operator_id = $2`, id, operatorID))
	if errors.Is(err, sql.ErrNoRows) {
		return store.OperatorToken{}, s.notFound(op)
	}
	return t, s.wrapErr(op, err)
}

// ListOperatorTokens returns an operator's tokens, oldest first.
func (s *Store) ListOperatorTokens(ctx context.Context, operatorID string) ([]store.OperatorToken, error) {
	return listRows(ctx, s, "list operator tokens", scanOperatorToken, `SELECT `+operatorTokenColumns+`
		FROM operator_tokens WHERE operator_id = $1 ORDER BY created_at, id`, operatorID)
}

// TouchOperatorToken records when the token was last used.
func (s *Store) TouchOperatorToken(ctx context.Context, id string, at time.Time) error {
	return s.execOne(ctx, "touch operator token", `UPDATE operator_tokens SET last_used_at = $2 WHERE id = $1`, id, ms(at))
}

// DeleteOperatorToken removes one token of the operator; another
// operator's is not found.
func (s *Store) DeleteOperatorToken(ctx context.Context, operatorID, id string) error {
	return s.execOne(ctx, "delete operator token", `DELETE FROM operator_tokens WHERE id = $1 AND operator_id = $2`, id, operatorID)
}

// DeleteExpiredOperatorTokens removes tokens that expired before now.
func (s *Store) DeleteExpiredOperatorTokens(ctx context.Context, now time.Time) (int64, error) {
	return s.execCount(ctx, "delete expired operator tokens", `DELETE FROM operator_tokens WHERE expires_at < $1`, ms(now))
}
