package smscode_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unid/internal/audit"

	"unid/internal/notify"
	"unid/internal/problem"
	"unid/internal/ratelimit"
	"unid/internal/smscode"
	"unid/internal/store"
	"unid/internal/store/sqlite"
	"unid/internal/store/sqlite/sqlitetest"
)

const (
	phone = "13812345678"
	ip    = "203.0.113.7"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// clock is the injected time; tests move it by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t0.Add(d)
}

// mac stands in for account.Protector.MAC: HMAC-SHA256 over the purpose and
// length-prefixed parts.
func mac(purpose string, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, []byte("test key"))
	for _, p := range append([][]byte{[]byte(purpose)}, parts...) {
		binary.Write(h, binary.BigEndian, uint32(len(p)))
		h.Write(p)
	}
	return h.Sum(nil)
}

type env struct {
	svc    *smscode.Service
	st     *sqlite.Store
	outbox *notify.Outbox
	clk    *clock
}

// newEnv opens the SQLite file at path (as one unid instance) and builds a
// Service on it; several envs on one path share the database.
func newEnv(t *testing.T, path string, clk *clock, sender notify.SMSSender, o smscode.Options) *env {
	t.Helper()
	st := sqlitetest.Open(t, path)
	e := &env{st: st, clk: clk}
	if sender == nil {
		e.outbox = notify.NewOutbox(clk.now)
		sender = e.outbox
	}
	e.svc = smscode.New(st, ratelimit.New(st), sender, mac, clk.now, o)
	return e
}

func newTestEnv(t *testing.T) *env {
	return newEnv(t, filepath.Join(t.TempDir(), "unid.db"), &clock{t: t0}, nil, smscode.Options{})
}

// code returns the last code texted to p.
func (e *env) code(t *testing.T, p string) string {
	t.Helper()
	m, ok := e.outbox.Last(notify.ChannelSMS, p)
	if !ok {
		t.Fatalf("no sms to %s", p)
	}
	return m.Params["code"]
}

func (e *env) send(t *testing.T, purpose, p string) string {
	t.Helper()
	if _, err := e.svc.Send(context.Background(), purpose, p, ip); err != nil {
		t.Fatalf("send: %v", err)
	}
	return e.code(t, p)
}

// checkProblem fails unless err is a problem of kind and code ("" code: nil
// error), and checks that err's text holds none of the secrets.
func checkProblem(t *testing.T, err error, kind problem.Kind, code string, secrets ...string) *problem.Problem {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("error %v, want none", err)
		}
		return nil
	}
	var p *problem.Problem
	if !errors.As(err, &p) {
		t.Fatalf("error %v, want problem %s", err, code)
	}
	if p.Kind != kind || p.Code != code {
		t.Fatalf("problem kind %d code %q (%v), want kind %d code %q", p.Kind, p.Code, err, kind, code)
	}
	for _, s := range append(secrets, phone) {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error %q contains %q", err, s)
		}
	}
	return p
}

func fullWidth(s string) string {
	return strings.Map(func(r rune) rune { return r - '0' + '０' }, s)
}

