package store

import (
	"context"
	"time"
)

// Operator is an account of the operator console (运维/审核/审计人员):
// separate from citizens' accounts, never signed in as one.
type Operator struct {
	ID           string // random, URL-safe, never reused
	LoginName    string // as given to `unid operator create`
	LoginNameKey string // lower-cased login name; unique
	PasswordHash string // PHC string (argon2id); "" until set up
	TOTPSecret   Sealed // the base32 TOTP secret sealed by account.Protector; Index unused; empty until set up
	// TOTPLastStep is the time step (unix seconds / 30) of the last TOTP
	// code accepted, so that a code is never accepted twice.
	TOTPLastStep int64
	Roles        []string // operator.RoleReviewer, ...
	Status       string   // OperatorActive or OperatorDisabled
	// SetupHash is the SHA-256 of the one-time setup token, nil once used;
	// SetupExpiresAt its end.
	SetupHash      []byte
	SetupExpiresAt time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Operator statuses.
const (
	OperatorActive   = "active"
	OperatorDisabled = "disabled"
)

// OperatorSession is an operator's console sign-in. Only the hash of its
// token is stored.
type OperatorSession struct {
	TokenHash  []byte // SHA-256 of the cookie token; primary key
	OperatorID string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute expiry
	IP         string
	UserAgent  string
}

// Operators stores operator accounts and their console sessions.
type Operators interface {
	// CreateOperator adds o; a login name in use gives a *ConflictError
	// with Field "login_name".
	CreateOperator(ctx context.Context, o Operator) error
	GetOperator(ctx context.Context, id string) (Operator, error)
	GetOperatorByLoginName(ctx context.Context, loginNameKey string) (Operator, error)
	// GetOperatorBySetupHash returns the operator whose unused setup token
	// hashes to h, expired or not.
	GetOperatorBySetupHash(ctx context.Context, h []byte) (Operator, error)
	// ListOperators returns every operator ordered by login name.
	ListOperators(ctx context.Context) ([]Operator, error)
	// UpdateOperator changes one operator inside a transaction; the ID and
	// CreatedAt cannot change.
	UpdateOperator(ctx context.Context, id string, fn func(Operator) (Operator, error)) (Operator, error)

	// CreateOperatorSession stores s; a missing operator is ErrNotFound.
	CreateOperatorSession(ctx context.Context, s OperatorSession) error
	GetOperatorSession(ctx context.Context, tokenHash []byte) (OperatorSession, error)
	// TouchOperatorSession sets LastSeenAt; ErrNotFound if it is gone.
	TouchOperatorSession(ctx context.Context, tokenHash []byte, at time.Time) error
	DeleteOperatorSession(ctx context.Context, tokenHash []byte) error
	// DeleteOperatorSessions removes every session of the operator.
	DeleteOperatorSessions(ctx context.Context, operatorID string) (int64, error)
	// DeleteExpiredOperatorSessions removes sessions whose absolute expiry
	// is before now or that were last seen before idleBefore.
	DeleteExpiredOperatorSessions(ctx context.Context, now, idleBefore time.Time) (int64, error)
}
