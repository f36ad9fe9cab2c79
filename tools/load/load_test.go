package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"unid/internal/account/accounttest"
	"unid/internal/app/apptest"
	"unid/internal/config"
	"unid/internal/testenv"
)

// raiseLimits lifts the per-address and platform limits the scenarios
// would hit, as docs/operations.md tells an operator to.
func raiseLimits(c *config.Config) {
	c.LoginPerIPSuccessLimit = 0
	c.CaptchaPerIPMinute = 0
	c.SMSPerIPHour, c.SMSGlobalHour, c.SMSGlobalDay = 1_000_000, 1_000_000, 1_000_000
	c.CASLoginsPerIPMinute = 0
	c.Records.Rate = 0
	c.LogLevel = "error"
}

// runTool runs the tool against srv with args (and its URL, data
// directory, a short -limit-time and a JSON file), failing the test if it
// fails, and returns the report, its rows by name, and what it printed.
func runTool(t *testing.T, srv *apptest.Server, args ...string) (rep report, rows map[string]row, stdout, stderr string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "load.json")
	var o, e bytes.Buffer
	args = append([]string{"-url", srv.URL, "--data", srv.App.Config.DataDir, "-limit-time", "300ms", "-json", out}, args...)
	if err := run(context.Background(), args, noEnv, &o, &e); err != nil {
		t.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, o.String(), e.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	rows = map[string]row{}
	for _, r := range rep.Rows {
		rows[r.Name] = r
	}
	return rep, rows, o.String(), e.String()
}

// TestEveryScenario runs every scenario briefly against a real unid and
// reads the results as a user of the tool would: every row made requests
// without errors, and the signing rows carry their limits and ratios.
func TestEveryScenario(t *testing.T) {
	srv := apptest.Start(t, raiseLimits)
	rep, got, stdout, stderr := runTool(t, srv, "-duration", "2s", "-concurrency", "2", "-accounts", "2")
	t.Logf("stdout:\n%s", stdout)
	_, cpuRead := processCPU()
	want := []string{"signin", "client_credentials", "discovery", "authcode/authorize", "authcode/exchange", "authcode/refresh", "cas/login", "cas/validate", "sms", "records"}
	for _, name := range want {
		r, ok := got[name]
		switch {
		case !ok:
			t.Errorf("no row %s", name)
		case r.Requests == 0 || r.Errors != 0:
			t.Errorf("%s: %d requests, %d errors %v", name, r.Requests, r.Errors, r.ErrorsByCode)
		case r.ToolCores <= 0 && cpuRead:
			t.Errorf("%s: the tool's CPU was not shown", name)
		}
		if !strings.Contains(stdout, "\n"+name+" ") && !strings.Contains(stdout, " "+name+" ") {
			t.Errorf("the table has no row %s:\n%s", name, stdout)
		}
	}
	for _, name := range []string{"signin", "client_credentials", "authcode/exchange", "authcode/refresh"} {
		if r := got[name]; r.LimitPerSec <= 0 || r.Ratio <= 0 {
			t.Errorf("%s: limit %v/s, ratio %v", name, r.LimitPerSec, r.Ratio)
		}
	}
	if rep.Limits.SignAlg != "ES256" || got["client_credentials"].OfDiscovery <= 0 {
		t.Errorf("client credentials with %s: %v of discovery", rep.Limits.SignAlg, got["client_credentials"].OfDiscovery)
	}
	if !strings.Contains(stdout, "tool cores") {
		t.Errorf("the table does not show the tool's own CPU:\n%s", stdout)
	}
	if !strings.Contains(stderr, "req/s") {
		t.Errorf("no progress line on stderr:\n%s", stderr)
	}
	// The tool's clients are gone: nothing of the run stays registered.
	cs, err := srv.App.Store.ListClients(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if strings.HasPrefix(c.ID, "load-") {
			t.Errorf("client %s is still registered", c.ID)
		}
	}
}

// TestSignInWhenTheServerIsBusy: with more workers than the server hashes
// for within --hash-max-wait, its "busy" answers go to the row
// signin/busy, not to the errors, and the workers, trying again after the
// Retry-After with the same captcha, still sign in.
func TestSignInWhenTheServerIsBusy(t *testing.T) {
	srv := apptest.Start(t, func(c *config.Config) {
		raiseLimits(c)
		// One worker, hashes of a few hundred milliseconds, and no wait
		// allowed: any queue is too long.
		c.HashWorkers, c.Argon2Time, c.HashMaxWait = 1, uint(accounttest.SlowParams.Time), time.Nanosecond
	})
	_, got, stdout, _ := runTool(t, srv, "--argon2-time", "16", "-scenarios", "signin", "-duration", "3s", "-concurrency", "4", "-accounts", "4")
	if r := got["signin"]; r.Requests == 0 || r.Errors != 0 {
		t.Errorf("signin: %d requests, %d errors %v", r.Requests, r.Errors, r.ErrorsByCode)
	}
	if r := got["signin/busy"]; r.Requests == 0 || r.Errors != 0 {
		t.Errorf("signin/busy: %d requests, %d errors; want the busy answers there\n%s", r.Requests, r.Errors, stdout)
	}
}

// TestProcessCPU: the tool's CPU time grows with work it does (the
// figure behind "tool cores"; in the tests the server's work counts too,
// since it runs in the same process).
func TestProcessCPU(t *testing.T) {
	start, ok := processCPU()
	if !ok {
		testenv.Unavailable(t, "the process's CPU time is not read on %s", runtime.GOOS)
	}
	deadline := time.Now().Add(10 * time.Second)
	x := 0
	for time.Now().Before(deadline) {
		for i := range 1_000_000 {
			x += i
		}
		if now, _ := processCPU(); now-start >= 20*time.Millisecond {
			return
		}
	}
	now, _ := processCPU()
	t.Errorf("10 s of spinning (%d) showed %v of CPU, want 20 ms or more", x, now-start)
}