func TestSendAndVerify(t *testing.T) {
	ctx := context.Background()
	e := newTestEnv(t)
	sent, err := e.svc.Send(ctx, "register", phone, ip)
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(5 * time.Minute); !sent.ExpiresAt.Equal(want) {
		t.Errorf("expires %v, want %v", sent.ExpiresAt, want)
	}
	if sent.ResendAfter != time.Minute {
		t.Errorf("resend after %v, want 1m", sent.ResendAfter)
	}
	m, _ := e.outbox.Last(notify.ChannelSMS, phone)
	code := m.Params["code"]
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		t.Fatalf("code %q is not 6 digits", code)
	}
	if m.Template != "sms_code" || m.Params["minutes"] != "5" ||
		m.Text != "【统一身份认证】您的验证码为"+code+"，5分钟内有效，请勿泄露给他人。" {
		t.Errorf("message %+v", m)
	}

	// The store holds neither the phone nor the code.
	id := fmt.Sprintf("%x", mac("sms-id", []byte("register"), []byte(phone)))
	c, err := e.st.GetChallenge(ctx, store.ChallengeSMS, id)
	if err != nil {
		t.Fatalf("challenge not stored under the keyed id: %v", err)
	}
	for _, b := range [][]byte{c.Secret, c.Subject, []byte(c.ID)} {
		if strings.Contains(string(b), code) || strings.Contains(string(b), phone) {
			t.Errorf("store holds the code or phone in %q", b)
		}
	}

	checkProblem(t, e.svc.Verify(ctx, "login", phone, code), problem.Gone, "sms_code_expired", code)
	checkProblem(t, e.svc.Verify(ctx, "register", "13900000000", code), problem.Gone, "sms_code_expired", code)
	checkProblem(t, e.svc.Verify(ctx, "register", phone, code), 0, "")
	checkProblem(t, e.svc.Verify(ctx, "register", phone, code), problem.Gone, "sms_code_expired", code)
}

func TestVerifyInput(t *testing.T) {
	tests := []struct {
		name     string
		input    func(code string) string
		wantKind problem.Kind
		wantCode string
	}{
		{"right", func(c string) string { return c }, 0, ""},
		{"surrounding space", func(c string) string { return " " + c + "\n" }, 0, ""},
		{"full-width digits", fullWidth, 0, ""},
		{"mixed width with ideographic space", func(c string) string { return fullWidth(c[:3]) + "\u3000" + c[3:] }, 0, ""},
		{"empty", func(string) string { return "" }, problem.Invalid, "sms_code_required"},
		{"blank", func(string) string { return "  " }, problem.Invalid, "sms_code_required"},
		{"five digits", func(c string) string { return c[:5] }, problem.Invalid, "sms_code_format"},
		{"seven digits", func(c string) string { return c + "0" }, problem.Invalid, "sms_code_format"},
		{"letter", func(c string) string { return c[:5] + "a" }, problem.Invalid, "sms_code_format"},
		{"arabic-indic digits", func(string) string { return "١٢٣٤٥٦" }, problem.Invalid, "sms_code_format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newTestEnv(t)
			code := e.send(t, "login", phone)
			p := checkProblem(t, e.svc.Verify(ctx, "login", phone, tt.input(code)), tt.wantKind, tt.wantCode, code)
			if p == nil {
				return
			}
			if p.Fields["sms_code"] != tt.wantCode {
				t.Errorf("fields %v, want sms_code: %s", p.Fields, tt.wantCode)
			}
			// A malformed entry is not an attempt: all five remain.
			for range 4 {
				checkProblem(t, e.svc.Verify(ctx, "login", phone, wrongCode(code)), problem.Invalid, "sms_code_wrong", code)
			}
			checkProblem(t, e.svc.Verify(ctx, "login", phone, code), 0, "")
		})
	}
}

// wrongCode returns a valid-looking code other than code.
func wrongCode(code string) string {
	b := []byte(code)
	b[5] = '0' + (b[5]-'0'+1)%10
	return string(b)
}

func TestExpiry(t *testing.T) {
	tests := []struct {
		name     string
		at       time.Duration
		wantCode string
	}{
		{"at once", 0, ""},
		{"at 4:59.999", 5*time.Minute - time.Millisecond, ""},
		{"at 5:00", 5 * time.Minute, "sms_code_expired"},
		{"an hour later", time.Hour, "sms_code_expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newTestEnv(t)
			code := e.send(t, "login", phone)
			e.clk.set(tt.at)
			checkProblem(t, e.svc.Verify(ctx, "login", phone, code), problem.Gone, tt.wantCode, code)
		})
	}
}

