package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"unid/internal/app/apptest"
)

// TestBrowserReachLevelOneAndTwo: a citizen who typed name and ID number
// at registration reaches 初级 with them, pre-selected on the 实名认证
// page, then 中级 with a bank card, on a 360 px phone screen, with the
// sandbox verifier (internal/realname/sandbox/people.json: 张三 is in it,
// with the card 6222020200112233446 and its phone 13812345678). A card
// that does not match is answered on the page and changes nothing. The
// page was opened for a service (?next=), so after the success it offers
// the way back there.
func TestBrowserReachLevelOneAndTwo(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	p := &page{t: t, ctx: ctx, srv: srv}
	srv.Browser(t).MustRegister(apptest.Zhang)
	p.do(chromedp.EmulateViewport(360, 740))
	p.do(chromedp.Navigate(srv.URL + "/login"))
	p.login(apptest.Zhang.Login, apptest.Zhang.Password)
	level := func() string {
		return eventually[string](p, `document.getElementById("realname-level").getAttribute("data-level")`)
	}

	// The badge of the personal space leads to the page.
	if got := p.text("#me-realname-level"); got != "未实名认证" {
		t.Errorf("badge = %q", got)
	}
	p.click("me-realname-link")
	p.waitPath("/settings/realname")
	if got := p.text(".settings-nav [aria-current=page]"); got != "实名认证" {
		t.Errorf("the navigation marks %q", got)
	}

	// Opened for a service: level 1 with the registered name and number,
	// offered pre-selected and masked.
	p.do(chromedp.Navigate(srv.URL + "/settings/realname?next=%2Fme%2Fmessages"))
	eventually[bool](p, `!document.getElementById("rn-registry").hidden && !document.getElementById("rn-use-registered-row").hidden`)
	if !eventually[bool](p, `document.getElementById("use_registered").checked`) {
		t.Fatal("the registered identity is not pre-selected")
	}
	if label := p.text("#use_registered-label"); !strings.Contains(label, "1101**********002X") || strings.Contains(label, "11010519491231002X") {
		t.Errorf("registered identity label = %q", label)
	}
	// Before level 1, the level-2 ways are greyed with the reason.
	if why := p.text("#rn-bank_card .realname-off"); !strings.Contains(why, "初级") {
		t.Errorf("bank card before level 1 says %q", why)
	}
	p.click("rn-identity-submit")
	eventually[bool](p, `document.getElementById("realname-level").getAttribute("data-level") === "1"`)
	if got := p.text("#realname-result"); !strings.Contains(got, "初级") {
		t.Errorf("after level 1 the page says %q", got)
	}
	if !eventually[bool](p, `!document.getElementById("realname-continue").hidden`) || p.text("#realname-continue-link") == "" {
		t.Error("no way back to the service after level 1")
	}

	// Level 2: a card that is not 张三's is refused next to the field and
	// changes nothing.
	eventually[bool](p, `!document.getElementById("rn-bank_card").hidden && !document.getElementById("rn-bank-submit").disabled`)
	p.fill("card_number", "6217001234567890122")
	p.fill("phone", "13812345678")
	p.click("rn-bank-submit")
	p.do(chromedp.WaitVisible(chromedp.ID("card_number-error")))
	if msg := p.text("#form-error"); !strings.Contains(msg, "银行卡") {
		t.Errorf("mismatch message = %q", msg)
	}
	if got := level(); got != "1" {
		t.Errorf("a failed check changed the level to %s", got)
	}
	p.fill("card_number", "6222020200112233446")
	p.click("rn-bank-submit")
	eventually[bool](p, `document.getElementById("realname-level").getAttribute("data-level") === "2"`)
	if got := p.text("#realname-level"); got != "中级" {
		t.Errorf("level badge = %q", got)
	}
	bindings := p.text("#realname-bindings-list")
	if !strings.Contains(bindings, "**** 3446") || strings.Contains(bindings, "6222020200112233446") {
		t.Errorf("bindings = %q", bindings)
	}
	if !eventually[bool](p, `!!document.getElementById("rn-unbind-bank_card")`) {
		t.Error("the bank card cannot be unbound")
	}
	if href := eventually[string](p, `document.getElementById("realname-continue-link").getAttribute("href")`); href != "/me/messages" {
		t.Errorf("continue leads to %q", href)
	}
	if wide := eventually[string](p, `String(document.documentElement.scrollWidth <= window.innerWidth ? "fits" : document.documentElement.scrollWidth)`); wide != "fits" {
		t.Errorf("the page is %s px wide on a 360 px screen", wide)
	}
	p.click("realname-continue-link")
	p.waitPath("/me/messages")

	// The personal space shows the new level.
	p.do(chromedp.Navigate(srv.URL + "/me"))
	if got := eventually[string](p, `(document.getElementById("me-realname-level") || {}).textContent || ""`); got != "中级" {
		t.Errorf("personal space badge = %q", got)
	}
	if u, err := srv.App.Store.GetUserByLoginName(context.Background(), apptest.Zhang.Login); err != nil || u.RealnameLevel != 2 {
		t.Errorf("stored level = %d, %v", u.RealnameLevel, err)
	}
}
