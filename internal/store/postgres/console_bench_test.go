package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/stats"
	"unid/internal/store"
	"unid/internal/store/postgres"
	"unid/internal/testenv"
)

// The console benchmarks read a database filled by tools/seed (see
// docs/operations.md): UNID_BENCH_POSTGRES_URL names it and
// UNID_BENCH_KEY_FILE the key file it was sealed with. Targets at 10
// million accounts and 50 million audit events: a lookup by phone under
// 5 ms, a page of the citizen list or the audit viewer under 50 ms, the
// dashboard's counters under 100 ms.
const (
	consoleURLVar = "UNID_BENCH_POSTGRES_URL"
	consoleKeyVar = "UNID_BENCH_KEY_FILE"
)

// consolePage is how many rows a console page lists.
const consolePage = 50

// seeded is what the benchmarks pick their arguments from: a sample of
// the seeded accounts and of the values the audit log holds.
type seeded struct {
	s          *postgres.Store
	phones     [][]byte           // blind indexes of sampled accounts' phones
	cursors    []store.UserCursor // sampled accounts, as places in the list
	actors     []string           // user IDs that act in the log
	accounts   []string           // account IDs events concern
	ips        []string
	clients    []string
	pairs      [][2]string // action, result
	head       int64       // the last seq
	first, end time.Time   // of the log
}

var console struct {
	once sync.Once
	d    seeded
	err  error
}

// consoleDB opens the seeded database once per process and samples it.
func consoleDB(b *testing.B) seeded {
	url := testenv.Require(b, consoleURLVar)
	keyFile := testenv.Require(b, consoleKeyVar)
	console.once.Do(func() { console.d, console.err = sample(context.Background(), url, keyFile) })
	if console.err != nil {
		b.Fatalf("seeded database: %v", console.err)
	}
	return console.d
}

func sample(ctx context.Context, url, keyFile string) (seeded, error) {
	var d seeded
	prot, err := keyFileProtector(keyFile)
	if err != nil {
		return d, err
	}
	if d.s, err = postgres.Open(ctx, url, 0); err != nil {
		return d, err
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return d, err
	}
	defer conn.Close(ctx)

	rows, err := conn.Query(ctx, `SELECT id, created_at, phone_cipher FROM users TABLESAMPLE SYSTEM (0.1)
		WHERE phone_cipher IS NOT NULL LIMIT 2000`)
	if err != nil {
		return d, err
	}
	for rows.Next() {
		var id string
		var created int64
		var cipher []byte
		if err := rows.Scan(&id, &created, &cipher); err != nil {
			return d, err
		}
		// Open the phone, as an operator types it, and look it up by
		// its blind index as the account service does.
		phone, err := prot.Open(account.FieldPhone, store.Sealed{Cipher: cipher})
		if err != nil {
			return d, fmt.Errorf("a seeded phone does not open with %s: %w", keyFile, err)
		}
		d.phones = append(d.phones, prot.Index(account.FieldPhone, phone))
		d.cursors = append(d.cursors, store.UserCursor{CreatedAt: time.UnixMilli(created).UTC(), ID: id})
	}
	if err := rows.Err(); err != nil {
		return d, err
	}
	if len(d.phones) == 0 {
		return d, fmt.Errorf("no accounts to sample: seed the database with tools/seed")
	}

	var first, end int64
	if err := conn.QueryRow(ctx, `SELECT seq FROM audit_head`).Scan(&d.head); err != nil {
		return d, err
	}
	if err := conn.QueryRow(ctx, `SELECT (SELECT time FROM audit_events ORDER BY seq LIMIT 1),
		(SELECT time FROM audit_events ORDER BY seq DESC LIMIT 1)`).Scan(&first, &end); err != nil {
		return d, err
	}
	d.first, d.end = time.UnixMilli(first).UTC(), time.UnixMilli(end).UTC()
	rows, err = conn.Query(ctx, `SELECT actor, account_id, ip, client_id, action, result
		FROM audit_events TABLESAMPLE SYSTEM (0.02) LIMIT 20000`)
	if err != nil {
		return d, err
	}
	seen := map[string]bool{}
	add := func(list *[]string, v string) {
		if v != "" && !seen[v] {
			seen[v] = true
			*list = append(*list, v)
		}
	}
	for rows.Next() {
		var actor, acc, ip, client, action, result string
		if err := rows.Scan(&actor, &acc, &ip, &client, &action, &result); err != nil {
			return d, err
		}
		if actor != "" && !strings.Contains(actor, ":") && actor != "system" {
			add(&d.actors, actor)
		}
		add(&d.accounts, acc)
		add(&d.ips, ip)
		add(&d.clients, client)
		if p := [2]string{action, result}; !slices.Contains(d.pairs, p) {
			d.pairs = append(d.pairs, p)
		}
	}
	if err := rows.Err(); err != nil {
		return d, err
	}
	if len(d.actors) == 0 || len(d.accounts) == 0 || len(d.ips) == 0 || len(d.clients) == 0 {
		return d, fmt.Errorf("the audit log sample lacks actors, accounts, addresses or clients: seed it with tools/seed")
	}
	return d, nil
}