func TestAttempts(t *testing.T) {
	ctx := context.Background()
	e := newTestEnv(t)
	code := e.send(t, "recovery", phone)
	for i := range 5 {
		checkProblem(t, e.svc.Verify(ctx, "recovery", phone, wrongCode(code)), problem.Invalid, "sms_code_wrong", code)
		if i == 3 {
			// Four wrong so far: the fifth try may still be the right one.
			c, err := e.st.GetChallenge(ctx, store.ChallengeSMS, fmt.Sprintf("%x", mac("sms-id", []byte("recovery"), []byte(phone))))
			if err != nil || c.Attempts != 4 {
				t.Fatalf("after 4 wrong: attempts %d, err %v", c.Attempts, err)
			}
		}
	}
	// Five wrong: the code is used up, the right one included.
	checkProblem(t, e.svc.Verify(ctx, "recovery", phone, code), problem.Gone, "sms_code_attempts", code)
}

func TestRightOnFifthAttempt(t *testing.T) {
	ctx := context.Background()
	e := newTestEnv(t)
	code := e.send(t, "recovery", phone)
	for range 4 {
		checkProblem(t, e.svc.Verify(ctx, "recovery", phone, wrongCode(code)), problem.Invalid, "sms_code_wrong", code)
	}
	checkProblem(t, e.svc.Verify(ctx, "recovery", phone, code), 0, "")
}

// TestCheckKeepsTheCodeAndCountsAttempts: Check leaves a right code for
// Use, but every Check counts, so the code answers MaxAttempts checks at
// most.
func TestCheckKeepsTheCodeAndCountsAttempts(t *testing.T) {
	ctx := context.Background()
	e := newTestEnv(t)
	code := e.send(t, "register", phone)
	checkProblem(t, e.svc.Check(ctx, "register", phone, wrongCode(code)), problem.Invalid, "sms_code_wrong", code)
	for range 4 {
		checkProblem(t, e.svc.Check(ctx, "register", phone, code), 0, "")
	}
	checkProblem(t, e.svc.Check(ctx, "register", phone, code), problem.Gone, "sms_code_attempts", code)

	e.clk.set(time.Minute) // past the per-phone minute limit
	code = e.send(t, "register", phone)
	checkProblem(t, e.svc.Check(ctx, "register", phone, code), 0, "")
	checkProblem(t, e.svc.Use(ctx, "register", phone, code), 0, "")
	checkProblem(t, e.svc.Check(ctx, "register", phone, code), problem.Gone, "sms_code_expired", code)
}

func TestAttemptsUsedUp(t *testing.T) {
	// A challenge with all attempts used (MaxAttempts was lowered) is
	// refused, every time.
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "unid.db")
	clk := &clock{t: t0}
	e := newEnv(t, path, clk, nil, smscode.Options{MaxAttempts: 5})
	code := e.send(t, "login", phone)
	for range 3 {
		checkProblem(t, e.svc.Verify(ctx, "login", phone, wrongCode(code)), problem.Invalid, "sms_code_wrong", code)
	}
	strict := newEnv(t, path, clk, nil, smscode.Options{MaxAttempts: 3})
	checkProblem(t, strict.svc.Verify(ctx, "login", phone, code), problem.Gone, "sms_code_attempts", code)
	checkProblem(t, strict.svc.Verify(ctx, "login", phone, code), problem.Gone, "sms_code_attempts", code)
}

func TestNewCodeReplacesOld(t *testing.T) {
	ctx := context.Background()
	e := newTestEnv(t)
	old := e.send(t, "login", phone)
	e.clk.set(time.Minute)
	code := e.send(t, "login", phone)
	for old == code {
		// One chance in a million: send again until they differ.
		e.clk.set(2 * time.Minute)
		code = e.send(t, "login", phone)
	}
	checkProblem(t, e.svc.Verify(ctx, "login", phone, old), problem.Invalid, "sms_code_wrong", old, code)
	checkProblem(t, e.svc.Verify(ctx, "login", phone, code), 0, "")
}

func TestPurposesAreSeparate(t *testing.T) {
	ctx := context.Background()
	e := newTestEnv(t)
	login := e.send(t, "login", phone)
	e.clk.set(time.Minute)
	recovery := e.send(t, "recovery", phone)
	checkProblem(t, e.svc.Verify(ctx, "recovery", phone, recovery), 0, "")
	checkProblem(t, e.svc.Verify(ctx, "login", phone, login), 0, "")
}

