package app_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// TestBrowserRealnameRedirectUnbindAndAppeal: face verification at the
// sandbox's H5 page, cancelled (a notice, nothing changes) then passed
// (高级); the face binding removed after the password is asked again; and
// a second account that proves the same ID number is offered the appeal,
// pre-filled, and files it with its two photos.
func TestBrowserRealnameRedirectUnbindAndAppeal(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	p := &page{t: t, ctx: ctx, srv: srv}
	b := srv.Browser(t)
	b.MustRegister(apptest.Zhang)
	if r := b.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true}); r.Status != http.StatusOK {
		t.Fatalf("level 1: %d %s", r.Status, r.Body)
	}
	p.do(chromedp.Navigate(srv.URL + "/login"))
	p.login(apptest.Zhang.Login, apptest.Zhang.Password)
	level := func(want string) {
		t.Helper()
		eventually[bool](p, `document.getElementById("realname-level").getAttribute("data-level") === "`+want+`"`)
	}
	face := func(outcome string) {
		t.Helper()
		p.do(chromedp.Navigate(srv.URL + "/settings/realname"))
		level(eventually[string](p, `(document.getElementById("realname-level") || {getAttribute: function () { return "" }}).getAttribute("data-level")`))
		eventually[bool](p, `!document.getElementById("rn-face").hidden`)
		p.click("rn-redirect-face")
		eventually[bool](p, `location.pathname.indexOf("/dev/realname/") === 0 && !!document.querySelector('button[value="`+outcome+`"]')`)
		p.do(chromedp.Click(chromedp.CSS(`button[value="` + outcome + `"]`)))
		p.waitPath("/settings/realname")
	}

	face("cancel")
	if got := eventually[string](p, `document.getElementById("realname-result").textContent`); !strings.Contains(got, "取消") || !strings.Contains(got, "人脸识别") {
		t.Errorf("after cancelling: %q", got)
	}
	level("1")
	face("pass")
	level("3")
	if got := p.text("#realname-result"); !strings.Contains(got, "人脸识别认证已完成") {
		t.Errorf("after passing: %q", got)
	}
	if !eventually[bool](p, `!document.getElementById("realname-top").hidden`) {
		t.Error("at level 3 the page does not say it is the highest")
	}

	// Removing the face binding, six minutes after signing in, asks for
	// the password, then takes the level back to 初级.
	srv.Clock.Advance(6 * time.Minute)
	p.click("rn-unbind-face")
	p.do(chromedp.WaitVisible(chromedp.ID("reauth-password")))
	p.fill("password", apptest.Zhang.Password)
	p.click("reauth-submit")
	level("1")
	if got := eventually[string](p, `document.getElementById("realname-bindings-status").textContent`); !strings.Contains(got, "人脸识别") {
		t.Errorf("after unbinding: %q", got)
	}

	// 李四 types 张三's name and number: verified elsewhere, so the appeal.
	p.do(chromedp.Navigate(srv.URL + "/me"))
	p.logout()
	srv.Browser(t).MustRegister(apptest.Person{Login: "li_si", Password: apptest.GoodPassword, Phone: "13912345670"})
	p.login("li_si", apptest.GoodPassword)
	p.do(chromedp.Navigate(srv.URL + "/settings/realname"))
	eventually[bool](p, `!document.getElementById("rn-registry").hidden && !document.getElementById("rn-identity-submit").disabled`)
	// Nothing typed at registration: no registered identity to offer.
	if eventually[string](p, `String(document.getElementById("rn-use-registered-row").hidden)`) != "true" {
		t.Error("a registered identity is offered to an account without one")
	}
	p.fill("real_name", "张三")
	p.fill("id_number", "11010519491231002X")
	p.click("rn-identity-submit")
	eventually[bool](p, `!document.getElementById("rn-appeal").hidden`)
	if msg := p.text("#form-error"); !strings.Contains(msg, "另一个账号") {
		t.Errorf("verified elsewhere says %q", msg)
	}
	if v := eventually[string](p, `document.getElementById("appeal_id_number").value`); v != "11010519491231002X" {
		t.Errorf("appeal pre-filled with %q", v)
	}
	// Without the photos the page says what is missing, and sends nothing.
	p.click("rn-appeal-submit")
	p.do(chromedp.WaitVisible(chromedp.ID("id_photo-error")))
	png := filepath.Join(t.TempDir(), "photo.png")
	if err := os.WriteFile(png, append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...), 0o600); err != nil {
		t.Fatal(err)
	}
	p.do(chromedp.SetUploadFiles(chromedp.ID("id_photo"), []string{png}), chromedp.SetUploadFiles(chromedp.ID("handheld_photo"), []string{png}))
	p.click("rn-appeal-submit")
	got := eventually[string](p, `document.getElementById("realname-result").textContent.indexOf("申诉已提交") >= 0 ? document.getElementById("realname-result").textContent : ""`)
	eventually[bool](p, `!document.getElementById("realname-pending").hidden`)
	pending := p.text("#realname-pending-list")
	if !strings.Contains(pending, "身份证号码申诉") {
		t.Errorf("pending = %q", pending)
	}
	_, ref, _ := strings.Cut(got, "申请编号 ")
	ref, _, _ = strings.Cut(ref, "。")
	if ref == "" || !strings.Contains(pending, ref) {
		t.Errorf("the reference %q of %q is not among the pending: %q", ref, got, pending)
	}
	level("0")
}
