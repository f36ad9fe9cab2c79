package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"unid/internal/store"
)

// unid's own messages are records of kind message written by unid
// (client_id '', external_id their id); store.Messages reads and writes
// only those, and a message's CreatedAt is its record's submitted_at.

const messageColumns = `id, user_id, event, params, link, submitted_at, read_at`

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
	if params != "" {
		if err := json.Unmarshal([]byte(params), &m.Params); err != nil {
			return m, fmt.Errorf("message %s: params: %w", m.ID, err)
		}
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
	params := ""
	if len(m.Params) > 0 {
		p, err := json.Marshal(m.Params)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", s.d.Name, op, err)
		}
		params = string(p)
	}
	return s.execOne(ctx, op, `INSERT INTO records (id, kind, user_id, client_id, external_id, event, params, link,
			submitted_at, updated_at, created_at, read_at)
		SELECT $1, $2, id, '', $1, $4, $5, $6, $7, $7, $7, $8 FROM users WHERE id = $3 AND status <> $9`,
		m.ID, string(store.RecordMessage), m.UserID, m.Event, params, m.Link, ms(m.CreatedAt), nullTime(m.ReadAt), store.UserClosed)
}

// ListMessages returns a page of the user's messages, newest first. The
// row comparison walks the index on (user_id, kind, submitted_at, id), so
// a page costs the same however far down the list it is.
func (s *Store) ListMessages(ctx context.Context, userID string, after store.MessageCursor, limit int) ([]store.Message, error) {
	const op = "list messages"
	if after.ID == "" && after.CreatedAt.IsZero() {
		return listRows(ctx, s, op, scanMessage, `SELECT `+messageColumns+` FROM records
			WHERE user_id = $1 AND kind = $2 AND client_id = ''
			ORDER BY submitted_at DESC, id DESC LIMIT $3`, userID, string(store.RecordMessage), limit)
	}
	return listRows(ctx, s, op, scanMessage, `SELECT `+messageColumns+` FROM records
		WHERE user_id = $1 AND kind = $2 AND client_id = '' AND (submitted_at, id) < ($3, $4)
		ORDER BY submitted_at DESC, id DESC LIMIT $5`, userID, string(store.RecordMessage), ms(after.CreatedAt), after.ID, limit)
}

// MarkMessageRead sets the read time of the user's message once.
func (s *Store) MarkMessageRead(ctx context.Context, userID, id string, at time.Time) error {
	return s.execOne(ctx, "mark message read", `UPDATE records SET read_at = COALESCE(read_at, $4)
		WHERE id = $1 AND user_id = $2 AND kind = $3 AND client_id = ''`, id, userID, string(store.RecordMessage), ms(at))
}

// CountUnreadMessages counts the user's unread messages.
func (s *Store) CountUnreadMessages(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.queryRow(ctx, s.db, `SELECT count(*) FROM records
		WHERE user_id = $1 AND kind = $2 AND client_id = '' AND read_at IS NULL`, userID, string(store.RecordMessage)).Scan(&n)
	return n, s.wrapErr("count unread messages", err)
}
