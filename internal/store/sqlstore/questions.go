package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"unid/internal/store"
)

// PutSecurityAnswers stores the account's set, replacing an earlier one.
func (s *Store) PutSecurityAnswers(ctx context.Context, a store.SecurityAnswers) error {
	_, err := s.exec(ctx, s.wdb, `INSERT INTO security_answers
		(user_id, question1, answer1, question2, answer2, question3, answer3, set_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (user_id) DO UPDATE SET question1 = excluded.question1, answer1 = excluded.answer1,
			question2 = excluded.question2, answer2 = excluded.answer2,
			question3 = excluded.question3, answer3 = excluded.answer3, set_at = excluded.set_at`,
		a.UserID, a.Questions[0], a.Hashes[0], a.Questions[1], a.Hashes[1], a.Questions[2], a.Hashes[2], ms(a.SetAt))
	if err != nil && s.d.ForeignKeyViolation != nil && s.d.ForeignKeyViolation(err) {
		return s.notFound("put security answers")
	}
	return s.wrapErr("put security answers", err)
}

// GetSecurityAnswers returns the account's set, or store.ErrNotFound.
func (s *Store) GetSecurityAnswers(ctx context.Context, userID string) (store.SecurityAnswers, error) {
	var a store.SecurityAnswers
	var setAt int64
	err := s.queryRow(ctx, s.db, `SELECT user_id, question1, answer1, question2, answer2, question3, answer3, set_at
		FROM security_answers WHERE user_id = $1`, userID).
		Scan(&a.UserID, &a.Questions[0], &a.Hashes[0], &a.Questions[1], &a.Hashes[1], &a.Questions[2], &a.Hashes[2], &setAt)
	if errors.Is(err, sql.ErrNoRows) {
		return store.SecurityAnswers{}, s.notFound("get security answers")
	}
	a.SetAt = fromMS(setAt)
	return a, s.wrapErr("get security answers", err)
}

// DeleteSecurityAnswers removes the account's set; none gives
// store.ErrNotFound.
func (s *Store) DeleteSecurityAnswers(ctx context.Context, userID string) error {
	return s.execOne(ctx, "delete security answers", `DELETE FROM security_answers WHERE user_id = $1`, userID)
}
