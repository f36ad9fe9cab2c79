package storetest

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"unid/internal/store"
)

// RecordsBatch is the batch of BenchUpsertRecords: what a service system
// sends in one call of the records API.
const RecordsBatch = 500

// RecordsPerPerson is how many cases the person of BenchListRecords has.
const RecordsPerPerson = 10_000

// benchRecordUsers creates n accounts for the records benchmarks.
func benchRecordUsers(b *testing.B, s store.Store, n int) []string {
	ctx := context.Background()
	ns := strconv.FormatUint(rand.Uint64(), 36)
	ids := make([]string, n)
	for i := range n {
		u := benchUser(ns, i)
		if err := s.CreateUser(ctx, u); err != nil {
			b.Fatalf("CreateUser: %v", err)
		}
		ids[i] = u.ID
	}
	return ids
}

// benchCase is case i of a person, submitted i seconds after base, with
// the fields a service hall fills.
func benchCase(userID, client string, i int, status string) store.Record {
	at := base.Add(time.Duration(i) * time.Second)
	ext := client + "-" + strconv.Itoa(i)
	return store.Record{
		ID: randID(), Kind: store.RecordCase, UserID: userID, ClientID: client, ExternalID: ext,
		Number: "BJ2030" + strconv.Itoa(1_000_000+i), Title: "居民身份证换领（到期换证）", ItemCode: "11100000MB0143028A000",
		Department: "市公安局出入境管理支队", Status: status, Link: "https://hall.example/cases/" + ext,
		UpdatedAt: at, CreatedAt: at,
	}
}

// analyze takes the statistics of the SQL backends' tables, as their
// statistics jobs would.
func analyze(b *testing.B, s store.Store) {
	if db, ok := s.(interface{ WriteDB() *sql.DB }); ok {
		if _, err := db.WriteDB().ExecContext(context.Background(), `ANALYZE`); err != nil {
			b.Fatalf("analyze: %v", err)
		}
	}
}

