package operator_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"unid/internal/account/accounttest"
	"unid/internal/captcha"
	"unid/internal/flow"
	"unid/internal/operator"
	"unid/internal/problem"
	"unid/internal/store/sqlite/sqlitetest"
)

// newCodeCapFixture lifts the per-address and per-name caps out of the
// way, so that only the cap on codes judged after the right password
// (default 10 in 24 h) is at work.
func newCodeCapFixture(t *testing.T) *fixture {
	t.Helper()
	st := sqlitetest.New(t)
	f := &fixture{Fixture: accounttest.New(t, st)}
	f.captchas = captcha.New(st, f.Clock, captcha.Options{})
	f.ops = operator.New(operator.Deps{
		Store: st, Counters: st, Captchas: f.captchas, Hasher: f.Hasher, Protector: f.Protector, Audit: f.Audit, Now: f.Clock,
		Options: operator.Options{LockoutThreshold: 1000, NameThreshold: 1000, PerIPMinute: 1000, PerIPFailures: 1000},
	})
	return f
}

// wrongCode is a code no step around at is right for secret.
func wrongCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if c != code(t, secret, at.Add(-30*time.Second)) && c != code(t, secret, at) && c != code(t, secret, at.Add(30*time.Second)) {
			return c
		}
	}
	t.Fatal("no wrong code")
	return ""
}

// network is the i-th of many IPv4 client addresses.
func network(i int) flow.Client { return flow.NewClient(fmt.Sprintf("203.0.113.%d", i+1), "test") }

func codeLockEvents(t *testing.T, f *fixture) int {
	t.Helper()
	n := 0
	for _, e := range f.Events(t, operator.ActionLocked) {
		if strings.Contains(e.Detail, `"scope":"code"`) {
			n++
		}
	}
	return n
}

// TestCodeCap: with the right password, ten wrong codes in 24 hours from
// as many networks refuse the eleventh, and then the right code too, from
// any network and with any password, until the window ends; a sign-in in
// between neither counts nor forgets the wrong codes.
func TestCodeCap(t *testing.T) {
	f := newCodeCapFixture(t)
	ctx := context.Background()
	o, secret := f.setUp(t, "feng", operator.RoleReviewer)
	start := f.Now
	signIn := func(pw, c string, from flow.Client) error {
		_, err := f.ops.SignIn(ctx, httptest.NewRecorder(), noCookie, f.req(t, "feng", pw, c), from)
		return err
	}
	for i := range 5 {
		wantCode(t, fmt.Sprintf("wrong code %d", i+1), signIn(password, wrongCode(t, secret, f.Now), network(i)), "operator_sign_in_failed")
	}
	// The owner signs in from the office: not counted, and the five stay.
	if err := signIn(password, code(t, secret, f.Now), browser); err != nil {
		t.Fatalf("the owner's sign-in between wrong codes: %v", err)
	}
	f.Now = f.Now.Add(time.Hour)
	for i := 5; i < 10; i++ {
		wantCode(t, fmt.Sprintf("wrong code %d", i+1), signIn(password, wrongCode(t, secret, f.Now), network(i)), "operator_sign_in_failed")
	}
	if n := codeLockEvents(t, f); n != 1 {
		t.Fatalf("the 10th wrong code audited %d code locks, want 1", n)
	}
	err := signIn(password, wrongCode(t, secret, f.Now), network(10))
	wantCode(t, "the 11th wrong code", err, "operator_locked")
	if p := err.(*problem.Problem); p.RetryAfter < 22*time.Hour || p.RetryAfter > 23*time.Hour {
		t.Fatalf("Retry-After = %v, want what is left of 24 h from the first wrong code", p.RetryAfter)
	}
	f.Now = f.Now.Add(30 * time.Second)
	wantCode(t, "the right code, locked", signIn(password, code(t, secret, f.Now), browser), "operator_locked")
	// A wrong password gets the same answer: the lock tells nothing of it.
	wantCode(t, "a wrong password, locked", signIn("Wrong-Pass-2030", code(t, secret, f.Now), network(20)), "operator_locked")
	if n := codeLockEvents(t, f); n != 1 {
		t.Fatalf("code lock audited %d times, want once per window", n)
	}
	f.Now = start.Add(24*time.Hour - time.Minute)
	wantCode(t, "a minute before the window ends", signIn(password, code(t, secret, f.Now), browser), "operator_locked")
	f.Now = start.Add(24 * time.Hour)
	if err := signIn(password, code(t, secret, f.Now), browser); err != nil {
		t.Fatalf("the right code after the window: %v", err)
	}
	if ev := f.Events(t, operator.ActionSignIn); len(ev) != 2 || ev[1].Actor != "operator:"+o.ID {
		t.Fatalf("sign_in events = %+v, want the owner's two", ev)
	}
}

