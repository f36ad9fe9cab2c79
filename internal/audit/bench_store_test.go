package audit_test

import (
	"context"
	"flag"
	"log/slog"
	"testing"
	"time"

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

// BenchmarkRecord measures appending one event at a time, as a quiet
// server does (each event its own transaction): events/s of Log.Record in
// SQLite and in PostgreSQL.
func BenchmarkRecord(b *testing.B) {
	benchRecord(b, func(b *testing.B, record func() error) {
		for b.Loop() {
			if err := record(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRecordParallel measures appending to the chain from 32
// goroutines at once, as busy token endpoints do: events/s of Log.Record
// in SQLite and in PostgreSQL. Appends that arrive together are
// committed together.
func BenchmarkRecordParallel(b *testing.B) {
	benchRecord(b, func(b *testing.B, record func() error) {
		b.SetParallelism(16) // 32 goroutines on 2 CPUs
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := record(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// benchRecord runs loop on each backend with a function that records one
// token event, and reports events/s.
func benchRecord(b *testing.B, loop func(b *testing.B, record func() error)) {
	for _, be := range audittest.Backends {
		b.Run(be.Name, func(b *testing.B) {
			st, _ := be.New(b)
			log := audit.New(st, time.Now, slog.New(slog.DiscardHandler))
			ctx := context.Background()
			loop(b, func() error {
				return log.Record(ctx, audit.Entry{Actor: audit.ClientActor("hall"), Action: "oidc.token", Result: audit.ResultOK, Client: "hall"})
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
