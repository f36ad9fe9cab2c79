package operator_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"unid/internal/account/accounttest"
	"unid/internal/audit"
	"unid/internal/captcha"
	"unid/internal/flow"
	"unid/internal/operator"
	"unid/internal/problem"
	"unid/internal/store"
	"unid/internal/store/sqlite/sqlitetest"
)

type fixture struct {
	*accounttest.Fixture
	ops      *operator.Service
	captchas *captcha.Service
}

// noCookie is a request without a console cookie.
var noCookie = httptest.NewRequest("POST", "/api/admin/v1/sign-in", nil)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st := sqlitetest.New(t)
	f := &fixture{Fixture: accounttest.New(t, st)}
	f.captchas = captcha.New(st, f.Clock, captcha.Options{})
	f.ops = operator.New(operator.Deps{
		Store: st, Counters: st, Captchas: f.captchas, Hasher: f.Hasher, Protector: f.Protector, Audit: f.Audit, Now: f.Clock,
		Options: operator.Options{Issuer: "统一身份认证平台"},
	})
	return f
}

var (
	cli     = audit.Origin{Actor: audit.Operator("cli:root")}
	browser = flow.NewClient("192.0.2.7", "test browser")
)

const password = "Ops-Strong-Pass-2030"

// req is a sign-in attempt with a fresh captcha, rightly answered.
func (f *fixture) req(t *testing.T, login, password, code string) operator.SignInRequest {
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
	return operator.SignInRequest{Login: login, Password: password, Code: code, CaptchaID: c.ID, CaptchaAnswer: answer}
}

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	var p *problem.Problem
	if !errors.As(err, &p) || p.Code != code {
		t.Fatalf("%s: %v, want problem %s", what, err, code)
	}
}

// cookieOf turns the cookie a recorder got into a request carrying it.
func cookieOf(t *testing.T, rec *httptest.ResponseRecorder) *http.Request {
	t.Helper()
	r := httptest.NewRequest("GET", "/console/", nil)
	for _, c := range rec.Result().Cookies() {
		r.AddCookie(c)
	}
	return r
}

// setUp creates an operator and sets them up; it returns the secret.
func (f *fixture) setUp(t *testing.T, login string, roles ...string) (store.Operator, string) {
	t.Helper()
	ctx := context.Background()
	o, token, err := f.ops.Create(ctx, login, roles, cli)
	if err != nil {
		t.Fatal(err)
	}
	k, err := f.ops.SetupKey(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ops.Setup(ctx, httptest.NewRecorder(), noCookie, token, password, code(t, k.Secret, f.Now), browser); err != nil {
		t.Fatal(err)
	}
	f.Now = f.Now.Add(30 * time.Second) // the next code
	return o, k.Secret
}

func TestCreate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tests := []struct {
		name, login string
		roles       []string
		code        string
	}{
		{"admin is no role", "zhang", []string{"admin"}, "operator_role_unknown"},
		{"unknown role among good ones", "zhang", []string{"reviewer,root"}, "operator_role_unknown"},
		{"no role", "zhang", nil, "operator_role_required"},
		{"login with a space", "zhang san", []string{"reviewer"}, "operator_login_invalid"},
		{"login too short", "z", []string{"reviewer"}, "operator_login_invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := f.ops.Create(ctx, tt.login, tt.roles, cli)
			wantCode(t, "Create", err, tt.code)
		})
	}
	if list, _ := f.ops.List(ctx); len(list) != 0 {
		t.Fatalf("refused creations stored operators: %v", list)
	}
	o, token, err := f.ops.Create(ctx, "Zhang", []string{"auditor,reviewer", "reviewer"}, cli)
	if err != nil || len(o.Roles) != 2 || o.Roles[0] != "auditor" || o.Roles[1] != "reviewer" || token == "" {
		t.Fatalf("Create = %+v, %q, %v", o, token, err)
	}
	if link := operator.SetupLink("https://id.example.gov.cn/", token); link != "https://id.example.gov.cn/console/setup#"+token {
		t.Fatalf("SetupLink = %s", link)
	}
	_, _, err = f.ops.Create(ctx, "ZHANG", []string{"reviewer"}, cli)
	wantCode(t, "Create with a login name in use", err, "operator_login_taken")
	ev := f.Events(t, operator.ActionCreated)
	if len(ev) != 1 || ev[0].Actor != "operator:cli:root" || ev[0].Subject != "Zhang" {
		t.Fatalf("created events = %+v", ev)
	}
}

