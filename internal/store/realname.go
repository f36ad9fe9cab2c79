package store

import (
	"context"
	"time"
)

// RealnameCheck is one check a real-name verifier was asked for: what it
// cost and how it ended. Every check is kept, passed or not.
type RealnameCheck struct {
	ID        string
	UserID    string
	Method    string // "registry", "bank_card", "carrier", "face", ...
	Provider  string // "sandbox", "http"
	Result    string // "pass", "fail", "cancelled", "error", ...
	Reference string // the verifier's reference of the check; "" when none
	// Subject is a keyed MAC of the name and ID number the check was
	// about (never the values), kept where an appeal must match the
	// check (Result "verified_elsewhere"); nil otherwise.
	Subject   []byte
	CreatedAt time.Time
}

// RealnameBinding is one piece of evidence of a user's real name: a passed
// check of a method (at most one per method and user), from which the
// user's real-name level is computed.
type RealnameBinding struct {
	UserID    string
	Method    string
	Level     int
	Detail    string // masked, shown to the owner: "**** 1234"
	Reference string // the check's or review item's reference
	CreatedAt time.Time
}

// ReviewItem is an item of a review queue (see package review), of any
// domain: Data is the domain's sealed JSON, Subject a masked summary.
type ReviewItem struct {
	ID        string
	Kind      string
	State     string // "pending", "approved", "rejected"
	Reference string
	UserID    string
	Subject   string
	Data      []byte
	CreatedAt time.Time
	DecidedAt time.Time // zero while pending
	DecidedBy string
	Reason    string
}

// ReviewFile is an upload kept with a review item; Data is sealed.
type ReviewFile struct {
	ID          string
	ItemID      string
	Label       string
	ContentType string
	Size        int // of the upload before sealing
	Data        []byte
}

// ReviewPage asks ListReviewItems for items of Kinds (all kinds when
// empty) in State, oldest first, after the item (AfterTime, AfterID);
// a zero AfterTime and empty AfterID start at the beginning.
type ReviewPage struct {
	Kinds     []string
	State     string
	AfterTime time.Time
	AfterID   string
	Limit     int
}

// RealnameUserChange changes the real-name evidence of one account: Put
// adds or replaces bindings, Remove deletes those of the methods listed
// (RemoveAll: every binding; RemoveAbove > 0: those of a level above
// it), and then Update gets the account's row and
// its bindings as they now are and returns the row to store (its level,
// its verified name and ID number). Update may refuse with an error. The
// level rule is the caller's; the store keeps the level in the row.
type RealnameUserChange struct {
	UserID      string
	Put         []RealnameBinding
	Remove      []string
	RemoveAll   bool
	RemoveAbove int
	Update      func(u User, bindings []RealnameBinding) (User, error)
}

// ReviewDecision decides the pending review item ItemID.
type ReviewDecision struct {
	ItemID    string
	State     string // "approved" or "rejected"
	DecidedAt time.Time
	DecidedBy string
	Reason    string
}

// RealnameChange is everything one real-name happening writes, in one
// transaction with its audit event.
type RealnameChange struct {
	Check    *RealnameCheck       // recorded
	Users    []RealnameUserChange // applied in order
	Item     *ReviewItem          // created, with Files
	Files    []ReviewFile
	Decision *ReviewDecision
}

// Realname stores real-name checks, bindings and the review queue.
type Realname interface {
	// ChangeRealname writes c and appends e (sealed by seal, as
	// AppendAudit does) in one transaction: any error rolls all of it
	// back. A user change of a missing or closed account is ErrNotFound;
	// an ID number that another verified account holds is a
	// *ConflictError on "id_number"; a second pending item of one user
	// and kind a *ConflictError on "review_pending"; a decision of an item that is not
	// pending is ErrConflict, of a missing item ErrNotFound.
	ChangeRealname(ctx context.Context, c RealnameChange, e AuditEvent, seal func(AuditEvent) []byte) error
	// ListRealnameBindings returns the user's bindings, lowest level first.
	ListRealnameBindings(ctx context.Context, userID string) ([]RealnameBinding, error)
	// ListRealnameChecks returns the user's newest checks, newest first.
	ListRealnameChecks(ctx context.Context, userID string, limit int) ([]RealnameCheck, error)
	// GetReviewItem returns one review item.
	GetReviewItem(ctx context.Context, id string) (ReviewItem, error)
	// ListReviewItems returns a page of review items, oldest first
	// (created_at, then ID), read by keyset: fast at any depth.
	ListReviewItems(ctx context.Context, p ReviewPage) ([]ReviewItem, error)
	// ListUserReviewItems returns the user's items in state, oldest first.
	ListUserReviewItems(ctx context.Context, userID, state string) ([]ReviewItem, error)
	// ListReviewFiles returns the files of an item without their data.
	ListReviewFiles(ctx context.Context, itemID string) ([]ReviewFile, error)
	// GetReviewFile returns one file of an item with its data; a file of
	// another item is ErrNotFound.
	GetReviewFile(ctx context.Context, itemID, fileID string) (ReviewFile, error)
}
