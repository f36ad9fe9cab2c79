package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"unid/internal/store"
)

const upstreamLinkColumns = `provider, app, subject, user_id, alipay_user_id, display, id_number_index, certified, linked_at, last_used_at`

func scanUpstreamLink(r rowScanner) (store.UpstreamLink, error) {
	var l store.UpstreamLink
	var certified, linked, used int64
	err := r.Scan(&l.Provider, &l.App, &l.Subject, &l.UserID, &l.AlipayUserID, &l.Display, &l.IDNumberIndex, &certified, &linked, &used)
	l.Certified, l.LinkedAt, l.LastUsedAt = certified != 0, fromMS(linked), fromMS(used)
	return l, err
}

// insertUpstreamLink stores l for an account that exists and is not
// closed: the INSERT takes the user from the users table, so that a
// missing or closed account inserts nothing.
func (s *Store) insertUpstreamLink(ctx context.Context, tx *sql.Tx, l store.UpstreamLink) error {
	const op = "create upstream link"
	return s.txExecOne(ctx, tx, op, `INSERT INTO upstream_links (`+upstreamLinkColumns+`)
		SELECT $1, $2, $3, id, $5, $6, $7, $8, $9, $10 FROM users WHERE id = $4 AND status <> $11`,
		l.Provider, l.App, l.Subject, l.UserID, l.AlipayUserID, l.Display, nullBytes(l.IDNumberIndex), boolInt(l.Certified),
		ms(l.LinkedAt), ms(l.LastUsedAt), store.UserClosed)
}

// CreateUpstreamLink stores a link.
func (s *Store) CreateUpstreamLink(ctx context.Context, l store.UpstreamLink) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return s.insertUpstreamLink(ctx, tx, l) })
}

// CreateUserWithLink creates an account and its link at once, so that an
// account made through a provider never stands without its way in.
func (s *Store) CreateUserWithLink(ctx context.Context, u store.User, l store.UpstreamLink) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, insertUserSQL, userArgs(u)...); err != nil {
			return s.wrapErr("create user", err)
		}
		if err := s.checkClosed(ctx, tx, "create user", store.User{}, u, u.CreatedAt); err != nil {
			return err
		}
		l.UserID = u.ID
		return s.insertUpstreamLink(ctx, tx, l)
	})
}

// GetUpstreamLink returns the link of an identity.
func (s *Store) GetUpstreamLink(ctx context.Context, provider, app, subject string) (store.UpstreamLink, error) {
	l, err := scanUpstreamLink(s.queryRow(ctx, s.db, `SELECT `+upstreamLinkColumns+` FROM upstream_links
		WHERE provider = $1 AND app = $2 AND subject = $3`, provider, app, subject))
	if errors.Is(err, sql.ErrNoRows) {
		return store.UpstreamLink{}, s.notFound("get upstream link")
	}
	return l, s.wrapErr("get upstream link", err)
}

// ListUpstreamLinks returns the user's links.
func (s *Store) ListUpstreamLinks(ctx context.Context, userID string) ([]store.UpstreamLink, error) {
	return listRows(ctx, s, "list upstream links", scanUpstreamLink, `SELECT `+upstreamLinkColumns+`
		FROM upstream_links WHERE user_id = $1 ORDER BY provider`, userID)
}

// UseUpstreamLink records a sign-in through a link.
func (s *Store) UseUpstreamLink(ctx context.Context, l store.UpstreamLink) error {
	return s.execOne(ctx, "use upstream link", `UPDATE upstream_links SET last_used_at = $4,
		alipay_user_id = $5, display = $6, certified = $7, id_number_index = $8
		WHERE provider = $1 AND app = $2 AND subject = $3`,
		l.Provider, l.App, l.Subject, ms(l.LastUsedAt), l.AlipayUserID, l.Display, boolInt(l.Certified), nullBytes(l.IDNumberIndex))
}

// DeleteUpstreamLink removes a link unless it is the account's only way
// in. The condition is part of the DELETE, so that two removals at once
// cannot leave an account with no way in.
func (s *Store) DeleteUpstreamLink(ctx context.Context, userID, provider string) error {
	const op = "delete upstream link"
	n, err := s.execCount(ctx, op, `DELETE FROM upstream_links WHERE user_id = $1 AND provider = $2
		AND (EXISTS (SELECT 1 FROM users WHERE id = $1 AND password_hash <> '')
			OR EXISTS (SELECT 1 FROM upstream_links o WHERE o.user_id = $1 AND o.provider <> $2))`, userID, provider)
	if err != nil || n > 0 {
		return err
	}
	var one int
	err = s.queryRow(ctx, s.db, `SELECT 1 FROM upstream_links WHERE user_id = $1 AND provider = $2`, userID, provider).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return s.notFound(op)
	case err != nil:
		return s.wrapErr(op, err)
	}
	return store.ErrLastWayIn
}