func TestSetupLinkIsSingleUseAndExpires(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, token, err := f.ops.Create(ctx, "li", []string{"reviewer"}, cli)
	if err != nil {
		t.Fatal(err)
	}
	k, err := f.ops.SetupKey(ctx, token)
	if err != nil || k.LoginName != "li" || k.Secret == "" || len(k.QR) < 100 || k.URI == "" {
		t.Fatalf("SetupKey = %+v, %v", k, err)
	}
	// Bad input changes nothing: the link still works afterwards.
	_, err = f.ops.Setup(ctx, httptest.NewRecorder(), noCookie, token, "short", code(t, k.Secret, f.Now), browser)
	wantCode(t, "weak password", err, "password_too_short")
	_, err = f.ops.Setup(ctx, httptest.NewRecorder(), noCookie, token, password, "000000", browser)
	wantCode(t, "wrong code", err, "operator_code_wrong")
	_, err = f.ops.Setup(ctx, httptest.NewRecorder(), noCookie, "not-a-token", password, code(t, k.Secret, f.Now), browser)
	wantCode(t, "unknown token", err, "operator_setup_invalid")

	rec := httptest.NewRecorder()
	o, err := f.ops.Setup(ctx, rec, noCookie, token, password, code(t, k.Secret, f.Now), browser)
	if err != nil || o.PasswordHash == "" || o.SetupHash != nil {
		t.Fatalf("Setup = %+v, %v", o, err)
	}
	if sg, state, err := f.ops.Current(ctx, cookieOf(t, rec)); err != nil || state != operator.Live || sg.Operator.ID != o.ID {
		t.Fatalf("after Setup, Current = %v, %v, %v; want signed in", sg, state, err)
	}
	f.Now = f.Now.Add(30 * time.Second)
	_, err = f.ops.SetupKey(ctx, token)
	wantCode(t, "SetupKey with a used link", err, "operator_setup_invalid")
	_, err = f.ops.Setup(ctx, httptest.NewRecorder(), noCookie, token, "Another-Pass-2030", code(t, k.Secret, f.Now), browser)
	wantCode(t, "Setup with a used link", err, "operator_setup_invalid")
	if ev := f.Events(t, operator.ActionSetup); len(ev) != 1 || ev[0].Actor != "operator:"+o.ID {
		t.Fatalf("setup events = %+v", ev)
	}

	// Expiry: a day later the link is dead.
	_, token2, err := f.ops.Create(ctx, "wang", []string{"auditor"}, cli)
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := f.ops.SetupKey(ctx, token2)
	f.Now = f.Now.Add(24 * time.Hour)
	_, err = f.ops.SetupKey(ctx, token2)
	wantCode(t, "SetupKey after 24 h", err, "operator_setup_invalid")
	_, err = f.ops.Setup(ctx, httptest.NewRecorder(), noCookie, token2, password, code(t, k2.Secret, f.Now), browser)
	wantCode(t, "Setup after 24 h", err, "operator_setup_invalid")
}

