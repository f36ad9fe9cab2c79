package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"unid/internal/store/postgres"
	"unid/internal/store/postgres/pgtest"
	"unid/internal/store/storetest"
	"unid/internal/testenv"
)

// bench is the seeded store shared by the benchmarks of one process.
var bench struct {
	once sync.Once
	s    *postgres.Store
	seed storetest.Seeded
	err  error
	name string
}

// benchStore opens the database unid_bench_<N> on the server at
// UNID_TEST_POSTGRES_URL, creating it when it does not exist, and seeds what
// is missing. It is kept for the next run; drop it by hand when done.
func benchStore(b *testing.B) (*postgres.Store, storetest.Seeded) {
	admin := testenv.PostgresURL(b)
	bench.once.Do(func() {
		ctx := context.Background()
		n := storetest.BenchUsers(b)
		bench.name = fmt.Sprintf("unid_bench_%d", n)
		var exists bool
		if bench.err = pgtest.QueryRow(ctx, admin,
			`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, []any{bench.name}, &exists); bench.err != nil {
			return
		}
		if !exists {
			b.Logf("creating database %s", bench.name)
			if bench.err = pgtest.Exec(ctx, admin, `CREATE DATABASE `+pgx.Identifier{bench.name}.Sanitize()); bench.err != nil {
				return
			}
		}
		url, err := pgtest.WithDatabase(admin, bench.name)
		if err != nil {
			bench.err = err
			return
		}
		s, err := postgres.Open(ctx, url, 0)
		if err != nil {
			bench.err = err
			return
		}
		if _, _, err := s.Migrate(ctx); err != nil {
			bench.err = err
			return
		}
		bench.s = s
		if bench.seed, bench.err = storetest.Seed(ctx, s, n, b.Logf); bench.err == nil && bench.seed.Inserted > 0 {
			_, bench.err = s.WriteDB().ExecContext(ctx, `ANALYZE users`)
		}
	})
	if bench.err != nil {
		b.Fatalf("benchmark database %s: %v", bench.name, bench.err)
	}
	return bench.s, bench.seed
}

func BenchmarkLookupByPhone(b *testing.B) {
	s, seed := benchStore(b)
	storetest.BenchLookup(b, s, seed)
}

func BenchmarkLookupByPhoneParallel(b *testing.B) {
	s, seed := benchStore(b)
	storetest.BenchLookupParallel(b, s, seed)
}

func BenchmarkBulkCreateUsers(b *testing.B) {
	storetest.BenchBulkCreate(b, func(b *testing.B) storetest.BulkStore { return pgtest.New(b) })
}

// BenchmarkReviewQueue pages through 100,000 pending review items in a
// fresh database (the target: under 50 ms a page).
func BenchmarkReviewQueue(b *testing.B) {
	storetest.BenchReviewQueue(b, pgtest.New(b))
}

// BenchmarkUpsertRecords writes records into a fresh database: single
// records from parallel writers, and batches of 500.
func BenchmarkUpsertRecords(b *testing.B) {
	storetest.BenchUpsertRecords(b, pgtest.New(b))
}

// BenchmarkListRecords pages through the 10,000 cases of one person in a
// fresh database (targets: a page under 10 ms, the unread count under 2 ms).
func BenchmarkListRecords(b *testing.B) {
	storetest.BenchListRecords(b, pgtest.New(b))
}
