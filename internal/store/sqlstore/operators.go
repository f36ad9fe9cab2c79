package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"unid/internal/store"
)

const operatorColumns = `id, login_name, login_name_key, password_hash, totp_cipher, totp_last_step,
	roles, status, setup_hash, setup_expires_at, created_at, updated_at`

func operatorArgs(o store.Operator) ([]any, error) {
	roles := o.Roles
	if roles == nil {
		roles = []string{}
	}
	b, err := json.Marshal(roles)
	if err != nil {
		return nil, err
	}
	return []any{o.ID, o.LoginName, o.LoginNameKey, o.PasswordHash, nullBytes(o.TOTPSecret.Cipher), o.TOTPLastStep,
		string(b), o.Status, nullBytes(o.SetupHash), ms(o.SetupExpiresAt), ms(o.CreatedAt), ms(o.UpdatedAt)}, nil
}

func scanOperator(r rowScanner) (store.Operator, error) {
	var (
		o                         store.Operator
		roles                     string
		setupExp, created, update int64
	)
	err := r.Scan(&o.ID, &o.LoginName, &o.LoginNameKey, &o.PasswordHash, &o.TOTPSecret.Cipher, &o.TOTPLastStep,
		&roles, &o.Status, &o.SetupHash, &setupExp, &created, &update)
	if err != nil {
		return store.Operator{}, err
	}
	if err := json.Unmarshal([]byte(roles), &o.Roles); err != nil {
		return store.Operator{}, fmt.Errorf("operator %q: roles: %w", o.ID, err)
	}
	o.TOTPSecret.Cipher, o.SetupHash = normBytes(o.TOTPSecret.Cipher), normBytes(o.SetupHash)
	o.SetupExpiresAt, o.CreatedAt, o.UpdatedAt = fromMS(setupExp), fromMS(created), fromMS(update)
	return o, nil
}

// CreateOperator adds an operator.
func (s *Store) CreateOperator(ctx context.Context, o store.Operator) error {
	args, err := operatorArgs(o)
	if err != nil {
		return s.wrapErr("create operator", err)
	}
	_, err = s.exec(ctx, s.wdb, `INSERT INTO operators (`+operatorColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, args...)
	return s.wrapErr("create operator", err)
}