func TestSignIn(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	o, secret := f.setUp(t, "Zhao", operator.RoleReviewer)
	if _, _, err := f.ops.Create(ctx, "qian", []string{"reviewer"}, cli); err != nil { // never set up
		t.Fatal(err)
	}

	// Every wrong thing gets the same answer.
	for _, tt := range []struct{ name, login, password, code string }{
		{"unknown operator", "nobody", password, code(t, secret, f.Now)},
		{"wrong password", "zhao", "Wrong-Pass-2030", code(t, secret, f.Now)},
		{"wrong code", "zhao", password, "123456"},
		{"not set up", "qian", password, code(t, secret, f.Now)},
	} {
		_, err := f.ops.SignIn(ctx, httptest.NewRecorder(), noCookie, f.req(t, tt.login, tt.password, tt.code), browser)
		wantCode(t, tt.name, err, "operator_sign_in_failed")
	}
	rec := httptest.NewRecorder()
	c := code(t, secret, f.Now)
	if got, err := f.ops.SignIn(ctx, rec, noCookie, f.req(t, "ZHAO", password, c), browser); err != nil || got.ID != o.ID {
		t.Fatalf("SignIn = %+v, %v", got, err)
	}
	ck := rec.Result().Cookies()
	if len(ck) != 1 || ck[0].Name != "unid_console" || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteStrictMode || ck[0].Path != "/" {
		t.Fatalf("cookie = %+v", ck)
	}
	// The same code again, even within its 30 seconds, is refused.
	_, err := f.ops.SignIn(ctx, httptest.NewRecorder(), noCookie, f.req(t, "zhao", password, c), browser)
	wantCode(t, "replayed code", err, "operator_sign_in_failed")
	f.Now = f.Now.Add(30 * time.Second)
	if _, err := f.ops.SignIn(ctx, httptest.NewRecorder(), noCookie, f.req(t, "zhao", password, code(t, secret, f.Now)), browser); err != nil {
		t.Fatalf("the next code: %v", err)
	}
	fails := f.Events(t, operator.ActionSignInFailed)
	// An unknown name is kept masked: it may be anything typed, a phone
	// number even.
	if len(fails) != 5 || fails[0].Actor != "" || fails[0].Subject != "no***" || fails[1].Actor != "operator:"+o.ID || fails[1].Subject != "Zhao" {
		t.Fatalf("sign_in_failed events = %+v", fails)
	}
	if ev := f.Events(t, operator.ActionSignIn); len(ev) != 2 || ev[0].Actor != "operator:"+o.ID {
		t.Fatalf("sign_in events = %+v", ev)
	}
}

func TestLockout(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, secret := f.setUp(t, "sun", operator.RoleAuditor)
	for range 5 {
		_, err := f.ops.SignIn(ctx, httptest.NewRecorder(), noCookie, f.req(t, "sun", "Wrong-Pass-2030", code(t, secret, f.Now)), browser)
		wantCode(t, "wrong password", err, "operator_sign_in_failed")
	}
	// Now even the right credentials are refused, and an unknown name
	// locks exactly the same way.
	_, err := f.ops.SignIn(ctx, httptest.NewRecorder(), noCookie, f.req(t, "sun", password, code(t, secret, f.Now)), browser)
	wantCode(t, "locked", err, "operator_locked")
	for range 5 {
		f.ops.SignIn(ctx, httptest.NewRecorder(), noCookie, f.req(t, "ghost", "Wrong-Pass-2030", "000000"), browser)
	}
	_, err = f.ops.SignIn(ctx, httptest.NewRecorder(), noCookie, f.req(t, "ghost", password, "000000"), browser)
	wantCode(t, "unknown name locked", err, "operator_locked")
	if ev := f.Events(t, operator.ActionLocked); len(ev) != 2 {
		t.Fatalf("locked events = %+v", ev)
	}
	f.Now = f.Now.Add(15 * time.Minute)
	if _, err := f.ops.SignIn(ctx, httptest.NewRecorder(), noCookie, f.req(t, "sun", password, code(t, secret, f.Now)), browser); err != nil {
		t.Fatalf("after the lockout window: %v", err)
	}
}

