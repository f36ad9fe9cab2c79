package stats_test

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"

	"unid/internal/audit"
	"unid/internal/realname"
	"unid/internal/sso/cas"
	"unid/internal/sso/oidc"
	"unid/internal/stats"
	"unid/internal/store"
	"unid/internal/store/postgres/pgtest"
	"unid/internal/store/sqlite/sqlitetest"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// backends are the stores the counts are kept in.
var backends = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"sqlite", func(t *testing.T) store.Store { return sqlitetest.New(t) }},
	{"postgres", func(t *testing.T) store.Store { return pgtest.New(t) }},
}

var shanghai, _ = time.LoadLocation(stats.DefaultZone)

// TestEventsToStoredCounts: events appended to the audit log are counted
// by the table of rules, flushed to the store, and read back in the
// operators' hours and days; events the dashboard does not show are not
// counted.
func TestEventsToStoredCounts(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			st := b.open(t)
			// 09:10 in Shanghai, 1 December.
			clk := &clock{t: time.Date(2026, 12, 1, 9, 10, 0, 0, shanghai)}
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			log := audit.New(st, clk.now, logger)
			counter := stats.NewCounter(st, shanghai, logger)
			log.Observe(counter.Observe)
			reader := stats.NewReader(st, shanghai, clk.now)

			at := func(h, m int) { clk.set(time.Date(2026, 12, 1, h, m, 0, 0, shanghai)) }
			user := audit.User("u1")
			events := []struct {
				h, m int
				e    audit.Entry
			}{
				{0, 5, audit.Entry{Actor: audit.Anonymous(), Action: audit.ActionRegister, Result: audit.ResultOK}},
				{0, 6, audit.Entry{Actor: audit.Anonymous(), Action: audit.ActionRegister, Result: "sms_code_invalid"}}, // not counted
				{8, 1, audit.Entry{Actor: user, Action: audit.ActionLogin, Result: audit.ResultOK}},
				{8, 2, audit.Entry{Actor: user, Action: audit.ActionLogin, Result: audit.ResultOK}},
				{8, 3, audit.Entry{Actor: user, Action: audit.ActionLoginFail, Result: "password_invalid"}},
				{8, 4, audit.Entry{Actor: user, Action: audit.ActionLockout, Result: audit.ResultOK}},
				{9, 0, audit.Entry{Actor: user, Action: oidc.ActionTokenIssued, Result: audit.ResultOK, Client: "hall",
					Detail: audit.Detail{"grant_type": "authorization_code", "client_id": "hall"}}},
				{9, 1, audit.Entry{Actor: user, Action: oidc.ActionTokenIssued, Result: audit.ResultOK, Client: "hall",
					Detail: audit.Detail{"grant_type": "refresh_token", "client_id": "hall"}}}, // a refresh is no sign-in
				{9, 2, audit.Entry{Actor: user, Action: cas.ActionTicketValidated, Result: audit.ResultOK, Client: "tax"}},
				{9, 3, audit.Entry{Actor: user, Action: cas.ActionTicketIssued, Result: audit.ResultOK, Client: "tax"}}, // counted when validated
				{9, 4, audit.Entry{Actor: user, Action: audit.ActionSMSSent, Result: audit.ResultOK}},
				{9, 5, audit.Entry{Actor: user, Action: audit.ActionSMSSent, Result: "sms_rate_limited"}}, // not sent
				{9, 6, audit.Entry{Actor: user, Action: realname.ActionChecked, Result: realname.ResultFail,
					Detail: audit.Detail{"provider": "http"}}},
				{9, 7, audit.Entry{Actor: user, Action: realname.ActionChecked, Result: realname.ResultUnavailable,
					Detail: audit.Detail{"provider": "http"}}}, // the verifier was not reached
				{9, 8, audit.Entry{Actor: user, Action: realname.ActionBound, Result: audit.ResultOK,
					Detail: audit.Detail{"provider": "http"}}},
				{9, 9, audit.Entry{Actor: user, Action: audit.ActionLogout, Result: audit.ResultOK}}, // not shown
			}
			for _, ev := range events {
				at(ev.h, ev.m)
				log.Append(ctx, ev.e)
			}
			// The day before, in Shanghai: 23:30 on 30 November.
			clk.set(time.Date(2026, 11, 30, 23, 30, 0, 0, shanghai))
			log.Append(ctx, audit.Entry{Actor: user, Action: audit.ActionLogin, Result: audit.ResultOK})
			at(9, 10)

			// Nothing is stored before the flush.
			if got, err := st.ListStats(ctx, stats.Metrics, time.Time{}, time.Now().AddDate(10, 0, 0)); err != nil || len(got) != 0 {
				t.Fatalf("stored before the flush: %v, %v", got, err)
			}
			if err := counter.Flush(ctx); err != nil {
				t.Fatal(err)
			}

			rep, err := reader.Report(ctx, stats.RangeDay)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Buckets) != 24 || !rep.Buckets[0].Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, shanghai)) {
				t.Fatalf("day buckets = %d from %v", len(rep.Buckets), rep.Buckets[0])
			}
			hourly := map[string]map[int]int64{}
			totals := map[string]int64{}
			for _, s := range rep.Series {
				name := s.Metric + "/" + s.Key
				totals[name] = s.Total
				for i, n := range s.Counts {
					if n != 0 {
						if hourly[name] == nil {
							hourly[name] = map[int]int64{}
						}
						hourly[name][i] = n
					}
				}
			}
			want := map[string]map[int]int64{
				"register/":     {0: 1},
				"signin/ok":     {8: 2},
				"signin/failed": {8: 1},
				"signin/locked": {8: 1},
				"sso/hall":      {9: 1},
				"sso/tax":       {9: 1},
				"sms/":          {9: 1},
				"realname/http": {9: 2},
			}
			if !reflect.DeepEqual(hourly, want) {
				t.Errorf("today by the hour = %v\nwant %v", hourly, want)
			}
			if totals["signin/ok"] != 2 {
				t.Errorf("today's sign-ins = %d, want 2 (yesterday's is not today's)", totals["signin/ok"])
			}

			week, err := reader.Report(ctx, stats.RangeWeek)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range week.Series {
				if s.Metric == stats.MetricSignin && s.Key == stats.SigninOK {
					if s.Total != 3 || s.Counts[6] != 2 || s.Counts[5] != 1 {
						t.Errorf("week's sign-ins = %v (total %d), want 1 yesterday and 2 today", s.Counts, s.Total)
					}
				}
			}

			systems, err := reader.Systems(ctx)
			if err != nil {
				t.Fatal(err)
			}
			wantSystems := []stats.SystemCount{{ClientID: "hall", Today: 1, Week: 1}, {ClientID: "tax", Today: 1, Week: 1}}
			if !reflect.DeepEqual(systems, wantSystems) {
				t.Errorf("Systems = %v, want %v", systems, wantSystems)
			}

			// A second flush adds only what came since; a second instance
			// adds to the same rows.
			other := stats.NewCounter(st, shanghai, logger)
			other.Observe(log.Event(audit.Entry{Actor: user, Action: audit.ActionLogin, Result: audit.ResultOK}))
			log.Append(ctx, audit.Entry{Actor: user, Action: audit.ActionLogin, Result: audit.ResultOK})
			if err := counter.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if err := other.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			rep, _ = reader.Report(ctx, stats.RangeDay)
			if s := rep.Series[0]; s.Key != stats.SigninOK || s.Total != 4 || s.Counts[9] != 2 {
				t.Errorf("after two instances flushed: %+v, want 4 today, 2 at 09:00", s)
			}
		})
	}
}

