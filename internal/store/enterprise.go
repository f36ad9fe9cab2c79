package store

import (
	"context"
	"time"
)

// Enterprise is an enterprise as unid knows it from the registry: the
// legal representative's name and ID number are sealed (the ID number
// with its blind index, compared with an account's).
type Enterprise struct {
	USCC         string // unified social credit code, upper case
	Name         string
	LegalRepName Sealed // cipher only
	LegalRepID   Sealed // cipher and index
	Status       string // "active", "revoked", "deregistered"
	CheckedAt    time.Time
	CreatedAt    time.Time
}

// EnterpriseMember is one person's role in one enterprise. A user has at
// most one default membership; an enterprise at most one legal_rep.
type EnterpriseMember struct {
	USCC       string
	UserID     string
	Role       string // "legal_rep", "admin", "handler"
	Labels     []string
	ValidUntil time.Time // zero: no end
	Default    bool
	GrantedBy  string // user ID of who granted it; "" for a binding or an import
	CreatedAt  time.Time
}

// EnterpriseGrant is a pending invitation to a role, waiting for the
// person to accept it before ExpiresAt.
type EnterpriseGrant struct {
	ID         string
	USCC       string
	UserID     string
	Role       string
	Labels     []string
	ValidUntil time.Time
	GrantedBy  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// EnterpriseApplication is a person's application to become a handler.
type EnterpriseApplication struct {
	ID             string
	USCC           string
	UserID         string
	Reason         string
	State          string // "pending", "approved", "rejected"
	CreatedAt      time.Time
	ExpiresAt      time.Time
	DecidedAt      time.Time
	DecidedBy      string
	DecisionReason string
}

// EnterpriseDecision decides the pending application ID.
type EnterpriseDecision struct {
	ID        string
	State     string // "approved" or "rejected"
	DecidedAt time.Time
	DecidedBy string
	Reason    string
}

// GranterCheck asks for UserID to hold, at Now, a live membership of
// USCC in one of Roles, the enterprise active.
type GranterCheck struct {
	USCC, UserID string
	Roles        []string
	Now          time.Time
}

// MemberKey names one membership.
type MemberKey struct{ USCC, UserID string }

// EnterpriseChange is everything one enterprise happening writes, in one
// transaction with its audit event, applied in the order of the fields.
type EnterpriseChange struct {
	// Granter, when set, is checked first: a missing, expired or no
	// longer entitled granter membership, or an enterprise not active,
	// is ErrNotFound and nothing is written.
	Granter *GranterCheck
	// Enterprise is inserted, or its registry fields (name, legal rep,
	// status, checked_at) updated when it exists; with KeepEnterprise an
	// existing record is left as it is.
	Enterprise     *Enterprise
	KeepEnterprise bool
	// ApplicationDecision decides a pending application first: one that
	// is not pending (or expired) is ErrConflict, a missing one ErrNotFound.
	ApplicationDecision *EnterpriseDecision
	// ReviewDecision decides a pending review item (as ChangeRealname).
	ReviewDecision *ReviewDecision
	// RemoveMembers deletes those memberships, and the grants the
	// removed member gave in that enterprise; a missing one is ErrNotFound.
	RemoveMembers []MemberKey
	// RemoveAllMembers deletes every membership of that enterprise.
	RemoveAllMembers string
	// PutMembers inserts memberships, replacing a member's existing role
	// in that enterprise; with KeepMembers an existing one is left as it
	// is. A second legal_rep is a *ConflictError on "legal_rep".
	PutMembers  []EnterpriseMember
	KeepMembers bool
	// Grant creates a pending grant, replacing (id and all) the grant the
	// person may have for that enterprise already; DeleteGrants delete grants (a missing
	// one is ErrNotFound); DeleteAllGrants those of an enterprise.
	Grant           *EnterpriseGrant
	DeleteGrants    []string
	DeleteAllGrants string
	// Application creates a pending application; a second pending one of
	// the user for the enterprise is a *ConflictError on "application_pending".
	Application *EnterpriseApplication
	// Review files a review item with its files (as ChangeRealname).
	Review      *ReviewItem
	ReviewFiles []ReviewFile
}

// Enterprises stores enterprises, their members, grants and applications.
type Enterprises interface {
	// ChangeEnterprise writes c and appends e in one transaction: any
	// error rolls all of it back.
	ChangeEnterprise(ctx context.Context, c EnterpriseChange, e AuditEvent, seal func(AuditEvent) []byte) error
	// SetDefaultEnterprise makes uscc the user's default membership
	// ("" clears it), with its audit event; a missing membership is ErrNotFound.
	SetDefaultEnterprise(ctx context.Context, userID, uscc string, e AuditEvent, seal func(AuditEvent) []byte) error
	GetEnterprise(ctx context.Context, uscc string) (Enterprise, error)
	// FindEnterprises returns enterprises whose name begins with prefix,
	// ordered by name then credit code, those after the (name, uscc)
	// cursor (both "" for the first page), at most limit.
	FindEnterprises(ctx context.Context, prefix, afterName, afterUSCC string, limit int) ([]Enterprise, error)
	// ListMemberEnterprises returns the credit code of every enterprise
	// with a member, in order (for the daily recheck).
	ListMemberEnterprises(ctx context.Context) ([]string, error)
	GetEnterpriseMember(ctx context.Context, uscc, userID string) (EnterpriseMember, error)
	// ListUserMemberships returns the user's memberships, default first.
	ListUserMemberships(ctx context.Context, userID string) ([]EnterpriseMember, error)
	// ListEnterpriseMembers returns the members, strongest role first.
	ListEnterpriseMembers(ctx context.Context, uscc string) ([]EnterpriseMember, error)
	GetEnterpriseGrant(ctx context.Context, id string) (EnterpriseGrant, error)
	// ListUserGrants and ListEnterpriseGrants return grants not expired at now.
	ListUserGrants(ctx context.Context, userID string, now time.Time) ([]EnterpriseGrant, error)
	ListEnterpriseGrants(ctx context.Context, uscc string, now time.Time) ([]EnterpriseGrant, error)
	GetEnterpriseApplication(ctx context.Context, id string) (EnterpriseApplication, error)
	// ListUserApplications returns the user's applications, newest first.
	ListUserApplications(ctx context.Context, userID string) ([]EnterpriseApplication, error)
	// ListPendingApplications returns the enterprise's pending
	// applications not expired at now, oldest first.
	ListPendingApplications(ctx context.Context, uscc string, now time.Time) ([]EnterpriseApplication, error)
}
