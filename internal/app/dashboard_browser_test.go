package app_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"unid/internal/app/apptest"
)

// TestBrowserDashboard: after a citizen's sign-ins, an operator (of any
// role) lands on the dashboard and sees the day's sign-ins as a number,
// in a chart drawn by unid's script whose label and table carry the
// numbers, and the service systems the citizen signed in to (CAS and
// OpenID Connect); in English
// with ?lang=en; the week's view counts them too.
func TestBrowserDashboard(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	startOfAnHour(srv)
	citizen := srv.Browser(t)
	citizen.MustRegister(apptest.Zhang)
	for range 4 {
		citizen.MustLogin(apptest.Zhang.Phone, apptest.GoodPassword)
	}
	citizen.Login(apptest.Zhang.Phone, "Wrong#Password1")
	newCASReceiver(t, srv).signInTo(t, citizen)
	// And at an OpenID Connect service system, in the browser: a fifth
	// sign-in, and the system's first.
	p := &page{t: t, ctx: ctx, srv: srv}
	hallA := startServiceHall(t, srv, "hall-a", "网上办事大厅")
	p.do(chromedp.Navigate(hallA.url + "/"))
	p.click("signin")
	p.waitAt(srv.URL, "/login")
	p.fill("identifier", apptest.Zhang.Phone)
	p.fill("password", apptest.GoodPassword)
	p.solveCaptcha()
	p.click("login-submit")
	hallA.waitSignedIn(p)

	srv.ConsoleOperatorInBrowser(ctx, t, "zhao_xitong", "sysadmin")
	p.waitPath("/console/dashboard")
	if got := eventually[string](p, `(document.querySelector("#tile-signin-ok .tile-value") || {}).textContent || ""`); got != "5" {
		t.Errorf("today's sign-ins tile = %q, want 5", got)
	}
	if got := p.text("#tile-cost"); !strings.Contains(got, "—") {
		t.Errorf("cost tile without a configured price = %q", got)
	}
	if got := p.text("#tile-signin-failed"); !strings.Contains(got, "登录失败") || !strings.Contains(got, "1") {
		t.Errorf("failed tile = %q", got)
	}
	if nav := p.text("nav"); !strings.Contains(nav, "运行概况") {
		t.Errorf("navigation = %q", nav)
	}
	// The chart is SVG bars, its numbers in its label and its table.
	if n := eventually[float64](p, `document.querySelectorAll("#chart-signin svg[role=img] rect.s-ok").length`); n != 1 {
		t.Errorf("sign-in bars = %v, want 1 (one hour)", n)
	}
	label := eventually[string](p, `document.querySelector("#chart-signin svg[role=img]").getAttribute("aria-label")`)
	if !strings.Contains(label, "登录成功 5") || !strings.Contains(label, "登录失败 1") {
		t.Errorf("chart label = %q", label)
	}
	if rows := eventually[float64](p, `document.querySelectorAll("#chart-signin table tbody tr").length`); rows != 25 {
		t.Errorf("chart table rows = %v, want 24 hours and the total", rows)
	}
	if got := p.text("#sso-table"); !strings.Contains(got, "archive") || !strings.Contains(got, "hall-a") {
		t.Errorf("service systems = %q", got)
	}
	if got := p.text("#realname"); !strings.Contains(got, "没有实名核验") || !strings.Contains(got, "未配置单价") {
		t.Errorf("real-name checks = %q", got)
	}

	// The week, by the day: today is the last of seven.
	p.selectValue("range", "week")
	eventually[bool](p, `document.querySelectorAll("#chart-signin table tbody tr").length === 8`)
	if got := eventually[string](p, `(document.querySelector("#tile-signin-ok .tile-value") || {}).textContent || ""`); got != "5" {
		t.Errorf("the week's sign-ins = %q", got)
	}

	p.do(chromedp.Navigate(srv.URL + "/console/dashboard?lang=en"))
	label = eventually[string](p, `(document.querySelector("#chart-signin svg[role=img]") || {getAttribute: function(){return ""}}).getAttribute("aria-label")`)
	if !strings.Contains(label, "Signed in 5") {
		t.Errorf("English chart label = %q", label)
	}
	if got := p.text("h1"); got != "Dashboard" {
		t.Errorf("English title = %q", got)
	}
}
