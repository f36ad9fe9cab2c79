package metrics_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"unid/internal/audit"
	"unid/internal/metrics"
	"unid/internal/smscode"
	"unid/internal/sso/oidc"
	"unid/internal/store"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestMetrics: audit events count by the dashboard's rules and tokens by
// grant (a client-credentials event with the tokens it stood for counts
// them all); the gauges read at scrape time say a backend that does not
// answer is down; requests no route matched are "unmatched".
func TestMetrics(t *testing.T) {
	storeErr := errors.New("database gone")
	m := metrics.New(metrics.Deps{
		StorePing: func(context.Context) error { return storeErr },
		RedisPing: func(context.Context) error { return nil },
		Budgets: func(context.Context) ([]smscode.Budget, error) {
			return []smscode.Budget{{Window: "hour", Left: 7}}, nil
		},
		HashWaiting: func() int64 { return 3 },
		HashRefused: func() uint64 { return 2 },
		Logger:      slog.New(slog.DiscardHandler),
	})
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	for _, ev := range []store.AuditEvent{
		{Action: audit.ActionLogin, Result: audit.ResultOK},
		{Action: audit.ActionLogin, Result: "denied"},
		{Action: audit.ActionLoginFail, Result: "fail"},
		{Action: audit.ActionLockout, Result: audit.ResultOK},
		{Action: audit.ActionRegister, Result: audit.ResultOK},
		{Action: audit.ActionSMSSent, Result: audit.ResultOK},
		{Action: oidc.ActionTokenIssued, Result: audit.ResultOK, Detail: `{"client_id":"archive","grant_type":"authorization_code"}`},
		{Action: oidc.ActionTokenIssued, Result: audit.ResultOK, Detail: `{"client_id":"records","grant_type":"client_credentials","unrecorded_since_last":"4"}`},
	} {
		ev.Time = now
		m.Observe(ev)
	}
	m.Request("GET /api/v1/me", http.StatusOK, 20*time.Millisecond)
	m.Request("", http.StatusNotFound, time.Millisecond)

	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	code, body := get(t, srv.URL+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d %s", code, body)
	}
	for _, want := range []string{
		`unid_signins_total{result="ok"} 1`,
		`unid_signins_total{result="failed"} 1`,
		`unid_signins_total{result="locked"} 1`,
		"unid_registrations_total 1",
		"unid_sms_sent_total 1",
		`unid_tokens_issued_total{grant="authorization_code"} 1`,
		`unid_tokens_issued_total{grant="client_credentials"} 5`,
		`unid_http_requests_total{code="200",route="GET /api/v1/me"} 1`,
		`unid_http_requests_total{code="404",route="unmatched"} 1`,
		`unid_http_request_duration_seconds_bucket{route="GET /api/v1/me",le="0.025"} 1`,
		`unid_sms_budget_remaining{window="hour"} 7`,
		"unid_store_up 0",
		"unid_redis_up 1",
		"unid_hash_queue_depth 3",
		"unid_hash_refused_total 2",
	} {
		if !strings.Contains(body, "\n"+want+"\n") {
			t.Errorf("no %s in\n%s", want, body)
		}
	}
	for _, path := range []string{"/", "/metrics/x", "/healthz"} {
		if code, _ := get(t, srv.URL+path); code != http.StatusNotFound {
			t.Errorf("%s = %d, want 404", path, code)
		}
	}
}