func TestRateLimits(t *testing.T) {
	type step struct {
		at        time.Duration
		phone, ip string
		wantRetry time.Duration // 0: the send goes out
	}
	const (
		p1, p2 = "13800000001", "13800000002"
		a1, a2 = "198.51.100.1", "198.51.100.2"
	)
	day := 24 * time.Hour
	s := time.Second
	tests := []struct {
		name   string
		limits smscode.Limits
		steps  []step
	}{
		{"one per minute", smscode.Limits{}, []step{
			{0, p1, a1, 0},
			{1 * s, p1, a1, 59 * s},
			{59999 * time.Millisecond, p1, a2, time.Millisecond},
			{60 * s, p1, a1, 0},
			{61 * s, p2, a1, 0}, // another phone is not held up
		}},
		{"five per hour, refused clicks burn no quota", smscode.Limits{}, []step{
			{0, p1, a1, 0},
			{10 * s, p1, a1, 50 * s},
			{20 * s, p1, a1, 40 * s},
			{30 * s, p1, a1, 30 * s},
			{60 * s, p1, a1, 0},
			{70 * s, p1, a1, 50 * s},
			{120 * s, p1, a1, 0},
			{180 * s, p1, a1, 0},
			{240 * s, p1, a1, 0},
			{300 * s, p1, a1, 3300 * s},
			{301 * s, p1, a2, 3299 * s},
			{3600 * s, p1, a1, 0},
		}},
		{"ten per day", smscode.Limits{PerIPHour: -1}, []step{
			{0, p1, a1, 0}, {60 * s, p1, a1, 0}, {120 * s, p1, a1, 0}, {180 * s, p1, a1, 0}, {240 * s, p1, a1, 0},
			{3600 * s, p1, a1, 0}, {3660 * s, p1, a1, 0}, {3720 * s, p1, a1, 0}, {3780 * s, p1, a1, 0}, {3840 * s, p1, a1, 0},
			{3900 * s, p1, a1, day - 3900*s}, // hour and day both refuse: the longer wait
			{8000 * s, p1, a1, day - 8000*s},
			{day - s, p1, a1, s},
			{day, p1, a1, 0},
		}},
		{"per IP across phones", smscode.Limits{PerIPHour: 3}, []step{
			{0, "13800000011", a1, 0},
			{0, "13800000012", a1, 0},
			{0, "13800000013", a1, 0},
			{10 * s, "13800000014", a1, 3590 * s},
			{10 * s, "13800000014", a2, 0}, // another IP is not held up
			{3600 * s, "13800000015", a1, 0},
		}},
		{"per IPv6 /64 across phones", smscode.Limits{PerIPHour: 2}, []step{
			{0, "13800000021", "2001:db8:1:2::1", 0},
			{0, "13800000022", "2001:db8:1:2::2", 0},
			{10 * s, "13800000023", "2001:db8:1:2:ffff::3", 3590 * s}, // a fresh address of the same network
			{10 * s, "13800000023", "2001:db8:1:3::1", 0},             // another network is not held up
		}},
		{"default per IP is 30 an hour", smscode.Limits{}, func() []step {
			var st []step
			for i := range 30 {
				st = append(st, step{time.Duration(i) * s, fmt.Sprintf("1390000%04d", i), a1, 0})
			}
			return append(st, step{30 * s, "13900009999", a1, 3570 * s})
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			clk := &clock{t: t0}
			e := newEnv(t, filepath.Join(t.TempDir(), "unid.db"), clk, nil, smscode.Options{Limits: tt.limits})
			sent := 0
			for i, st := range tt.steps {
				clk.set(st.at)
				_, err := e.svc.Send(ctx, "login", st.phone, st.ip)
				if st.wantRetry == 0 {
					if err != nil {
						t.Fatalf("step %d at %v: %v", i, st.at, err)
					}
					sent++
					continue
				}
				p := checkProblem(t, err, problem.TooMany, "sms_rate_limited", st.phone, st.ip)
				if p.RetryAfter != st.wantRetry {
					t.Errorf("step %d at %v: retry after %v, want %v", i, st.at, p.RetryAfter, st.wantRetry)
				}
			}
			if n := len(e.outbox.List()); n != sent {
				t.Errorf("%d texts sent, want %d", n, sent)
			}
		})
	}
}

