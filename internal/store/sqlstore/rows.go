package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// rowUpdate describes the read-modify-write of one row for updateRow.
type rowUpdate[T any] struct {
	op    string // what is being done, for errors: "update user"
	query string // the SELECT of the row; updateRow appends the dialect's FOR UPDATE
	args  []any
	scan  func(rowScanner) (T, error)
	// key returns the record's key, which fn may not change; it must be
	// comparable (a string, or an array of strings).
	key func(T) any
	// write stores next in place of old and returns what the store now
	// holds (next after a round trip).
	write func(tx *sql.Tx, old, next T) (T, error)
}

// updateRow is the one read-modify-write of the SQL store: it reads the row
// and locks it (SELECT … FOR UPDATE on PostgreSQL; on SQLite the single
// write connection makes the transaction exclusive), applies fn, and writes
// the result, in one transaction. A missing row gives store.ErrNotFound; an
// error from fn aborts the write and is returned unchanged; a fn that
// changes the key is refused.
func updateRow[T any](ctx context.Context, s *Store, u rowUpdate[T], fn func(T) (T, error)) (T, error) {
	var out T
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := u.scan(tx.QueryRowContext(ctx, u.query+s.d.ForUpdate, u.args...))
		if errors.Is(err, sql.ErrNoRows) {
			return s.notFound(u.op)
		}
		if err != nil {
			return s.wrapErr(u.op, err)
		}
		next, err := fn(old)
		if err != nil {
			return err
		}
		if u.key(next) != u.key(old) {
			return fmt.Errorf("%s: %s %v: %w", s.d.Name, u.op, u.key(old), errChangeID)
		}
		if out, err = u.write(tx, old, next); err != nil {
			return s.wrapErr(u.op, err)
		}
		return nil
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// listRows runs a query on the read pool and scans every row with scan.
// No rows give a nil slice.
func listRows[T any](ctx context.Context, s *Store, op string, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.wrapErr(op, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, s.wrapErr(op, err)
		}
		out = append(out, v)
	}
	return out, s.wrapErr(op, rows.Err())
}
