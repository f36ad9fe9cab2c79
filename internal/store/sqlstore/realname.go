package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"unid/internal/store"
)

const reviewItemColumns = `id, kind, state, reference, user_id, subject, data, created_at, decided_at, decided_by, reason`

func scanReviewItem(r rowScanner) (store.ReviewItem, error) {
	var it store.ReviewItem
	var created int64
	var decided sql.NullInt64
	err := r.Scan(&it.ID, &it.Kind, &it.State, &it.Reference, &it.UserID, &it.Subject, &it.Data,
		&created, &decided, &it.DecidedBy, &it.Reason)
	it.CreatedAt = fromMS(created)
	if decided.Valid {
		it.DecidedAt = fromMS(decided.Int64)
	}
	it.Data = normBytes(it.Data)
	return it, err
}

func scanBinding(r rowScanner) (store.RealnameBinding, error) {
	var b store.RealnameBinding
	var created int64
	err := r.Scan(&b.UserID, &b.Method, &b.Level, &b.Detail, &b.Reference, &created)
	b.CreatedAt = fromMS(created)
	return b, err
}

func scanCheck(r rowScanner) (store.RealnameCheck, error) {
	var c store.RealnameCheck
	var created int64
	err := r.Scan(&c.ID, &c.UserID, &c.Method, &c.Provider, &c.Result, &c.Reference, &c.Subject, &created)
	c.CreatedAt = fromMS(created)
	c.Subject = normBytes(c.Subject)
	return c, err
}

// ChangeRealname writes one real-name happening: see store.Realname.
func (s *Store) ChangeRealname(ctx context.Context, c store.RealnameChange, e store.AuditEvent, seal func(store.AuditEvent) []byte) error {
	const op = "change realname"
	_, err := s.writeAudited(ctx, e, seal, func(tx *sql.Tx) error {
		if k := c.Check; k != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO realname_checks
				(id, user_id, method, provider, result, reference, subject, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				k.ID, k.UserID, k.Method, k.Provider, k.Result, k.Reference, nullBytes(k.Subject), ms(k.CreatedAt)); err != nil {
				return s.wrapErr(op, err)
			}
		}
		if d := c.Decision; d != nil {
			// Decided first: a decision that lost a race to another
			// changes nothing else.
			res, err := tx.ExecContext(ctx, `UPDATE review_items SET state = $2, decided_at = $3, decided_by = $4, reason = $5
				WHERE id = $1 AND state = 'pending'`, d.ItemID, d.State, ms(d.DecidedAt), d.DecidedBy, d.Reason)
			if err != nil {
				return s.wrapErr(op, err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return s.wrapErr(op, err)
			} else if n == 0 {
				var one int
				err := tx.QueryRowContext(ctx, `SELECT 1 FROM review_items WHERE id = $1`, d.ItemID).Scan(&one)
				if errors.Is(err, sql.ErrNoRows) {
					return s.notFound(op)
				}
				if err != nil {
					return s.wrapErr(op, err)
				}
				return fmt.Errorf("%s: %s: item %s is decided already: %w", s.d.Name, op, d.ItemID, store.ErrConflict)
			}
		}
		for _, uc := range c.Users {
			if err := s.changeUserRealname(ctx, tx, op, uc); err != nil {
				return err
			}
		}
		if it := c.Item; it != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO review_items (`+reviewItemColumns+`)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
				it.ID, it.Kind, it.State, it.Reference, it.UserID, it.Subject, nullBytes(it.Data),
				ms(it.CreatedAt), nullMS(it.DecidedAt), it.DecidedBy, it.Reason); err != nil {
				return s.wrapErr(op, err)
			}
		}
		for _, f := range c.Files {
			if _, err := tx.ExecContext(ctx, `INSERT INTO review_files (id, item_id, label, content_type, size, data)
				VALUES ($1, $2, $3, $4, $5, $6)`, f.ID, f.ItemID, f.Label, f.ContentType, f.Size, f.Data); err != nil {
				return s.wrapErr(op, err)
			}
		}
		return nil
	})
	return err
}

