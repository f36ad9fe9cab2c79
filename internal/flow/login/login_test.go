package login_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"unid/internal/account"
	"unid/internal/account/accounttest"
	"unid/internal/audit"
	"unid/internal/captcha"
	"unid/internal/flow"
	"unid/internal/flow/login"
	"unid/internal/notify"
	"unid/internal/problem"
	"unid/internal/ratelimit"
	"unid/internal/store"
	"unid/internal/store/sqlite/sqlitetest"
)

type fixture struct {
	*accounttest.Fixture
	counted  *countingAccounts
	captchas *captcha.Service
	login    *login.Service
	sent     *smsRecorder
}

// countingAccounts counts the password verifications login asks for: each
// one costs a password hash.
type countingAccounts struct {
	*account.Service
	verifies atomic.Int64
}

func (c *countingAccounts) VerifyPassword(ctx context.Context, u store.User, password string) (bool, bool, error) {
	c.verifies.Add(1)
	return c.Service.VerifyPassword(ctx, u, password)
}

// smsRecorder keeps the text messages sent.
type smsRecorder struct {
	mu   sync.Mutex
	msgs []notify.SMS
}

func (r *smsRecorder) SendSMS(_ context.Context, m notify.SMS) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
	return nil
}

func (r *smsRecorder) all() []notify.SMS {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

func newFixture(t *testing.T, edit ...func(*login.Options)) *fixture {
	t.Helper()
	a := accounttest.New(t, sqlitetest.New(t))
	f := &fixture{
		Fixture: a, counted: &countingAccounts{Service: a.Accounts},
		captchas: captcha.New(a.Store, a.Clock, captcha.Options{}), sent: &smsRecorder{},
	}
	opt := login.Options{
		LockoutThreshold: 5, AccountThreshold: 50, LockoutWindow: 15 * time.Minute, LockoutDuration: 15 * time.Minute,
		PerIPLimit: 1000, PerIPSuccessLimit: 1000, PerIPWindow: time.Minute,
	}
	for _, e := range edit {
		e(&opt)
	}
	f.login = login.New(login.Deps{
		Accounts: f.counted, Users: a.Store, Hasher: a.Hasher, Protector: a.Protector, Captchas: f.captchas, Limiter: ratelimit.New(a.Store),
		Audit: a.Audit, Notifier: f.sent, Now: a.Clock, Options: opt,
	})
	return f
}

const password = "Shandong#2026"

// attempt signs in with identifier and password from 203.0.113.9,
// answering a fresh captcha rightly.
func (f *fixture) attempt(t *testing.T, identifier, pw string) (store.User, error) {
	t.Helper()
	return f.attemptFrom(t, "203.0.113.9", identifier, pw)
}

// attemptFrom is attempt from the client address ip.
func (f *fixture) attemptFrom(t *testing.T, ip, identifier, pw string) (store.User, error) {
	t.Helper()
	ctx := context.Background()
	c, err := f.captchas.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := f.captchas.Answer(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return f.login.Login(ctx, login.Request{Identifier: identifier, Password: pw, CaptchaID: c.ID, CaptchaAnswer: answer},
		flow.NewClient(ip, "test"))
}

// sameAnswer checks that two failed attempts were answered alike.
func sameAnswer(t *testing.T, what string, got, want error) {
	t.Helper()
	g, w := problem.As(got), problem.As(want)
	if got == nil || want == nil || g.Kind != w.Kind || g.Code != w.Code || g.RetryAfter != w.RetryAfter || !reflect.DeepEqual(g.Fields, w.Fields) {
		t.Errorf("%s answered %v, want the same as %v", what, got, want)
	}
}

func TestLogin(t *testing.T) {
	f := newFixture(t)
	zhang := f.Create(t, account.NewAccount{LoginName: "zhang_san", Password: password, Phone: "13812345678", RealName: "张三", IDNumber: "11010519491231002X"})
	// wang holds zhang's ID number unverified too.
	f.Create(t, account.NewAccount{LoginName: "wang_wu_2026", Password: password, Phone: "13900000002", RealName: "王五", IDNumber: "11010519491231002X"})
	alipay := f.Create(t, account.NewAccount{LoginName: "alipay_2088", Phone: "13900000003"})

	for _, ident := range []string{"zhang_san", "ZHANG_SAN", "138 1234 5678"} {
		if u, err := f.attempt(t, ident, password); err != nil || u.ID != zhang.ID {
			t.Errorf("login as %q = %q, %v; want zhang", ident, u.ID, err)
		}
	}

	wrongPassword := func() error { _, err := f.attempt(t, "zhang_san", "Wrong#Password1"); return err }()
	if p := problem.As(wrongPassword); p.Kind != problem.Unauthorized || p.Code != "login_failed" {
		t.Fatalf("wrong password: %v", wrongPassword)
	}
	_, unknown := f.attempt(t, "110105198001010016", password)
	_, unverified := f.attempt(t, "11010519491231002X", password)
	sameAnswer(t, "an ID number held only unverified", unverified, unknown)
	sameAnswer(t, "an unknown ID number", unknown, wrongPassword)
	for _, pw := range []string{password, "Anything#2026"} {
		_, err := f.attempt(t, "alipay_2088", pw)
		sameAnswer(t, "an account without password", err, wrongPassword)
	}
	_, err := f.attempt(t, "13900000003", password)
	sameAnswer(t, "an account without password, by phone", err, wrongPassword)
	if alipay.PasswordHash != "" {
		t.Fatal("the Alipay account has a password")
	}

	// Verified, the ID number signs its holder in.
	if _, err := f.Store.UpdateUser(context.Background(), zhang.ID, func(u store.User) (store.User, error) {
		u.RealnameLevel = 1
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
	if u, err := f.attempt(t, "11010519491231002x", password); err != nil || u.ID != zhang.ID {
		t.Errorf("login by verified ID number = %q, %v; want zhang", u.ID, err)
	}

	// A new password ends the old one; a disabled account cannot sign in.
	ctx := context.Background()
	if err := f.Accounts.SetPassword(ctx, zhang.ID, "Jinan@Spring2031", audit.User(zhang.ID)); err != nil {
		t.Fatal(err)
	}
	_, err = f.attempt(t, "zhang_san", password)
	sameAnswer(t, "the old password", err, wrongPassword)
	if err := f.Accounts.Disable(ctx, zhang.ID, audit.Operator("ops"), "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.attempt(t, "zhang_san", "Jinan@Spring2031"); problem.As(err).Code != "account_disabled" {
		t.Errorf("disabled account: %v", err)
	}
}

// lockScopes lists the scopes of the account.locked events so far.
func (f *fixture) lockScopes(t *testing.T) []string {
	t.Helper()
	events, err := f.Store.ListAudit(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var scopes []string
	for _, e := range events {
		if e.Action != audit.ActionLockout {
			continue
		}
		var d struct{ Scope string }
		if err := json.Unmarshal([]byte(e.Detail), &d); err != nil {
			t.Fatalf("lock event detail %q: %v", e.Detail, err)
		}
		scopes = append(scopes, d.Scope)
	}
	return scopes
}

// lookAlike checks that an attempt is answered like want and paid one
// password verification.
func (f *fixture) lookAlike(t *testing.T, what, ip, identifier, pw string, want error) {
	t.Helper()
	before := f.counted.verifies.Load()
	_, err := f.attemptFrom(t, ip, identifier, pw)
	sameAnswer(t, what, err, want)
	if n := f.counted.verifies.Load() - before; n != 1 {
		t.Errorf("%s: %d password verifications, want 1 like any attempt", what, n)
	}
}

const (
	netA = "203.0.113.9"
	netB = "198.51.100.7"
	netC = "2001:db8:1:2::1"
	netD = "192.0.2.44"
)

func TestNetworkLockIsNoAnswer(t *testing.T) {
	f := newFixture(t)
	zhang := f.Create(t, account.NewAccount{LoginName: "zhang_san", Password: password, Phone: "13812345678"})
	for i := 1; i <= 5; i++ {
		if _, err := f.attemptFrom(t, netA, "zhang_san", "Wrong#Password1"); problem.As(err).Code != "login_failed" {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	if got := f.lockScopes(t); !slices.Equal(got, []string{login.ScopeNetwork}) {
		t.Fatalf("locks after 5 failures from one network: %v", got)
	}
	_, nobody := f.attemptFrom(t, netA, "13900000000", "Wrong#Password1")
	if problem.As(nobody).Code != "login_failed" {
		t.Fatalf("a phone with no account: %v", nobody)
	}

	// From the locked network, every identifier of the account answers
	// like a phone with no account, whatever the password, at the same
	// hash cost.
	for _, tt := range []struct{ name, identifier, pw string }{
		{"the right password by login name", "zhang_san", password},
		{"the right password by phone", "13812345678", password},
		{"a wrong password by phone", "13812345678", "Other#Password9"},
		{"a phone with no account", "13900000000", "Wrong#Password1"},
	} {
		f.lookAlike(t, tt.name, netA, tt.identifier, tt.pw, nobody)
	}
	// Another network is not locked by the first one's failures.
	if u, err := f.attemptFrom(t, netB, "13812345678", password); err != nil || u.ID != zhang.ID {
		t.Fatalf("sign-in from another network: %q, %v", u.ID, err)
	}

	f.login.Wait()
	sent := f.sent.all()
	if len(sent) != 1 || sent[0].Phone != "13812345678" || sent[0].Template != notify.TemplateAccountLocked {
		t.Fatalf("lock notices: %+v, want one to the owner", sent)
	}
	// Locked at 07:08:09 UTC for 15 minutes: 15:23:09 in China, said as 15:24.
	text := sent[0].Text()
	if !strings.Contains(text, "5月6日 15:24") || !strings.Contains(text, "找回密码") {
		t.Errorf("lock notice %q does not say when the lock ends and how to lift it", text)
	}
	for _, secret := range []string{"zhang_san", password, "Wrong#Password1", netA, "203.0.113"} {
		if strings.Contains(text, secret) {
			t.Errorf("lock notice %q names %q", text, secret)
		}
	}

	// An unknown identifier locks the same way, and nobody is told.
	for range 5 {
		f.attemptFrom(t, netA, "li_si_nobody", "Wrong#Password1")
	}
	if got := f.lockScopes(t); !slices.Equal(got, []string{login.ScopeNetwork, login.ScopeNetwork}) {
		t.Errorf("locks after an unknown name failed 5 times: %v", got)
	}
	f.login.Wait()
	if n := len(f.sent.all()); n != 1 {
		t.Errorf("%d lock notices, want still 1", n)
	}

	f.Now = f.Now.Add(15 * time.Minute)
	if u, err := f.attemptFrom(t, netA, "zhang_san", password); err != nil || u.ID != zhang.ID {
		t.Fatalf("sign-in after the lock ends: %q, %v", u.ID, err)
	}
}

func TestAccountWideLock(t *testing.T) {
	f := newFixture(t, func(o *login.Options) { o.AccountThreshold = 12 })
	zhang := f.Create(t, account.NewAccount{LoginName: "zhang_san", Password: password, Phone: "13812345678"})
	_, nobody := f.attemptFrom(t, netD, "13900000000", "Wrong#Password1")

	// Two networks lock themselves out with 5 failures each; a third
	// brings the account to 12, which locks it for everyone.
	for _, try := range []struct {
		ip string
		n  int
	}{{netA, 5}, {netB, 5}, {netC, 2}} {
		for i := range try.n {
			f.Now = f.Now.Add(10 * time.Second)
			if _, err := f.attemptFrom(t, try.ip, "zhang_san", "Wrong#Password1"); problem.As(err).Code != "login_failed" {
				t.Fatalf("failure %d from %s: %v", i+1, try.ip, err)
			}
		}
	}
	want := []string{login.ScopeNetwork, login.ScopeNetwork, login.ScopeAccount}
	if got := f.lockScopes(t); !slices.Equal(got, want) {
		t.Fatalf("locks: %v, want %v", got, want)
	}
	f.lookAlike(t, "the right password from a fresh network", netD, "13812345678", password, nobody)
	f.lookAlike(t, "a phone with no account", netD, "13900000000", password, nobody)

	// One notice per lock of the account, and of network locks one per
	// lock duration: the second network's lock tells the owner nothing new.
	f.login.Wait()
	if sent := f.sent.all(); len(sent) != 2 {
		t.Fatalf("%d lock notices, want 2 (first network lock, account lock): %+v", len(sent), sent)
	}

	// Password recovery lifts every lock at once.
	if err := f.login.ClearLock(context.Background(), zhang.ID); err != nil {
		t.Fatal(err)
	}
	for _, ip := range []string{netD, netA} {
		if u, err := f.attemptFrom(t, ip, "zhang_san", password); err != nil || u.ID != zhang.ID {
			t.Errorf("sign-in from %s after ClearLock: %q, %v", ip, u.ID, err)
		}
	}
}

func TestClearLockLiftsANetworkLock(t *testing.T) {
	f := newFixture(t)
	zhang := f.Create(t, account.NewAccount{LoginName: "zhang_san", Password: password})
	for range 5 {
		f.attemptFrom(t, netA, "zhang_san", "Wrong#Password1")
	}
	if _, err := f.attemptFrom(t, netA, "zhang_san", password); problem.As(err).Code != "login_failed" {
		t.Fatalf("the right password from the locked network: %v", err)
	}
	if err := f.login.ClearLock(context.Background(), zhang.ID); err != nil {
		t.Fatal(err)
	}
	if u, err := f.attemptFrom(t, netA, "zhang_san", password); err != nil || u.ID != zhang.ID {
		t.Fatalf("sign-in after ClearLock: %q, %v", u.ID, err)
	}
	// The count starts again: 4 more failures do not lock.
	for i := range 4 {
		if _, err := f.attemptFrom(t, netA, "zhang_san", "Wrong#Password1"); problem.As(err).Code != "login_failed" {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	if u, err := f.attemptFrom(t, netA, "zhang_san", password); err != nil || u.ID != zhang.ID {
		t.Fatalf("sign-in after 4 failures: %q, %v", u.ID, err)
	}
}