// timed runs op b.N times and reports, besides ns/op, the slowest run and
// the 95th percentile in milliseconds.
func timed(b *testing.B, op func(r *rand.Rand) error) {
	r := rand.New(rand.NewPCG(1, 2))
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if err := op(r); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)*95/100].Microseconds())/1000, "p95-ms")
	b.ReportMetric(float64(ds[len(ds)-1].Microseconds())/1000, "worst-ms")
}

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

// BenchmarkConsoleUserByPhone finds a random seeded account by its phone
// (target: under 5 ms).
func BenchmarkConsoleUserByPhone(b *testing.B) {
	d := consoleDB(b)
	ctx := context.Background()
	timed(b, func(r *rand.Rand) error {
		_, err := d.s.GetUserByPhone(ctx, pick(r, d.phones))
		return err
	})
}

// BenchmarkConsoleUserList reads a page of the citizen list: the newest,
// and one after a random account anywhere in the list, with and without a
// status (target: under 50 ms).
func BenchmarkConsoleUserList(b *testing.B) {
	d := consoleDB(b)
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		status string
		deep   bool
	}{
		{"first", "", false},
		{"deep", "", true},
		{"first-disabled", store.UserDisabled, false},
		{"deep-disabled", store.UserDisabled, true},
		{"deep-active", store.UserActive, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			timed(b, func(r *rand.Rand) error {
				var after store.UserCursor
				if c.deep {
					after = pick(r, d.cursors)
				}
				users, err := d.s.ListUsers(ctx, after, c.status, consolePage)
				if err == nil && len(users) == 0 {
					err = fmt.Errorf("empty page after %v", after)
				}
				return err
			})
		})
	}
}

// BenchmarkConsoleAudit reads a page of the audit viewer, newest first,
// under each filter and some of their combinations, from the newest and
// from a random place in the log (target: under 50 ms).
func BenchmarkConsoleAudit(b *testing.B) {
	d := consoleDB(b)
	ctx := context.Background()
	yearAgo := d.end.AddDate(-1, 0, 0)
	prefix := func(ip string) string { return ip[:strings.LastIndexByte(ip, '.')+1] }
	cases := []struct {
		name   string
		filter func(r *rand.Rand) store.AuditFilter
	}{
		{"all", func(*rand.Rand) store.AuditFilter { return store.AuditFilter{} }},
		{"actor", func(r *rand.Rand) store.AuditFilter { return store.AuditFilter{Actor: pick(r, d.actors)} }},
		{"account", func(r *rand.Rand) store.AuditFilter { return store.AuditFilter{Account: pick(r, d.accounts)} }},
		{"action+result", func(r *rand.Rand) store.AuditFilter {
			p := pick(r, d.pairs)
			return store.AuditFilter{Action: p[0], Result: p[1]}
		}},
		{"failed-logins", func(*rand.Rand) store.AuditFilter {
			return store.AuditFilter{Action: audit.ActionLoginFail, Result: "rate_limited"}
		}},
		{"ip", func(r *rand.Rand) store.AuditFilter { return store.AuditFilter{IP: pick(r, d.ips)} }},
		{"ip24", func(r *rand.Rand) store.AuditFilter { return store.AuditFilter{IPPrefix: prefix(pick(r, d.ips))} }},
		{"client", func(r *rand.Rand) store.AuditFilter { return store.AuditFilter{Client: pick(r, d.clients)} }},
		{"day-year-ago", func(r *rand.Rand) store.AuditFilter {
			from := yearAgo.Add(time.Duration(r.IntN(24)) * time.Hour)
			return store.AuditFilter{From: from, To: from.Add(24 * time.Hour)}
		}},
		{"actor+action", func(r *rand.Rand) store.AuditFilter {
			return store.AuditFilter{Actor: pick(r, d.actors), Action: audit.ActionLogin}
		}},
		{"account+year-ago", func(r *rand.Rand) store.AuditFilter {
			return store.AuditFilter{Account: pick(r, d.accounts), From: yearAgo, To: yearAgo.Add(30 * 24 * time.Hour)}
		}},
		{"client+day-year-ago", func(r *rand.Rand) store.AuditFilter {
			return store.AuditFilter{Client: pick(r, d.clients), From: yearAgo, To: yearAgo.Add(24 * time.Hour)}
		}},
		{"ip24+failed", func(r *rand.Rand) store.AuditFilter {
			return store.AuditFilter{IPPrefix: prefix(pick(r, d.ips)), Action: audit.ActionLoginFail}
		}},
		{"action+day-year-ago", func(r *rand.Rand) store.AuditFilter {
			return store.AuditFilter{Action: "account.disabled", From: yearAgo, To: yearAgo.Add(24 * time.Hour)}
		}},
		// Nothing matches: every candidate of the most selective index
		// is read and dropped.
		{"client+failed-none", func(r *rand.Rand) store.AuditFilter {
			return store.AuditFilter{Client: pick(r, d.clients), Action: audit.ActionLoginFail}
		}},
	}
	for _, c := range cases {
		for _, deep := range []bool{false, true} {
			name := c.name + "/newest"
			if deep {
				name = c.name + "/deep"
			}
			b.Run(name, func(b *testing.B) {
				timed(b, func(r *rand.Rand) error {
					var before int64
					if deep {
						before = 1 + r.Int64N(d.head)
					}
					_, err := d.s.QueryAudit(ctx, c.filter(r), before, consolePage)
					return err
				})
			})
		}
	}
}

