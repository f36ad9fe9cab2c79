package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"unid/internal/app/apptest"
	"unid/internal/config"
)

// startOfAnHour moves the server's clock (which starts at the real time)
// to a minute past the next hour, so that what a test does falls in one
// hour and one day of the dashboard.
func startOfAnHour(srv *apptest.Server) {
	now := srv.Clock.Now()
	srv.Clock.Advance(now.Truncate(time.Hour).Add(time.Hour + time.Minute).Sub(now))
}

// dashboard is the part of GET /api/admin/v1/dashboard the tests read.
type dashboard struct {
	Range   string   `json:"range"`
	Step    string   `json:"step"`
	Zone    string   `json:"zone"`
	Buckets []string `json:"buckets"`
	Series  []struct {
		Metric string  `json:"metric"`
		Key    string  `json:"key"`
		Counts []int64 `json:"counts"`
		Total  int64   `json:"total"`
	} `json:"series"`
	SMSBudget []struct {
		Window      string `json:"window"`
		Limit, Used int64
		Left        int64 `json:"left"`
	} `json:"sms_budget"`
	Realname []struct {
		Verifier  string `json:"verifier"`
		Checks    int64  `json:"checks"`
		CostFen   int64  `json:"cost_fen"`
		CostKnown bool   `json:"cost_known"`
	} `json:"realname"`
	Sessions *struct {
		Active int64 `json:"active"`
	} `json:"sessions"`
	Queues []struct {
		Kind    string `json:"kind"`
		Pending int    `json:"pending"`
	} `json:"queues"`
}

func (d dashboard) series(metric, key string) (counts []int64, total int64) {
	for _, s := range d.Series {
		if s.Metric == metric && s.Key == key {
			return s.Counts, s.Total
		}
	}
	return nil, 0
}

// TestDashboardCountsSignIns: a citizen registers, signs in three times,
// fails twice, signs in to a CAS service system and runs two real-name
// checks (1.50 yuan each, as configured); the operator's
// dashboard shows today's numbers in the hour they happened (Shanghai
// time), and the systems' counts name the system. Without a console
// session both endpoints answer 401; an unknown range is refused in the
// operator's language.
func TestDashboardCountsSignIns(t *testing.T) {
	srv := apptest.Start(t, func(c *config.Config) { c.Realname.CheckCostFen = "sandbox=150" })
	startOfAnHour(srv)

	anon := srv.Browser(t)
	for _, path := range []string{"/api/admin/v1/dashboard", "/api/admin/v1/stats/sso"} {
		if r := anon.Get(path); r.Status != http.StatusUnauthorized || r.ErrCode(t) != "operator_sign_in_required" {
			t.Errorf("%s without a session = %d %s", path, r.Status, r.Body)
		}
	}

	citizen := srv.Browser(t)
	citizen.MustRegister(apptest.Zhang)
	for range 3 {
		citizen.MustLogin(apptest.Zhang.Phone, apptest.GoodPassword)
	}
	for range 2 {
		if r := citizen.Login(apptest.Zhang.Phone, "Wrong#Password1"); r.Status == http.StatusCreated {
			t.Fatal("a wrong password signed in")
		}
	}
	newCASReceiver(t, srv).signInTo(t, citizen)
	// Two real-name checks at the sandbox verifier: a mismatch, a pass.
	if r := citizen.PostJSON("/api/v1/realname/identity", map[string]any{"real_name": "李四", "id_number": apptest.Zhang.IDNumber}); r.Status != http.StatusBadRequest {
		t.Fatalf("wrong name: %d %s", r.Status, r.Body)
	}
	if r := citizen.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true}); r.Status != http.StatusOK {
		t.Fatalf("level 1: %d %s", r.Status, r.Body)
	}

	// A citizen's session is no console session.
	if r := citizen.Get("/api/admin/v1/dashboard"); r.Status != http.StatusUnauthorized {
		t.Errorf("dashboard with a citizen's session = %d", r.Status)
	}

	op := operatorAPI(t, srv, "wang_tongji", "auditor")
	r := op.Get("/api/admin/v1/dashboard?range=day")
	if r.Status != http.StatusOK {
		t.Fatalf("dashboard: %d %s", r.Status, r.Body)
	}
	var d dashboard
	if err := json.Unmarshal(r.Body, &d); err != nil {
		t.Fatal(err)
	}
	if d.Zone != "Asia/Shanghai" || d.Step != "hour" || len(d.Buckets) != 24 {
		t.Fatalf("day = %s by %s in %d buckets", d.Zone, d.Step, len(d.Buckets))
	}
	// Everything happened in this hour of the server's clock, in Shanghai.
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	local := srv.Clock.Now().In(shanghai).Hour()
	if !strings.HasPrefix(d.Buckets[local], d.Buckets[0][:11]) || !strings.HasSuffix(d.Buckets[local], "+08:00") {
		t.Errorf("bucket %d = %s", local, d.Buckets[local])
	}
	tests := []struct {
		metric, key string
		want        int64
	}{
		{"signin", "ok", 3},
		{"signin", "failed", 2},
		{"signin", "locked", 0},
		{"register", "", 1},
		{"sms", "", 1},
		{"sso", "archive", 1},
		{"realname", "sandbox", 2},
	}
	for _, tt := range tests {
		counts, total := d.series(tt.metric, tt.key)
		if total != tt.want || len(counts) != 24 || counts[local] != tt.want {
			t.Errorf("%s/%s: total %d, at %d:00 %v; want %d", tt.metric, tt.key, total, local, counts, tt.want)
		}
	}
	if len(d.Realname) != 1 || d.Realname[0].Verifier != "sandbox" || d.Realname[0].Checks != 2 || d.Realname[0].CostFen != 300 || !d.Realname[0].CostKnown {
		t.Errorf("real-name checks = %+v, want 2 at 1.50 yuan each", d.Realname)
	}
	if len(d.SMSBudget) != 2 || d.SMSBudget[1].Window != "day" || d.SMSBudget[1].Left != 50000-1 {
		t.Errorf("SMS budget = %+v, want 49999 of the day left", d.SMSBudget)
	}
	if d.Sessions == nil || d.Sessions.Active < 1 {
		t.Errorf("sessions = %+v", d.Sessions)
	}
	if len(d.Queues) == 0 {
		t.Error("no review queues")
	}

	r = op.Get("/api/admin/v1/stats/sso")
	if r.Status != http.StatusOK || strings.TrimSpace(string(r.Body)) != `{"systems":[{"client_id":"archive","today":1,"week":1}]}` {
		t.Errorf("stats/sso = %d %s", r.Status, r.Body)
	}

	for _, tt := range []struct{ lang, want string }{{"", "统计范围无效"}, {"en", "Unknown range"}} {
		r := op.Get("/api/admin/v1/dashboard?range=year&lang=" + tt.lang)
		if r.Status != http.StatusBadRequest || r.ErrCode(t) != "dashboard_range_unknown" ||
			!strings.Contains(string(r.Body), tt.want) {
			t.Errorf("range=year (%s) = %d %s", tt.lang, r.Status, r.Body)
		}
	}
}
