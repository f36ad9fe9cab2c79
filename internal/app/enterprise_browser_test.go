package app_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"unid/examples/servicehall/hall"
	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/store"
)

// The sandbox registry's enterprise whose legal representative is 张三
// (internal/enterprise's fixture of fictitious enterprises).
const (
	fixtureUSCC = "91310115000000000Q"
	fixtureName = "示例科技有限公司（测试数据）"
)

// fillID types v into the input or textarea with id, replacing what it
// held (the enterprise space has two forms with a "uscc" field).
func (p *page) fillID(id, v string) {
	p.t.Helper()
	p.do(chromedp.WaitVisible(chromedp.ID(id)))
	eventually[bool](p, `(document.getElementById("`+id+`").value = "") === ""`)
	p.do(chromedp.SendKeys(chromedp.ID(id), v))
}

// TestBrowserEnterpriseHandlerApproved: the sandbox registry's legal
// representative binds the enterprise on the enterprise space; a second
// citizen applies as handler (企业办事申请授权); the legal representative
// approves in the enterprise's authorization area; the handler then finds
// 进入企业空间 in the personal space and the enterprise in it, and signs in
// to the demo service hall as that enterprise, all on a 360 px phone
// screen.
func TestBrowserEnterpriseHandlerApproved(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	p := &page{t: t, ctx: ctx, srv: srv}
	zb := srv.Browser(t)
	zb.MustRegister(apptest.Zhang)
	zb.MustLogin(apptest.Zhang.Login, apptest.Zhang.Password)
	if r := zb.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true}); r.Status != http.StatusOK {
		t.Fatalf("level 1: %d %s", r.Status, r.Body)
	}
	srv.Browser(t).MustRegister(liSi)
	p.do(chromedp.EmulateViewport(360, 740))
	fits := func(where string) {
		t.Helper()
		if wide := eventually[string](p, `String(document.documentElement.scrollWidth <= window.innerWidth ? "fits" : document.documentElement.scrollWidth)`); wide != "fits" {
			t.Errorf("%s is %s px wide on a phone", where, wide)
		}
	}

	// 张三 has no enterprise yet: no 进入企业空间; 企业办事申请授权 leads to
	// the enterprise space, where he binds his enterprise.
	p.do(chromedp.Navigate(srv.URL + "/login"))
	p.login(apptest.Zhang.Login, apptest.Zhang.Password)
	if eventually[string](p, `document.getElementById("tile-enterprise") ? "shown" : "absent"`) != "absent" {
		t.Error("进入企业空间 shown before any enterprise")
	}
	p.click("tile-authorize")
	p.waitPath("/enterprise")
	eventually[bool](p, `!document.getElementById("ent-empty").hidden`)
	p.fillID("bind-uscc", fixtureUSCC)
	p.fillID("bind-name", fixtureName)
	p.click("bind-submit")
	eventually[bool](p, `!document.getElementById("bind-done").hidden`)
	eventually[bool](p, `document.getElementById("ent-list").textContent.indexOf("法定代表人") >= 0`)
	fits("the enterprise space")
	p.do(chromedp.Navigate(srv.URL + "/me"))
	p.waitPath("/me")
	p.logout()

	// 李四 applies as handler.
	p.login(liSi.Login, liSi.Password)
	p.click("tile-authorize")
	p.waitPath("/enterprise")
	p.fillID("apply-uscc", fixtureUSCC)
	p.fillID("apply-name", fixtureName)
	p.do(chromedp.SendKeys(chromedp.ID("apply-reason"), "财务部门，负责办理税务业务"))
	p.click("apply-submit")
	eventually[bool](p, `document.getElementById("apply-status").textContent.length > 0`)
	eventually[bool](p, `!document.getElementById("ent-applications").hidden && document.getElementById("ent-applications-list").textContent.indexOf("待审批") >= 0`)
	p.do(chromedp.Navigate(srv.URL + "/me"))
	p.waitPath("/me")
	p.logout()

	// 张三 approves in the authorization area.
	p.login(apptest.Zhang.Login, apptest.Zhang.Password)
	p.click("tile-enterprise")
	p.waitPath("/enterprise")
	p.click("ent-open-" + fixtureUSCC)
	p.waitPath("/enterprise/" + fixtureUSCC)
	id := eventually[string](p, `(document.querySelector("#auth-applications-list button[id^=approve-]") || {}).id || ""`)
	if list := p.text("#auth-applications-list"); !strings.Contains(list, "财务部门") || strings.Contains(list, "李四") {
		t.Errorf("the pending application shows %q (want the reason, and the name masked)", list)
	}
	p.click(id)
	eventually[bool](p, `document.querySelectorAll("#members-list li").length === 2 && document.getElementById("auth-applications-empty").hidden === false`)
	if members := p.text("#members-list"); !strings.Contains(members, "经办人") || strings.Contains(members, "李四") {
		t.Errorf("members: %q (want the handler, name masked)", members)
	}
	eventually[bool](p, `document.getElementById("ent-cases").getAttribute("data-loaded") === "true" && !document.getElementById("ent-cases-empty").hidden`)
	if got := p.text("#ent-cases-empty"); !strings.Contains(got, "没有办件记录") {
		t.Errorf("cases: %q", got)
	}
	fits("the enterprise's page")
	p.do(chromedp.Navigate(srv.URL + "/me"))
	p.waitPath("/me")
	p.logout()

	// 李四 now enters the enterprise space and finds the enterprise.
	p.login(liSi.Login, liSi.Password)
	p.click("tile-enterprise")
	p.waitPath("/enterprise")
	eventually[bool](p, `document.getElementById("ent-list").textContent.indexOf("`+fixtureName+`") >= 0`)
	if list := p.text("#ent-list"); !strings.Contains(list, "经办人") {
		t.Errorf("the handler's enterprises: %q", list)
	}
	if apps := p.text("#ent-applications-list"); !strings.Contains(apps, "已通过") {
		t.Errorf("the application is not shown approved: %q", apps)
	}
	p.click("ent-open-" + fixtureUSCC)
	p.waitPath("/enterprise/" + fixtureUSCC)
	if role := p.text("#ent-role"); role != "经办人" {
		t.Errorf("role on the enterprise's page = %q", role)
	}
	if eventually[string](p, `document.getElementById("authorization") ? "shown" : "absent"`) != "absent" {
		t.Error("a handler sees the authorization area")
	}

	// …and signs in to the demo service hall as that enterprise: unid asks
	// whom the sign-in is for, and the hall receives the enterprise claim.
	h := startEnterpriseHall(t, srv)
	p.do(chromedp.Navigate(h.url + "/"))
	h.waitSignedOut(p)
	p.click("signin")
	p.waitAt(srv.URL, "/sso/identity")
	p.do(chromedp.WaitEnabled(chromedp.ID("identity-continue")),
		chromedp.Click(chromedp.CSS(`label[data-uscc="`+fixtureUSCC+`"] input`)))
	fits("the identity page")
	p.click("identity-continue")
	h.waitSignedIn(p)
	ent := p.claims()["enterprise"]
	for _, want := range []string{fixtureUSCC, fixtureName, "handler"} {
		if !strings.Contains(ent, want) {
			t.Errorf("the hall's enterprise claim %q lacks %q", ent, want)
		}
	}
}

