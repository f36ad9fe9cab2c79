// Package review is the contract between the services whose decisions a
// person must take (real-name counter verifications and appeals today;
// enterprise appeals later) and the operator console that shows those
// decisions to reviewers. A domain service implements Queue for its kinds;
// the operator API lists, opens and decides items through it and never
// reaches into the domain's store.
//
// An item goes:
//
//	pending ──approve──▶ approved   (the domain applies the decision)
//	   │
//	   └─────reject────▶ rejected   (nothing changes but the item)
//
// Opening an item shows personal data unmasked and is audited by the
// domain service, naming the operator; so is every decision.
package review

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"unid/internal/audit"
	"unid/internal/problem"
)

// Item states.
const (
	StatePending  = "pending"
	StateApproved = "approved"
	StateRejected = "rejected"
)

// Item is one entry of a review queue, as a list shows it: masked.
type Item struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`      // e.g. "realname.counter", "realname.appeal"
	State     string    `json:"state"`     // StatePending, StateApproved, StateRejected
	Reference string    `json:"reference"` // short code the citizen quotes at a counter
	UserID    string    `json:"user_id"`
	Subject   string    `json:"subject"` // masked name and ID number, e.g. "*三 1101**********002X"
	CreatedAt time.Time `json:"created_at"`
	DecidedAt time.Time `json:"decided_at,omitzero"`
	DecidedBy string    `json:"decided_by,omitempty"` // operator id
	Reason    string    `json:"reason,omitempty"`
}

// Field is one labelled value of an opened item; Label is a message key.
type Field struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// File is an upload kept with an item (an ID photo, a handheld photo).
type File struct {
	ID          string `json:"id"`
	Label       string `json:"label"` // message key
	ContentType string `json:"content_type"`
	Size        int    `json:"size"`
	Data        []byte `json:"-"`
}

// Detail is an opened item: what the reviewer decides on, unmasked.
type Detail struct {
	Item   Item    `json:"item"`
	Fields []Field `json:"fields"`
	Files  []File  `json:"files"` // Data empty here; fetched one by one with Queue.File
}

// Page asks for a page of a queue: items of Kind ("" for every kind) in
// State, oldest first, after the cursor After ("" for the first page).
type Page struct {
	Kind  string
	State string
	After string
	Limit int
}

// Queue is a domain's review queue. Errors are *problem.Problem where the
// operator can do something about them (not found, already decided, a
// reason missing).
type Queue interface {
	// Kinds lists the item kinds this queue holds.
	Kinds() []string
	// List returns a page of items and the cursor of the next page ("" at
	// the end). It stays fast at hundreds of thousands of pending items
	// (keyset pagination on the creation time and ID).
	List(ctx context.Context, p Page) (items []Item, next string, err error)
	// Open returns an item with its personal data and files, and audits
	// that by opened it.
	Open(ctx context.Context, id string, by audit.Origin) (Detail, error)
	// File returns one file of an item with its data, audited like Open.
	File(ctx context.Context, itemID, fileID string, by audit.Origin) (File, error)
	// Decide approves or rejects a pending item with a reason, applies it,
	// tells the citizen (a message and an SMS) and audits it.
	Decide(ctx context.Context, id string, approve bool, reason string, by audit.Origin) (Item, error)
}

// MaxReason bounds a reviewer's or a member's reason, in characters: the
// console's form, the console API and every queue keep the same limit.
const MaxReason = 200

// CleanReason trims reason and checks it against MaxReason; required
// refuses an empty one. The problems are field "reason" with
// reason_required or reason_too_long.
func CleanReason(reason string, required bool) (string, error) {
	reason = strings.TrimSpace(strings.ToValidUTF8(reason, ""))
	if reason == "" && required {
		return "", problem.Field("reason", "reason_required")
	}
	if utf8.RuneCountInString(reason) > MaxReason {
		return "", problem.Field("reason", "reason_too_long")
	}
	return reason, nil
}
