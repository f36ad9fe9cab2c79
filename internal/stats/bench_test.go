package stats_test

import (
	"context"
	"testing"
	"time"

	"unid/internal/stats"
	"unid/internal/store/postgres/pgtest"
)

// benchSystems is how many service systems the benchmark's year counts.
const benchSystems = 50

// BenchmarkDashboardPostgres reads the dashboard's counts from a year of
// hourly counts: every hour of 365 days with sign-ins (3 keys),
// registrations, SMS, two verifiers and 50 service systems, about
// 500,000 rows, and their daily rows (20,000). Run:
//
//	go test ./internal/stats -run '^$' -bench DashboardPostgres -benchtime 50x
func BenchmarkDashboardPostgres(b *testing.B) {
	ctx := context.Background()
	url := pgtest.NewDatabase(b)
	st := pgtest.Open(b, url)
	if _, _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	now := time.Date(2030, 6, 30, 15, 30, 0, 0, time.UTC)
	to := now.Truncate(time.Hour)
	from := to.AddDate(-1, 0, 0)
	// Seeded in the database: a year is too many rows to add one by one.
	seed := `INSERT INTO stats (metric, key, hour, count)
		SELECT $4::text || m.metric, m.key, h, 1 + floor(random() * 50)::bigint
		FROM generate_series($1::bigint, $2::bigint, $5::bigint) AS h,
		(SELECT 'signin' AS metric, k AS key FROM unnest(ARRAY['ok', 'failed', 'locked']) AS k
		 UNION ALL SELECT 'register', '' UNION ALL SELECT 'sms', ''
		 UNION ALL SELECT 'realname', k FROM unnest(ARRAY['http', 'alipay']) AS k
		 UNION ALL SELECT 'sso', 'system-' || lpad(s::text, 2, '0') FROM generate_series(1, $3::int) AS s) AS m`
	if err := pgtest.Exec(ctx, url, seed, from.UnixMilli(), to.UnixMilli(), benchSystems, "", 3600000); err != nil {
		b.Fatal(err)
	}
	// And the daily rows of the Shanghai days, as the Counter keeps them.
	day := time.Date(from.Year(), from.Month(), from.Day(), 16, 0, 0, 0, time.UTC)
	if err := pgtest.Exec(ctx, url, seed, day.UnixMilli(), to.UnixMilli(), benchSystems, "day:", 86400000); err != nil {
		b.Fatal(err)
	}
	if err := pgtest.Exec(ctx, url, `ANALYZE stats`); err != nil {
		b.Fatal(err)
	}
	zone, err := time.LoadLocation(stats.DefaultZone)
	if err != nil {
		b.Fatal(err)
	}
	r := stats.NewReader(st, zone, func() time.Time { return now })
	for _, rng := range []string{stats.RangeDay, stats.RangeWeek, stats.RangeMonth} {
		b.Run(rng, func(b *testing.B) {
			for b.Loop() {
				rep, err := r.Report(ctx, rng)
				if err != nil {
					b.Fatal(err)
				}
				if len(rep.Series) != 7+benchSystems {
					b.Fatalf("%d series", len(rep.Series))
				}
			}
		})
	}
	b.Run("sso", func(b *testing.B) {
		for b.Loop() {
			systems, err := r.Systems(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if len(systems) != benchSystems {
				b.Fatalf("%d systems", len(systems))
			}
		}
	})
}
