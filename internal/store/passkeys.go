package store

import (
	"context"
	"time"
)

// OperatorPasskey is an operator's WebAuthn credential. Credential is the
// credential as the WebAuthn library encodes it (JSON), with its public
// key and sign count; unid reads nothing else out of it.
type OperatorPasskey struct {
	CredentialID []byte
	OperatorID   string
	Name         string // the operator's name for it ("YubiKey 5", "办公电脑")
	Credential   []byte
	CreatedAt    time.Time
	LastUsedAt   time.Time // zero until first used
}

// OperatorPasskeys stores operators' passkeys.
type OperatorPasskeys interface {
	// CreateOperatorPasskey adds p; a credential ID in use is a
	// *ConflictError with Field "credential_id", a missing operator
	// ErrNotFound.
	CreateOperatorPasskey(ctx context.Context, p OperatorPasskey) error
	GetOperatorPasskey(ctx context.Context, credentialID []byte) (OperatorPasskey, error)
	// ListOperatorPasskeys returns the operator's passkeys, oldest first.
	ListOperatorPasskeys(ctx context.Context, operatorID string) ([]OperatorPasskey, error)
	// UsedOperatorPasskey stores the credential as it is after a sign-in
	// (its new sign count) and the time of use.
	UsedOperatorPasskey(ctx context.Context, credentialID, credential []byte, at time.Time) error
	// DeleteOperatorPasskey removes one passkey of the operator; another
	// operator's, or a missing one, is ErrNotFound.
	DeleteOperatorPasskey(ctx context.Context, operatorID string, credentialID []byte) error
}
