package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"unid/internal/app/apptest"
)

// newCode waits for a code to phone that is not among the first seen
// messages of the outbox.
func newCode(t *testing.T, srv *apptest.Server, phone string, seen int) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		msgs := srv.Outbox(t)
		for _, m := range msgs[:len(msgs)-seen] {
			if m.To == phone && m.Params["code"] != "" {
				return m.Params["code"]
			}
		}
	}
	t.Fatalf("no new code reached %s", phone)
	return ""
}

func TestBrowserSetSecurityQuestions(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	srv.Browser(t).MustRegister(apptest.Zhang)
	p := &page{t: t, ctx: ctx, srv: srv}

	p.do(chromedp.Navigate(srv.URL + "/login"))
	p.login(apptest.Zhang.Login, apptest.Zhang.Password)
	p.do(chromedp.Navigate(srv.URL + "/settings"))
	p.click("settings-questions")
	p.waitPath("/settings/questions")
	if s := eventually[string](p, `document.getElementById("questions-status").textContent`); !strings.Contains(s, "尚未设置") {
		t.Errorf("status before = %q", s)
	}
	for i, q := range []string{"birthplace", "first_pet", "primary_school"} {
		n := string(rune('1' + i))
		p.do(chromedp.SetValue(chromedp.ID("question"+n), q))
		p.fill("answer"+n, []string{"济南", "Huang Huang", "实验小学"}[i])
	}
	p.click("questions-submit")
	status := eventually[string](p, `(document.getElementById("questions-status").textContent.indexOf("已设置") >= 0) && document.getElementById("questions-status").textContent`)
	if !strings.Contains(status, "已设置") {
		t.Errorf("status after = %q", status)
	}
	// The answers are gone from the page, and nothing shows them.
	if body := p.text("main"); strings.Contains(body, "Huang Huang") {
		t.Error("the page still shows an answer")
	}
}

func TestBrowserRecoverByPhone(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	srv.Browser(t).MustRegister(apptest.Zhang)
	srv.Clock.Advance(2 * time.Minute) // past the registration code's minute
	p := &page{t: t, ctx: ctx, srv: srv}
	const password = "Jinan#Spring2027"

	p.do(chromedp.Navigate(srv.URL + "/login"))
	p.click("forgot-password")
	p.waitPath("/recover")
	p.fill("identifier", apptest.Zhang.Login)
	p.solveCaptcha()
	p.click("start-submit")
	p.do(chromedp.WaitVisible(chromedp.ID("recover-proof")))
	seen := srv.OutboxLen(t)
	p.click("send-code")
	code := newCode(t, srv, apptest.Zhang.Phone, seen)
	if s := eventually[string](p, `document.getElementById("code-status").textContent`); !strings.Contains(s, "验证码已发送") {
		t.Errorf("code status = %q", s)
	}
	p.fill("code", code)
	p.click("proof-submit")
	p.do(chromedp.WaitVisible(chromedp.ID("recover-password")))
	p.fill("password", password)
	p.fill("password_confirm", password)
	p.click("password-submit")
	p.do(chromedp.WaitVisible(chromedp.ID("recover-done")))
	p.click("to-login-done")
	p.waitPath("/login")
	p.login(apptest.Zhang.Login, password)
}
