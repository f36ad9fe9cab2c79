package audit_test

import (
	"context"
	"flag"
	"testing"

	"unid/internal/audit"
	"unid/internal/audit/audittest"
	"unid/internal/store"
)

var benchEvents = flag.Int("audit.events", 1_000_000, "events in the trail of BenchmarkVerifyStore")

// BenchmarkVerifyStore measures verifying a stored trail end to end,
// database reads included: events/s of audit.VerifyLog over a trail of
// -audit.events events in SQLite and in PostgreSQL.
func BenchmarkVerifyStore(b *testing.B) {
	for _, be := range audittest.Backends {
		b.Run(be.Name, func(b *testing.B) {
			st, raw := be.New(b)
			audittest.Fill(b, raw, *benchEvents, audit.Hash)
			ctx := context.Background()
			for b.Loop() {
				if sum, err := audit.VerifyLog(ctx, st); err != nil || sum.Events != int64(*benchEvents) {
					b.Fatalf("VerifyLog = %+v, %v", sum, err)
				}
			}
			b.ReportMetric(float64(*benchEvents)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			_ = store.AuditFilter{}
		})
	}
}
