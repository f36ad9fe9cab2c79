package legacy_test

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"testing"

	"unid/internal/enterprise/legacy"
	"unid/internal/enterprise/legacy/legacytest"
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
	for _, be := range backends {
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
