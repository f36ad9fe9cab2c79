package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"time"

	"unid/internal/store"
)

// AddStats adds counts to the dashboard's counters in one transaction.
// Counts of one metric, key and hour are summed first, and the rows are
// written in key order, so that two instances flushing at once wait for
// each other instead of deadlocking.
func (s *Store) AddStats(ctx context.Context, counts []store.StatCount) error {
	type statKey struct {
		metric, key string
		hour        int64
	}
	sums := map[statKey]int64{}
	for _, c := range counts {
		if c.Count == 0 {
			continue
		}
		sums[statKey{c.Metric, c.Key, ms(c.Hour.UTC().Truncate(time.Hour))}] += c.Count
	}
	if len(sums) == 0 {
		return nil
	}
	keys := make([]statKey, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b statKey) int {
		return cmp.Or(cmp.Compare(a.metric, b.metric), cmp.Compare(a.hour, b.hour), cmp.Compare(a.key, b.key))
	})
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `INSERT INTO stats (metric, key, hour, count) VALUES ($1, $2, $3, $4)
				ON CONFLICT (metric, hour, key) DO UPDATE SET count = stats.count + excluded.count`,
				k.metric, k.key, k.hour, sums[k]); err != nil {
				return s.wrapErr("add stats", err)
			}
		}
		return nil
	})
}

// ListStats returns the stored counts of metrics with from <= hour < to,
// ordered by metric, hour and key; no metrics list nothing.
func (s *Store) ListStats(ctx context.Context, metrics []string, from, to time.Time) ([]store.StatCount, error) {
	if len(metrics) == 0 {
		return nil, nil
	}
	args := []any{ms(from), ms(to)}
	for _, m := range metrics {
		args = append(args, m)
	}
	return listRows(ctx, s, "list stats", func(r rowScanner) (store.StatCount, error) {
		var c store.StatCount
		var hour int64
		err := r.Scan(&c.Metric, &c.Key, &hour, &c.Count)
		c.Hour = fromMS(hour)
		return c, err
	}, `SELECT metric, key, hour, count FROM stats
		WHERE hour >= $1 AND hour < $2 AND metric IN (`+s.params(3, len(metrics))+`)
		ORDER BY metric, hour, key`, args...)
}

// estimateAbove is the number of sessions above which PostgreSQL's
// planner statistics answer EstimateSessions instead of a count: counting
// a few million rows takes the better part of a second.
const estimateAbove = 200_000

// EstimateSessions returns how many sessions are stored, for the
// dashboard: on PostgreSQL, once the table holds more than a few hundred
// thousand rows, the planner's estimate (pg_class.reltuples, kept by
// autovacuum), and estimated true; otherwise an exact count.
func (s *Store) EstimateSessions(ctx context.Context) (n int64, estimated bool, err error) {
	if s.d.Name == "postgres" {
		var est float64
		err := s.queryRow(ctx, s.db, `SELECT reltuples FROM pg_class WHERE oid = 'sessions'::regclass`).Scan(&est)
		if err != nil {
			return 0, false, s.wrapErr("estimate sessions", err)
		}
		if est > estimateAbove {
			return int64(est), true, nil
		}
	}
	n, err = s.CountSessions(ctx)
	return n, false, err
}
