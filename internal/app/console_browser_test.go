package app_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"unid/internal/app/apptest"
)

// TestBrowserOperatorSetupSignInAndQueue: an operator created on the
// command line opens the set-up link, sees the QR code drawn by unid,
// chooses a password and confirms the authenticator; signs out and in
// again with password + TOTP (a used code is refused); sees the review
// queue with their name and roles; and after 15 idle minutes is sent to
// the sign-in page, which says why.
func TestBrowserOperatorSetupSignInAndQueue(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	p := &page{t: t, ctx: ctx, srv: srv}

	// Nobody signed in: the console sends the browser to sign in.
	p.do(chromedp.Navigate(srv.URL + "/console/reviews"))
	p.waitPath("/console/sign-in")

	_, link := srv.CreateOperator(t, "wang_shenhe", "reviewer", "auditor")
	p.do(chromedp.Navigate(link))
	secret := eventually[string](p, `(document.getElementById("setup-secret") || {}).textContent || ""`)
	if got := p.text("#setup-login"); got != "wang_shenhe" {
		t.Errorf("set-up page names %q", got)
	}
	if !eventually[bool](p, `(function(){var i=document.getElementById("setup-qr"); return i.complete && i.naturalWidth > 0 && i.src.indexOf("data:image/png;base64,") === 0})()`) {
		t.Fatal("no QR code")
	}
	// A wrong code is answered on the page; the link still works.
	p.fill("password", apptest.OperatorPassword)
	p.fill("password2", apptest.OperatorPassword)
	p.fill("code", "000000")
	p.click("setup-submit")
	p.do(chromedp.WaitVisible(chromedp.ID("form-error")))
	if msg := p.text("#form-error"); !strings.Contains(msg, "动态验证码不正确") {
		t.Errorf("wrong code error = %q", msg)
	}
	p.fill("code", srv.TOTP(t, secret))
	p.click("setup-submit")
	p.waitPath("/console/dashboard") // every operator lands on the dashboard
	header := p.text("header")
	for _, want := range []string{"wang_shenhe", "审核员", "审计员", "退出"} {
		if !strings.Contains(header, want) {
			t.Errorf("header lacks %q: %s", want, header)
		}
	}
	p.do(chromedp.Navigate(srv.URL + "/console/reviews"))
	p.do(chromedp.WaitVisible(chromedp.ID("reviews-empty")))
	if nav := p.text("nav"); !strings.Contains(nav, "审核队列") {
		t.Errorf("navigation = %q", nav)
	}

	// The set-up link works once.
	p.do(chromedp.Navigate(link))
	p.do(chromedp.WaitVisible(chromedp.ID("setup-invalid")))

	// Sign out, then in with password + TOTP; a used code is refused.
	p.do(chromedp.Navigate(srv.URL + "/console/reviews"))
	p.click("sign-out")
	p.waitPath("/console/sign-in")
	// The page shows an image captcha; a wrong answer is said on the page,
	// and a new image comes.
	if !eventually[bool](p, `(function(){var i=document.getElementById("captcha-image"); return i.complete && i.naturalWidth === 240 && i.src.indexOf("/api/v1/captchas/") > 0})()`) {
		t.Fatal("no captcha image")
	}
	firstCaptcha := eventually[string](p, `document.getElementById("captcha-id").value`)
	code := srv.TOTP(t, secret)
	p.fill("login", "wang_shenhe")
	p.fill("password", apptest.OperatorPassword)
	p.fill("code", code)
	p.fill("captcha_answer", "99999999")
	p.click("sign-in-submit")
	p.do(chromedp.WaitVisible(chromedp.ID("form-error")))
	if msg := p.text("#form-error"); !strings.Contains(msg, "图片验证码不正确") {
		t.Errorf("wrong captcha error = %q", msg)
	}
	eventually[bool](p, `document.getElementById("captcha-id").value !== "" && document.getElementById("captcha-id").value !== `+strconv.Quote(firstCaptcha))
	p.fill("code", code) // the page empties it after a refusal
	srv.SolveConsoleCaptcha(ctx, t)
	p.click("sign-in-submit")
	p.waitPath("/console/dashboard")
	p.click("sign-out")
	p.waitPath("/console/sign-in")
	p.fill("login", "wang_shenhe")
	p.fill("password", apptest.OperatorPassword)
	p.fill("code", code) // the same code again
	srv.SolveConsoleCaptcha(ctx, t)
	p.click("sign-in-submit")
	p.do(chromedp.WaitVisible(chromedp.ID("form-error")))
	if msg := p.text("#form-error"); !strings.Contains(msg, "登录名、密码或动态验证码不正确") {
		t.Errorf("replayed code error = %q", msg)
	}
	srv.SignInOperatorInBrowser(ctx, t, apptest.ConsoleOperator{Login: "wang_shenhe", Password: apptest.OperatorPassword, Secret: secret})

	// 15 minutes idle: the next page is the sign-in page, saying why.
	srv.Clock.Advance(15*time.Minute + time.Second)
	p.do(chromedp.Navigate(srv.URL + "/console/reviews"))
	p.waitPath("/console/sign-in")
	p.do(chromedp.WaitVisible(chromedp.ID("expired")))
	if msg := p.text("#expired"); !strings.Contains(msg, "15 分钟") {
		t.Errorf("expiry notice = %q", msg)
	}
}

// TestBrowserConsoleHelper is the helper the end-to-end review tests start
// a reviewer with.
func TestBrowserConsoleHelper(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	op := srv.ConsoleOperatorInBrowser(ctx, t, "li_shenhe", "reviewer")
	if op.Secret == "" || op.ID == "" {
		t.Fatalf("operator = %+v", op)
	}
	p := &page{t: t, ctx: ctx, srv: srv}
	p.waitPath("/console/dashboard")
	if name := p.text("#operator-name"); name != "li_shenhe" {
		t.Errorf("signed in as %q", name)
	}
}
