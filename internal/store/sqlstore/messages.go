package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"unid/internal/store"
)

const messageColumns = `id, user_id, event, params, link, created_at, read_at`

func scanMessage(r rowScanner) (store.Message, error) {
	var m store.Message
	var params string
	var created int64
	var read *int64
	if err := r.Scan(&m.ID, &m.UserID, &m.Event, &params, &m.Link, &created, &read); err != nil {
		return m, err
	}
	m.CreatedAt = fromMS(created)
	if read != nil {
		m.ReadAt = fromMS(*read)
	}
	if err := json.Unmarshal([]byte(params), &m.Params); err != nil {
		return m, fmt.Errorf("message %s: params: %w", m.ID, err)
	}
	if len(m.Params) == 0 {
		m.Params = nil
	}
	return m, nil
}

// nullTime stores a zero time as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ms(t)
}

// PostMessage stores a message of an account that is not closed: the
// INSERT takes its user from the users table, so a missing or closed
// account inserts nothing and is ErrNotFound.
func (s *Store) PostMessage(ctx context.Context, m store.Message) error {
	const op = "post message"
	params := m.Params
	if params == nil {
		params = map[string]string{}
	}
	p, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", s.d.Name, op, err)
	}
	return s.execOne(ctx, op, `INSERT INTO messages (`+messageColumns+`)
		SELECT $1, id, $3, $4, $5, $6, $7 FROM users WHERE id = $2 AND status <> $8`,
		m.ID, m.UserID, m.Event, string(p), m.Link, ms(m.CreatedAt), nullTime(m.ReadAt), store.UserClosed)
}

// ListMessages returns a page of the user's messages, newest first. The
// row comparison walks the index on (user_id, created_at, id), so a page
// costs the same however far down the list it is.
func (s *Store) ListMessages(ctx context.Context, userID string, after store.MessageCursor, limit int) ([]store.Message, error) {
	const op = "list messages"
	if after.ID == "" && after.CreatedAt.IsZero() {
		return listRows(ctx, s, op, scanMessage, `SELECT `+messageColumns+` FROM messages
			WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, userID, limit)
	}
	return listRows(ctx, s, op, scanMessage, `SELECT `+messageColumns+` FROM messages
		WHERE user_id = $1 AND (created_at, id) < ($2, $3)
		ORDER BY created_at DESC, id DESC LIMIT $4`, userID, ms(after.CreatedAt), after.ID, limit)
}

// MarkMessageRead sets the read time of the user's message once.
func (s *Store) MarkMessageRead(ctx context.Context, userID, id string, at time.Time) error {
	return s.execOne(ctx, "mark message read", `UPDATE messages SET read_at = COALESCE(read_at, $3)
		WHERE id = $1 AND user_id = $2`, id, userID, ms(at))
}

// CountUnreadMessages counts the user's unread messages.
func (s *Store) CountUnreadMessages(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.queryRow(ctx, s.db, `SELECT count(*) FROM messages WHERE user_id = $1 AND read_at IS NULL`, userID).Scan(&n)
	return n, s.wrapErr("count unread messages", err)
}
