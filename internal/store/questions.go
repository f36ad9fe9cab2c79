package store

import (
	"context"
	"time"
)

// SecurityAnswers are an account's security questions (密保问题): the
// three questions it chose, by their IDs in the configured list, and a
// password hash of each normalised answer. The store never sees an answer.
type SecurityAnswers struct {
	UserID    string
	Questions [3]string // question IDs, distinct
	Hashes    [3]string // PHC strings, as account.Hasher makes them
	SetAt     time.Time
}

// SecurityQuestions stores security answers, one set per account.
type SecurityQuestions interface {
	// PutSecurityAnswers stores a's set, replacing the account's earlier
	// one; an account that does not exist gives ErrNotFound.
	PutSecurityAnswers(ctx context.Context, a SecurityAnswers) error
	// GetSecurityAnswers returns the account's set, or ErrNotFound when it
	// has none.
	GetSecurityAnswers(ctx context.Context, userID string) (SecurityAnswers, error)
	DeleteSecurityAnswers(ctx context.Context, userID string) error
}
