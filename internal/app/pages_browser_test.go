package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"unid/internal/app/apptest"
)

// TestBrowserSignInForAServiceSystem walks a citizen whom a service system
// sends to unid: the login page names the system and offers a way back
// (which the system receives as access_denied); registering from there
// returns into the sign-in, through the consent page, to the system; and
// the personal space lists the system among the authorised ones, where the
// permission can be withdrawn.
func TestBrowserSignInForAServiceSystem(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	requireOpenIDProvider(t, srv)
	p := &page{t: t, ctx: ctx, srv: srv}
	const login, phone, password = "zhao_lei", "13612345678", "Taishan#Sunrise2026"
	hall := startHall(t, srv, "estate", "不动产登记系统", false)

	// The login page says which system asked, and the way back answers
	// the system access_denied.
	p.do(chromedp.Navigate(hall.url + "/"))
	p.click("signin")
	p.waitAt(srv.URL, "/login")
	if got := p.text("#login-client"); got != "登录以继续使用 不动产登记系统" {
		t.Errorf("login page names the system as %q", got)
	}
	if got := p.text("#login-back"); got != "返回 不动产登记系统" {
		t.Errorf("back link = %q", got)
	}
	p.screenshot("login-sso")
	p.click("login-back")
	p.waitAt(hall.url, "/callback")
	if body := p.text("body"); !strings.Contains(body, "access_denied") {
		t.Errorf("the system did not receive access_denied:\n%s", body)
	}

	// Registering from the login page goes back into the sign-in.
	p.do(chromedp.Navigate(hall.url + "/"))
	p.click("signin")
	p.waitAt(srv.URL, "/login")
	p.click("to-register")
	p.waitPath("/register")
	if got := p.text("#register-client"); !strings.Contains(got, "不动产登记系统") {
		t.Errorf("registration page names the system as %q", got)
	}
	p.fillRegistration(login, password, phone)
	p.click("agreed")
	p.click("register-submit")
	p.waitAt(srv.URL, "/oidc/consent")
	if got := p.text("#consent-scopes"); !strings.Contains(got, "手机号码") {
		t.Errorf("consent page scopes = %q", got)
	}
	if got := p.text("main"); !strings.Contains(got, "已授权的系统") {
		t.Errorf("consent page does not say where to withdraw: %q", got)
	}
	p.click("consent-allow")
	hall.waitSignedIn(p)
	if c := p.claims(); c["preferred_username"] != login {
		t.Errorf("the system signed in %v, want %s", c, login)
	}

	// The personal space lists the system; Withdraw removes it, for good.
	p.do(chromedp.Navigate(srv.URL + "/me"))
	p.waitAt(srv.URL, "/me")
	eventually[bool](p, `document.getElementById("consents-list").getAttribute("data-loaded") === "true"`)
	item := p.text(`#consents-list li[data-client="estate"]`)
	for _, want := range []string{"不动产登记系统", "您的身份", "基本资料", "手机号码", "授权于 20"} {
		if !strings.Contains(item, want) {
			t.Errorf("authorised system lacks %q: %q", want, item)
		}
	}
	// Placeholder tiles take no focus; the live ones (the user center) are links.
	if n := eventually[float64](p, `1 + document.querySelectorAll(".tile:not(.tile-live) button, .tile:not(.tile-live) a, button.tile:not(.tile-live), a.tile:not(.tile-live), .tile:not(.tile-live)[tabindex]").length`); n != 1 {
		t.Errorf("%v focusable placeholder tiles", n-1)
	}
	p.screenshot("me")
	p.do(chromedp.Click(chromedp.CSS(`#consents-list li[data-client="estate"] button`)))
	eventually[bool](p, `!document.querySelector('#consents-list li') && !document.getElementById("consents-empty").hidden`)
	if got := p.text("#consents-status"); !strings.Contains(got, "已撤销") {
		t.Errorf("withdraw status = %q", got)
	}
	p.do(chromedp.Reload())
	p.waitAt(srv.URL, "/me")
	eventually[bool](p, `document.getElementById("consents-list").getAttribute("data-loaded") === "true" && !document.querySelector('#consents-list li')`)

	// Signed in, /login goes on to the personal space.
	p.do(chromedp.Navigate(srv.URL + "/login"))
	p.waitAt(srv.URL, "/me")
}

// screenshot saves the tab as <name>.png in UNID_SCREENSHOTS, when set.
func (p *page) screenshot(name string) {
	p.t.Helper()
	dir := os.Getenv("UNID_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}
