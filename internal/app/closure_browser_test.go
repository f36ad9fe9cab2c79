package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"unid/internal/app/apptest"
	"unid/internal/export"
	"unid/internal/store"
)

// TestBrowserExportAndCloseAtPhoneWidth walks a citizen on a phone screen
// to the user center's 注销账号: the statement with the cooling-off in
// days, the download of their data after the password dialog, a wrong
// login name refused, then the closure.
func TestBrowserExportAndCloseAtPhoneWidth(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	p := &page{t: t, ctx: ctx, srv: srv}
	id := srv.Browser(t).MustRegister(apptest.Zhang)

	p.do(chromedp.Navigate(srv.URL + "/login"))
	p.login(apptest.Zhang.Login, apptest.Zhang.Password)
	p.click("tile-settings")
	p.waitPath("/settings")
	p.click("settings-closure")
	p.waitPath("/settings/closure")
	eventually[bool](p, `document.getElementById("closure-cooling-off").textContent.indexOf("30 天") >= 0`)

	// The download, after the password is entered again.
	srv.Clock.Advance(6 * time.Minute)
	p.click("export-button")
	p.do(chromedp.WaitVisible(chromedp.ID("reauth-password")))
	p.fill("password", apptest.Zhang.Password)
	p.click("reauth-submit")
	eventually[bool](p, `document.getElementById("export-status").textContent.indexOf("已下载") >= 0`)
	events, err := srv.App.Store.ListActorAudit(context.Background(), id, nil, 1)
	if err != nil || len(events) != 1 || events[0].Action != export.ActionExported {
		t.Errorf("newest event = %+v, %v; want the export", events, err)
	}

	// A wrong login name is answered next to the field.
	p.fill("confirm", "li_si")
	p.click("closure-submit")
	p.do(chromedp.WaitVisible(chromedp.ID("confirm-error")))
	if msg := p.text("#confirm-error"); !strings.Contains(msg, "不一致") {
		t.Errorf("wrong login name: %q", msg)
	}
	p.retype("confirm", apptest.Zhang.Login)
	p.click("closure-submit")
	eventually[bool](p, `!document.getElementById("closure-done").hidden && document.getElementById("closure-sections").hidden`)
	if fits, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)); err != nil || !fits {
		t.Errorf("the closure page scrolls sideways on a phone (%v)", err)
	}
	p.screenshot("settings-closure-done")
	if u, _ := srv.App.Store.GetUser(context.Background(), id); u.Status != store.UserClosed {
		t.Errorf("status = %q, want closed", u.Status)
	}
	// Signed out: the personal space sends the browser to the login page.
	p.do(chromedp.Navigate(srv.URL + "/me"))
	p.waitPath("/login")
}
