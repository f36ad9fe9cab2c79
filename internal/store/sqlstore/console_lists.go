package sqlstore

import (
	"context"
	"strconv"
	"strings"

	"unid/internal/store"
)

// ListUsers returns one page of the citizen list, newest first. It walks
// users_created_idx (users_status_created_idx with a status) backwards from
// the cursor, so that a page deep in ten million accounts costs what the
// first one does.
func (s *Store) ListUsers(ctx context.Context, after store.UserCursor, status string, limit int) ([]store.User, error) {
	if limit <= 0 {
		return nil, nil
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if !after.CreatedAt.IsZero() || after.ID != "" {
		// A row comparison, which both backends read as one range of
		// the index (an OR of the two cases they may not).
		where = append(where, "(created_at, id) < ("+arg(ms(after.CreatedAt))+", "+arg(after.ID)+")")
	}
	if status != "" {
		where = append(where, "status = "+arg(status))
	}
	q := `SELECT ` + userColumns + ` FROM users`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ` + arg(limit)
	return listRows(ctx, s, "list users", scanUser, q, args...)
}

// prefixEnd is above every string that begins with a prefix: the largest
// code point, appended. Both backends compare names by their UTF-8 bytes
// (SQLite's BINARY, PostgreSQL's "C"), in which order it is the largest.
const prefixEnd = "\U0010FFFF"

// FindEnterprises returns enterprises by a prefix of their name, as a
// range over enterprises_name_idx: a byte-order range, which PostgreSQL
// reads through the index only when the comparison is in the index's
// collation "C".
func (s *Store) FindEnterprises(ctx context.Context, prefix, afterName, afterUSCC string, limit int) ([]store.Enterprise, error) {
	if limit <= 0 {
		return nil, nil
	}
	name := "name"
	if s.d.Name == "postgres" {
		name = `name COLLATE "C"`
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if prefix != "" {
		where = append(where, name+" >= "+arg(prefix), name+" < "+arg(prefix+prefixEnd))
	}
	if afterName != "" || afterUSCC != "" {
		n := arg(afterName)
		where = append(where, "("+name+" > "+n+" OR ("+name+" = "+n+" AND uscc > "+arg(afterUSCC)+"))")
	}
	q := `SELECT ` + enterpriseColumns + ` FROM enterprises`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY ` + name + `, uscc LIMIT ` + arg(limit)
	return listRows(ctx, s, "find enterprises", scanEnterprise, q, args...)
}