func TestReportRange(t *testing.T) {
	st := sqlitetest.New(t)
	reader := stats.NewReader(st, shanghai, func() time.Time { return time.Date(2026, 12, 1, 0, 30, 0, 0, shanghai) })
	if _, err := reader.Report(context.Background(), "year"); err == nil {
		t.Error("a year report was made")
	}
	month, err := reader.Report(context.Background(), stats.RangeMonth)
	if err != nil {
		t.Fatal(err)
	}
	if len(month.Buckets) != 30 || !month.To.Equal(time.Date(2026, 12, 2, 0, 0, 0, 0, shanghai)) || month.Step != "day" {
		t.Errorf("month = %d buckets to %v by %s", len(month.Buckets), month.To, month.Step)
	}
}

func TestParseCosts(t *testing.T) {
	tests := []struct {
		in       string
		verifier string
		fen      int64
		known    bool
		bad      bool
	}{
		{"", "http", 0, false, false},
		{"20", "http", 20, true, false},
		{"http=20,alipay=0", "alipay", 0, true, false},
		{"http=20, alipay=0", "http", 20, true, false},
		{"http=20", "sandbox", 0, false, false},
		{"-1", "", 0, false, true},
		{"http=twenty", "", 0, false, true},
		{"=5", "", 0, false, true},
	}
	for _, tt := range tests {
		c, err := stats.ParseCosts(tt.in)
		if (err != nil) != tt.bad {
			t.Errorf("ParseCosts(%q) error = %v", tt.in, err)
			continue
		}
		if tt.bad {
			continue
		}
		if fen, known := c.Of(tt.verifier); fen != tt.fen || known != tt.known {
			t.Errorf("ParseCosts(%q).Of(%q) = %d, %v; want %d, %v", tt.in, tt.verifier, fen, known, tt.fen, tt.known)
		}
	}
}

// TestDaysOffTheHour: in a zone whose days do not start on the hour, no
// daily rows are kept and the week is summed from the hours.
func TestDaysOffTheHour(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.New(t)
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 0, 40, 0, 0, kolkata)
	counter := stats.NewCounter(st, kolkata, slog.New(slog.DiscardHandler))
	counter.Add(stats.MetricSignin, stats.SigninOK, now.Add(-10*time.Minute), 1) // 00:30 there today: the UTC hour from 19:00
	counter.Add(stats.MetricSignin, stats.SigninOK, now.Add(-2*24*time.Hour), 2)
	if err := counter.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.ListStats(ctx, []string{"day:" + stats.MetricSignin}, time.Time{}, now.AddDate(1, 0, 0)); len(got) != 0 {
		t.Errorf("daily rows kept: %v", got)
	}
	week, err := stats.NewReader(st, kolkata, func() time.Time { return now }).Report(ctx, stats.RangeWeek)
	if err != nil {
		t.Fatal(err)
	}
	if s := week.Series[0]; s.Total != 3 || s.Counts[4] != 2 {
		t.Errorf("week = %v (total %d), want 2 two days ago and 3 in all", s.Counts, s.Total)
	}
}
