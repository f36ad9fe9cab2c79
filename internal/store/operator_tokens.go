package store

import (
	"context"
	"time"
)

// OperatorToken is an operator's personal API token: a script presents it
// (Authorization: Bearer) to act as the operator on the operator API.
// Only the SHA-256 of the token is stored.
type OperatorToken struct {
	ID         string // random, URL-safe; what the operator revokes it by
	OperatorID string
	Name       string // the operator's name for it ("nightly export")
	TokenHash  []byte // SHA-256 of the token; unique
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt time.Time // zero until first used
}

// OperatorTokens stores operators' API tokens.
type OperatorTokens interface {
	// CreateOperatorToken adds t; a token hash or ID in use is a
	// *ConflictError with Field "token_hash" or "id", a missing operator
	// ErrNotFound.
	CreateOperatorToken(ctx context.Context, t OperatorToken) error
	// GetOperatorTokenByHash returns the token whose hash is h, expired
	// or not.
	GetOperatorTokenByHash(ctx context.Context, h []byte) (OperatorToken, error)
	// GetOperatorToken returns one token of the operator; another
	// operator's, or a missing one, is ErrNotFound.
	GetOperatorToken(ctx context.Context, operatorID, id string) (OperatorToken, error)
	// ListOperatorTokens returns the operator's tokens, oldest first.
	ListOperatorTokens(ctx context.Context, operatorID string) ([]OperatorToken, error)
	// TouchOperatorToken sets LastUsedAt; ErrNotFound if it is gone.
	TouchOperatorToken(ctx context.Context, id string, at time.Time) error
	// DeleteOperatorToken removes one token of the operator; another
	// operator's, or a missing one, is ErrNotFound.
	DeleteOperatorToken(ctx context.Context, operatorID, id string) error
	// DeleteExpiredOperatorTokens removes tokens that expired before now.
	DeleteExpiredOperatorTokens(ctx context.Context, now time.Time) (int64, error)
}
