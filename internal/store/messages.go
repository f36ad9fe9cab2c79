package store

import (
	"context"
	"time"
)

// Message is one of unid's own notices to a citizen (我的消息): a real-name
// review decided, a verification moved to another account. Its title and
// body are not stored: they are the message keys message.<Event>.title and
// message.<Event>.body, rendered in the reader's language with Params, so
// that a citizen who switches language reads every message in it.
type Message struct {
	ID     string // random, URL-safe
	UserID string
	Event  string // e.g. "realname.approved"
	// Params fill the placeholders of the texts. They never hold personal
	// data unmasked: the store keeps them in the clear.
	Params    map[string]string
	Link      string // a path on this site the message leads to, or ""
	CreatedAt time.Time
	ReadAt    time.Time // zero while unread
}

// MessageCursor is where a page of a user's messages ends: the creation
// time and ID of its last message. The zero cursor is the first page.
type MessageCursor struct {
	CreatedAt time.Time
	ID        string
}

// Messages stores users' messages. Every read and write names the user,
// and a message of another user is ErrNotFound, as if it did not exist.
type Messages interface {
	// PostMessage stores m; a missing user is ErrNotFound.
	PostMessage(ctx context.Context, m Message) error
	// ListMessages returns at most limit of the user's messages, newest
	// first (by CreatedAt, then ID), those that come after the cursor in
	// that order.
	ListMessages(ctx context.Context, userID string, after MessageCursor, limit int) ([]Message, error)
	// MarkMessageRead sets ReadAt to at on the user's message; a message
	// read already keeps the time it was first read.
	MarkMessageRead(ctx context.Context, userID, id string, at time.Time) error
	// CountUnreadMessages returns how many of the user's messages are unread.
	CountUnreadMessages(ctx context.Context, userID string) (int, error)
}
