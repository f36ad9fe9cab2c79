package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Incr adds one to the counter in one statement: a new or expired counter
// starts at 1 with expiry now+window, a live one counts up and keeps its
// expiry.
func (s *Store) Incr(ctx context.Context, key string, window time.Duration, now time.Time) (int64, time.Time, error) {
	if window <= 0 {
		return 0, time.Time{}, fmt.Errorf("%s: incr %q: window %v is not positive", s.d.Name, key, window)
	}
	var count, expires int64
	err := s.queryRow(ctx, s.wdb, `INSERT INTO counters (key, count, expires_at) VALUES ($1, 1, $2)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN counters.expires_at <= $3 THEN 1 ELSE counters.count + 1 END,
			expires_at = CASE WHEN counters.expires_at <= $3 THEN excluded.expires_at ELSE counters.expires_at END
		RETURNING count, expires_at`,
		key, ms(now.Add(window)), ms(now)).Scan(&count, &expires)
	if err != nil {
		return 0, time.Time{}, s.wrapErr("incr", err)
	}
	return count, fromMS(expires), nil
}

// Peek returns the count of a live window, or 0 and the zero time.
func (s *Store) Peek(ctx context.Context, key string, now time.Time) (int64, time.Time, error) {
	var count, expires int64
	err := s.queryRow(ctx, s.db,
		`SELECT count, expires_at FROM counters WHERE key = $1 AND expires_at > $2`, key, ms(now)).
		Scan(&count, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, s.wrapErr("peek", err)
	}
	return count, fromMS(expires), nil
}

// ResetCounter forgets the counter; resetting a missing counter is not an
// error (the effect the caller wants already holds).
func (s *Store) ResetCounter(ctx context.Context, key string) error {
	_, err := s.exec(ctx, s.wdb, `DELETE FROM counters WHERE key = $1`, key)
	return s.wrapErr("reset counter", err)
}

// DeleteExpiredCounters removes counters whose window has ended.
func (s *Store) DeleteExpiredCounters(ctx context.Context, now time.Time) (int64, error) {
	return s.execCount(ctx, "delete expired counters", `DELETE FROM counters WHERE expires_at <= $1`, ms(now))
}
