package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"unid/internal/app/apptest"
	"unid/internal/testenv/browsertest"
)

// newTab starts a headless Chromium with a fresh profile and returns a tab.
func newTab(t *testing.T) context.Context {
	return browsertest.Tab(t, chromedp.WindowSize(390, 844)) // a phone screen
}

// page drives one tab against one server, failing the test on any error.
type page struct {
	t   *testing.T
	ctx context.Context
	srv *apptest.Server
}

func (p *page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	browsertest.Do(p.t, p.ctx, steps...)
}

// click waits until the element with id is enabled (app.js enables buttons
// once it runs) and clicks it.
func (p *page) click(id string) {
	p.t.Helper()
	p.do(chromedp.WaitEnabled(chromedp.ID(id)), chromedp.Click(chromedp.ID(id)))
}

func (p *page) text(sel string) string {
	p.t.Helper()
	return browsertest.Text(p.t, p.ctx, sel)
}

// fill types v into the input named name, replacing what it held:
// chromedp's Clear resets only the value attribute, not what a user (or an
// earlier fill) typed, so the value is emptied by script first.
func (p *page) fill(name, v string) {
	p.t.Helper()
	sel := chromedp.CSS(`input[name="` + name + `"]`)
	p.do(chromedp.WaitVisible(sel))
	eventually[bool](p, `(document.querySelector('input[name="`+name+`"]').value = "") === ""`)
	p.do(chromedp.SendKeys(sel, v))
}

// eventually evaluates expr until it is truthy, riding out page loads that
// destroy the context it ran in, and returns its value.
func eventually[T comparable](p *page, expr string) T {
	p.t.Helper()
	var zero T
	var last error
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
		if err == nil && v != zero {
			return v
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	loc, _ := chromedp.Run(p.ctx, chromedp.Location())
	body, _ := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS("body")))
	p.t.Fatalf("never true: %s (at %s, last error %v)\npage text: %s", expr, loc, last, body)
	return zero
}

// solveCaptcha waits for the page's captcha and types its answer, read from
// the dev route as a person would read the image.
func (p *page) solveCaptcha() {
	p.t.Helper()
	id := eventually[string](p, `(document.getElementById("captcha-id") || {}).value || ""`)
	answer := p.srv.CaptchaAnswer(p.t, id)
	sel := chromedp.ID("captcha-answer")
	p.do(chromedp.Clear(sel), chromedp.SendKeys(sel, answer))
}

// waitPath waits until the tab is at path.
func (p *page) waitPath(path string) {
	p.t.Helper()
	eventually[bool](p, `location.pathname === "`+path+`" && document.readyState === "complete"`)
}

// fillRegistration fills the registration page's form, its SMS code
// asked for and typed in, and returns the code; the agreement is left
// unticked.
func (p *page) fillRegistration(loginName, password, phone string) (code string) {
	p.t.Helper()
	p.waitPath("/register")
	p.fill("login_name", loginName)
	p.fill("password", password)
	p.fill("password_confirm", password)
	p.fill("phone", phone)
	p.solveCaptcha()
	p.click("send-sms")
	code = p.srv.WaitCode(p.t, phone)
	p.fill("sms_code", code)
	return code
}

func (p *page) login(identifier, password string) {
	p.t.Helper()
	p.fill("identifier", identifier)
	p.fill("password", password)
	p.solveCaptcha()
	p.click("login-submit")
	p.waitPath("/me")
}

func (p *page) logout() {
	p.t.Helper()
	p.click("logout")
	p.waitPath("/login")
}

func TestBrowserRegisterLogoutLoginByPhoneThenInEnglish(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	p := &page{t: t, ctx: ctx, srv: srv}
	const phone, password = "13912345678", "Jinan@Spring2026"

	// Register through the pages.
	p.do(chromedp.Navigate(srv.URL + "/"))
	p.waitPath("/login")
	if banner := p.text("#dev-banner"); !strings.Contains(banner, "开发模式") {
		t.Errorf("dev banner = %q", banner)
	}
	p.click("to-register")
	p.fillRegistration("li_ming", password, phone)
	// Registration needs the explicit agreement: without it the page says so.
	p.click("register-submit")
	p.do(chromedp.WaitVisible(chromedp.ID("agreed-error")))
	if msg := p.text("#agreed-error"); !strings.Contains(msg, "同意") {
		t.Errorf("agreement error = %q", msg)
	}
	p.click("agreed")
	p.click("register-submit")
	p.waitPath("/me")
	space := p.text("main")
	for _, want := range []string{"li_ming", "139****5678", "未实名认证", "我的办件", "我的咨询", "我的消息", "我的投诉", "我的收藏", "账号设置", "企业办事申请授权"} {
		if !strings.Contains(space, want) {
			t.Errorf("personal space lacks %q:\n%s", want, space)
		}
	}
	// 进入企业空间 only for someone with a role in an enterprise.
	if strings.Contains(space, "进入企业空间") {
		t.Errorf("a new account's personal space offers 进入企业空间")
	}
	if strings.Contains(space, phone) {
		t.Errorf("personal space shows the phone unmasked")
	}

	// Log out, log in by phone.
	p.logout()
	p.login(phone, password)
	if !strings.Contains(p.text("main"), "139****5678") {
		t.Errorf("signed in by phone but the personal space is not li_ming's")
	}

	// A wrong password is answered on the page, and a fresh captcha appears.
	p.logout()
	p.fill("identifier", "li_ming")
	p.fill("password", "Wrong#Password9")
	p.solveCaptcha()
	p.click("login-submit")
	p.do(chromedp.WaitVisible(chromedp.ID("form-error")))
	if msg := p.text("#form-error"); !strings.Contains(msg, "账号或密码错误") {
		t.Errorf("wrong password message = %q", msg)
	}

	// Switch to English and log in by login name.
	p.click("lang-switch")
	eventually[bool](p, `document.documentElement.lang === "en" && document.readyState === "complete"`)
	p.login("li_ming", password)
	space = p.text("main")
	for _, want := range []string{"li_ming", "Not verified", "My cases", "My messages"} {
		if !strings.Contains(space, want) {
			t.Errorf("English personal space lacks %q:\n%s", want, space)
		}
	}
}