// TestARowTheToolMayHoldDown: a row whose run kept the tool's processors
// busy says that its rate may be the tool's, not the server's; one that
// left them time says nothing.
func TestARowTheToolMayHoldDown(t *testing.T) {
	for _, tt := range []struct {
		cpu      time.Duration
		wantNote bool
	}{
		{cpu: 19 * time.Second, wantNote: true}, // 1.9 of 2 processors for 10 s
		{cpu: 17 * time.Second, wantNote: false},
	} {
		rec := &recorder{name: "discovery", errs: map[string]int{}}
		rec.record(time.Millisecond, "")
		r := newRow("discovery", rec, timedRun{elapsed: 10 * time.Second, cpu: tt.cpu, procs: 2})
		if got := strings.Contains(r.Note, "the rate may be the tool's"); got != tt.wantNote || r.ToolCores != tt.cpu.Seconds()/10 {
			t.Errorf("%v of CPU in 10 s on 2 processors: %.2f cores, note %q", tt.cpu, r.ToolCores, r.Note)
		}
	}
}

// TestUnknownScenario: a misspelt scenario stops the tool before it
// touches any server, naming the scenarios there are.
func TestUnknownScenario(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-url", "http://127.0.0.1:9", "-scenarios", "signin,tokens"}, noEnv, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), `unknown scenario "tokens"`) || !strings.Contains(err.Error(), "client_credentials") {
		t.Fatalf("err = %v", err)
	}
}

func noEnv(string) string { return "" }

// TestCheck: a run fails, naming the row and what went wrong, when a row
// failed more than -max-error-rate of its requests or made none.
func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		row  row
		want string // "" for no error
	}{
		{"clean", row{Name: "sms", Requests: 100}, ""},
		{"within the threshold", row{Name: "sms", Requests: 1000, Errors: 10, ErrorsByCode: map[string]int{"500 internal": 10}}, ""},
		{"above it", row{Name: "signin", Requests: 100, Errors: 10, ErrorsByCode: map[string]int{"401 login_failed": 10}},
			"signin: 10 of 100 requests failed, more than -max-error-rate 0.01: 10× 401 login_failed (more sign-ins at once per citizen than --lockout-threshold allows? raise -accounts)"},
		{"no request", row{Name: "records"}, "records: no request completed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := (&report{Rows: []row{tt.row}}).check(0.01)
			if got := fmt.Sprint(err); tt.want == "" && err != nil || tt.want != "" && got != tt.want {
				t.Errorf("check = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestBusyIsSentAgain: a request answered busy is recorded as such and sent
// again after the Retry-After, and the answer that comes then is the one
// the row records; one whose wait would pass the scenario's end is not.
func TestBusyIsSentAgain(t *testing.T) {
	busyAnswer := response{status: http.StatusServiceUnavailable, header: http.Header{"Retry-After": {"2"}},
		body: []byte(`{"error":{"code":"busy","message":"…","retry_after":2}}`)}
	created := response{status: http.StatusCreated}
	newRecs := func() (*recorder, *recorder) {
		return &recorder{name: "signin", errs: map[string]int{}}, &recorder{name: "signin/busy", errs: map[string]int{}}
	}

	var sent int
	send := func() (response, error) {
		sent++
		if sent == 1 {
			return busyAnswer, nil
		}
		return created, nil
	}
	rec, busyRec := newRecs()
	start := time.Now()
	untilAdmitted(context.Background(), send, status(http.StatusCreated), rec, busyRec)
	if sent != 2 || busyRec.n.Load() != 1 || rec.n.Load() != 1 || rec.fails.Load() != 0 {
		t.Errorf("sent %d, busy recorded %d, sign-ins %d (%d failed); want 2, 1, 1 (0)", sent, busyRec.n.Load(), rec.n.Load(), rec.fails.Load())
	}
	if waited := time.Since(start); waited < 2*time.Second {
		t.Errorf("sent again after %s, before the Retry-After of 2s", waited)
	}

	// The scenario ends within the Retry-After: not sent again, and the
	// worker waits out the scenario instead of taking up another request.
	sent = 0
	rec, busyRec = newRecs()
	stop := time.Now().Add(1500 * time.Millisecond)
	ctx := context.WithValue(context.Background(), stopKey{}, stop)
	untilAdmitted(ctx, send, status(http.StatusCreated), rec, busyRec)
	if sent != 1 || busyRec.n.Load() != 1 || rec.n.Load() != 0 {
		t.Errorf("near the end: sent %d, busy %d, sign-ins %d; want 1, 1, 0", sent, busyRec.n.Load(), rec.n.Load())
	}
	if time.Now().Before(stop) {
		t.Error("returned before the scenario's end, free to take up another request")
	}
}

// TestRetryDelay: the Retry-After the tool waits, from what the server
// sent: seconds as given, at least one and at most an hour.
func TestRetryDelay(t *testing.T) {
	for _, tt := range []struct {
		header string
		want   time.Duration
	}{
		{"", time.Second}, {"0", time.Second}, {"-3", time.Second}, {"7", 7 * time.Second},
		{"Wed, 21 Oct 2026 07:28:00 GMT", time.Second}, {"99999999999999999999", time.Second}, {"86400", time.Hour},
	} {
		r := response{header: http.Header{}}
		if tt.header != "" {
			r.header.Set("Retry-After", tt.header)
		}
		if got := retryDelay(r); got != tt.want {
			t.Errorf("Retry-After %q: %s, want %s", tt.header, got, tt.want)
		}
	}
}
