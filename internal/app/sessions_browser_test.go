package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"unid/internal/app/apptest"
)

// TestBrowserSignOutAnotherDevice: at phone width, a person signed in on a
// phone (WeChat) and in this browser goes from the personal space to
// "devices and activity", sees both, this one marked, signs the phone out,
// and sees their sign-ins in the history.
func TestBrowserSignOutAnotherDevice(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	p := &page{t: t, ctx: ctx, srv: srv}
	phone := browserAs(t, srv, phoneWeChat)
	phone.MustRegister(apptest.Zhang)

	p.do(chromedp.Navigate(srv.URL + "/login"))
	p.login(apptest.Zhang.Login, apptest.Zhang.Password)
	p.click("tile-settings")
	p.waitPath("/settings")
	p.click("settings-sessions")
	p.waitPath("/settings/sessions")

	eventually[bool](p, `document.getElementById("sessions-list").getAttribute("data-loaded") === "true"`)
	if n := eventually[float64](p, `document.querySelectorAll("#sessions-list li").length`); n != 2 {
		t.Fatalf("%v sessions shown, want 2", n)
	}
	if got := p.text(`#sessions-list li[data-current="true"] h3`); !strings.Contains(got, "本设备") {
		t.Errorf("this browser's session reads %q, without 本设备", got)
	}
	if got := p.text(`#sessions-list li[data-current="false"] h3`); got != "微信 8 · iOS 17.2 手机" {
		t.Errorf("the phone reads %q", got)
	}
	eventually[bool](p, `document.getElementById("history-list").getAttribute("data-loaded") === "true"`)
	if got := p.text("#history-list"); !strings.Contains(got, "注册账号") || !strings.Contains(got, "本机网络") {
		t.Errorf("the history reads %q", got)
	}
	p.screenshot("settings-sessions")

	end := chromedp.CSS(`#sessions-list li[data-current="false"] .session-end`)
	p.do(chromedp.WaitEnabled(end), chromedp.Click(end))
	eventually[bool](p, `document.querySelectorAll("#sessions-list li").length === 1`)
	if got := p.text("#sessions-status"); got != "已退出该设备。" {
		t.Errorf("status after signing the phone out: %q", got)
	}
	if r := phone.Get("/api/v1/me"); r.Status != http.StatusUnauthorized {
		t.Errorf("the phone afterwards: %d, want 401", r.Status)
	}
	// The history now has the sign-out, from this page.
	eventually[bool](p, `document.querySelector('#history-list li[data-action="session.logout"]') !== null`)
	if got := p.text(`#history-list li[data-action="session.logout"] h3`); got != "在“登录设备与记录”中退出" {
		t.Errorf("the sign-out reads %q in the history", got)
	}
	if disabled := eventually[bool](p, `document.getElementById("sessions-end-others").disabled`); !disabled {
		t.Error("sign out all others is offered with no other device")
	}
}
