package app_test

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"unid/internal/account/accounttest"
	"unid/internal/app/apptest"
)

// TestBrowserSignInWhileBusy: in a burst of sign-ins beyond what the cores
// can hash, the login page says the system is busy, keeps the captcha and
// what was typed, and keeps its button off for the Retry-After it was
// given; then the same captcha, unchanged, signs in.
func TestBrowserSignInWhileBusy(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, busyHashes)
	srv.Browser(t).MustRegister(apptest.Zhang)
	p := &page{t: t, ctx: ctx, srv: srv}
	p.do(chromedp.Navigate(srv.URL + "/login"))
	p.waitPath("/login")
	p.fill("identifier", apptest.Zhang.Login)
	p.fill("password", apptest.Zhang.Password)
	p.solveCaptcha()
	captchaID := eventually[string](p, `document.getElementById("captcha-id").value`)

	stop := accounttest.Burst(t, srv.App.Hasher, 20)
	p.click("login-submit")
	eventually[bool](p, `document.getElementById("form-error").textContent.indexOf("系统繁忙") >= 0`)
	p.screenshot("login-busy")
	// The captcha and what was typed stay; the button stays off.
	eventually[bool](p, `document.getElementById("captcha-id").value === `+strconv.Quote(captchaID)+
		` && document.getElementById("captcha-answer").value !== "" && document.querySelector('input[name="password"]').value !== ""`+
		` && document.getElementById("login-submit").disabled`)

	// Once the burst is over and the wait has passed, the same form signs in.
	stop()
	p.click("login-submit")
	p.waitPath("/me")
}

// TestBrowserRegisterWhileBusy: the registration page, sent in a burst
// beyond what the cores hash, says the system is busy and keeps what was
// typed, the SMS code too, with the button off for the wait; the same
// form then registers.
func TestBrowserRegisterWhileBusy(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, busyHashes)
	srv.Browser(t).MustRegister(apptest.Zhang) // one hash: its time is known
	const phone, password = "13900005678", "Quancheng#Spring2031"
	p := &page{t: t, ctx: ctx, srv: srv}
	p.do(chromedp.Navigate(srv.URL + "/register"))
	code := p.fillRegistration("li_ming", password, phone)
	p.click("agreed")

	stop := accounttest.Burst(t, srv.App.Hasher, 20)
	p.click("register-submit")
	eventually[bool](p, `document.getElementById("form-error").textContent.indexOf("系统繁忙") >= 0`)
	p.screenshot("register-busy")
	eventually[bool](p, `document.querySelector('input[name="sms_code"]').value === `+strconv.Quote(code)+
		` && document.querySelector('input[name="password"]').value !== "" && document.getElementById("register-submit").disabled`)

	stop()
	p.click("register-submit")
	p.waitPath("/me")
}
