package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

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
// called about every progressEvery events and after the last with the
// events checked so far and the events in the range, always on the
// caller's goroutine.
//
// A long range is cut into as many segments as there are processors,
// each read by one query (store.AuditLog.ScanAudit) and checked on its
// own goroutine as its events arrive; the segments are then joined in
// order, each one's first event checked against the last of the one
// before. The error is the one a walk from the first event to the last
// would have met first.
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
	var counted chan int64
	if progress != nil {
		counted = make(chan int64, 16)
	}
	n := max(1, min(maxSegments(), total/minSegment))
	done := make([]chan segment, n)
	var wg sync.WaitGroup
	for i := range n {
		sg := segment{from: start + total*i/n, to: start + total*(i+1)/n - 1}
		if i == 0 {
			sg.c = c // the first segment starts at the anchor, if the range does
		}
		done[i] = make(chan segment, 1)
		wg.Go(func() { done[i] <- sg.check(ctx, s, counted) })
	}
	defer func() { // no segment reads on once VerifyRange returns
		cancel()
		wg.Wait()
	}()

	// Join the segments in order: sum is the chain so far, up to event
	// last.
	var sum Summary
	var checked int64
	last := start - 1
	for i := 0; i < len(done); {
		select {
		case k := <-counted:
			checked += k
			progress(checked, total)
			continue
		case sg := <-done[i]:
			i++
			if sg.err != nil && sg.first == 0 {
				return sum, fmt.Errorf("audit: verify: %w", sg.err)
			}
			if sg.first == 0 {
				continue // no events: the next segment's first tells what is missing
			}
			switch {
			case sg.first != last+1:
				return sum, &Break{Seq: sg.first, After: last, Reason: BreakMissing}
			case i > 1 && !bytes.Equal(sg.firstPrev, sum.Head):
				return sum, &Break{Seq: sg.first, After: last, Reason: BreakUnlinked}
			}
			if sum.Events == 0 {
				sum.From, sum.PrevHash = sg.c.sum.From, sg.c.sum.PrevHash
			}
			if sg.c.sum.Events > 0 {
				sum.To, sum.Head = sg.c.sum.To, sg.c.sum.Head
				sum.Events += sg.c.sum.Events
				last = sum.To
			}
			if _, ok := BreakOf(sg.err); ok {
				return sum, sg.err
			}
			if sg.err != nil {
				return sum, fmt.Errorf("audit: verify: %w", sg.err)
			}
		}
	}
	wg.Wait()
	if counted != nil {
		close(counted)
		for k := range counted {
			checked += k
			progress(checked, total)
		}
	}
	if last != end {
		// The newest event went between reading the head and the
		// events: only a delete does that.
		return sum, &Break{Seq: last + 1, After: last, Reason: BreakMissing}
	}
	return sum, nil
}

// A verification's range is cut into at most maxSegments segments of
// at least minSegment events: a shorter range is read and checked by one
// query.
var (
	minSegment  int64 = 50_000
	maxSegments       = func() int64 { return int64(runtime.GOMAXPROCS(0)) }
)

// segment is one part of a verification's range, from..to, as check
// found it: its first event and that event's link, the chain of the
// events after it, and the first break among them or why reading
// stopped.
type segment struct {
	from, to  int64
	c         chain
	first     int64 // 0: no events
	firstPrev []byte
	err       error
}

// errStop ends a segment's scan whose first event is not its from: the
// join reports the events missing before it.
var errStop = errors.New("audit: stop")

// check reads and checks the segment's events, sending how many it
// checked to counted, if set, every progressEvery events and at the end.
func (sg segment) check(ctx context.Context, s store.AuditLog, counted chan<- int64) segment {
	var reported int64
	count := func() {
		if counted != nil && sg.c.sum.Events > reported {
			select {
			case counted <- sg.c.sum.Events - reported:
				reported = sg.c.sum.Events
			case <-ctx.Done():
			}
		}
	}
	err := s.ScanAudit(ctx, sg.from, sg.to, func(e store.AuditEvent) error {
		if sg.first == 0 {
			sg.first, sg.firstPrev = e.Seq, bytes.Clone(e.PrevHash)
			if e.Seq != sg.from {
				return errStop
			}
		}
		if err := sg.c.add(e); err != nil {
			return err
		}
		if sg.c.sum.Events%progressEvery == 0 {
			count()
		}
		return nil
	})
	if err != errStop {
		sg.err = err
	}
	count()
	return sg
}

// BreakOf returns the *Break err carries, if any.
func BreakOf(err error) (*Break, bool) {
	var b *Break
	ok := errors.As(err, &b)
	return b, ok
}
