package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"time"

	"unid/internal/store"
)

const addressColumns = `id, user_id, recipient_cipher, phone_cipher, detail_cipher, division, postcode,
	is_default, created_at, updated_at`

func scanAddress(r rowScanner) (store.Address, error) {
	var a store.Address
	var created, updated int64
	err := r.Scan(&a.ID, &a.UserID, &a.Recipient.Cipher, &a.Phone.Cipher, &a.Detail.Cipher,
		&a.Division, &a.Postcode, &a.IsDefault, &created, &updated)
	a.CreatedAt, a.UpdatedAt = fromMS(created), fromMS(updated)
	return a, err
}

// normAddress is what an address looks like after a round trip.
func normAddress(a store.Address) store.Address {
	for _, p := range []*store.Sealed{&a.Recipient, &a.Phone, &a.Detail} {
		p.Cipher, p.Index = normBytes(p.Cipher), nil
	}
	a.CreatedAt, a.UpdatedAt = normTime(a.CreatedAt), normTime(a.UpdatedAt)
	return a
}

// lockUser takes the lock on the user's row for the rest of tx, so that the
// address writes of one user take turns: on PostgreSQL two of them would
// otherwise both count 19 addresses, or both see no default. SQLite's write
// transactions are exclusive already. A missing user is ErrNotFound.
func (s *Store) lockUser(ctx context.Context, tx *sql.Tx, op, userID string) error {
	var id string
	err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE id = $1`+s.d.ForUpdate, userID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return s.notFound(op)
	}
	return s.wrapErr(op, err)
}

// CreateAddress stores a new address of a user who has fewer than max.
func (s *Store) CreateAddress(ctx context.Context, a store.Address, max int, e store.AuditEvent, seal func(store.AuditEvent) []byte) (store.Address, error) {
	const op = "create address"
	a = normAddress(a)
	_, err := s.writeAudited(ctx, e, seal, func(tx *sql.Tx) error {
		if err := s.lockUser(ctx, tx, op, a.UserID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM addresses WHERE user_id = $1`, a.UserID).Scan(&n); err != nil {
			return s.wrapErr(op, err)
		}
		switch {
		case n >= max:
			return fmt.Errorf("%s: %s: %d of %d: %w", s.d.Name, op, n, max, store.ErrLimit)
		case n == 0:
			a.IsDefault = true
		case a.IsDefault:
			if _, err := tx.ExecContext(ctx, `UPDATE addresses SET is_default = $2, updated_at = $3
				WHERE user_id = $1 AND is_default`, a.UserID, false, ms(a.UpdatedAt)); err != nil {
				return s.wrapErr(op, err)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO addresses (`+addressColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			a.ID, a.UserID, a.Recipient.Cipher, a.Phone.Cipher, a.Detail.Cipher, a.Division, a.Postcode,
			a.IsDefault, ms(a.CreatedAt), ms(a.UpdatedAt))
		return s.wrapErr(op, err)
	})
	if err != nil {
		return store.Address{}, err
	}
	return a, nil
}

// ListAddresses returns the user's addresses, the default first, then the
// newest first.
func (s *Store) ListAddresses(ctx context.Context, userID string) ([]store.Address, error) {
	return listRows(ctx, s, "list addresses", scanAddress, `SELECT `+addressColumns+` FROM addresses
		WHERE user_id = $1 ORDER BY is_default DESC, created_at DESC, id`, userID)
}

// GetAddress returns one address of the user.
func (s *Store) GetAddress(ctx context.Context, userID, id string) (store.Address, error) {
	a, err := scanAddress(s.queryRow(ctx, s.db, `SELECT `+addressColumns+` FROM addresses
		WHERE id = $1 AND user_id = $2`, id, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Address{}, s.notFound("get address")
	}
	return a, s.wrapErr("get address", err)
}

// UpdateAddress changes one address of the user inside a transaction.
func (s *Store) UpdateAddress(ctx context.Context, userID, id string, fn func(store.Address) (store.Address, error), e store.AuditEvent, seal func(store.AuditEvent) []byte) (store.Address, error) {
	const op = "update address"
	var out store.Address
	_, err := s.writeAudited(ctx, e, seal, func(tx *sql.Tx) error {
		old, err := scanAddress(tx.QueryRowContext(ctx, `SELECT `+addressColumns+` FROM addresses
			WHERE id = $1 AND user_id = $2`+s.d.ForUpdate, id, userID))
		if errors.Is(err, sql.ErrNoRows) {
			return s.notFound(op)
		}
		if err != nil {
			return s.wrapErr(op, err)
		}
		next, err := fn(old)
		if err != nil {
			return err
		}
		if next.ID != old.ID || next.UserID != old.UserID {
			return fmt.Errorf("%s: %s %s: %w", s.d.Name, op, old.ID, errChangeID)
		}
		next.IsDefault, next.CreatedAt = old.IsDefault, old.CreatedAt
		next = normAddress(next)
		_, err = tx.ExecContext(ctx, `UPDATE addresses SET recipient_cipher = $3, phone_cipher = $4,
			detail_cipher = $5, division = $6, postcode = $7, updated_at = $8 WHERE id = $1 AND user_id = $2`,
			id, userID, next.Recipient.Cipher, next.Phone.Cipher, next.Detail.Cipher, next.Division, next.Postcode, ms(next.UpdatedAt))
		out = next
		return s.wrapErr(op, err)
	})
	if err != nil {
		return store.Address{}, err
	}
	return out, nil
}

// DeleteAddress removes one address of the user; the newest remaining one
// inherits the default.
func (s *Store) DeleteAddress(ctx context.Context, userID, id string, at time.Time, e store.AuditEvent, seal func(store.AuditEvent) []byte) error {
	const op = "delete address"
	_, err := s.writeAudited(ctx, e, seal, func(tx *sql.Tx) error {
		if err := s.lockUser(ctx, tx, op, userID); err != nil {
			return err
		}
		var wasDefault bool
		err := tx.QueryRowContext(ctx, `SELECT is_default FROM addresses WHERE id = $1 AND user_id = $2`, id, userID).Scan(&wasDefault)
		if errors.Is(err, sql.ErrNoRows) {
			return s.notFound(op)
		}
		if err != nil {
			return s.wrapErr(op, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM addresses WHERE id = $1 AND user_id = $2`, id, userID); err != nil {
			return s.wrapErr(op, err)
		}
		if !wasDefault {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE addresses SET is_default = $2, updated_at = $3
			WHERE id = (SELECT id FROM addresses WHERE user_id = $1 ORDER BY created_at DESC, id LIMIT 1)`,
			userID, true, ms(at))
		return s.wrapErr(op, err)
	})
	return err
}

// SetDefaultAddress makes one address of the user the default.
func (s *Store) SetDefaultAddress(ctx context.Context, userID, id string, at time.Time, e store.AuditEvent, seal func(store.AuditEvent) []byte) error {
	const op = "set default address"
	_, err := s.writeAudited(ctx, e, seal, func(tx *sql.Tx) error {
		if err := s.lockUser(ctx, tx, op, userID); err != nil {
			return err
		}
		var isDefault bool
		err := tx.QueryRowContext(ctx, `SELECT is_default FROM addresses WHERE id = $1 AND user_id = $2`, id, userID).Scan(&isDefault)
		if errors.Is(err, sql.ErrNoRows) {
			return s.notFound(op)
		}
		if err != nil || isDefault {
			return s.wrapErr(op, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE addresses SET is_default = $2, updated_at = $3
			WHERE user_id = $1 AND is_default`, userID, false, ms(at)); err != nil {
			return s.wrapErr(op, err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE addresses SET is_default = $3, updated_at = $4
			WHERE id = $1 AND user_id = $2`, id, userID, true, ms(at))
		return s.wrapErr(op, err)
	})
	return err
}

// CountAddresses returns how many addresses the user has.
func (s *Store) CountAddresses(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.queryRow(ctx, s.db, `SELECT count(*) FROM addresses WHERE user_id = $1`, userID).Scan(&n)
	return n, s.wrapErr("count addresses", err)
}