func (s *Store) getOperator(ctx context.Context, op, where string, arg any) (store.Operator, error) {
	o, err := scanOperator(s.queryRow(ctx, s.db, `SELECT `+operatorColumns+` FROM operators WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Operator{}, s.notFound(op)
	}
	return o, s.wrapErr(op, err)
}

// GetOperator returns one operator.
func (s *Store) GetOperator(ctx context.Context, id string) (store.Operator, error) {
	return s.getOperator(ctx, "get operator", `id = $1`, id)
}

// GetOperatorByLoginName returns the operator with the lower-cased login
// name.
func (s *Store) GetOperatorByLoginName(ctx context.Context, key string) (store.Operator, error) {
	return s.getOperator(ctx, "get operator by login name", `login_name_key = $1`, key)
}

// GetOperatorBySetupHash returns the operator whose setup token hashes to h.
func (s *Store) GetOperatorBySetupHash(ctx context.Context, h []byte) (store.Operator, error) {
	if len(h) == 0 {
		return store.Operator{}, s.notFound("get operator by setup token")
	}
	return s.getOperator(ctx, "get operator by setup token", `setup_hash = $1`, h)
}

// ListOperators returns every operator ordered by login name.
func (s *Store) ListOperators(ctx context.Context) ([]store.Operator, error) {
	return listRows(ctx, s, "list operators", scanOperator, `SELECT `+operatorColumns+` FROM operators ORDER BY login_name_key`)
}

// UpdateOperator changes one operator inside a transaction.
func (s *Store) UpdateOperator(ctx context.Context, id string, fn func(store.Operator) (store.Operator, error)) (store.Operator, error) {
	return updateRow(ctx, s, rowUpdate[store.Operator]{
		op:    "update operator",
		query: `SELECT ` + operatorColumns + ` FROM operators WHERE id = $1`,
		args:  []any{id},
		scan:  scanOperator,
		key:   func(o store.Operator) any { return o.ID },
		write: func(tx *sql.Tx, old, o store.Operator) (store.Operator, error) {
			o.CreatedAt = old.CreatedAt
			args, err := operatorArgs(o)
			if err != nil {
				return store.Operator{}, err
			}
			_, err = tx.ExecContext(ctx, `UPDATE operators SET login_name = $2, login_name_key = $3,
				password_hash = $4, totp_cipher = $5, totp_last_step = $6, roles = $7, status = $8,
				setup_hash = $9, setup_expires_at = $10, updated_at = $11 WHERE id = $1`, append(args[:10:10], args[11])...)
			if err != nil {
				return store.Operator{}, err
			}
			return scanOperator(tx.QueryRowContext(ctx, `SELECT `+operatorColumns+` FROM operators WHERE id = $1`, o.ID))
		},
	}, fn)
}

// CreateOperatorSession stores a new console session.
func (s *Store) CreateOperatorSession(ctx context.Context, os store.OperatorSession) error {
	_, err := s.exec(ctx, s.wdb, `INSERT INTO operator_sessions
		(token_hash, operator_id, created_at, last_seen_at, expires_at, ip, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		os.TokenHash, os.OperatorID, ms(os.CreatedAt), ms(os.LastSeenAt), ms(os.ExpiresAt), os.IP, os.UserAgent)
	if err != nil && s.d.ForeignKeyViolation(err) {
		return fmt.Errorf("%s: create operator session: operator %q: %w", s.d.Name, os.OperatorID, store.ErrNotFound)
	}
	return s.wrapErr("create operator session", err)
}

// GetOperatorSession returns the console session with the token hash.
func (s *Store) GetOperatorSession(ctx context.Context, tokenHash []byte) (store.OperatorSession, error) {
	var os store.OperatorSession
	var created, seen, expires int64
	err := s.queryRow(ctx, s.db, `SELECT token_hash, operator_id, created_at, last_seen_at, expires_at, ip, user_agent
		FROM operator_sessions WHERE token_hash = $1`, tokenHash).
		Scan(&os.TokenHash, &os.OperatorID, &created, &seen, &expires, &os.IP, &os.UserAgent)
	if errors.Is(err, sql.ErrNoRows) {
		return store.OperatorSession{}, s.notFound("get operator session")
	}
	if err != nil {
		return store.OperatorSession{}, s.wrapErr("get operator session", err)
	}
	os.CreatedAt, os.LastSeenAt, os.ExpiresAt = fromMS(created), fromMS(seen), fromMS(expires)
	return os, nil
}

// TouchOperatorSession sets LastSeenAt.
func (s *Store) TouchOperatorSession(ctx context.Context, tokenHash []byte, at time.Time) error {
	return s.execOne(ctx, "touch operator session",
		`UPDATE operator_sessions SET last_seen_at = $2 WHERE token_hash = $1`, tokenHash, ms(at))
}

// DeleteOperatorSession removes one console session.
func (s *Store) DeleteOperatorSession(ctx context.Context, tokenHash []byte) error {
	return s.execOne(ctx, "delete operator session", `DELETE FROM operator_sessions WHERE token_hash = $1`, tokenHash)
}

// DeleteOperatorSessions removes every console session of an operator.
func (s *Store) DeleteOperatorSessions(ctx context.Context, operatorID string) (int64, error) {
	return s.execCount(ctx, "delete operator sessions", `DELETE FROM operator_sessions WHERE operator_id = $1`, operatorID)
}

// DeleteExpiredOperatorSessions removes expired and idle console sessions.
func (s *Store) DeleteExpiredOperatorSessions(ctx context.Context, now, idleBefore time.Time) (int64, error) {
	return s.execCount(ctx, "delete expired operator sessions",
		`DELETE FROM operator_sessions WHERE expires_at < $1 OR last_seen_at < $2`, ms(now), ms(idleBefore))
}
