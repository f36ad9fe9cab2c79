package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"unid/internal/store"
)

const challengeColumns = `kind, id, secret, subject, attempts, created_at, expires_at`

func scanChallenge(r rowScanner) (store.Challenge, error) {
	var c store.Challenge
	var created, expires int64
	err := r.Scan(&c.Kind, &c.ID, &c.Secret, &c.Subject, &c.Attempts, &created, &expires)
	c.CreatedAt, c.ExpiresAt = fromMS(created), fromMS(expires)
	return c, err
}

func normChallenge(c store.Challenge) store.Challenge {
	c.Secret, c.Subject = normBytes(c.Secret), normBytes(c.Subject)
	c.CreatedAt, c.ExpiresAt = normTime(c.CreatedAt), normTime(c.ExpiresAt)
	return c
}

// PutChallenge creates or replaces the challenge with the same kind and ID.
func (s *Store) PutChallenge(ctx context.Context, c store.Challenge) error {
	_, err := s.exec(ctx, s.wdb, `INSERT INTO challenges (`+challengeColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (kind, id) DO UPDATE SET secret = excluded.secret,
			subject = excluded.subject, attempts = excluded.attempts,
			created_at = excluded.created_at, expires_at = excluded.expires_at`,
		c.Kind, c.ID, nullBytes(c.Secret), nullBytes(c.Subject), c.Attempts, ms(c.CreatedAt), ms(c.ExpiresAt))
	return s.wrapErr("put challenge", err)
}

// GetChallenge returns the challenge, expired or not; callers check Valid.
func (s *Store) GetChallenge(ctx context.Context, kind, id string) (store.Challenge, error) {
	c, err := scanChallenge(s.queryRow(ctx, s.db,
		`SELECT `+challengeColumns+` FROM challenges WHERE kind = $1 AND id = $2`, kind, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Challenge{}, s.notFound("get challenge")
	}
	if err != nil {
		return store.Challenge{}, s.wrapErr("get challenge", err)
	}
	return c, nil
}

// UpdateChallenge reads the challenge, applies fn and writes the result in
// one transaction (e.g. counting a wrong answer). Kind and ID cannot change;
// an error from fn aborts the write and is returned unchanged.
func (s *Store) UpdateChallenge(ctx context.Context, kind, id string, fn func(store.Challenge) (store.Challenge, error)) (store.Challenge, error) {
	return updateRow(ctx, s, rowUpdate[store.Challenge]{
		op:    "update challenge",
		query: `SELECT ` + challengeColumns + ` FROM challenges WHERE kind = $1 AND id = $2`,
		args:  []any{kind, id},
		scan:  scanChallenge,
		key:   func(c store.Challenge) any { return [2]string{c.Kind, c.ID} },
		write: func(tx *sql.Tx, _, c store.Challenge) (store.Challenge, error) {
			_, err := tx.ExecContext(ctx, `UPDATE challenges SET secret = $3, subject = $4,
				attempts = $5, created_at = $6, expires_at = $7 WHERE kind = $1 AND id = $2`,
				c.Kind, c.ID, nullBytes(c.Secret), nullBytes(c.Subject), c.Attempts, ms(c.CreatedAt), ms(c.ExpiresAt))
			return normChallenge(c), err
		},
	}, fn)
}

// TakeChallenge deletes and returns the challenge in one statement, so that
// of several concurrent callers exactly one gets it.
func (s *Store) TakeChallenge(ctx context.Context, kind, id string) (store.Challenge, error) {
	c, err := scanChallenge(s.queryRow(ctx, s.wdb,
		`DELETE FROM challenges WHERE kind = $1 AND id = $2 RETURNING `+challengeColumns, kind, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Challenge{}, s.notFound("take challenge")
	}
	if err != nil {
		return store.Challenge{}, s.wrapErr("take challenge", err)
	}
	return c, nil
}

// DeleteChallenge removes the challenge.
func (s *Store) DeleteChallenge(ctx context.Context, kind, id string) error {
	return s.execOne(ctx, "delete challenge", `DELETE FROM challenges WHERE kind = $1 AND id = $2`, kind, id)
}

// DeleteExpiredChallenges removes challenges that are no longer valid at now.
func (s *Store) DeleteExpiredChallenges(ctx context.Context, now time.Time) (int64, error) {
	return s.execCount(ctx, "delete expired challenges",
		`DELETE FROM challenges WHERE expires_at <= $1`, ms(now))
}
