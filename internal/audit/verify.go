package audit

import (
	"context"
	"errors"
	"fmt"

	"unid/internal/store"
)

// verifyPage is how many events a verification reads at once: large
// pages keep the database's round trips a small part of the time.
const verifyPage = 10_000

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
// not link to the one before it, or was altered (a *Break). The anchor
// must be proven by the stored event of its cut, and the newest event
// must be the head the store recorded.
func VerifyLog(ctx context.Context, s store.AuditLog) (Summary, error) {
	return VerifyRange(ctx, s, 0, 0, nil)
}

// VerifyRange checks the stored events from..to: from 0 (or a seq at or
// before the anchor) starts at the anchor, to 0 ends at the newest
// event. A range that starts after the anchor takes its first event's
// link as given, as a range of an export does. progress, if set, is
// called after every page with the events checked so far and the
// events in the range.
//
// The next page is read while the current one is hashed, so that a
// verification takes about as long as the slower of the two.
func VerifyRange(ctx context.Context, s store.AuditLog, from, to int64, progress func(checked, total int64)) (Summary, error) {
	a, err := s.AuditAnchor(ctx)
	if err != nil {
		return Summary{}, fmt.Errorf("audit: verify: %w", err)
	}
	// Read before the newest stored event: appends in between only add
	// stored events.
	recorded, recordedHash, err := s.AuditHead(ctx)
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
	if to == 0 || to >= head {
		if err := checkTail(a, newest, recorded, recordedHash); err != nil {
			return Summary{}, err
		}
	}
	c := chain{anchored: true, seq: a.Seq, prev: a.Hash}
	start, end := a.Seq+1, head
	if from > start {
		start, c = from, chain{}
	}
	if c.anchored && a.Seq > 0 {
		if err := proveAnchor(ctx, s, a); err != nil {
			return Summary{}, err
		}
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

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := readAhead(ctx, s, start, end)
	for f := range pages {
		p := <-f
		if p.err != nil {
			return c.sum, fmt.Errorf("audit: verify: %w", p.err)
		}
		for _, e := range p.events {
			if c.sum.Events == 0 && e.Seq != start {
				return c.sum, &Break{Seq: e.Seq, After: start - 1, Reason: BreakMissing}
			}
			if err := c.add(e); err != nil {
				return c.sum, err
			}
		}
		if progress != nil && len(p.events) > 0 {
			progress(c.sum.Events, total)
		}
	}
	if c.sum.To != end {
		// The newest event went between reading the head and the
		// events: only a delete does that.
		last := max(c.sum.To, start-1)
		return c.sum, &Break{Seq: last + 1, After: last, Reason: BreakMissing}
	}
	return c.sum, nil
}

// readers is how many pages a verification reads at once: the database
// works on the next pages while the current one is hashed.
const readers = 3

type page struct {
	events []store.AuditEvent
	err    error
}

// readAhead reads the events start..end in pages, up to readers of them
// at once, and hands them over in order: each page as a channel that
// delivers it once read. Seqs are dense (a gap is what verification
// looks for), so page i is the events after start-1+i*verifyPage.
func readAhead(ctx context.Context, s store.AuditLog, start, end int64) <-chan chan page {
	out := make(chan chan page, readers)
	go func() {
		defer close(out)
		for after := start - 1; after < end; after += verifyPage {
			f := make(chan page, 1)
			select {
			case out <- f:
			case <-ctx.Done():
				return
			}
			go func(after int64) {
				es, err := s.ListAudit(ctx, after, int(min(verifyPage, end-after)))
				f <- page{es, err}
			}(after)
		}
	}()
	return out
}

// BreakOf returns the *Break err carries, if any.
func BreakOf(err error) (*Break, bool) {
	var b *Break
	ok := errors.As(err, &b)
	return b, ok
}
