package audit

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"unid/internal/store"
)

// archivedPage is how many ActionArchived events proveAnchor reads at
// once; the one it looks for is almost always the newest.
const archivedPage = 100

// proveAnchor finds, among the stored events, the ActionArchived event
// that records the cut at a: System's, its Detail naming a.Seq as the
// last event archived, a.Hash as its head and a.Archive as its file. A
// cut appends that event in the transaction that moves the anchor, so
// an anchor without one was moved some other way, and the events it
// covers may have been deleted without an archive: a *Break with
// BreakUnproven at a.Seq.
func proveAnchor(ctx context.Context, s store.AuditLog, a store.AuditAnchor) error {
	to, head := strconv.FormatInt(a.Seq, 10), hex.EncodeToString(a.Hash)
	for before := int64(0); ; {
		es, err := s.QueryAudit(ctx, store.AuditFilter{Action: ActionArchived}, before, archivedPage)
		if err != nil {
			return fmt.Errorf("audit: verify: the anchor's cut: %w", err)
		}
		for _, e := range es {
			var d Detail
			if e.Actor == System().String() && e.Result == ResultOK && json.Unmarshal([]byte(e.Detail), &d) == nil &&
				d["to"] == to && d["head"] == head && d["file"] == a.Archive {
				return nil
			}
		}
		if len(es) < archivedPage {
			return &Break{Seq: a.Seq, Reason: BreakUnproven}
		}
		before = es[len(es)-1].Seq
	}
}

// checkTail compares the newest stored event (none: newest is empty)
// with the head the store recorded, read before it: events the head
// counts but the store no longer holds were deleted from the end, where
// no later event's link shows it (a *Break with BreakTruncated at the
// first of them), and a newest event that is not the one the head
// recorded was replaced (BreakAltered).
func checkTail(a store.AuditAnchor, newest []store.AuditEvent, recorded int64, recordedHash []byte) error {
	last := a.Seq
	if len(newest) > 0 {
		last = newest[0].Seq
	}
	switch {
	case recorded > last:
		return &Break{Seq: last + 1, After: last, Reason: BreakTruncated}
	case recorded == last && len(newest) > 0 && !bytes.Equal(recordedHash, newest[0].Hash):
		return &Break{Seq: last, After: last - 1, Reason: BreakAltered}
	}
	return nil
}
