package audit_test

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"unid/internal/audit"
	"unid/internal/store"
)

// memLog is an audit log in memory, for measuring the chain's own cost.
type memLog struct{ events []store.AuditEvent }

func (m *memLog) AppendAudit(context.Context, store.AuditEvent, func(store.AuditEvent) []byte) (store.AuditEvent, error) {
	panic("not used")
}

func (m *memLog) ListAudit(_ context.Context, after int64, limit int) ([]store.AuditEvent, error) {
	if after >= int64(len(m.events)) {
		return nil, nil
	}
	return m.events[after:min(int(after)+limit, len(m.events))], nil
}

// ScanAudit finds the events by seq, so that a test may remove some, and
// hands each one over in a reused copy of its hashes, as the stores do.
func (m *memLog) ScanAudit(_ context.Context, from, to int64, fn func(store.AuditEvent) error) error {
	i, _ := slices.BinarySearchFunc(m.events, from, func(e store.AuditEvent, seq int64) int { return cmp.Compare(e.Seq, seq) })
	var prev, hash []byte
	for _, e := range m.events[i:] {
		if to > 0 && e.Seq > to {
			break
		}
		prev, hash = append(prev[:0], e.PrevHash...), append(hash[:0], e.Hash...)
		e.PrevHash, e.Hash = prev, hash
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func (m *memLog) ListActorAudit(context.Context, string, []string, int) ([]store.AuditEvent, error) {
	panic("not used")
}

// QueryAudit answers only for the newest event, as verification asks.
func (m *memLog) QueryAudit(_ context.Context, f store.AuditFilter, before int64, limit int) ([]store.AuditEvent, error) {
	if f != (store.AuditFilter{}) || before != 0 || limit != 1 {
		panic("not used")
	}
	if len(m.events) == 0 {
		return nil, nil
	}
	return m.events[len(m.events)-1:], nil
}

func (m *memLog) AuditAnchor(context.Context) (store.AuditAnchor, error) {
	return store.AuditAnchor{}, nil
}

func (m *memLog) AuditHead(context.Context) (int64, []byte, error) {
	if len(m.events) == 0 {
		return 0, nil, nil
	}
	last := m.events[len(m.events)-1]
	return last.Seq, last.Hash, nil
}

func (m *memLog) CutAudit(context.Context, store.AuditAnchor, store.AuditEvent, func(store.AuditEvent) []byte) (int64, error) {
	panic("not used")
}

// chainOf makes n chained events shaped like a sign-in's.
func chainOf(n int) *memLog {
	m := &memLog{events: make([]store.AuditEvent, n)}
	var prev []byte
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range m.events {
		e := store.AuditEvent{Seq: int64(i + 1), Time: at.Add(time.Duration(i) * time.Millisecond),
			Actor: fmt.Sprintf("u-%07d", i%100_000), Action: audit.ActionLogin, Result: audit.ResultOK, IP: "10.12.3.4",
			UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
			Subject:   "138****5678", Detail: `{"amr":"pwd","client":"hall"}`, PrevHash: prev}
		e.Hash = audit.Hash(e)
		m.events[i], prev = e, e.Hash
	}
	return m
}

// BenchmarkVerify measures the chain check itself (hashing and linking),
// the store left out: events/s of audit.Verify over a log in memory, and
// of audit.VerifyExport over a CSV export of it.
func BenchmarkVerify(b *testing.B) {
	const n = 200_000
	m := chainOf(n)
	ctx := context.Background()
	b.Run("log", func(b *testing.B) {
		for b.Loop() {
			if got, err := audit.Verify(ctx, m); err != nil || got != n {
				b.Fatalf("Verify = %d, %v", got, err)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
	})
	var buf bytes.Buffer
	if _, err := audit.Export(ctx, m, 0, 0, "csv", &buf); err != nil {
		b.Fatal(err)
	}
	b.Run("csv-export", func(b *testing.B) {
		for b.Loop() {
			if got, err := audit.VerifyExport(bytes.NewReader(buf.Bytes())); err != nil || got.Events != n {
				b.Fatalf("VerifyExport = %+v, %v", got, err)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
	})
}