func TestSessionLimits(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, secret := f.setUp(t, "zhou", operator.RoleReviewer)
	signIn := func() *http.Request {
		rec := httptest.NewRecorder()
		if _, err := f.ops.SignIn(ctx, rec, noCookie, f.req(t, "zhou", password, code(t, secret, f.Now)), browser); err != nil {
			t.Fatal(err)
		}
		f.Now = f.Now.Add(30 * time.Second)
		return cookieOf(t, rec)
	}
	state := func(r *http.Request) operator.State {
		t.Helper()
		_, s, err := f.ops.Current(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// Idle: 15 minutes without a request ends it.
	r := signIn()
	f.Now = f.Now.Add(14 * time.Minute)
	if state(r) != operator.Live {
		t.Fatal("not live after 14 idle minutes")
	}
	f.Now = f.Now.Add(14 * time.Minute) // active 14 minutes ago: still live
	if state(r) != operator.Live {
		t.Fatal("activity did not keep the session")
	}
	f.Now = f.Now.Add(15 * time.Minute)
	if state(r) != operator.TimedOut {
		t.Fatal("live after 15 idle minutes")
	}
	// Absolute: 8 hours however active.
	r = signIn()
	for range 8 * 6 {
		if state(r) != operator.Live {
			t.Fatalf("ended early at %v", f.Now)
		}
		f.Now = f.Now.Add(10 * time.Minute)
	}
	if state(r) != operator.TimedOut {
		t.Fatal("live after 8 hours")
	}
	// The two above and the one set-up started.
	if n, err := f.ops.DeleteExpired(ctx); err != nil || n != 3 {
		t.Fatalf("DeleteExpired = %d, %v", n, err)
	}
	// Sign out.
	r = signIn()
	rec := httptest.NewRecorder()
	if err := f.ops.SignOut(ctx, rec, r, browser); err != nil {
		t.Fatal(err)
	}
	if state(r) != operator.None {
		t.Fatal("signed in after signing out")
	}
	if ck := rec.Result().Cookies(); len(ck) != 1 || ck[0].MaxAge >= 0 {
		t.Fatalf("sign-out cookie = %+v", ck)
	}
	if ev := f.Events(t, operator.ActionSignOut); len(ev) != 1 {
		t.Fatalf("sign_out events = %+v", ev)
	}
	// Signing in again in the same browser ends its old session.
	r = signIn()
	if _, err := f.ops.SignIn(ctx, httptest.NewRecorder(), r, f.req(t, "zhou", password, code(t, secret, f.Now)), browser); err != nil {
		t.Fatal(err)
	}
	if state(r) != operator.None {
		t.Fatal("the old console session outlived a new sign-in")
	}
}

func TestSecureCookie(t *testing.T) {
	f := newFixture(t)
	ops := operator.New(operator.Deps{Store: f.Store, Counters: f.Store, Hasher: f.Hasher, Protector: f.Protector, Audit: f.Audit, Now: f.Clock,
		Options: operator.Options{Secure: true}})
	if ops.CookieName() != "__Host-unid_console" {
		t.Fatalf("CookieName = %s", ops.CookieName())
	}
}

func TestAllow(t *testing.T) {
	reviewer := store.Operator{Roles: []string{operator.RoleReviewer}}
	auditor := store.Operator{Roles: []string{operator.RoleAuditor}}
	both := store.Operator{Roles: []string{operator.RoleReviewer, operator.RoleAuditor}}
	sysadmin := store.Operator{Roles: []string{operator.RoleSysadmin}}
	tests := []struct {
		name  string
		o     store.Operator
		roles []string
		code  string
	}{
		{"reviewer decides", reviewer, []string{operator.RoleReviewer}, ""},
		{"auditor reads", auditor, []string{operator.RoleReviewer, operator.RoleAuditor}, ""},
		{"auditor decides", auditor, []string{operator.RoleReviewer}, "operator_read_only"},
		{"reviewer and auditor decides", both, []string{operator.RoleReviewer}, ""},
		{"sysadmin reads reviews", sysadmin, []string{operator.RoleReviewer, operator.RoleAuditor}, "operator_role_forbidden"},
		{"any operator", sysadmin, nil, ""},
		{"no roles held", store.Operator{}, []string{operator.RoleAuditor}, "operator_role_forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := operator.Allow(tt.o, tt.roles...)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("Allow = %v", err)
				}
				return
			}
			wantCode(t, "Allow", err, tt.code)
		})
	}
}

// TestNameLockout: failures on a name from all networks together lock it
// for every network at NameThreshold, however few each network made; and
// a success does not forget them.
func TestNameLockout(t *testing.T) {
	st := sqlitetest.New(t)
	f := &fixture{Fixture: accounttest.New(t, st)}
	f.captchas = captcha.New(st, f.Clock, captcha.Options{})
	f.ops = operator.New(operator.Deps{
		Store: st, Counters: st, Captchas: f.captchas, Hasher: f.Hasher, Protector: f.Protector, Audit: f.Audit, Now: f.Clock,
		Options: operator.Options{NameThreshold: 7},
	})
	ctx := context.Background()
	_, secret := f.setUp(t, "wu", operator.RoleReviewer)
	for i := range 6 {
		from := flow.NewClient("192.0.2."+string(rune('1'+i/3)), "test")
		_, err := f.ops.SignIn(ctx, httptest.NewRecorder(), noCookie, f.req(t, "wu", "Wrong-Pass-2030", "123456"), from)
		wantCode(t, "wrong password", err, "operator_sign_in_failed")
	}
	if _, err := f.ops.SignIn(ctx, httptest.NewRecorder(), noCookie, f.req(t, "wu", password, code(t, secret, f.Now)), browser); err != nil {
		t.Fatalf("the 7th attempt, right: %v", err)
	}
	f.Now = f.Now.Add(30 * time.Second)
	_, err := f.ops.SignIn(ctx, httptest.NewRecorder(), noCookie, f.req(t, "wu", password, code(t, secret, f.Now)), flow.NewClient("192.0.2.9", "test"))
	wantCode(t, "name locked for a new network", err, "operator_locked")
}

