package apptest

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"unid/internal/audit"
	"unid/internal/operator"
	"unid/internal/testenv/browsertest"
)

// OperatorPassword is the password the console helpers choose at set-up.
const OperatorPassword = "Ops-Strong-Pass-2030"

// ConsoleOperator is an operator a test created and set up.
type ConsoleOperator struct {
	ID, Login, Password string
	Secret              string // the TOTP secret the set-up page showed
}

// CreateOperator creates an operator with roles as `unid operator create`
// does and returns their ID and one-time set-up link.
func (s *Server) CreateOperator(t testing.TB, login string, roles ...string) (id, setupLink string) {
	t.Helper()
	o, token, err := s.App.Operators.Create(context.Background(), login, roles, audit.Origin{Actor: audit.Operator("cli:test")})
	if err != nil {
		t.Fatalf("create operator %s: %v", login, err)
	}
	return o.ID, operator.SetupLink(s.URL, token)
}

// OperatorAPI creates an operator with roles, sets them up through the
// operator API as the set-up page's script does (password and a TOTP
// code), and returns a browser signed in to the console as them, and the
// operator as the audit log names them.
func (s *Server) OperatorAPI(t testing.TB, login string, roles ...string) (*Browser, string) {
	t.Helper()
	op, b := s.SetUpOperatorAPI(t, login, roles...)
	return b, audit.Operator(op.ID).String()
}

// SetUpOperatorAPI is OperatorAPI returning the operator as set up (with
// the TOTP secret, for codes of their own) and the signed-in browser.
func (s *Server) SetUpOperatorAPI(t testing.TB, login string, roles ...string) (ConsoleOperator, *Browser) {
	t.Helper()
	id, link := s.CreateOperator(t, login, roles...)
	_, token, _ := strings.Cut(link, "#")
	b := s.Browser(t)
	r := b.PostJSON("/api/admin/v1/setup/key", map[string]string{"token": token})
	if r.Status != http.StatusOK {
		t.Fatalf("set-up key: %d %s", r.Status, r.Body)
	}
	op := ConsoleOperator{ID: id, Login: login, Password: OperatorPassword}
	op.Secret, _ = r.JSON(t)["secret"].(string)
	r = b.PostJSON("/api/admin/v1/setup", map[string]string{"token": token, "password": OperatorPassword, "code": s.TOTP(t, op.Secret)})
	if r.Status != http.StatusOK {
		t.Fatalf("set-up: %d %s", r.Status, r.Body)
	}
	return op, b
}

// TOTP moves the server's clock on to the next 30-second step and returns
// the code of secret there, as an authenticator app would show it: unid
// accepts each code once, so every sign-in needs a step of its own.
func (s *Server) TOTP(t testing.TB, secret string) string {
	t.Helper()
	s.Clock.Advance(30 * time.Second)
	code, err := totp.GenerateCode(secret, s.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// ConsoleOperatorInBrowser creates an operator with roles, sets them up
// in the Chromium tab ctx through the set-up page (password and the QR
// code's secret), signs out and signs in again on the sign-in page with
// password and a TOTP code, and leaves the tab in the console. The
// integrator's end-to-end tests start a reviewer with it.
func (s *Server) ConsoleOperatorInBrowser(ctx context.Context, t testing.TB, login string, roles ...string) ConsoleOperator {
	t.Helper()
	id, link := s.CreateOperator(t, login, roles...)
	op := ConsoleOperator{ID: id, Login: login, Password: OperatorPassword}
	op.Secret = s.SetUpOperatorInBrowser(ctx, t, link)
	browsertest.Do(t, ctx, chromedp.WaitEnabled(chromedp.ID("sign-out")), chromedp.Click(chromedp.ID("sign-out")))
	browsertest.Until(t, ctx, `location.pathname === "/console/sign-in"`)
	s.SignInOperatorInBrowser(ctx, t, op)
	return op
}

// SetUpOperatorInBrowser opens a set-up link in the tab, reads the secret
// the page shows under the QR code, chooses OperatorPassword, confirms
// with a code and waits until the console shows. It returns the secret.
func (s *Server) SetUpOperatorInBrowser(ctx context.Context, t testing.TB, link string) string {
	t.Helper()
	browsertest.Do(t, ctx, chromedp.Navigate(link))
	secret := browsertest.Until(t, ctx, `(document.getElementById("setup-secret") || {}).textContent || ""`)
	fillIn(ctx, t, "password", OperatorPassword)
	fillIn(ctx, t, "password2", OperatorPassword)
	fillIn(ctx, t, "code", s.TOTP(t, secret))
	browsertest.Do(t, ctx, chromedp.WaitEnabled(chromedp.ID("setup-submit")), chromedp.Click(chromedp.ID("setup-submit")))
	browsertest.Until(t, ctx, `location.pathname.indexOf("/console/") === 0 && location.pathname !== "/console/setup" && document.readyState === "complete" && !!document.getElementById("operator-name")`)
	return secret
}

// SignInOperatorInBrowser signs op in on the console's sign-in page with a
// fresh TOTP code and waits until the console shows.
func (s *Server) SignInOperatorInBrowser(ctx context.Context, t testing.TB, op ConsoleOperator) {
	t.Helper()
	if !strings.HasPrefix(browsertest.Until(t, ctx, `location.pathname`), "/console/sign-in") {
		browsertest.Do(t, ctx, chromedp.Navigate(s.URL+"/console/sign-in"))
	}
	fillIn(ctx, t, "login", op.Login)
	fillIn(ctx, t, "password", op.Password)
	fillIn(ctx, t, "code", s.TOTP(t, op.Secret))
	s.SolveConsoleCaptcha(ctx, t)
	browsertest.Do(t, ctx, chromedp.WaitEnabled(chromedp.ID("sign-in-submit")), chromedp.Click(chromedp.ID("sign-in-submit")))
	browsertest.Until(t, ctx, `location.pathname.indexOf("/console/") === 0 && location.pathname.indexOf("/console/sign-in") !== 0 && document.readyState === "complete" && !!document.getElementById("operator-name")`)
}

// SolveConsoleCaptcha types into the console's sign-in page the answer of
// the captcha it shows, read from the dev route. It waits for the page to
// have loaded a captcha, and for a new one when the last attempt used up
// the one it had.
func (s *Server) SolveConsoleCaptcha(ctx context.Context, t testing.TB) {
	t.Helper()
	id := browsertest.Until(t, ctx, `(function(){var i=document.getElementById("captcha-id"), m=document.getElementById("captcha-image"); return i && i.value && m.src.indexOf(i.value) >= 0 && i.value !== window.__usedCaptcha ? i.value : ""})()`)
	fillIn(ctx, t, "captcha_answer", s.CaptchaAnswer(t, id))
	browsertest.Until(t, ctx, `(window.__usedCaptcha = `+strconv.Quote(id)+`) !== ""`)
}

// fillIn types v into the input named name, emptied first.
func fillIn(ctx context.Context, t testing.TB, name, v string) {
	t.Helper()
	sel := chromedp.CSS(`input[name="` + name + `"]`)
	browsertest.Do(t, ctx, chromedp.WaitVisible(sel))
	browsertest.Until(t, ctx, `(document.querySelector('input[name="`+name+`"]').value = "") === ""`)
	browsertest.Do(t, ctx, chromedp.SendKeys(sel, v))
}
