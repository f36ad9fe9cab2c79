package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"unid/internal/store"
)

// checkClosed refuses, inside tx, a user u (written over old; a zero old
// for a new user) that takes a phone, or verifies an ID number, which a
// closed account gave up and whose cooling-off lasts beyond at. It runs
// after the write, in a statement of its own: on PostgreSQL a closure
// committed while the write waited on the closing account's row is then
// seen, so a number is never taken in the gap between the two.
func (s *Store) checkClosed(ctx context.Context, tx *sql.Tx, op string, old, u store.User, at time.Time) error {
	type check struct {
		kind  string
		index []byte
	}
	var checks []check
	if len(u.Phone.Index) > 0 && !bytes.Equal(old.Phone.Index, u.Phone.Index) {
		checks = append(checks, check{store.ClosedPhone, u.Phone.Index})
	}
	if len(u.IDNumber.Index) > 0 && u.RealnameLevel >= 1 &&
		(old.RealnameLevel < 1 || !bytes.Equal(old.IDNumber.Index, u.IDNumber.Index)) {
		checks = append(checks, check{store.ClosedIDNumber, u.IDNumber.Index})
	}
	for _, c := range checks {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM closed_identifiers
			WHERE kind = $1 AND blind_index = $2 AND released_at > $3`, c.kind, c.index, ms(at)).Scan(&n)
		if err != nil {
			return s.wrapErr(op, err)
		}
		if n > 0 {
			return fmt.Errorf("%s: %s: %w", s.d.Name, op, &store.ConflictError{Field: "closed_" + c.kind})
		}
	}
	return nil
}

// CloseUser closes the account: see store.Closures.
func (s *Store) CloseUser(ctx context.Context, userID string, at, releasedAt time.Time, e store.AuditEvent, seal func(store.AuditEvent) []byte) (store.User, error) {
	var old store.User
	err := s.runAgain(func() error {
		var err error
		old, err = s.closeUserTx(ctx, userID, at, releasedAt, e, seal)
		return err
	}, nil)
	return old, err
}

// closeUserTx is one run of CloseUser: a transaction that PostgreSQL
// may fail for a deadlock, in a window its locks leave (a write commits
// a new record for the person after the first lock, and another locks
// it and inserts one more), and that then runs again (runAgain).
func (s *Store) closeUserTx(ctx context.Context, userID string, at, releasedAt time.Time, e store.AuditEvent, seal func(store.AuditEvent) []byte) (store.User, error) {
	const op = "close user"
	var old store.User
	_, err := s.writeAudited(ctx, e, seal, func(tx *sql.Tx) error {
		// The person's records and those they handled first, before the
		// account's row: a system's write that holds one of them may be
		// inserting a record for the person, which waits for that row.
		if err := s.lockInKeyOrder(ctx, tx, `user_id = $1 OR handler_id = $1`, userID); err != nil {
			return s.wrapErr(op, err)
		}
		var err error
		old, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users
			WHERE id = $1 AND status <> $2`+s.d.ForUpdate, userID, store.UserClosed))
		if errors.Is(err, sql.ErrNoRows) {
			return s.notFound(op)
		}
		if err != nil {
			return s.wrapErr(op, err)
		}
		var given []store.ClosedIdentifier
		if len(old.Phone.Index) > 0 {
			given = append(given, store.ClosedIdentifier{Kind: store.ClosedPhone, Index: old.Phone.Index})
		}
		if len(old.IDNumber.Index) > 0 && old.RealnameLevel >= 1 {
			given = append(given, store.ClosedIdentifier{Kind: store.ClosedIDNumber, Index: old.IDNumber.Index})
		}
		for _, c := range given {
			if _, err := tx.ExecContext(ctx, `INSERT INTO closed_identifiers (kind, blind_index, released_at)
				VALUES ($1, $2, $3)
				ON CONFLICT (kind, blind_index) DO UPDATE SET released_at = CASE
					WHEN excluded.released_at > closed_identifiers.released_at THEN excluded.released_at
					ELSE closed_identifiers.released_at END`, c.Kind, c.Index, ms(releasedAt)); err != nil {
				return s.wrapErr(op, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = '',
			phone_cipher = NULL, phone_index = NULL, id_number_cipher = NULL, id_number_index = NULL,
			email_cipher = NULL, email_index = NULL, real_name_cipher = NULL,
			nickname_cipher = NULL, work_unit_cipher = NULL, realname_level = 0,
			status = $2, closed_at = $3, updated_at = $3
			WHERE id = $1`, userID, store.UserClosed, ms(at)); err != nil {
			return s.wrapErr(op, err)
		}
		// The enterprise records the person handled stay the enterprise's,
		// without their name.
		if _, err := tx.ExecContext(ctx, `UPDATE records SET handler_id = NULL WHERE handler_id = $1`, userID); err != nil {
			return s.wrapErr(op, err)
		}
		// The grants the account gave die with its roles.
		if _, err := tx.ExecContext(ctx, `DELETE FROM enterprise_grants WHERE granted_by = $1`, userID); err != nil {
			return s.wrapErr(op, err)
		}
		for _, table := range []string{"addresses", "security_answers", "oauth_consents", "realname_bindings", "records", "client_users", "upstream_links",
			"enterprise_members", "enterprise_grants", "enterprise_applications"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE user_id = $1`, userID); err != nil {
				return s.wrapErr(op, err)
			}
		}
		return nil
	})
	if err != nil {
		return store.User{}, err
	}
	return normUser(old), nil
}

// GetClosedIdentifier returns one closed identifier.
func (s *Store) GetClosedIdentifier(ctx context.Context, kind string, index []byte) (store.ClosedIdentifier, error) {
	c := store.ClosedIdentifier{Kind: kind}
	var released int64
	err := s.queryRow(ctx, s.db, `SELECT blind_index, released_at FROM closed_identifiers
		WHERE kind = $1 AND blind_index = $2`, kind, index).Scan(&c.Index, &released)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ClosedIdentifier{}, s.notFound("get closed identifier")
	}
	if err != nil {
		return store.ClosedIdentifier{}, s.wrapErr("get closed identifier", err)
	}
	c.ReleasedAt = fromMS(released)
	return c, nil
}

// DeleteReleasedIdentifiers forgets the identifiers released by now.
func (s *Store) DeleteReleasedIdentifiers(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.exec(ctx, s.wdb, `DELETE FROM closed_identifiers WHERE released_at <= $1`, ms(now))
	if err != nil {
		return 0, s.wrapErr("delete released identifiers", err)
	}
	n, err := res.RowsAffected()
	return n, s.wrapErr("delete released identifiers", err)
}