func TestResendAfter(t *testing.T) {
	ctx := context.Background()
	e := newTestEnv(t)
	var got []time.Duration
	for i := range 5 {
		e.clk.set(time.Duration(i) * time.Minute)
		sent, err := e.svc.Send(ctx, "login", phone, ip)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, sent.ResendAfter)
	}
	// After the fifth send of the hour the next is an hour after the first.
	want := []time.Duration{time.Minute, time.Minute, time.Minute, time.Minute, 56 * time.Minute}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("resend after %v, want %v", got, want)
	}
}

func TestInstancesShareLimits(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "unid.db")
	clk := &clock{t: t0}
	a := newEnv(t, path, clk, nil, smscode.Options{})
	b := newEnv(t, path, clk, nil, smscode.Options{})

	code := a.send(t, "register", phone)
	_, err := b.svc.Send(ctx, "register", phone, ip)
	checkProblem(t, err, problem.TooMany, "sms_rate_limited", code)
	// A code sent by one instance is checked by the other, once.
	checkProblem(t, b.svc.Verify(ctx, "register", phone, code), 0, "")
	checkProblem(t, a.svc.Verify(ctx, "register", phone, code), problem.Gone, "sms_code_expired", code)

	// Concurrent clicks on both instances: one text in all.
	clk.set(time.Minute)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			e := []*env{a, b}[i%2]
			_, err := e.svc.Send(ctx, "register", "13700000000", ip)
			var p *problem.Problem
			if err != nil && (!errors.As(err, &p) || p.Code != "sms_rate_limited") {
				t.Errorf("send: %v", err)
			}
		})
	}
	wg.Wait()
	n := 0
	for _, e := range []*env{a, b} {
		for _, m := range e.outbox.List() {
			if m.To == "13700000000" {
				n++
			}
		}
	}
	if n != 1 {
		t.Errorf("%d texts for 20 concurrent clicks on two instances, want 1", n)
	}
}

func TestConcurrentVerify(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "unid.db")
	clk := &clock{t: t0}
	a := newEnv(t, path, clk, nil, smscode.Options{})
	b := newEnv(t, path, clk, nil, smscode.Options{})

	run := func(n int, code func(i int) string) map[string]int {
		var mu sync.Mutex
		results := map[string]int{}
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				err := []*env{a, b}[i%2].svc.Verify(ctx, "login", phone, code(i))
				mu.Lock()
				defer mu.Unlock()
				results[problem.As(err).Code]++
				if err == nil {
					results["ok"]++
				}
			})
		}
		wg.Wait()
		return results
	}

	t.Run("right code used once", func(t *testing.T) {
		code := a.send(t, "login", phone)
		res := run(20, func(int) string { return code })
		// Exactly one wins; the others find the code used (expired) or,
		// once five checks have counted, used up (attempts).
		if res["ok"] != 1 || res["sms_code_expired"]+res["sms_code_attempts"] != 19 {
			t.Errorf("20 concurrent verifies of the right code: %v, want 1 ok and 19 expired or used up", res)
		}
	})
	t.Run("guesses share the attempt budget", func(t *testing.T) {
		clk.set(time.Hour)
		code := a.send(t, "login", phone)
		res := run(30, func(i int) string { return fmt.Sprintf("%06d", (i+1)*7919%1000000) })
		// A guess may hit the code by chance; either way at most five
		// guesses were compared.
		if compared := res["sms_code_wrong"] + res["ok"]; compared > 5 || compared == 0 {
			t.Errorf("30 concurrent guesses: %v, want at most 5 compared", res)
		}
		if res["ok"] == 0 {
			checkProblem(t, a.svc.Verify(ctx, "login", phone, code), problem.Gone, "sms_code_attempts", code)
		}
	})
}

