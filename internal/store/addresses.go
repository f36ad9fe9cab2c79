package store

import (
	"context"
	"errors"
	"time"
)

// ErrLimit means a write would take a user past a limit the caller set
// (such as the number of addresses), checked in the write's transaction.
var ErrLimit = errors.New("store: limit reached")

// Address is one of a user's postal addresses for EMS deliveries (我的EMS).
// Recipient, phone and detail are sealed personal data that is never looked
// up (Index unused).
type Address struct {
	ID        string // random, URL-safe
	UserID    string
	Recipient Sealed
	Phone     Sealed
	Detail    Sealed // street, building, room
	Division  string // the finest GB/T 2260 code of the place: a county, or a city without counties
	Postcode  string
	IsDefault bool // exactly one of a user's addresses is the default
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Addresses stores users' addresses. Every read and write names the user,
// and an address of another user is ErrNotFound, as if it did not exist.
//
// The writes keep two rules in their own transaction, serialised per user:
// a user with addresses has exactly one default, and no user holds more
// than the limit the caller gives. Each appends its audit event e (sealed
// by seal, as AppendAudit does) in the same transaction, so that the
// change and its record are committed together or not at all.
type Addresses interface {
	// CreateAddress stores a unless the user has max addresses already
	// (ErrLimit). The user's first address becomes the default whatever
	// a.IsDefault says; a later one with IsDefault takes the default from
	// the others. A missing user is ErrNotFound. It returns what is
	// stored.
	CreateAddress(ctx context.Context, a Address, max int, e AuditEvent, seal func(AuditEvent) []byte) (Address, error)
	// ListAddresses returns the user's addresses, the default first, then
	// the newest first.
	ListAddresses(ctx context.Context, userID string) ([]Address, error)
	GetAddress(ctx context.Context, userID, id string) (Address, error)
	// UpdateAddress changes one address inside a transaction. The ID, the
	// user, IsDefault (see SetDefaultAddress) and CreatedAt cannot change.
	UpdateAddress(ctx context.Context, userID, id string, fn func(Address) (Address, error), e AuditEvent, seal func(AuditEvent) []byte) (Address, error)
	// DeleteAddress removes one address. When it was the default, the
	// newest remaining address becomes the default, with UpdatedAt at.
	DeleteAddress(ctx context.Context, userID, id string, at time.Time, e AuditEvent, seal func(AuditEvent) []byte) error
	// SetDefaultAddress makes the address the user's default, and the one
	// that was the default no longer, with UpdatedAt at.
	SetDefaultAddress(ctx context.Context, userID, id string, at time.Time, e AuditEvent, seal func(AuditEvent) []byte) error
	CountAddresses(ctx context.Context, userID string) (int, error)
}
