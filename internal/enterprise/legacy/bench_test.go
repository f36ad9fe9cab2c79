package legacy_test

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"strconv"
	"testing"

	"unid/internal/enterprise/legacy"
	"unid/internal/enterprise/legacy/legacytest"
	"unid/internal/store"
	"unid/internal/store/postgres/pgtest"
)

// BenchmarkImport imports UNID_BENCH_IMPORT_ROWS (default 100,000) new
// enterprise accounts into an empty store, as `unid import
// legacy-enterprises` does, per backend; run it with -benchtime 1x.
func BenchmarkImport(b *testing.B) {
	n := 100_000
	if v := os.Getenv("UNID_BENCH_IMPORT_ROWS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("UNID_BENCH_IMPORT_ROWS=%q is not a positive number", v)
		}
	}
	var file bytes.Buffer
	if err := legacytest.Generate(&file, n); err != nil {
		b.Fatal(err)
	}
	rows, err := legacy.ReadRows(bytes.NewReader(file.Bytes()))
	if err != nil {
		b.Fatal(err)
	}
	// postgres-async is PostgreSQL as the command opens it for an import:
	// synchronous_commit=off on its connections.
	all := append(backends[:len(backends):len(backends)], struct {
		name string
		open func(t testing.TB) store.Store
	}{"postgres-async", func(t testing.TB) store.Store {
		u, err := url.Parse(pgtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("synchronous_commit", "off")
		u.RawQuery = q.Encode()
		s := pgtest.Open(t, u.String())
		if _, _, err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	}})
	for _, be := range all {
		b.Run(be.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				f := newFixture(b, be.open(b), nil)
				b.StartTimer()
				res, err := f.importer.RunRows(context.Background(), rows, legacy.Options{By: cli})
				if err != nil || res.Created != n {
					b.Fatalf("import = %+v, %v", res, err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