// TestCodeCapBurst: thirty concurrent attempts with the right password
// and wrong codes get ten codes judged, the rest operator_locked.
func TestCodeCapBurst(t *testing.T) {
	f := newCodeCapFixture(t)
	ctx := context.Background()
	_, secret := f.setUp(t, "chu", operator.RoleReviewer)
	const n = 30
	reqs := make([]operator.SignInRequest, n)
	for i := range reqs {
		reqs[i] = f.req(t, "chu", password, wrongCode(t, secret, f.Now))
	}
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() {
			_, err := f.ops.SignIn(ctx, httptest.NewRecorder(), noCookie, r, network(i%10))
			p, _ := err.(*problem.Problem)
			c := fmt.Sprint(err)
			if p != nil {
				c = p.Code
				if c == "operator_locked" && p.RetryAfter <= 0 {
					t.Errorf("operator_locked without Retry-After")
				}
			}
			mu.Lock()
			got[c]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if got["operator_sign_in_failed"] != 10 || got["operator_locked"] != n-10 {
		t.Fatalf("burst of wrong codes = %v, want 10 judged and the rest operator_locked", got)
	}
	judged := 0
	for _, e := range f.Events(t, operator.ActionSignInFailed) {
		if strings.Contains(e.Detail, `"reason":"code"`) {
			judged++
		}
	}
	if judged != got["operator_sign_in_failed"] {
		t.Fatalf("codes judged %d, answers %v", judged, got)
	}
	if n := codeLockEvents(t, f); n != 1 {
		t.Fatalf("code lock audited %d times, want once", n)
	}
	f.Now = f.Now.Add(30 * time.Second)
	_, err := f.ops.SignIn(ctx, httptest.NewRecorder(), noCookie, f.req(t, "chu", password, code(t, secret, f.Now)), browser)
	wantCode(t, "the right code after the burst", err, "operator_locked")
}

// TestCodeCapStranger: attempts without the password do not count toward
// the cap, however many: the owner still signs in, and ten wrong codes
// with the right password are still all judged.
func TestCodeCapStranger(t *testing.T) {
	f := newCodeCapFixture(t)
	ctx := context.Background()
	_, secret := f.setUp(t, "wei", operator.RoleReviewer)
	signIn := func(pw, c string, from flow.Client) error {
		_, err := f.ops.SignIn(ctx, httptest.NewRecorder(), noCookie, f.req(t, "wei", pw, c), from)
		return err
	}
	for i := range 40 {
		wantCode(t, "a stranger's guess", signIn("Wrong-Pass-2030", wrongCode(t, secret, f.Now), network(i)), "operator_sign_in_failed")
	}
	if err := signIn(password, code(t, secret, f.Now), browser); err != nil {
		t.Fatalf("the owner after a stranger's 40 guesses: %v", err)
	}
	for i := range 10 {
		wantCode(t, fmt.Sprintf("wrong code %d", i+1), signIn(password, wrongCode(t, secret, f.Now), network(i)), "operator_sign_in_failed")
	}
	wantCode(t, "the 11th", signIn(password, wrongCode(t, secret, f.Now), browser), "operator_locked")
}
