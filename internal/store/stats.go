package store

import (
	"context"
	"time"
)

// StatCount is a count of one metric for one key in one hour: what the
// dashboard draws. Hour is the start of the hour, UTC.
type StatCount struct {
	Metric string // e.g. "signin", "sso", "register", "sms"
	Key    string // a service system's client id, a result; "" for none
	Hour   time.Time
	Count  int64
}

// Stats keeps the dashboard's counters. Every instance adds its counts;
// the store sums them.
type Stats interface {
	// AddStats adds each count to the stored one of its metric, key and
	// hour, creating it when missing, in one transaction.
	AddStats(ctx context.Context, counts []StatCount) error
	// ListStats returns the stored counts of the metrics with from <= Hour
	// < to, ordered by metric, hour and key.
	ListStats(ctx context.Context, metrics []string, from, to time.Time) ([]StatCount, error)
}
