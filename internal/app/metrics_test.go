package app_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"unid/internal/app"
	"unid/internal/app/apptest"
	"unid/internal/config"
	"unid/internal/testenv"
)

// scrape reads the metrics at base and returns each sample line's value
// by its name and labels as written (`unid_signins_total{result="ok"}`).
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics = %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	out := map[string]float64{}
	for line := range strings.SplitSeq(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// TestMetricsCountWhatHappens: a citizen registers (one SMS), signs in,
// fails once, the demo service hall gets a client-credentials token; the
// metrics listener, apart from the users' one, shows each of it, the
// requests by route pattern, the SMS budget left and the backends up,
// and no label holds a phone number, a user ID or a raw path.
func TestMetricsCountWhatHappens(t *testing.T) {
	srv := apptest.Start(t, nil)
	mets := httptest.NewServer(srv.App.Metrics.Handler())
	t.Cleanup(mets.Close)

	citizen := srv.Browser(t)
	userID := citizen.MustRegister(apptest.Zhang)
	citizen.MustLogin(apptest.Zhang.Phone, apptest.GoodPassword)
	if r := citizen.Login(apptest.Zhang.Phone, "Wrong#Password1"); r.Status == http.StatusCreated {
		t.Fatal("a wrong password signed in")
	}

	demo := demoClient(t, srv)
	if _, err := demo.Token(context.Background()); err != nil {
		t.Fatalf("client credentials: %v", err)
	}

	got := scrape(t, mets.URL)
	tests := []struct {
		sample string
		want   float64
	}{
		{`unid_signins_total{result="ok"}`, 1},
		{`unid_signins_total{result="failed"}`, 1},
		{`unid_signins_total{result="locked"}`, 0},
		{`unid_registrations_total`, 1},
		{`unid_sms_sent_total`, 1},
		{`unid_tokens_issued_total{grant="client_credentials"}`, 1},
		{`unid_http_requests_total{code="200",route="POST /oidc/token"}`, 1},
		{`unid_http_request_duration_seconds_count{route="POST /oidc/token"}`, 1},
		{`unid_sms_budget_remaining{window="hour"}`, 5000 - 1},
		{`unid_sms_budget_remaining{window="day"}`, 50000 - 1},
		{`unid_store_up`, 1},
		{`unid_hash_queue_depth`, 0},
		{`unid_hash_refused_total`, 0},
	}
	for _, tt := range tests {
		if v, ok := got[tt.sample]; !ok || v != tt.want {
			t.Errorf("%s = %v (present %v), want %v", tt.sample, v, ok, tt.want)
		}
	}
	if _, ok := got["unid_redis_up"]; ok {
		t.Error("unid_redis_up without Redis configured")
	}
	for _, family := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if _, ok := got[family]; !ok {
			t.Errorf("%s missing: no Go or process collector", family)
		}
	}
	routes := 0
	label := regexp.MustCompile(`route="([^"]*)"`)
	for sample := range got {
		for _, secret := range []string{apptest.Zhang.Phone, userID, apptest.Zhang.Login, demo.ClientSecret} {
			if strings.Contains(sample, secret) {
				t.Errorf("sample %s holds %q", sample, secret)
			}
		}
		if m := label.FindStringSubmatch(sample); m != nil && strings.HasPrefix(sample, "unid_http_requests_total") {
			routes++
			if m[1] != "unmatched" && !strings.Contains(m[1], " /") {
				t.Errorf("route label %q is no ServeMux pattern", m[1])
			}
		}
	}
	if routes < 3 {
		t.Errorf("requests counted on %d routes, want the routes of registration, sign-in and token", routes)
	}

	// The users' listener does not serve the metrics, and the metrics
	// listener serves nothing else.
	if r := citizen.Get("/metrics"); r.Status != http.StatusNotFound {
		t.Errorf("/metrics on the users' listener = %d", r.Status)
	}
	if r, err := http.Get(mets.URL + "/healthz"); err != nil || r.StatusCode != http.StatusNotFound {
		t.Errorf("/healthz on the metrics listener = %v %v", r, err)
	}
}

// TestServeMetricsListener: `unid serve` answers /metrics on
// --metrics-addr and shuts it down with the users' listener. (That
// "off" and "" turn metrics off is config's test: a server that listened
// anyway would do so where no test could find it.)
func TestServeMetricsListener(t *testing.T) {
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cfg, err := config.Parse("test", []string{"--dev", "--data", t.TempDir(), "--addr", "127.0.0.1:0"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.LogLevel = "warn"
	cfg.MetricsAddr = metricsAddr
	a, err := app.New(context.Background(), cfg, app.NewLogger(io.Discard, "warn", "text"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, func(addr string) { ready <- addr }) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	res, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "unid_store_up 1") {
		t.Errorf("/metrics = %d %s", res.StatusCode, body)
	}
	if r, err := http.Get("http://" + addr + "/healthz"); err != nil || r.StatusCode != http.StatusOK {
		t.Fatalf("users' listener: %v %v", r, err)
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("serve: %v", err)
	}
	if _, err := http.Get("http://" + metricsAddr + "/metrics"); err == nil {
		t.Error("the metrics listener outlived the server")
	}
}
