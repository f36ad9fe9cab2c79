package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"unid/internal/app/apptest"
)

// TestBrowserChangePasswordAtPhoneWidth walks a citizen on a phone screen
// from the personal space into the user center: the full phone number
// shown after the password is entered again in the page's dialog, then a
// password change that signs out the other devices, and a sign-in with the
// new password.
func TestBrowserChangePasswordAtPhoneWidth(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	p := &page{t: t, ctx: ctx, srv: srv}
	srv.Browser(t).MustRegister(apptest.Zhang)
	elsewhere := srv.Browser(t)
	elsewhere.MustLogin(apptest.Zhang.Login, apptest.Zhang.Password)
	const newPassword = "Taishan#Sunrise2031"

	p.do(chromedp.Navigate(srv.URL + "/login"))
	p.login(apptest.Zhang.Login, apptest.Zhang.Password)
	p.click("tile-settings")
	p.waitPath("/settings")
	p.click("settings-profile")
	p.waitPath("/settings/profile")
	if got := p.text("#profile-phone"); got != "138****5678" {
		t.Errorf("phone shown as %q, want it masked", got)
	}

	// Later than the re-authentication window: the page asks for the
	// password, then shows the number in full.
	srv.Clock.Advance(6 * time.Minute)
	p.click("reveal")
	p.do(chromedp.WaitVisible(chromedp.ID("reauth-password")))
	p.fill("password", "Wrong#Password1")
	p.click("reauth-submit")
	p.do(chromedp.WaitVisible(chromedp.ID("reauth-password-error")))
	if msg := p.text("#reauth-password-error"); !strings.Contains(msg, "密码错误") {
		t.Errorf("wrong password in the dialog: %q", msg)
	}
	// The dialog empties the field after a wrong password.
	p.fill("password", apptest.Zhang.Password)
	p.click("reauth-submit")
	eventually[bool](p, `document.getElementById("profile-phone").textContent === "13812345678"`)
	p.screenshot("settings-profile-revealed")

	// The password change.
	p.do(chromedp.Navigate(srv.URL + "/settings/password"))
	p.waitPath("/settings/password")
	p.fill("current_password", apptest.Zhang.Password)
	p.fill("password", newPassword)
	p.fill("password_confirm", newPassword+"x")
	p.click("password-submit")
	p.do(chromedp.WaitVisible(chromedp.ID("password_confirm-error")))
	// chromedp's Clear leaves a password input as it is.
	if _, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.getElementById("password_confirm").value = ""`)); err != nil {
		t.Fatal(err)
	}
	p.fill("password_confirm", newPassword)
	p.click("password-submit")
	eventually[bool](p, `document.getElementById("password-status").textContent.indexOf("密码已修改") >= 0`)
	if fits, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)); err != nil || !fits {
		t.Errorf("the password page scrolls sideways on a phone (%v)", err)
	}
	p.screenshot("settings-password-changed")

	// This browser is still signed in; the other one is not.
	p.do(chromedp.Navigate(srv.URL + "/me"))
	p.waitPath("/me")
	if r := elsewhere.Get("/api/v1/me"); r.Status != 401 {
		t.Errorf("the other browser: %d, want signed out", r.Status)
	}
	p.logout()
	p.login(apptest.Zhang.Login, newPassword)
}

// TestBrowserChangePhoneAtPhoneWidth: the phone change on a phone screen —
// a bad number refused on the page, a code to the new number, the change,
// and the new number shown masked; the old number is told.
func TestBrowserChangePhoneAtPhoneWidth(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	p := &page{t: t, ctx: ctx, srv: srv}
	srv.Browser(t).MustRegister(apptest.Zhang)
	const newPhone = "13987654321"

	p.do(chromedp.Navigate(srv.URL + "/login"))
	p.login(apptest.Zhang.Login, apptest.Zhang.Password)
	p.do(chromedp.Navigate(srv.URL + "/settings/phone"))
	p.waitPath("/settings/phone")

	p.fill("phone", "1234")
	p.solveCaptcha()
	p.click("send-sms")
	p.do(chromedp.WaitVisible(chromedp.ID("phone-error")))

	// A fresh page: the refused request used up the captcha.
	p.do(chromedp.Navigate(srv.URL + "/settings/phone"))
	p.waitPath("/settings/phone")
	p.fill("phone", newPhone)
	p.solveCaptcha()
	p.click("send-sms")
	eventually[bool](p, `document.getElementById("sms-status").textContent.length > 0`)
	p.fill("sms_code", srv.WaitCode(t, newPhone))
	p.click("phone-submit")
	eventually[bool](p, `document.getElementById("phone-status").textContent.indexOf("139****4321") >= 0`)
	if fits, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)); err != nil || !fits {
		t.Errorf("the phone page scrolls sideways on a phone (%v)", err)
	}
	told := false
	for _, m := range srv.Outbox(t) {
		told = told || m.To == apptest.Zhang.Phone && strings.Contains(m.Text, "改绑")
	}
	if !told {
		t.Error("the old number was not told")
	}
	srv.Browser(t).MustLogin(newPhone, apptest.Zhang.Password)
}
