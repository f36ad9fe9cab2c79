package audit_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"unid/internal/audit"
)

// TestSegmentsFindWhatOneWalkFinds: a verification cut into segments
// reports, for every kind of tampering at every event, the same summary
// and the same first break as one walk from the first event to the last,
// wherever the segments' edges fall.
func TestSegmentsFindWhatOneWalkFinds(t *testing.T) {
	const n = 23
	tamperings := []struct {
		name   string
		tamper func(m *memLog, i int)
	}{
		{"intact", func(*memLog, int) {}},
		{"altered", func(m *memLog, i int) { m.events[i].Detail = `{"amr":"otp"}` }},
		{"unlinked", func(m *memLog, i int) { m.events[i].PrevHash = m.events[i].Hash }},
		{"altered and unlinked", func(m *memLog, i int) {
			m.events[i].Detail, m.events[i].PrevHash = "", nil
		}},
		{"rehashed", func(m *memLog, i int) { // altered, its hash made again: the next event does not link
			m.events[i].Subject = "139****0000"
			m.events[i].Hash = audit.Hash(m.events[i])
		}},
		{"removed", func(m *memLog, i int) { m.events = slices.Delete(m.events, i, i+1) }},
		{"three removed", func(m *memLog, i int) { m.events = slices.Delete(m.events, i, min(i+3, len(m.events))) }},
		{"head removed", func(m *memLog, i int) { m.events = m.events[:i] }},
	}
	ranges := [][2]int64{{0, 0}, {6, 0}, {3, 17}, {1, n}}
	ctx := context.Background()
	for _, tt := range tamperings {
		for i := range n {
			for _, r := range ranges {
				m := chainOf(n)
				tt.tamper(m, i)
				verify := func(segments int64) (audit.Summary, string, []int64) {
					defer audit.Segments(segments, 1)()
					var checked []int64
					sum, err := audit.VerifyRange(ctx, m, r[0], r[1], func(k, total int64) { checked = append(checked, k) })
					return sum, fmt.Sprint(err), checked
				}
				want, wantErr, _ := verify(1)
				for segments := int64(2); segments <= 6; segments++ {
					got, gotErr, checked := verify(segments)
					if !reflect.DeepEqual(got, want) || gotErr != wantErr {
						t.Fatalf("%s at event %d, range %v, %d segments: %+v, %s; one walk: %+v, %s",
							tt.name, i+1, r, segments, got, gotErr, want, wantErr)
					}
					if wantErr == "<nil>" && got.Events > 0 && (len(checked) == 0 || checked[len(checked)-1] != got.Events || !slices.IsSorted(checked)) {
						t.Fatalf("%s at event %d, range %v, %d segments: progress %v for %d events", tt.name, i+1, r, segments, checked, got.Events)
					}
				}
			}
		}
	}
}