// TestSignInCaptchaFirst: a missing or wrong captcha is refused before
// the name is looked at: nothing audited, nothing counted.
func TestSignInCaptchaFirst(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, secret := f.setUp(t, "zheng", operator.RoleReviewer)
	for range 6 {
		r := f.req(t, "zheng", "Wrong-Pass-2030", "123456")
		r.CaptchaAnswer = "x" + r.CaptchaAnswer
		_, err := f.ops.SignIn(ctx, httptest.NewRecorder(), noCookie, r, browser)
		wantCode(t, "wrong captcha", err, "captcha_wrong")
		r.CaptchaID = ""
		_, err = f.ops.SignIn(ctx, httptest.NewRecorder(), noCookie, r, browser)
		wantCode(t, "no captcha", err, "invalid_fields")
	}
	if ev := f.Events(t, operator.ActionSignInFailed); len(ev) != 0 {
		t.Fatalf("refused captchas audited sign-in failures: %+v", ev)
	}
	if _, err := f.ops.SignIn(ctx, httptest.NewRecorder(), noCookie, f.req(t, "zheng", password, code(t, secret, f.Now)), browser); err != nil {
		t.Fatalf("right credentials after refused captchas: %v", err)
	}
}

// TestDisableEnableReset: a disabled operator's console session ends and
// the right credentials no longer sign them in, until enabled; a reset
// (lost authenticator or password) makes the old password and
// authenticator useless and gives a new single-use set-up link. Each is
// audited with the command line as actor; an unknown name changes nothing.
func TestDisableEnableReset(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	o, secret := f.setUp(t, "zhao", operator.RoleReviewer)
	signIn := func(secret string) (*httptest.ResponseRecorder, error) {
		rec := httptest.NewRecorder()
		_, err := f.ops.SignIn(ctx, rec, noCookie, f.req(t, "zhao", password, code(t, secret, f.Now)), browser)
		f.Now = f.Now.Add(30 * time.Second)
		return rec, err
	}
	rec, err := signIn(secret)
	if err != nil {
		t.Fatal(err)
	}
	session := cookieOf(t, rec)

	if _, err := f.ops.Disable(ctx, "ZHAO", cli); err != nil {
		t.Fatal(err)
	}
	if _, state, _ := f.ops.Current(ctx, session); state == operator.Live {
		t.Error("the disabled operator's session still works")
	}
	if _, err := signIn(secret); err == nil {
		t.Error("a disabled operator signed in")
	}
	if _, err := f.ops.Enable(ctx, "zhao", cli); err != nil {
		t.Fatal(err)
	}
	if _, err := signIn(secret); err != nil {
		t.Fatalf("sign-in after enable: %v", err)
	}

	_, token, err := f.ops.Reset(ctx, "zhao", cli)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signIn(secret); err == nil {
		t.Error("the old password and authenticator still sign in after a reset")
	}
	k, err := f.ops.SetupKey(ctx, token)
	if err != nil || k.Secret == secret {
		t.Fatalf("the reset's set-up key: %v (same secret: %v)", err, k.Secret == secret)
	}
	if _, err := f.ops.Setup(ctx, httptest.NewRecorder(), noCookie, token, password, code(t, k.Secret, f.Now), browser); err != nil {
		t.Fatalf("set-up after a reset: %v", err)
	}
	f.Now = f.Now.Add(30 * time.Second)
	if _, err := signIn(k.Secret); err != nil {
		t.Fatalf("sign-in with the new authenticator: %v", err)
	}

	_, err = f.ops.Disable(ctx, "nobody", cli)
	wantCode(t, "disable an unknown operator", err, "operator_unknown")
	for _, action := range []string{operator.ActionDisabled, operator.ActionEnabled, operator.ActionReset} {
		if ev := f.Events(t, action); len(ev) != 1 || ev[0].Actor != "operator:cli:root" || ev[0].Subject != o.LoginName {
			t.Errorf("%s events = %+v", action, ev)
		}
	}
}
