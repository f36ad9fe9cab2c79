package store

import (
	"context"
	"time"
)

// RecordKind is one of the record kinds of the personal space.
type RecordKind string

// The record kinds. Their names are the singular of the API's path
// segments (cases, consultations, …).
const (
	RecordCase         RecordKind = "case"         // 办件
	RecordConsultation RecordKind = "consultation" // 咨询
	RecordComplaint    RecordKind = "complaint"    // 投诉
	RecordMessage      RecordKind = "message"      // 消息
	RecordFavorite     RecordKind = "favorite"     // 收藏
)

// Record is what a service system keeps in unid about something a person,
// or an enterprise, did with it: a summary and a link, never the system's
// documents. unid's own messages to a person are records too (ClientID "",
// Event and Params instead of Title and Summary).
type Record struct {
	ID         string // unid's, random, URL-safe
	Kind       RecordKind
	UserID     string // the person it belongs to; "" for an enterprise's
	USCC       string // the enterprise it belongs to; "" for a person's
	HandlerID  string // an enterprise's record: the member who acted, or ""
	ClientID   string // the service system that wrote it; "" for unid
	ExternalID string // the system's own id, unique per system and kind
	Number     string // case: the system's case number (办件编号)
	Title      string // service item name, question, subject, message title or favorite's name
	ItemCode   string // case, favorite: the service item code (事项编码)
	Department string // case: the department that handles it
	Status     string // case, consultation, complaint: a word of the kind's vocabulary
	Summary    string // answer, reply or message body
	Link       string // the system's page of it (absolute URL); unid's messages: a path on this site
	// Event and Params are unid's own messages: the texts are the message
	// keys of the event, rendered in the reader's language.
	Event       string
	Params      map[string]string
	SubmittedAt time.Time // set by the first write, never changed; lists are ordered by it
	UpdatedAt   time.Time // the system's time of the latest write applied
	CreatedAt   time.Time // when unid stored it first
	ReadAt      time.Time // zero while unread
}

// StatusChange is one entry of a record's status history.
type StatusChange struct {
	Status string
	At     time.Time // the system's UpdatedAt of the write that changed it
}

// RecordCursor is where a page of records ends: the SubmittedAt and ID of
// its last record. The zero cursor is the first page.
type RecordCursor struct {
	SubmittedAt time.Time
	ID          string
}

// RecordQuery selects one page of records of one kind and one owner,
// newest first by (SubmittedAt, ID).
type RecordQuery struct {
	Kind   RecordKind
	UserID string // exactly one of UserID and USCC
	USCC   string
	// HandlerID, with USCC, keeps only the records of that member (what a
	// handler of the enterprise sees); "" keeps all.
	HandlerID string
	Status    string    // "" any
	ClientID  string    // "" any; "-" unid's own
	From, To  time.Time // SubmittedAt in [From, To); zero: unbounded
	// Search keeps records whose Title contains it (case-insensitive for
	// ASCII) or whose Number equals it; "" keeps all.
	Search string
	Unread bool // only unread ones
	After  RecordCursor
	Limit  int
}

// Upsert outcomes: what a write did to the record it names.
const (
	UpsertCreated   = "created"   // a new record
	UpsertUpdated   = "updated"   // changed; the history grew if the status did
	UpsertUnchanged = "unchanged" // the same content; UpdatedAt moved forward if the write was newer
	UpsertStale     = "stale"     // older than what unid has (or as old and different): nothing changed
	UpsertOwner     = "owner"     // the id is the system's record of another owner: nothing changed
)

// UpsertResult is what one write of UpsertRecords did.
type UpsertResult struct {
	Outcome string // one of the Upsert* outcomes
	Record  Record // the record as stored after the write (as it was, when nothing changed)
}

// Records stores the records of the personal and enterprise space. Every
// read of a person's or an enterprise's records names the owner; a record
// of another owner is ErrNotFound, as if it did not exist.
type Records interface {
	// UpsertRecords applies the writes in order in one transaction. A
	// write is keyed by (ClientID, Kind, ExternalID): a new key is created
	// with ID, CreatedAt and SubmittedAt as given (SubmittedAt defaulting
	// to UpdatedAt), unread (ReadAt zero) unless ReadAt is set; an existing
	// one is updated only when the write's UpdatedAt is after the stored
	// one, keeping ID, owner, SubmittedAt and CreatedAt; a status change
	// appends to the history (a new record with a status starts it) and
	// makes the record unread again. Several writes of one key in one call
	// apply one after the other.
	UpsertRecords(ctx context.Context, writes []Record) ([]UpsertResult, error)
	// GetSourceRecord returns the system's record (ClientID, Kind, ExternalID).
	GetSourceRecord(ctx context.Context, clientID string, kind RecordKind, externalID string) (Record, error)
	// DeleteSourceRecord deletes the system's record and its history.
	DeleteSourceRecord(ctx context.Context, clientID string, kind RecordKind, externalID string) error
	// ListRecords returns the page q selects.
	ListRecords(ctx context.Context, q RecordQuery) ([]Record, error)
	// GetRecord returns the record id of kind if it belongs to the owner
	// (userID, or uscc when userID is "").
	GetRecord(ctx context.Context, userID, uscc string, kind RecordKind, id string) (Record, error)
	// RecordHistory returns the status history of the record id, oldest first.
	RecordHistory(ctx context.Context, id string) ([]StatusChange, error)
	// CountUnreadRecords returns, per kind, how many of the person's
	// records are unread; kinds with none are absent.
	CountUnreadRecords(ctx context.Context, userID string) (map[RecordKind]int, error)
	// MarkRecordsRead sets ReadAt to at on the person's unread record id
	// of kind, or on all their unread records of kind when id is "". It
	// returns how many changed; an id that is not the person's is
	// ErrNotFound, and one read already keeps its first read time.
	MarkRecordsRead(ctx context.Context, userID string, kind RecordKind, id string, at time.Time) (int64, error)
	// DeleteRecord deletes the person's record id of kind (a favorite the
	// person removes).
	DeleteRecord(ctx context.Context, userID string, kind RecordKind, id string) error
	// DeleteRecordsUpdatedBefore deletes at most limit records of kind
	// last updated before cut (retention) and returns how many.
	DeleteRecordsUpdatedBefore(ctx context.Context, kind RecordKind, cut time.Time, limit int) (int64, error)

	// KnownUsers returns those of userIDs that signed in to the client and
	// whose account is open.
	KnownUsers(ctx context.Context, clientID string, userIDs []string) (map[string]bool, error)
	// KnownEnterprises returns those of usccs that a member acted for in
	// a sign-in to the client.
	KnownEnterprises(ctx context.Context, clientID string, usccs []string) (map[string]bool, error)
}
