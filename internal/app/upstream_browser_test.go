package app_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"unid/internal/app/apptest"
)

// alipayPage is the development stand-in for Alipay's authorization page.
const alipayPage = "/dev/alipay/publicAppAuthorize.htm"

// alipayUser waits for the stand-in of Alipay's authorization page and
// chooses the fictitious Alipay user key there, or the first one for "";
// it returns the key chosen.
func (p *page) alipayUser(key string) string {
	p.t.Helper()
	p.waitPath(alipayPage)
	sel := `button[data-user], form[data-user] button`
	if key != "" {
		sel = `button[data-user="` + key + `"], form[data-user="` + key + `"] button`
	}
	key = eventually[string](p, `(function () {
		var b = document.querySelector('`+sel+`');
		if (!b) { return ''; }
		var f = b.getAttribute('data-user') ? b : b.form;
		return f.getAttribute('data-user');
	}())`)
	p.do(chromedp.Click(chromedp.CSS(sel)))
	return key
}

// alipayRegister walks 支付宝快捷注册 from the registration page: a user
// at Alipay, then the rest of a new account on /upstream/continue, without
// a password, into the personal space. It returns the Alipay user key.
func (p *page) alipayRegister(loginName, phone string) string {
	p.t.Helper()
	p.do(chromedp.Navigate(p.srv.URL + "/register"))
	p.click("alipay-register")
	key := p.alipayUser("")
	p.waitPath("/upstream/continue")
	if s := eventually[string](p, `document.getElementById("continue-verified").textContent`); !strings.Contains(s, "已通过支付宝验证") {
		p.t.Errorf("continue page says %q", s)
	}
	p.fill("login_name", loginName)
	p.fill("phone", phone)
	p.solveCaptcha()
	p.click("send-sms")
	p.fill("sms_code", p.srv.WaitCode(p.t, phone))
	p.click("agreed")
	p.click("register-submit")
	p.waitPath("/me")
	if s := p.text("main"); !strings.Contains(s, loginName) {
		p.t.Errorf("personal space after registering with Alipay is not %s's:\n%s", loginName, s)
	}
	return key
}

// TestBrowserAlipay registers with Alipay at phone width in Chinese, signs
// out and in again with Alipay, finds that Alipay cannot be unbound while
// it is the only way in, and recovers the password with Alipay: the new
// password then signs in.
func TestBrowserAlipay(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	p := &page{t: t, ctx: ctx, srv: srv}
	const loginName, phone = "zhi_fubao", "13700001111"

	key := p.alipayRegister(loginName, phone)
	if s := p.text("main"); !strings.Contains(s, "137****1111") {
		t.Errorf("personal space after registering with Alipay:\n%s", s)
	}

	// The account has no password: Alipay is its only way in.
	p.do(chromedp.Navigate(srv.URL + "/settings/links"))
	eventually[bool](p, `document.getElementById("links-list").getAttribute("data-loaded") === "true"`)
	if s := p.text("#link-alipay"); !strings.Contains(s, "支付宝") || !strings.Contains(s, "已绑定") {
		t.Errorf("linked accounts: %q", s)
	}
	p.click("unbind-alipay")
	p.click("unbind-confirm-alipay")
	if s := eventually[string](p, `document.getElementById("form-error").textContent`); !strings.Contains(s, "唯一的登录方式") {
		t.Errorf("unbinding the only way in: %q", s)
	}
	// The password page sets a first one.
	if href := eventually[string](p, `document.getElementById("links-set-password").getAttribute("href")`); href != "/settings/password" {
		t.Errorf("set-a-password link goes to %q", href)
	}

	// Out, and in again with Alipay; a cancel at Alipay is said on the
	// login page.
	p.do(chromedp.Navigate(srv.URL + "/me"))
	p.logout()
	p.click("upstream-alipay")
	p.waitPath(alipayPage)
	p.click("alipay-cancel")
	p.waitPath("/login")
	if s := eventually[string](p, `document.getElementById("form-error").textContent`); s == "" {
		t.Error("login page does not say that Alipay was cancelled")
	}
	p.click("upstream-alipay")
	p.alipayUser(key)
	p.waitPath("/me")
	if s := p.text("main"); !strings.Contains(s, loginName) {
		t.Errorf("signed in with Alipay but the personal space is not %s's:\n%s", loginName, s)
	}

	// 忘记密码 → quick recovery with Alipay → straight to the new password.
	p.logout()
	p.click("forgot-password")
	p.waitPath("/recover")
	p.click("upstream-alipay")
	p.alipayUser(key)
	p.waitPath("/recover")
	p.do(chromedp.WaitVisible(chromedp.ID("recover-password")))
	if h := eventually[string](p, `location.hash === "" ? "none" : location.hash`); h != "none" {
		t.Errorf("the recovery flow stays in the address bar: %q", h)
	}
	p.finishRecovery(loginName, recoveredPassword)
}

// TestBrowserAlipayBindsAnExistingAccount: someone with an account who
// signs in with Alipay for the first time binds it on /upstream/continue
// with their password, finds it under 账号绑定, and unbinds it there.
func TestBrowserAlipayBindsAnExistingAccount(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	srv.Browser(t).MustRegister(apptest.Zhang)
	p := &page{t: t, ctx: ctx, srv: srv}

	p.do(chromedp.Navigate(srv.URL + "/login"))
	p.click("upstream-alipay")
	p.alipayUser("")
	p.waitPath("/upstream/continue")
	p.click("choose-bind")
	p.fill("identifier", apptest.Zhang.Login)
	p.do(chromedp.SendKeys(chromedp.ID("bind-password"), apptest.Zhang.Password))
	p.solveCaptcha()
	p.click("bind-submit")
	p.waitPath("/me")
	if s := p.text("main"); !strings.Contains(s, apptest.Zhang.Login) {
		t.Errorf("bound and signed in, but the personal space is not %s's:\n%s", apptest.Zhang.Login, s)
	}

	p.do(chromedp.Navigate(srv.URL + "/settings"))
	p.click("settings-links")
	p.waitPath("/settings/links")
	eventually[bool](p, `document.getElementById("links-list").getAttribute("data-loaded") === "true"`)
	if s := p.text("#link-alipay"); !strings.Contains(s, "已绑定") || !strings.Contains(s, "绑定时间") {
		t.Errorf("linked accounts: %q", s)
	}
	p.click("unbind-alipay")
	p.click("unbind-confirm-alipay")
	if s := eventually[string](p, `document.getElementById("links-status").textContent`); !strings.Contains(s, "已解除与支付宝的绑定") {
		t.Errorf("after unbinding: %q", s)
	}
	eventually[bool](p, `document.querySelector('#link-alipay[data-linked="false"] #bind-alipay') !== null`)
}
