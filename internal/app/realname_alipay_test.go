package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"unid/internal/app/apptest"
)

// verifyLevel1 passes the registry check (level 1) as p.
func verifyLevel1(t *testing.T, b *apptest.Browser, p apptest.Person) {
	t.Helper()
	r := b.PostJSON("/api/v1/realname/identity", map[string]any{"real_name": p.RealName, "id_number": p.IDNumber})
	if r.Status != http.StatusOK || int(r.JSON(t)["level"].(float64)) != 1 {
		t.Fatalf("level 1 as %s: %d %s", p.RealName, r.Status, r.Body)
	}
}

// hasBinding reports whether the status lists a binding of method.
func hasBinding(st map[string]any, method string) bool {
	bs, _ := st["bindings"].([]any)
	for _, b := range bs {
		if m, _ := b.(map[string]any); m["method"] == method {
			return true
		}
	}
	return false
}

// TestRealnameAlipay: a person whose Alipay account Alipay certified goes
// from level 1 to level 2 with one press, and back to level 1 when they
// unlink Alipay.
func TestRealnameAlipay(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	quickRegister(t, srv, b, alipayCertified, "ali_zhang", "13612345678", apptest.GoodPassword)

	// Alipay is never level 1 on its own.
	if r := b.PostJSON("/api/v1/realname/alipay", nil); r.Status != http.StatusBadRequest || r.ErrCode(t) != "realname_level_required" {
		t.Fatalf("alipay at level 0: %d %s", r.Status, r.Body)
	}
	verifyLevel1(t, b, apptest.Zhang)
	st := realnameStatus(t, b)
	if a, _ := st["alipay"].(map[string]any); a["linked"] != true || a["certified"] != true {
		t.Errorf("status of a certified link: alipay %v", st["alipay"])
	}
	if page := b.Get("/settings/realname"); page.Status != http.StatusOK || !strings.Contains(string(page.Body), `id="rn-alipay-submit"`) {
		t.Errorf("the real-name page has no 支付宝认证 button: %d", page.Status)
	}
	before := checks(t, srv, "ali_zhang")

	r := b.PostJSON("/api/v1/realname/alipay", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("alipay: %d %s", r.Status, r.Body)
	}
	if st := r.JSON(t); int(st["level"].(float64)) != 2 || !hasBinding(st, "alipay") {
		t.Fatalf("after alipay: %s", r.Body)
	}
	if n := checks(t, srv, "ali_zhang"); n != before+1 {
		t.Errorf("%d checks recorded, want %d", n, before+1)
	}
	if got := int(realnameStatus(t, b)["checks_left_today"].(float64)); got != 5-before {
		t.Errorf("checks left today %d: the alipay check was counted against the limit", got)
	}

	// Unlinking Alipay takes the level it gave with it.
	if r := b.SendJSON(http.MethodDelete, "/api/v1/me/links/alipay", nil); r.Status != http.StatusNoContent {
		t.Fatalf("unlinking: %d %s", r.Status, r.Body)
	}
	st = realnameStatus(t, b)
	if int(st["level"].(float64)) != 1 || hasBinding(st, "alipay") || !hasBinding(st, "registry") {
		t.Fatalf("after unlinking Alipay: %v", st)
	}
	if r := b.PostJSON("/api/v1/realname/alipay", nil); r.Status != http.StatusConflict || r.ErrCode(t) != "realname_alipay_unlinked" {
		t.Errorf("alipay without a link: %d %s", r.Status, r.Body)
	}
}

// TestRealnameAlipayUncertified: a link Alipay has not certified proves
// nothing, and changes nothing.
func TestRealnameAlipayUncertified(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	quickRegister(t, srv, b, alipayUncertified, "ali_li", "13612345679", apptest.GoodPassword)
	verifyLevel1(t, b, liSi)
	before := checks(t, srv, "ali_li")

	r := b.PostJSON("/api/v1/realname/alipay", nil)
	if r.Status != http.StatusConflict || r.ErrCode(t) != "realname_alipay_uncertified" {
		t.Fatalf("alipay with an uncertified link: %d %s", r.Status, r.Body)
	}
	st := realnameStatus(t, b)
	if int(st["level"].(float64)) != 1 || hasBinding(st, "alipay") {
		t.Errorf("after the refusal: %v", st)
	}
	if a, _ := st["alipay"].(map[string]any); a["linked"] != true || a["certified"] != false {
		t.Errorf("status of an uncertified link: alipay %v", st["alipay"])
	}
	if n := checks(t, srv, "ali_li"); n != before {
		t.Errorf("the refusal recorded a check: %d, were %d", n, before)
	}
}

// TestBrowserRealnameAlipay: at level 1 with no Alipay link, the 支付宝认证
// path offers to link Alipay; once linked (as Alipay's certified test
// user) the button takes the account to 中级.
func TestBrowserRealnameAlipay(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	p := &page{t: t, ctx: ctx, srv: srv}
	srv.Browser(t).MustRegister(apptest.Zhang)
	p.do(chromedp.Navigate(srv.URL + "/login"))
	p.login(apptest.Zhang.Login, apptest.Zhang.Password)
	p.do(chromedp.Navigate(srv.URL + "/settings/realname"))
	eventually[bool](p, `!document.getElementById("rn-registry").hidden && document.getElementById("use_registered").checked`)
	p.click("rn-identity-submit")
	eventually[bool](p, `document.getElementById("realname-level").getAttribute("data-level") === "1"`)

	// No link: the way to link Alipay is offered.
	eventually[bool](p, `!document.getElementById("rn-alipay").hidden && !document.getElementById("rn-alipay-unlinked").hidden`)
	p.click("rn-alipay-link")
	sel := chromedp.CSS(`button[data-user="` + alipayCertified + `"]`)
	p.do(chromedp.WaitVisible(sel), chromedp.Click(sel))
	// Back where the link was asked for.
	eventually[bool](p, `location.pathname === "/settings/realname" && document.readyState === "complete"`)
	eventually[bool](p, `!document.getElementById("rn-alipay").hidden && document.getElementById("rn-alipay-unlinked").hidden`)
	p.click("rn-alipay-submit")
	eventually[bool](p, `document.getElementById("realname-level").getAttribute("data-level") === "2"`)
	if got := p.text("#realname-bindings-list"); !strings.Contains(got, "支付宝认证") {
		t.Errorf("bindings = %q", got)
	}
}

// TestRealnameAlipayOtherPerson: Alipay certified 张三; an account at
// level 1 as 李四 gains nothing from that Alipay account.
func TestRealnameAlipayOtherPerson(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	quickRegister(t, srv, b, alipayCertified, "ali_other", "13612345670", apptest.GoodPassword)
	verifyLevel1(t, b, liSi)
	r := b.PostJSON("/api/v1/realname/alipay", nil)
	if r.Status != http.StatusConflict || r.ErrCode(t) != "realname_alipay_mismatch" {
		t.Fatalf("another person's certified Alipay: %d %s", r.Status, r.Body)
	}
	if st := realnameStatus(t, b); int(st["level"].(float64)) != 1 || hasBinding(st, "alipay") {
		t.Errorf("after the refusal: %v", st)
	}
}
