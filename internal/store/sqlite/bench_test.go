package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"unid/internal/store/sqlite"
	"unid/internal/store/sqlite/sqlitetest"
	"unid/internal/store/storetest"
)

// bench is the seeded store shared by the benchmarks of one process.
var bench struct {
	once  sync.Once
	s     *sqlite.Store
	seed  storetest.Seeded
	err   error
	where string
}

// benchStore opens the benchmark database, a file under os.TempDir() keyed
// by the number of accounts, reused across runs, seeding what is missing.
func benchStore(b *testing.B) (*sqlite.Store, storetest.Seeded) {
	bench.once.Do(func() {
		ctx := context.Background()
		n := storetest.BenchUsers(b)
		bench.where = filepath.Join(os.TempDir(), fmt.Sprintf("unid-bench-%d.db", n))
		s, err := sqlite.Open(ctx, bench.where)
		if err != nil {
			bench.err = err
			return
		}
		if _, _, err := s.Migrate(ctx); err != nil {
			bench.err = err
			return
		}
		bench.s = s
		bench.seed, bench.err = storetest.Seed(ctx, s, n, b.Logf)
	})
	if bench.err != nil {
		b.Fatalf("benchmark database %s: %v", bench.where, bench.err)
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
	storetest.BenchBulkCreate(b, func(b *testing.B) storetest.BulkStore { return sqlitetest.New(b) })
}

// BenchmarkReviewQueue pages through 100,000 pending review items.
func BenchmarkReviewQueue(b *testing.B) {
	storetest.BenchReviewQueue(b, sqlitetest.New(b))
}

// BenchmarkUpsertRecords writes records: single ones from parallel
// writers, and batches of 500.
func BenchmarkUpsertRecords(b *testing.B) {
	storetest.BenchUpsertRecords(b, sqlitetest.New(b))
}

// BenchmarkListRecords pages through the 10,000 cases of one person.
func BenchmarkListRecords(b *testing.B) {
	storetest.BenchListRecords(b, sqlitetest.New(b))
}
