package audit

import (
	"context"
	"errors"
	"fmt"

	"unid/internal/store"
)

// verifyPage is how many events Export reads at once: large pages keep
// the database's round trips a small part of the time.
const verifyPage = 10_000

// progressEvery is how many events a verification checks between calls
// of its progress function.
const progressEvery = 10_000

// Verify walks the stored log from the retention anchor and returns the
// number of events checked, or an error naming the first event whose
// link or hash does not match.
func Verify(ctx context.Context, s store.AuditLog) (int64, error) {
	sum, err := VerifyLog(ctx, s)
	return sum.Events, err
}

// VerifyLog walks the stored log from the retention anchor (before event
// 1 when nothing was archived: the first event stored must link to the
// anchor's hash) to its newest event and returns what it checked, head
// included, or an error naming the first event that is missing, does
// not link to the one before it, or was altered (a *Break).
func VerifyLog(ctx context.Context, s store.AuditLog) (Summary, error) {
	return VerifyRange(ctx, s, 0, 0, nil)
}

// VerifyRange checks the stored events from..to: from 0 (or a seq at or
// before the anchor) starts at the anchor, to 0 ends at the newest
// event. A range that starts after the anchor takes its first event's
// link as given, as a range of an export does. progress, if set, is
// called every progressEvery events and after the last with the events
// checked so far and the events in the range.
//
// The events come from one query (store.AuditLog.ScanAudit) and are
// checked as they arrive.
func VerifyRange(ctx context.Context, s store.AuditLog, from, to int64, progress func(checked, total int64)) (Summary, error) {
	a, err := s.AuditAnchor(ctx)
	if err != nil {
		return Summary{}, fmt.Errorf("audit: verify: %w", err)
	}
	newest, err := s.QueryAudit(ctx, store.AuditFilter{}, 0, 1)
	if err != nil {
		return Summary{}, fmt.Errorf("audit: verify: %w", err)
	}
	head := a.Seq
	if len(newest) > 0 {
		head = newest[0].Seq
	}
	c := chain{anchored: true, seq: a.Seq, prev: a.Hash}
	start, end := a.Seq+1, head
	if from > start {
		start, c = from, chain{}
	}
	if to > 0 && to < end {
		end = to
	}
	if start > end {
		if from > 0 || to > 0 {
			return Summary{}, fmt.Errorf("audit: verify: no events from %d to %d: the stored log holds %d to %d", max(from, start), end, a.Seq+1, head)
		}
		return Summary{}, nil // an empty log
	}
	total := end - start + 1

	err = s.ScanAudit(ctx, start, end, func(e store.AuditEvent) error {
		if c.sum.Events == 0 && e.Seq != start {
			return &Break{Seq: e.Seq, After: start - 1, Reason: BreakMissing}
		}
		if err := c.add(e); err != nil {
			return err
		}
		if progress != nil && c.sum.Events%progressEvery == 0 {
			progress(c.sum.Events, total)
		}
		return nil
	})
	if _, ok := BreakOf(err); ok {
		return c.sum, err
	}
	if err != nil {
		return c.sum, fmt.Errorf("audit: verify: %w", err)
	}
	if progress != nil && c.sum.Events%progressEvery != 0 {
		progress(c.sum.Events, total)
	}
	if c.sum.To != end {
		// The newest event went between reading the head and the
		// events: only a delete does that.
		last := max(c.sum.To, start-1)
		return c.sum, &Break{Seq: last + 1, After: last, Reason: BreakMissing}
	}
	return c.sum, nil
}

// BreakOf returns the *Break err carries, if any.
func BreakOf(err error) (*Break, bool) {
	var b *Break
	ok := errors.As(err, &b)
	return b, ok
}