func TestGatewayFailure(t *testing.T) {
	secret := []byte("gw")
	tests := []struct {
		name    string
		respond func(w http.ResponseWriter)
		timeout time.Duration
	}{
		{"gateway answers 500", func(w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) }, time.Second},
		{"gateway hangs", func(w http.ResponseWriter) { time.Sleep(time.Second) }, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			var mu sync.Mutex
			var codes []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				var req notify.GatewayRequest
				json.Unmarshal(body, &req)
				mu.Lock()
				codes = append(codes, req.Params["code"])
				mu.Unlock()
				tt.respond(w)
			}))
			defer srv.Close()
			clk := &clock{t: t0}
			gw := notify.NewHTTPGateway(srv.URL, secret, tt.timeout, clk.now)
			e := newEnv(t, filepath.Join(t.TempDir(), "unid.db"), clk, gw, smscode.Options{})

			_, err := e.svc.Send(ctx, "login", phone, ip)
			mu.Lock()
			defer mu.Unlock()
			if len(codes) != 1 {
				t.Fatalf("gateway got %d requests, want 1", len(codes))
			}
			code := codes[0]
			checkProblem(t, err, problem.Unavailable, "sms_unavailable", code)
			// The code the gateway saw (and may yet deliver) is withdrawn.
			checkProblem(t, e.svc.Verify(ctx, "login", phone, code), problem.Gone, "sms_code_expired", code)
			// The attempt counts against the limit.
			_, err = e.svc.Send(ctx, "login", phone, ip)
			checkProblem(t, err, problem.TooMany, "sms_rate_limited", code)
		})
	}
}

// failingSender fails without being a problem, as a third-party sender may.
type failingSender struct{}

func (failingSender) SendSMS(context.Context, notify.SMS) error { return errors.New("boom") }

func TestSenderErrorBecomesUnavailable(t *testing.T) {
	e := newEnv(t, filepath.Join(t.TempDir(), "unid.db"), &clock{t: t0}, failingSender{}, smscode.Options{})
	_, err := e.svc.Send(context.Background(), "login", phone, ip)
	p := checkProblem(t, err, problem.Unavailable, "sms_unavailable")
	if !strings.Contains(p.Error(), "boom") {
		t.Errorf("error %q lost its cause", p)
	}
}

func TestSendNeedsPhone(t *testing.T) {
	e := newTestEnv(t)
	_, err := e.svc.Send(context.Background(), "login", "", ip)
	checkProblem(t, err, problem.Invalid, "phone_required")
}

// TestGlobalBudget: once the platform has sent its hourly budget, codes from
// fresh phones and fresh addresses (SMS pumping) are refused with their own
// message until the hour ends; the exhaustion is reported once per window.
func TestGlobalBudget(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: t0}
	var reports []string
	e := newEnv(t, filepath.Join(t.TempDir(), "unid.db"), clk, nil, smscode.Options{
		Limits: smscode.Limits{GlobalHour: 3, GlobalDay: 5},
		BudgetReached: func(_ context.Context, window string, limit int64) {
			reports = append(reports, fmt.Sprintf("%s:%d", window, limit))
		},
	})
	send := func(i int) error {
		_, err := e.svc.Send(ctx, "register", fmt.Sprintf("138000001%02d", i), fmt.Sprintf("198.51.100.%d", i))
		return err
	}
	for i := range 3 {
		if err := send(i); err != nil {
			t.Fatalf("send %d within the budget: %v", i, err)
		}
	}
	clk.set(10 * time.Minute)
	for i := 3; i < 6; i++ {
		p := checkProblem(t, send(i), problem.TooMany, "sms_budget_exhausted")
		if p.RetryAfter != 50*time.Minute {
			t.Errorf("retry after %v, want 50m (the end of the hour)", p.RetryAfter)
		}
	}
	if len(e.outbox.List()) != 3 {
		t.Errorf("%d texts sent, want 3", len(e.outbox.List()))
	}
	clk.set(time.Hour)
	for i := 6; i < 8; i++ {
		if err := send(i); err != nil {
			t.Fatalf("send %d in the next hour: %v", i, err)
		}
	}
	checkProblem(t, send(8), problem.TooMany, "sms_budget_exhausted") // the day's 5 are gone
	if want := []string{"hour:3", "day:5"}; !slices.Equal(reports, want) {
		t.Errorf("budget reports %v, want %v", reports, want)
	}
}