// changeUserRealname applies one account's change inside tx: the row is
// locked first, so that two changes of one account queue up.
func (s *Store) changeUserRealname(ctx context.Context, tx *sql.Tx, op string, uc store.RealnameUserChange) error {
	old, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users
		WHERE id = $1 AND status <> $2`+s.d.ForUpdate, uc.UserID, store.UserClosed))
	if errors.Is(err, sql.ErrNoRows) {
		return s.notFound(op)
	}
	if err != nil {
		return s.wrapErr(op, err)
	}
	if uc.RemoveAll {
		if _, err := tx.ExecContext(ctx, `DELETE FROM realname_bindings WHERE user_id = $1`, uc.UserID); err != nil {
			return s.wrapErr(op, err)
		}
	}
	if uc.RemoveAbove > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM realname_bindings WHERE user_id = $1 AND level > $2`, uc.UserID, uc.RemoveAbove); err != nil {
			return s.wrapErr(op, err)
		}
	}
	for _, m := range uc.Remove {
		if _, err := tx.ExecContext(ctx, `DELETE FROM realname_bindings WHERE user_id = $1 AND method = $2`, uc.UserID, m); err != nil {
			return s.wrapErr(op, err)
		}
	}
	for _, b := range uc.Put {
		if b.UserID != uc.UserID {
			return fmt.Errorf("%s: %s: binding of %s in the change of %s", s.d.Name, op, b.UserID, uc.UserID)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO realname_bindings (user_id, method, level, detail, reference, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (user_id, method) DO UPDATE SET level = excluded.level, detail = excluded.detail,
				reference = excluded.reference, created_at = excluded.created_at`,
			b.UserID, b.Method, b.Level, b.Detail, b.Reference, ms(b.CreatedAt)); err != nil {
			return s.wrapErr(op, err)
		}
	}
	if uc.Update == nil {
		return nil
	}
	bindings, err := s.bindingsTx(ctx, tx, uc.UserID)
	if err != nil {
		return s.wrapErr(op, err)
	}
	next, err := uc.Update(old, bindings)
	if err != nil {
		return err
	}
	if next.ID != old.ID {
		return fmt.Errorf("%s: %s %v: %w", s.d.Name, op, old.ID, errChangeID)
	}
	if _, err := s.writeUser(ctx, tx, op, old, next); err != nil {
		return s.wrapErr(op, err)
	}
	return nil
}

func (s *Store) bindingsTx(ctx context.Context, tx *sql.Tx, userID string) ([]store.RealnameBinding, error) {
	rows, err := tx.QueryContext(ctx, `SELECT user_id, method, level, detail, reference, created_at
		FROM realname_bindings WHERE user_id = $1 ORDER BY level, method`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.RealnameBinding
	for rows.Next() {
		b, err := scanBinding(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// ListRealnameBindings returns the user's bindings, lowest level first.
func (s *Store) ListRealnameBindings(ctx context.Context, userID string) ([]store.RealnameBinding, error) {
	return listRows(ctx, s, "list realname bindings", scanBinding, `SELECT user_id, method, level, detail, reference, created_at
		FROM realname_bindings WHERE user_id = $1 ORDER BY level, method`, userID)
}

// ListRealnameChecks returns the user's newest checks.
func (s *Store) ListRealnameChecks(ctx context.Context, userID string, limit int) ([]store.RealnameCheck, error) {
	if limit <= 0 {
		return nil, nil
	}
	return listRows(ctx, s, "list realname checks", scanCheck, `SELECT id, user_id, method, provider, result, reference, subject, created_at
		FROM realname_checks WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, userID, limit)
}

// GetReviewItem returns one review item.
func (s *Store) GetReviewItem(ctx context.Context, id string) (store.ReviewItem, error) {
	it, err := scanReviewItem(s.queryRow(ctx, s.db, `SELECT `+reviewItemColumns+` FROM review_items WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.ReviewItem{}, s.notFound("get review item")
	}
	if err != nil {
		return store.ReviewItem{}, s.wrapErr("get review item", err)
	}
	return it, nil
}

// ListReviewItems returns a page of the queue by keyset on (created_at,
// id), which the queue indexes serve without reading the items before it.
func (s *Store) ListReviewItems(ctx context.Context, p store.ReviewPage) ([]store.ReviewItem, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	after := int64(-1 << 62)
	if !p.AfterTime.IsZero() || p.AfterID != "" {
		after = ms(p.AfterTime)
	}
	args := []any{p.State, after, p.AfterID, p.Limit}
	kinds := ""
	if len(p.Kinds) > 0 {
		var in strings.Builder
		for i, k := range p.Kinds {
			if i > 0 {
				in.WriteString(", ")
			}
			args = append(args, k)
			fmt.Fprintf(&in, "$%d", len(args))
		}
		kinds = ` AND kind IN (` + in.String() + `)`
	}
	return listRows(ctx, s, "list review items", scanReviewItem, `SELECT `+reviewItemColumns+` FROM review_items
		WHERE state = $1 AND (created_at, id) > ($2, $3)`+kinds+`
		ORDER BY created_at, id LIMIT $4`, args...)
}

// ListUserReviewItems returns the user's items in state, oldest first.
func (s *Store) ListUserReviewItems(ctx context.Context, userID, state string) ([]store.ReviewItem, error) {
	return listRows(ctx, s, "list user review items", scanReviewItem, `SELECT `+reviewItemColumns+` FROM review_items
		WHERE user_id = $1 AND state = $2 ORDER BY created_at, id`, userID, state)
}

// ListReviewFiles returns the files of an item, without data.
func (s *Store) ListReviewFiles(ctx context.Context, itemID string) ([]store.ReviewFile, error) {
	return listRows(ctx, s, "list review files", func(r rowScanner) (store.ReviewFile, error) {
		var f store.ReviewFile
		err := r.Scan(&f.ID, &f.ItemID, &f.Label, &f.ContentType, &f.Size)
		return f, err
	}, `SELECT id, item_id, label, content_type, size FROM review_files WHERE item_id = $1 ORDER BY label, id`, itemID)
}

// GetReviewFile returns one file of an item with its data.
func (s *Store) GetReviewFile(ctx context.Context, itemID, fileID string) (store.ReviewFile, error) {
	var f store.ReviewFile
	err := s.queryRow(ctx, s.db, `SELECT id, item_id, label, content_type, size, data FROM review_files
		WHERE id = $1 AND item_id = $2`, fileID, itemID).Scan(&f.ID, &f.ItemID, &f.Label, &f.ContentType, &f.Size, &f.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ReviewFile{}, s.notFound("get review file")
	}
	if err != nil {
		return store.ReviewFile{}, s.wrapErr("get review file", err)
	}
	return f, nil
}

// reviewItemColumnCount is the number of columns in reviewItemColumns.
const reviewItemColumnCount = 11

// BulkCreateReviewItems inserts many review items in one transaction, for
// seeding the queue benchmark; it writes no audit events.
func (s *Store) BulkCreateReviewItems(ctx context.Context, items []store.ReviewItem) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		args := make([]any, 0, bulkRows*reviewItemColumnCount)
		for start := 0; start < len(items); start += bulkRows {
			batch := items[start:min(start+bulkRows, len(items))]
			args = args[:0]
			for _, it := range batch {
				args = append(args, it.ID, it.Kind, it.State, it.Reference, it.UserID, it.Subject, nullBytes(it.Data),
					ms(it.CreatedAt), nullMS(it.DecidedAt), it.DecidedBy, it.Reason)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO review_items (`+reviewItemColumns+`) VALUES `+
				placeholders(len(batch), reviewItemColumnCount, s.d.Positional), args...); err != nil {
				return s.wrapErr("bulk create review items", err)
			}
		}
		return nil
	})
}