// BenchUpsertRecords measures UpsertRecords into the store: single new
// records from 16×GOMAXPROCS parallel writers, and batches of RecordsBatch new records
// and of status updates to them, one writer. It reports records/s.
func BenchUpsertRecords(b *testing.B, s store.Store) {
	ctx := context.Background()
	users := benchRecordUsers(b, s, 1000)
	// A table in use: 20,000 records of another system, and statistics
	// taken, as the database's own statistics job would. (Against an
	// empty table that was never analysed, PostgreSQL caches plans that
	// scan the table, until the first analysis replaces them.)
	batch := make([]store.Record, 0, RecordsBatch)
	for i := range 20_000 {
		batch = append(batch, benchCase(users[i%len(users)], "seed", i, "submitted"))
		if len(batch) == RecordsBatch {
			if _, err := s.UpsertRecords(ctx, batch); err != nil {
				b.Fatalf("seed: %v", err)
			}
			batch = batch[:0]
		}
	}
	analyze(b, s)
	var next atomic.Int64
	b.Run("single", func(b *testing.B) {
		client := "single-" + strconv.FormatUint(rand.Uint64(), 36)
		b.SetParallelism(16) // as many requests at once as an API server serves
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(next.Add(1))
				if _, err := s.UpsertRecords(ctx, []store.Record{benchCase(users[i%len(users)], client, i, "submitted")}); err != nil {
					b.Errorf("UpsertRecords: %v", err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	for _, update := range []bool{false, true} {
		name := "batch=500/create"
		if update {
			name = "batch=500/update"
		}
		b.Run(name, func(b *testing.B) {
			client := "batch-" + strconv.FormatUint(rand.Uint64(), 36)
			batch := make([]store.Record, 0, RecordsBatch)
			n := 0
			for b.Loop() {
				{ // a new batch of new keys, stored first when measuring updates
					b.StopTimer()
					batch = batch[:0]
					for j := range RecordsBatch {
						batch = append(batch, benchCase(users[(n+j)%len(users)], client, n+j, "submitted"))
					}
					if update {
						if _, err := s.UpsertRecords(ctx, batch); err != nil {
							b.Fatalf("UpsertRecords: %v", err)
						}
						for j := range batch {
							batch[j].Status, batch[j].UpdatedAt = "accepted", batch[j].UpdatedAt.Add(time.Hour)
						}
					}
					b.StartTimer()
				}
				if _, err := s.UpsertRecords(ctx, batch); err != nil {
					b.Fatalf("UpsertRecords: %v", err)
				}
				n += RecordsBatch
			}
			b.ReportMetric(float64(b.N*RecordsBatch)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchListRecords seeds a person with RecordsPerPerson cases among the
// cases of 1,000 others (100 each) and measures the first page of 20, a
// page at a random depth (keyset), the first page of unread ones, a
// search, and CountUnreadRecords.
func BenchListRecords(b *testing.B, s store.Store) {
	ctx := context.Background()
	users := benchRecordUsers(b, s, 1001)
	person := users[0]
	start := time.Now()
	var batch []store.Record
	flush := func() {
		if _, err := s.UpsertRecords(ctx, batch); err != nil {
			b.Fatalf("seed: %v", err)
		}
		batch = batch[:0]
	}
	statuses := []string{"submitted", "accepted", "processing", "completed"}
	for i := range RecordsPerPerson {
		if i == RecordsBatch {
			analyze(b, s) // plans for a table in use from here on
		}
		r := benchCase(person, "hall", i, statuses[i%len(statuses)])
		if i%10 != 0 {
			r.ReadAt = r.UpdatedAt.Add(time.Hour) // one in ten unread
		}
		batch = append(batch, r)
		if len(batch) == RecordsBatch {
			flush()
		}
	}
	for u, id := range users[1:] {
		for i := range 100 {
			batch = append(batch, benchCase(id, "tax", u*100+i, "submitted"))
			if len(batch) == RecordsBatch {
				flush()
			}
		}
	}
	if len(batch) > 0 {
		flush()
	}
	b.Logf("seeded %d records in %v", RecordsPerPerson+100*(len(users)-1), time.Since(start).Round(time.Millisecond))
	analyze(b, s)
	const page = 20
	measure := func(b *testing.B, q func() store.RecordQuery, want int) {
		var worst time.Duration
		for b.Loop() {
			t0 := time.Now()
			got, err := s.ListRecords(ctx, q())
			worst = max(worst, time.Since(t0))
			if err != nil || len(got) < want {
				b.Fatalf("ListRecords: %d records, %v", len(got), err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
		b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
	}
	b.Run("first", func(b *testing.B) {
		measure(b, func() store.RecordQuery {
			return store.RecordQuery{Kind: store.RecordCase, UserID: person, Limit: page}
		}, page)
	})
	b.Run("keyset", func(b *testing.B) {
		measure(b, func() store.RecordQuery {
			i := page + rand.IntN(RecordsPerPerson-2*page)
			// The cursor of a page ending at case i; IDs are random, so
			// the smallest one keeps case i out and the ones before it in.
			return store.RecordQuery{Kind: store.RecordCase, UserID: person, Limit: page,
				After: store.RecordCursor{SubmittedAt: base.Add(time.Duration(i) * time.Second), ID: ""}}
		}, page)
	})
	b.Run("unread", func(b *testing.B) {
		measure(b, func() store.RecordQuery {
			return store.RecordQuery{Kind: store.RecordCase, UserID: person, Unread: true, Limit: page}
		}, page)
	})
	b.Run("search", func(b *testing.B) {
		measure(b, func() store.RecordQuery {
			return store.RecordQuery{Kind: store.RecordCase, UserID: person, Search: "BJ2030" + strconv.Itoa(1_000_000+rand.IntN(RecordsPerPerson)), Limit: page}
		}, 1)
	})
	b.Run("unread-count", func(b *testing.B) {
		var worst time.Duration
		for b.Loop() {
			t0 := time.Now()
			n, err := s.CountUnreadRecords(ctx, person)
			worst = max(worst, time.Since(t0))
			if err != nil || n[store.RecordCase] != RecordsPerPerson/10 {
				b.Fatalf("CountUnreadRecords = %v, %v", n, err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
		b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
	})
}

// TableInUse gives the records table the look of one in use for a
// benchmark: n cases of userID from a system of its own, and statistics
// taken, as the database's statistics job would have by then. (A table
// that was empty when a statement was first planned keeps that plan, a
// scan of the whole table, until its statistics are taken.)
func TableInUse(tb testing.TB, s store.Store, userID string, n int) {
	tb.Helper()
	batch := make([]store.Record, 0, RecordsBatch)
	for i := range n {
		batch = append(batch, benchCase(userID, "seed", i, "submitted"))
		if len(batch) == RecordsBatch || i == n-1 {
			if _, err := s.UpsertRecords(context.Background(), batch); err != nil {
				tb.Fatalf("seed: %v", err)
			}
			batch = batch[:0]
		}
	}
	if db, ok := s.(interface{ WriteDB() *sql.DB }); ok {
		if _, err := db.WriteDB().ExecContext(context.Background(), `ANALYZE`); err != nil {
			tb.Fatalf("analyze: %v", err)
		}
	}
}