// startEnterpriseHall starts the demo service hall as a first-party client
// that asks for the enterprise scope.
func startEnterpriseHall(t *testing.T, srv *apptest.Server) *serviceHall {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	scopes := []string{"openid", "profile", "enterprise"}
	_, secret, err := srv.App.Clients.Create(context.Background(), client.Spec{
		ID: "hall-enterprise", Name: "网上办事大厅（企业）", Type: store.ClientOIDCConfidential,
		RedirectURIs: []string{base + "/callback"}, PostLogoutRedirectURIs: []string{base + "/"},
		Scopes: scopes, FirstParty: true, BackchannelLogoutURI: base + "/backchannel-logout",
	}, audit.Origin{Actor: audit.Operator("test")})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	hh, err := hall.New(hall.Config{Issuer: srv.URL, ClientID: "hall-enterprise", ClientSecret: secret, BaseURL: base, Title: "网上办事大厅（企业）", Scopes: scopes})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	hs := &httptest.Server{Listener: ln, Config: &http.Server{Handler: hh}}
	hs.Start()
	t.Cleanup(hs.Close)
	return &serviceHall{url: base, hall: hh}
}

// TestBrowserEnterpriseGrantRevokeUnbind: on the pages, a bind the registry
// does not support offers the appeal with the business licence; the legal
// representative grants a role by phone and real name, the grantee accepts
// it in the enterprise space, the legal representative revokes it, and
// finally unbinds the enterprise with the password again and an SMS code,
// which takes 进入企业空间 away.
func TestBrowserEnterpriseGrantRevokeUnbind(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	p := &page{t: t, ctx: ctx, srv: srv}
	zb := srv.Browser(t)
	zb.MustRegister(apptest.Zhang)
	zb.MustLogin(apptest.Zhang.Login, apptest.Zhang.Password)
	if r := zb.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true}); r.Status != http.StatusOK {
		t.Fatalf("level 1: %d %s", r.Status, r.Body)
	}
	lb := srv.Browser(t)
	lb.MustRegister(liSi)
	lb.MustLogin(liSi.Login, liSi.Password)
	if r := lb.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true}); r.Status != http.StatusOK {
		t.Fatalf("level 1: %d %s", r.Status, r.Body)
	}
	p.do(chromedp.EmulateViewport(360, 740))
	p.do(chromedp.Navigate(srv.URL + "/login"))
	p.login(apptest.Zhang.Login, apptest.Zhang.Password)

	// 李四 is the registry's legal representative of 样例贸易: 张三's bind is
	// refused and the appeal with the licence offered.
	p.do(chromedp.Navigate(srv.URL + "/enterprise"))
	p.fillID("bind-uscc", "91440300000000000E")
	p.fillID("bind-name", "样例贸易有限公司（测试数据）")
	p.click("bind-submit")
	p.do(chromedp.WaitVisible(chromedp.ID("appeal")))
	if msg := p.text("#form-error"); msg == "" {
		t.Error("the refusal is not explained")
	}
	p.click("appeal-submit") // no file yet: answered on the page
	p.do(chromedp.WaitVisible(chromedp.ID("licence-error")))
	png := filepath.Join(t.TempDir(), "licence.png")
	if err := os.WriteFile(png, append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...), 0o600); err != nil {
		t.Fatal(err)
	}
	p.do(chromedp.SetUploadFiles(chromedp.ID("licence"), []string{png}))
	p.click("appeal-submit")
	eventually[bool](p, `!document.getElementById("bind-done").hidden && document.getElementById("appeal").hidden`)
	if got := p.text("#bind-done"); !strings.Contains(got, "审核") {
		t.Errorf("after the appeal: %q", got)
	}

	// 张三 binds his own enterprise and grants 李四 the administrator role.
	p.fillID("bind-uscc", fixtureUSCC)
	p.fillID("bind-name", fixtureName)
	p.click("bind-submit")
	eventually[bool](p, `!!document.getElementById("ent-open-`+fixtureUSCC+`")`)
	p.click("ent-open-" + fixtureUSCC)
	p.waitPath("/enterprise/" + fixtureUSCC)
	p.fillID("grant-phone", liSi.Phone)
	p.fillID("grant-real-name", liSi.RealName)
	p.do(chromedp.SetValue(chromedp.ID("grant-role"), "admin"))
	p.click("grant-submit")
	eventually[bool](p, `document.getElementById("grant-status").textContent.length > 0`)
	eventually[bool](p, `document.querySelectorAll("#auth-grants-list li").length === 1`)
	// A pending grant is withdrawn (asked twice), then sent again.
	wid := eventually[string](p, `(document.querySelector("#auth-grants-list button[id^=withdraw-]") || {}).id || ""`)
	p.click(wid)
	if n := eventually[int](p, `document.querySelectorAll("#auth-grants-list li").length`); n != 1 {
		t.Errorf("one click withdrew the grant: %d left", n)
	}
	p.click(wid)
	eventually[bool](p, `document.querySelectorAll("#auth-grants-list li").length === 0`)
	p.fillID("grant-phone", liSi.Phone)
	p.fillID("grant-real-name", liSi.RealName)
	p.do(chromedp.SetValue(chromedp.ID("grant-role"), "admin"))
	p.click("grant-submit")
	eventually[bool](p, `document.querySelectorAll("#auth-grants-list li").length === 1`)
	p.do(chromedp.Navigate(srv.URL + "/me"))
	p.waitPath("/me")
	p.logout()

	// 李四 accepts it in the enterprise space.
	p.login(liSi.Login, liSi.Password)
	p.do(chromedp.Navigate(srv.URL + "/enterprise"))
	id := eventually[string](p, `(document.querySelector("#ent-grants-list button[id^=grant-accept-]") || {}).id || ""`)
	if g := p.text("#ent-grants-list"); !strings.Contains(g, fixtureName) || !strings.Contains(g, "管理员") || strings.Contains(g, "张三") {
		t.Errorf("the grant shows %q (want the enterprise, the role, the grantor masked)", g)
	}
	p.click(id)
	eventually[bool](p, `document.getElementById("ent-grants").hidden && document.getElementById("ent-list").textContent.indexOf("管理员") >= 0`)
	p.do(chromedp.Navigate(srv.URL + "/me"))
	p.waitPath("/me")
	p.logout()

	// 张三 revokes it (asked twice), then unbinds with his password.
	p.login(apptest.Zhang.Login, apptest.Zhang.Password)
	p.do(chromedp.Navigate(srv.URL + "/enterprise/" + fixtureUSCC))
	rid := eventually[string](p, `(document.querySelector("#members-list button[id^=revoke-]") || {}).id || ""`)
	p.click(rid)
	if n := eventually[float64](p, `document.querySelectorAll("#members-list li").length`); n != 2 {
		t.Errorf("one click revoked: %v members", n)
	}
	p.click(rid)
	eventually[bool](p, `document.querySelectorAll("#members-list li").length === 1`)
	p.fillID("unbind-confirm", "别的名字")
	p.click("unbind-submit")
	p.do(chromedp.WaitVisible(chromedp.ID("unbind-confirm-error")))
	srv.Clock.Advance(6 * time.Minute)
	p.fillID("unbind-confirm", fixtureName)
	p.click("unbind-send-sms")
	p.do(chromedp.WaitVisible(chromedp.ID("reauth-password")))
	p.fill("password", apptest.Zhang.Password)
	p.click("reauth-submit")
	eventually[bool](p, `document.getElementById("unbind-sms-status").textContent.length > 0`)
	p.fillID("unbind-sms-code", srv.LastCode(t, apptest.Zhang.Phone))
	p.click("unbind-submit")
	eventually[bool](p, `!document.getElementById("ent-left").hidden && document.getElementById("ent-page").hidden`)
	p.do(chromedp.Navigate(srv.URL + "/me"))
	p.waitPath("/me")
	if eventually[string](p, `document.getElementById("tile-enterprise") ? "shown" : "absent"`) != "absent" {
		t.Error("进入企业空间 still shown after unbinding the only enterprise")
	}
	res := zb.Get("/enterprise/" + fixtureUSCC)
	if res.Status != http.StatusNotFound {
		t.Errorf("the enterprise's page after unbinding: %d", res.Status)
	}
}
