package store

import (
	"context"
	"time"
)

// Kinds of ClosedIdentifier, which are also the Field of the
// *ConflictError a write gets while one blocks it: "closed_phone",
// "closed_id_number".
const (
	ClosedPhone    = "phone"
	ClosedIDNumber = "id_number"
)

// ClosedIdentifier is the blind index of a phone number, or of a verified
// ID number, that a closed account held: until ReleasedAt no new account
// may take it (the cooling-off after 注销), so that a number is not handed
// on at once to whoever asks for it next.
type ClosedIdentifier struct {
	Kind       string // ClosedPhone or ClosedIDNumber
	Index      []byte // the keyed blind index, as in Sealed.Index
	ReleasedAt time.Time
}

// Closures close accounts and keep the identifiers they gave up.
type Closures interface {
	// CloseUser closes the active or disabled account userID at at, in one
	// transaction with its audit event e (sealed by seal, as AppendAudit
	// does): its phone and, if verified, its ID number become closed
	// identifiers released at releasedAt (a later closure of the same
	// number moves the release later, never earlier); its personal data
	// (phone, ID number, email, real name, nickname, work unit, password
	// hash, real-name level) is erased from the row, its status becomes
	// UserClosed with ClosedAt at; its addresses, security answers,
	// consents, real-name bindings and messages are deleted. The login
	// name and the audit log stay. Sessions and grants are the caller's to
	// end (with logout notifications). It returns the account as it was just before, so
	// that its owner can be told; a missing or already closed account is
	// ErrNotFound and changes nothing.
	CloseUser(ctx context.Context, userID string, at, releasedAt time.Time, e AuditEvent, seal func(AuditEvent) []byte) (User, error)
	// GetClosedIdentifier returns the closed identifier of kind with the
	// blind index, released or not, or ErrNotFound.
	GetClosedIdentifier(ctx context.Context, kind string, index []byte) (ClosedIdentifier, error)
	// DeleteReleasedIdentifiers forgets the closed identifiers released at
	// or before now; they block nothing any more.
	DeleteReleasedIdentifiers(ctx context.Context, now time.Time) (int64, error)
}
