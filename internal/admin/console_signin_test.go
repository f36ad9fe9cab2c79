package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"unid/internal/account"
	"unid/internal/account/accounttest"
	"unid/internal/audit"
	"unid/internal/operator"
)

// signInBody is a sign-in request with a fresh captcha, rightly answered.
func (cs *consoleServer) signInBody(t *testing.T, login, password, code string) string {
	t.Helper()
	ctx := context.Background()
	c, err := cs.capt.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := cs.capt.Answer(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{"login": login, "password": password, "code": code, "captcha_id": c.ID, "captcha_answer": answer})
	return string(b)
}

// signInFrom posts body to the sign-in endpoint as a client at ip (the
// server trusts X-Forwarded-For in these tests).
func (cs *consoleServer) signInFrom(t *testing.T, ip, body string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("POST", cs.url+"/api/admin/v1/sign-in", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", ip)
	req.Header.Set("Accept-Language", "en")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, nil, nil
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m, res.Header
}

// newOperator creates and sets up an operator through the API and returns
// the TOTP secret their authenticator holds.
func (cs *consoleServer) newOperator(t *testing.T, login string) string {
	t.Helper()
	ctx := context.Background()
	_, token, err := cs.ops.Create(ctx, login, []string{operator.RoleReviewer}, audit.Origin{Actor: audit.Operator("cli:test")})
	if err != nil {
		t.Fatal(err)
	}
	st, body, _ := send(t, &http.Client{}, "POST", cs.url+"/api/admin/v1/setup/key", `{"token":"`+token+`"}`)
	if st != 200 {
		t.Fatalf("setup key: %d %v", st, body)
	}
	secret := body["secret"].(string)
	code, _ := totp.GenerateCode(secret, cs.fix.Now)
	if st, body, _ := send(t, &http.Client{}, "POST", cs.url+"/api/admin/v1/setup", `{"token":"`+token+`","password":"Ops-Strong-Pass-2030","code":"`+code+`"}`); st != 200 {
		t.Fatalf("setup: %d %v", st, body)
	}
	cs.fix.Now = cs.fix.Now.Add(30 * time.Second)
	return secret
}

func (cs *consoleServer) failures(t *testing.T) int {
	t.Helper()
	n := 0
	for _, e := range cs.fix.Events(t, operator.ActionSignInFailed) {
		if e.Result == audit.ResultFailed {
			n++
		}
	}
	return n
}

// TestConsoleSignInBurst: 40 concurrent attempts with the right password
// and wrong TOTP codes from one address: only the lockout threshold (5)
// of them get their credentials checked — answered 401 — and the rest are
// refused 429 before the password hash, with Retry-After. The same burst
// of random names gets no more than the per-address minute cap through.
func TestConsoleSignInBurst(t *testing.T) {
	cs := startConsoleAPI(t)
	cs.newOperator(t, "reviewer1")
	const n = 40
	bodies := make([]string, n)
	for i := range bodies {
		bodies[i] = cs.signInBody(t, "reviewer1", "Ops-Strong-Pass-2030", fmt.Sprintf("%06d", i))
	}
	burst := func(ip string, bodies []string) map[int]int {
		var mu sync.Mutex
		got := map[int]int{}
		var wg sync.WaitGroup
		for _, b := range bodies {
			wg.Go(func() {
				st, body, h := cs.signInFrom(t, ip, b)
				if st == 429 && (h.Get("Retry-After") == "" || code(body) == "") {
					t.Errorf("429 without Retry-After or code: %v %v", h, body)
				}
				mu.Lock()
				got[st]++
				mu.Unlock()
			})
		}
		wg.Wait()
		return got
	}
	got := burst("198.51.100.7", bodies)
	if got[401] != 5 || got[429] != n-5 || got[200] != 0 {
		t.Fatalf("burst of wrong codes = %v, want 5×401 and the rest 429", got)
	}
	if f := cs.failures(t); f != 5 {
		t.Fatalf("credentials checked %d times, want 5", f)
	}
	locked := 0
	for _, e := range cs.fix.Events(t, operator.ActionSignInFailed) {
		if e.Result == "locked" {
			locked++
		}
	}
	if locked != 1 {
		t.Fatalf("locked refusals audited %d times, want once", locked)
	}
	if ev := cs.fix.Events(t, operator.ActionLocked); len(ev) != 1 || !strings.Contains(ev[0].Detail, `"scope":"network"`) {
		t.Fatalf("locked events = %+v", ev)
	}

	// Random names, concurrently, from another address: the minute cap
	// (20) lets no more through.
	for i := range bodies {
		bodies[i] = cs.signInBody(t, fmt.Sprintf("nobody%d", i), "Wrong-Pass-2030", "123456")
	}
	got = burst("198.51.100.8", bodies)
	if got[401] != 20 || got[429] != n-20 {
		t.Fatalf("burst of random names = %v, want 20×401 and the rest 429", got)
	}
	if f := cs.failures(t); f != 5+20 {
		t.Fatalf("credentials checked %d times, want 25", f)
	}
}

// TestConsoleSignInWhileTheHashQueueIsFull: an operator is never told
// "busy": in a burst of citizens' sign-ins that the citizens are refused
// for, the operator's sign-in waits its turn in the queue and goes
// through, so that the console stays reachable in the incident. (The
// operators' own attempts are capped per address and per name.)
func TestConsoleSignInWhileTheHashQueueIsFull(t *testing.T) {
	h := account.NewHasher(accounttest.SlowParams, 1).WithMaxWait(time.Nanosecond)
	cs := startConsoleAPIWith(t, h)
	secret := cs.newOperator(t, "reviewer1")
	totpCode, _ := totp.GenerateCode(secret, cs.fix.Now)
	body := cs.signInBody(t, "reviewer1", "Ops-Strong-Pass-2030", totpCode)
	stop := accounttest.Burst(t, h, 50)
	if _, _, err := h.Admit(context.Background(), 1); err == nil {
		t.Fatal("a citizen's sign-in would be admitted: the queue is not full")
	}
	type answer struct {
		status int
		body   map[string]any
	}
	signedIn := make(chan answer, 1)
	go func() {
		st, m, _ := cs.signInFrom(t, "198.51.100.7", body)
		signedIn <- answer{st, m}
	}()
	// A refusal would come at once; a sign-in that waits behind the burst
	// does not come before it ends. Either way the answer must be 200: the
	// pause only lets the test end the burst early.
	select {
	case a := <-signedIn:
		signedIn <- a
	case <-time.After(300 * time.Millisecond):
	}
	stop()
	if a := <-signedIn; a.status != http.StatusOK {
		t.Fatalf("sign-in in the burst: %d %v, want it through after waiting", a.status, a.body)
	}
}

// TestConsoleSignInPerAddress: one address trying many names is refused
// 429 operator_sign_in_rate_limited after 20 attempts in a minute and 30
// failures in 15 minutes, before any captcha or password check, with
// Retry-After and words; another address is not affected.
func TestConsoleSignInPerAddress(t *testing.T) {
	cs := startConsoleAPI(t)
	const ip = "203.0.113.9"
	for i := range 20 {
		if st, body, _ := cs.signInFrom(t, ip, cs.signInBody(t, fmt.Sprintf("guess%d", i), "Wrong-Pass-2030", "123456")); st != 401 {
			t.Fatalf("attempt %d = %d %v", i, st, body)
		}
	}
	wantLimited := func(what string, maxWait time.Duration) {
		t.Helper()
		before := cs.failures(t)
		st, body, h := cs.signInFrom(t, ip, cs.signInBody(t, "guess-more", "Wrong-Pass-2030", "123456"))
		ra, _ := strconv.Atoi(h.Get("Retry-After"))
		msg, _ := body["error"].(map[string]any)["message"].(string)
		if st != 429 || code(body) != "operator_sign_in_rate_limited" || ra <= 0 || time.Duration(ra)*time.Second > maxWait ||
			!strings.Contains(msg, "Too many sign-in attempts from your network address") {
			t.Fatalf("%s = %d %v Retry-After %q", what, st, body, h.Get("Retry-After"))
		}
		if cs.failures(t) != before {
			t.Fatalf("%s: a refused attempt was checked", what)
		}
	}
	wantLimited("21st attempt in a minute", time.Minute)
	// Even without a captcha: the address is refused first.
	if st, body, _ := cs.signInFrom(t, ip, `{"login":"x1","password":"p","code":"1","captcha_id":"nope","captcha_answer":"1"}`); st != 429 || code(body) != "operator_sign_in_rate_limited" {
		t.Fatalf("limited address, bad captcha = %d %v", st, body)
	}
	// Another address is not affected.
	if st, body, _ := cs.signInFrom(t, "203.0.113.10", cs.signInBody(t, "guess", "Wrong-Pass-2030", "123456")); st != 401 {
		t.Fatalf("another address = %d %v", st, body)
	}
	// A minute on: ten more failures make 30 in 15 minutes.
	cs.fix.Now = cs.fix.Now.Add(time.Minute)
	for i := range 10 {
		if st, body, _ := cs.signInFrom(t, ip, cs.signInBody(t, fmt.Sprintf("again%d", i), "Wrong-Pass-2030", "123456")); st != 401 {
			t.Fatalf("attempt %d after a minute = %d %v", i, st, body)
		}
	}
	wantLimited("31st failure in 15 minutes", 15*time.Minute)
	if f := cs.failures(t); f != 31 {
		t.Fatalf("credentials checked %d times, want 31", f)
	}
	// The refusals are audited once per address and window, not each.
	n := 0
	for _, e := range cs.fix.Events(t, operator.ActionSignInFailed) {
		if e.Result == audit.ResultRateLimited {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("rate_limited audit rows = %d, want 1", n)
	}
}

// TestConsoleSignInLockedNetworkOnly: five failures on a name from one
// address lock that address out of that name (even with the right
// credentials), not the operator: from another address they sign in, and
// that forgets nothing of the first address's lock.
func TestConsoleSignInLockedNetworkOnly(t *testing.T) {
	cs := startConsoleAPI(t)
	secret := cs.newOperator(t, "reviewer1")
	const attacker, office = "192.0.2.66", "198.51.100.20"
	for i := range 5 {
		if st, body, _ := cs.signInFrom(t, attacker, cs.signInBody(t, "reviewer1", "Wrong-Pass-2030", "123456")); st != 401 {
			t.Fatalf("failure %d = %d %v", i, st, body)
		}
	}
	right := func() string {
		cs.fix.Now = cs.fix.Now.Add(30 * time.Second)
		c, _ := totp.GenerateCode(secret, cs.fix.Now)
		return cs.signInBody(t, "reviewer1", "Ops-Strong-Pass-2030", c)
	}
	if st, body, h := cs.signInFrom(t, attacker, right()); st != 429 || code(body) != "operator_locked" || h.Get("Retry-After") == "" {
		t.Fatalf("locked network, right credentials = %d %v", st, body)
	}
	if st, body, _ := cs.signInFrom(t, office, right()); st != 200 || body["login_name"] != "reviewer1" {
		t.Fatalf("from the office = %d %v", st, body)
	}
	if st, body, _ := cs.signInFrom(t, attacker, right()); st != 429 || code(body) != "operator_locked" {
		t.Fatalf("locked network after the owner signed in = %d %v", st, body)
	}
}

// TestConsoleSignInCaptcha: a missing, wrong or used captcha is refused
// before the password is looked at, and changes nothing: no failure is
// counted or audited, and the right credentials then sign in.
func TestConsoleSignInCaptcha(t *testing.T) {
	cs := startConsoleAPI(t)
	secret := cs.newOperator(t, "reviewer1")
	const ip = "192.0.2.30"
	ctx := context.Background()
	c, _ := cs.capt.Create(ctx)
	answer, _ := cs.capt.Answer(ctx, c.ID)
	wrong := "0000"
	if answer == wrong {
		wrong = "1111"
	}
	used := cs.signInBody(t, "reviewer1", "Wrong-Pass-2030", "123456")
	if st, _, _ := cs.signInFrom(t, ip, used); st != 401 {
		t.Fatalf("first use = %d", st)
	}
	for _, tt := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"no captcha", `{"login":"reviewer1","password":"Wrong-Pass-2030","code":"123456"}`, 400, "invalid_fields"},
		{"wrong answer", `{"login":"reviewer1","password":"Wrong-Pass-2030","code":"123456","captcha_id":"` + c.ID + `","captcha_answer":"` + wrong + `"}`, 400, ""},
		{"used captcha", used, 410, "captcha_expired"},
	} {
		for range 6 { // more than the lockout threshold
			st, body, _ := cs.signInFrom(t, ip, tt.body)
			if st != tt.status && !(tt.name == "wrong answer" && st == 410) || (tt.code != "" && code(body) != tt.code) {
				t.Fatalf("%s = %d %v", tt.name, st, body)
			}
		}
	}
	if f := cs.failures(t); f != 1 {
		t.Fatalf("credentials checked %d times, want 1", f)
	}
	cs.fix.Now = cs.fix.Now.Add(30 * time.Second)
	code6, _ := totp.GenerateCode(secret, cs.fix.Now)
	if st, body, _ := cs.signInFrom(t, ip, cs.signInBody(t, "reviewer1", "Ops-Strong-Pass-2030", code6)); st != 200 {
		t.Fatalf("right credentials after the refused captchas = %d %v", st, body)
	}
}