// TestNotices: notices to an account's owner share the platform's SMS
// budget with codes and reach one phone at most NoticesPerPhoneDay times a
// day, so nobody can make unid flood a phone or spend its budget on them.
func TestNotices(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: t0}
	e := newEnv(t, filepath.Join(t.TempDir(), "unid.db"), clk, nil, smscode.Options{Limits: smscode.Limits{GlobalHour: 8}})
	notice := func(p string) error {
		return e.svc.SendSMS(ctx, notify.SMS{Phone: p, Template: notify.TemplateAccountLocked, Params: map[string]string{"until": "5月6日 15:24"}})
	}
	for i := range smscode.NoticesPerPhoneDay {
		if err := notice(phone); err != nil {
			t.Fatalf("notice %d: %v", i+1, err)
		}
	}
	if err := notice(phone); !errors.Is(err, smscode.ErrNoticeDropped) {
		t.Fatalf("notice over the phone's daily limit: %v, want ErrNoticeDropped", err)
	}
	// The budget of 8 an hour: 5 notices above, then 3 more to other
	// phones, then nothing, not even a code.
	for i := range 3 {
		if err := notice(fmt.Sprintf("1390000000%d", i)); err != nil {
			t.Fatalf("notice to another phone: %v", err)
		}
	}
	if err := notice("13900000009"); !errors.Is(err, smscode.ErrNoticeDropped) {
		t.Errorf("notice over the budget: %v, want ErrNoticeDropped", err)
	}
	if _, err := e.svc.Send(ctx, "register", "13900000008", ip); problem.As(err).Code != "sms_budget_exhausted" {
		t.Errorf("code after notices used the budget: %v", err)
	}
	if n := len(e.outbox.List()); n != 8 {
		t.Errorf("%d texts sent, want 8", n)
	}
	if err := e.svc.SendSMS(ctx, notify.SMS{Phone: phone, Template: notify.TemplateSMSCode}); err == nil {
		t.Error("a code was sent as a notice, past the code's own rules")
	}
}

// TestSendForIsAudited: every code sent on someone's behalf, and every
// refusal, is one sms.sent event with the phone masked and the purpose.
func TestSendForIsAudited(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: t0}
	path := filepath.Join(t.TempDir(), "unid.db")
	st := sqlitetest.Open(t, path)
	log := audit.New(st, clk.now, slog.New(slog.DiscardHandler))
	e := newEnv(t, path, clk, nil, smscode.Options{Audit: log})
	by := audit.Origin{Actor: audit.User("u1"), IP: ip, UserAgent: "test"}
	if _, err := e.svc.SendFor(ctx, "change_phone", phone, by); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SendFor(ctx, "change_phone", phone, by); problem.As(err).Code != "sms_rate_limited" {
		t.Fatalf("second code within the minute: %v", err)
	}
	events, err := st.ListAudit(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range events {
		if ev.Action != audit.ActionSMSSent {
			continue
		}
		got = append(got, ev.Result)
		if ev.Actor != "u1" || ev.Subject != "138****5678" || ev.Detail != `{"purpose":"change_phone"}` || strings.Contains(ev.Detail+ev.Subject, phone) {
			t.Errorf("event %+v", ev)
		}
	}
	if strings.Join(got, ",") != "ok,sms_rate_limited" {
		t.Errorf("sms.sent results %v, want ok then sms_rate_limited", got)
	}
}
