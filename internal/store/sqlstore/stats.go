package sqlstore

import (
	"context"
	"time"

	"unid/internal/store"
)

// AddStats adds counts to the dashboard's counters.
func (s *Store) AddStats(ctx context.Context, counts []store.StatCount) error {
	return errTODO
}

// ListStats returns stored counts.
func (s *Store) ListStats(ctx context.Context, metrics []string, from, to time.Time) ([]store.StatCount, error) {
	return nil, errTODO
}
