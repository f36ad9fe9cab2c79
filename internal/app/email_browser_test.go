package app_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"unid/internal/account"
	"unid/internal/app/apptest"
)

// TestBrowserBindEmail binds an email address in the user center at phone
// width, the code read from the dev outbox as a person reads their mail.
func TestBrowserBindEmail(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	srv.Browser(t).MustRegister(apptest.Zhang)
	p := &page{t: t, ctx: ctx, srv: srv}
	const email = "zhangsan@example.com"

	p.do(chromedp.Navigate(srv.URL + "/login"))
	p.login(apptest.Zhang.Login, apptest.Zhang.Password)
	p.do(chromedp.Navigate(srv.URL + "/settings"))
	p.waitPath("/settings")
	p.click("settings-email")
	p.waitPath("/settings/email")
	if cur := p.text("#email-current"); cur != "未绑定" {
		t.Errorf("current address = %q, want 未绑定", cur)
	}

	// A bad address is answered next to the field, before any mail.
	p.fill("email", "zhangsan@")
	p.click("send-email-code")
	p.do(chromedp.WaitVisible(chromedp.ID("email-error")))
	// chromedp.Clear does not empty an input of type email: empty it by
	// script, then type as a person would.
	eventually[bool](p, `(document.getElementById("email").value = "") === ""`)
	p.do(chromedp.SendKeys(chromedp.ID("email"), email))
	p.click("send-email-code")
	code := srv.WaitCode(t, email)
	eventually[bool](p, `document.getElementById("email-status").textContent.indexOf("已发送") >= 0`)
	p.fill("email_code", code)
	p.click("email-submit")
	masked := account.MaskEmail(email)
	eventually[bool](p, `document.getElementById("email-current").textContent === "`+masked+`"`)
	if done := p.text("#email-done"); !strings.Contains(done, masked) {
		t.Errorf("confirmation = %q", done)
	}
	if wide := eventually[string](p, `document.documentElement.scrollWidth <= window.innerWidth ? "fits" : "too wide"`); wide != "fits" {
		t.Errorf("the section is wider than the phone: %s", wide)
	}

	// After a reload the page shows the bound address and offers a change.
	p.do(chromedp.Reload())
	p.waitPath("/settings/email")
	if cur := p.text("#email-current"); cur != masked {
		t.Errorf("after reload current = %q, want %q", cur, masked)
	}
	if btn := p.text("#email-submit"); btn != "更换邮箱" {
		t.Errorf("submit button = %q, want 更换邮箱", btn)
	}
}
