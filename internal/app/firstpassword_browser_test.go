package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"unid/internal/app/apptest"
)

// TestBrowserFirstPasswordAtPhoneWidth: someone who registered with
// Alipay, without a password, sets one under 账号设置 → 修改密码 on a phone
// screen. The page asks for no current password; signed in too long ago,
// it offers to confirm through Alipay and comes back; then the new
// password signs in.
func TestBrowserFirstPasswordAtPhoneWidth(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	p := &page{t: t, ctx: ctx, srv: srv}
	const loginName, phone = "shezhi_mima", "13700002222"
	key := p.alipayRegister(loginName, phone)

	p.do(chromedp.Navigate(srv.URL + "/settings/password"))
	p.waitPath("/settings/password")
	if h := p.text("h1"); h != "设置登录密码" {
		t.Errorf("heading %q, want 设置登录密码", h)
	}
	if n, err := chromedp.Run(p.ctx, chromedp.Evaluate[int](`document.querySelectorAll('input[name="current_password"]').length`)); err != nil || n != 0 {
		t.Errorf("the page asks for a current password the account does not have (%d, %v)", n, err)
	}

	// Later than the re-authentication window: Alipay confirms the person.
	srv.Clock.Advance(6 * time.Minute)
	setPassword := func() {
		p.fill("password", apptest.GoodPassword)
		p.fill("password_confirm", apptest.GoodPassword)
		p.click("password-submit")
	}
	setPassword()
	p.do(chromedp.WaitVisible(chromedp.ID("password-reauth-link")))
	if s := p.text("#form-error"); !strings.Contains(s, "支付宝") {
		t.Errorf("the page says %q when the sign-in is too old", s)
	}
	p.screenshot("settings-password-first-reauth")
	p.click("password-reauth-link")
	p.alipayUser(key)
	p.waitPath("/settings/password")

	setPassword()
	eventually[bool](p, `document.getElementById("password-status").textContent.indexOf("登录密码已设置") >= 0`)
	if fits, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)); err != nil || !fits {
		t.Errorf("the password page scrolls sideways on a phone (%v)", err)
	}
	p.screenshot("settings-password-first-set")

	p.do(chromedp.Navigate(srv.URL + "/me"))
	p.waitPath("/me")
	p.logout()
	p.login(loginName, apptest.GoodPassword)
	if s := p.text("main"); !strings.Contains(s, loginName) {
		t.Errorf("signed in with the new password but the personal space is not %s's:\n%s", loginName, s)
	}
}