// BenchmarkConsoleStats reads the dashboard's counters as the dashboard
// does (stats.Reader: a day by the hour, a week and a month by the day,
// the service systems' table), and, for comparison, a week and a month
// of hourly rows (target: under 100 ms).
func BenchmarkConsoleStats(b *testing.B) {
	d := consoleDB(b)
	ctx := context.Background()
	zone, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		b.Fatal(err)
	}
	rd := stats.NewReader(d.s, zone, func() time.Time { return d.end })
	for _, rng := range []string{stats.RangeDay, stats.RangeWeek, stats.RangeMonth} {
		b.Run("report-"+rng, func(b *testing.B) {
			timed(b, func(*rand.Rand) error {
				rep, err := rd.Report(ctx, rng)
				if err == nil && len(rep.Series) == 0 {
					err = fmt.Errorf("an empty %s report", rng)
				}
				return err
			})
		})
	}
	b.Run("systems", func(b *testing.B) {
		timed(b, func(*rand.Rand) error {
			_, err := rd.Systems(ctx)
			return err
		})
	})
	to := d.end.Truncate(time.Hour).Add(time.Hour)
	for _, c := range []struct {
		name string
		span time.Duration
	}{{"hourly-week", 7 * 24 * time.Hour}, {"hourly-month", 30 * 24 * time.Hour}} {
		b.Run(c.name, func(b *testing.B) {
			timed(b, func(*rand.Rand) error {
				counts, err := d.s.ListStats(ctx, stats.Metrics, to.Add(-c.span), to)
				if err == nil && len(counts) == 0 {
					err = fmt.Errorf("no counters in the last %s", c.name)
				}
				return err
			})
		})
	}
}

// verifyEvents is how many events one BenchmarkConsoleAuditVerify run
// checks.
const verifyEvents = 1_000_000

// BenchmarkConsoleAuditVerify checks the chain over a million events from
// a random place, paging through ListAudit as audit.VerifyLog does, and
// reports events/s. Run it with -benchtime=1x.
func BenchmarkConsoleAuditVerify(b *testing.B) {
	d := consoleDB(b)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	var n int
	b.ResetTimer()
	for range b.N {
		after := r.Int64N(max(1, d.head-verifyEvents))
		var prev []byte
		for checked := 0; checked < verifyEvents; {
			page, err := d.s.ListAudit(ctx, after, 1000)
			if err != nil {
				b.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, e := range page {
				if prev != nil && !bytes.Equal(e.PrevHash, prev) {
					b.Fatalf("event %d does not link to the one before", e.Seq)
				}
				if !bytes.Equal(audit.Hash(e), e.Hash) {
					b.Fatalf("event %d does not match its hash", e.Seq)
				}
				prev, after = e.Hash, e.Seq
			}
			checked += len(page)
			n += len(page)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkConsoleAuditVerifyRange checks a million events from a random
// place with audit.VerifyRange, which reads pages ahead while it hashes,
// and reports events/s. Run it with -benchtime=1x.
func BenchmarkConsoleAuditVerifyRange(b *testing.B) {
	d := consoleDB(b)
	r := rand.New(rand.NewPCG(3, 4))
	var n int64
	b.ResetTimer()
	for range b.N {
		from := 1 + r.Int64N(max(1, d.head-verifyEvents))
		sum, err := audit.VerifyRange(context.Background(), d.s, from, from+verifyEvents-1, nil)
		if err != nil {
			b.Fatal(err)
		}
		n += sum.Events
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
