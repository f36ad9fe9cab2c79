package login_test

import (
	"context"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/captcha"
	"unid/internal/flow"
	"unid/internal/flow/login"
	"unid/internal/problem"
	"unid/internal/ratelimit"
	"unid/internal/store"
	"unid/internal/store/sqlite/sqlitetest"
)

type fixture struct {
	st       store.Store
	accounts *account.Service
	captchas *captcha.Service
	login    *login.Service
	now      time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st := sqlitetest.New(t)
	keys, err := account.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	prot, err := account.NewProtector(keys)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, now: time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)}
	clock := func() time.Time { return f.now }
	hasher := account.NewHasher(account.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0)
	log := audit.New(st, clock, slog.New(slog.DiscardHandler))
	f.accounts = account.NewService(account.ServiceDeps{Store: st, Hasher: hasher, Protector: prot, Audit: log, Now: clock})
	f.captchas = captcha.New(st, clock, captcha.Options{})
	f.login = login.New(f.accounts, st, hasher, prot, f.captchas, ratelimit.New(st), log, clock, login.Options{
		LockoutThreshold: 5, LockoutWindow: 15 * time.Minute, LockoutDuration: 15 * time.Minute,
		PerIPLimit: 1000, PerIPWindow: time.Minute,
	})
	return f
}

const password = "Shandong#2026"

// attempt signs in with identifier and password, answering a fresh captcha
// rightly.
func (f *fixture) attempt(t *testing.T, identifier, pw string) (store.User, error) {
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
		flow.NewClient("203.0.113.9", "test"))
}

func (f *fixture) create(t *testing.T, na account.NewAccount) store.User {
	t.Helper()
	u, err := f.accounts.Create(context.Background(), na)
	if err != nil {
		t.Fatal(err)
	}
	return u
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
	zhang := f.create(t, account.NewAccount{LoginName: "zhang_san", Password: password, Phone: "13812345678", RealName: "张三", IDNumber: "11010519491231002X"})
	// wang holds zhang's ID number unverified too.
	f.create(t, account.NewAccount{LoginName: "wang_wu_2026", Password: password, Phone: "13900000002", RealName: "王五", IDNumber: "11010519491231002X"})
	alipay := f.create(t, account.NewAccount{LoginName: "alipay_2088", Phone: "13900000003"})

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
	if _, err := f.st.UpdateUser(context.Background(), zhang.ID, func(u store.User) (store.User, error) {
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
	if err := f.accounts.SetPassword(ctx, zhang.ID, "Jinan@Spring2031", account.UserActor(zhang.ID)); err != nil {
		t.Fatal(err)
	}
	_, err = f.attempt(t, "zhang_san", password)
	sameAnswer(t, "the old password", err, wrongPassword)
	if err := f.accounts.Disable(ctx, zhang.ID, account.OperatorActor("ops"), "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.attempt(t, "zhang_san", "Jinan@Spring2031"); problem.As(err).Code != "account_disabled" {
		t.Errorf("disabled account: %v", err)
	}
}
