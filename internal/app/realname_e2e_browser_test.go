package app_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/store"
)

// TestBrowserCounterReviewToLevelThree is real-name verification from one end to
// the other, through the real pages only: 张三 registers with his name
// and ID number, reaches 初级 and 中级 on the 实名认证 page, asks for a
// counter verification and is given its reference. A reviewer, signed in
// to the console with password and TOTP in a browser of their own, finds
// the request in the queue by that reference, opens it (now the name and
// ID number show in full), is refused an approval without a reason and
// then approves with one. An auditor opens the same request and can read
// it but not decide it. 张三 then sees 高级 on his page, the approval
// among his messages, and an SMS told him too.
func TestBrowserCounterReviewToLevelThree(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	zhang := apptest.Zhang
	p := &page{t: t, ctx: ctx, srv: srv}

	// Registration, with the optional name and ID number.
	p.do(chromedp.Navigate(srv.URL + "/register"))
	p.fill("login_name", zhang.Login)
	p.fill("password", zhang.Password)
	p.fill("password_confirm", zhang.Password)
	p.fill("phone", zhang.Phone)
	p.solveCaptcha()
	p.click("send-sms")
	p.fill("sms_code", srv.WaitCode(t, zhang.Phone))
	p.fill("real_name", zhang.RealName)
	p.fill("id_number", zhang.IDNumber)
	p.click("agreed")
	p.click("register-submit")
	p.waitPath("/me")
	if got := p.text("#me-realname-level"); got != "未实名认证" {
		t.Errorf("badge after registration = %q", got)
	}

	// 初级 with what was typed at registration, offered pre-selected.
	p.click("me-realname-link")
	p.waitPath("/settings/realname")
	rnLevel := func(want string) {
		t.Helper()
		eventually[bool](p, `document.getElementById("realname-level").getAttribute("data-level") === "`+want+`"`)
	}
	rnLevel("0")
	eventually[bool](p, `!document.getElementById("rn-use-registered-row").hidden && document.getElementById("use_registered").checked`)
	p.click("rn-identity-submit")
	rnLevel("1")
	if got := p.text("#realname-level"); got != "初级" {
		t.Errorf("level after the registry check = %q", got)
	}

	// 中级 with 张三's bank card (the sandbox's people.json).
	eventually[bool](p, `!document.getElementById("rn-bank_card").hidden && !document.getElementById("rn-bank-submit").disabled`)
	p.fill("card_number", "6222020200112233446")
	p.fill("phone", zhang.Phone)
	p.click("rn-bank-submit")
	rnLevel("2")
	if got := p.text("#realname-level"); got != "中级" {
		t.Errorf("level after the bank card = %q", got)
	}

	// A counter verification: the page gives the reference to quote.
	eventually[bool](p, `!document.getElementById("rn-counter").hidden && !document.getElementById("rn-counter-submit").disabled`)
	p.click("rn-counter-submit")
	said := eventually[string](p, `document.getElementById("rn-counter-reference").textContent`)
	_, ref, _ := strings.Cut(said, "申请编号 ")
	ref, _, _ = strings.Cut(ref, "。")
	if ref == "" {
		t.Fatalf("no reference in %q", said)
	}
	eventually[bool](p, `!document.getElementById("realname-pending").hidden`)
	if pending := p.text("#realname-pending-list"); !strings.Contains(pending, ref) || !strings.Contains(pending, "窗口现场认证") {
		t.Errorf("pending requests = %q, want the counter request %s", pending, ref)
	}
	// While it is pending a second request is not offered, and the page
	// says why.
	if !eventually[bool](p, `document.getElementById("rn-counter-submit").disabled`) || !strings.Contains(p.text("#rn-counter .realname-off"), "正在审核") {
		t.Errorf("while pending the counter path says %q", p.text("#rn-counter .realname-off"))
	}

	// The reviewer, in a browser context of their own (the console has its
	// own cookie), finds the request in the queue by its reference.
	rctx, cancelR := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancelR()
	srv.ConsoleOperatorInBrowser(rctx, t, "li_shenhe", "reviewer")
	rp := &page{t: t, ctx: rctx, srv: srv}
	rp.do(chromedp.Navigate(srv.URL + "/console/reviews"))
	row := eventually[string](rp, `(function () {
		var rows = document.querySelectorAll("#reviews-body tr");
		for (var i = 0; i < rows.length; i++) { if (rows[i].cells[0].textContent === `+strconv.Quote(ref)+`) { return rows[i].id; } }
		return "";
	})()`)
	id := strings.TrimPrefix(row, "review-")
	queued := rp.text("#" + row)
	if !strings.Contains(queued, "线下实名核验") || strings.Contains(queued, zhang.IDNumber) || strings.Contains(queued, zhang.RealName) {
		t.Errorf("queue row = %q: want the kind, personal data masked", queued)
	}
	rp.do(chromedp.Click(chromedp.CSS("#" + row + " a")))
	rp.waitPath("/console/reviews/" + id)
	if closed := rp.text("#review-closed"); strings.Contains(closed, zhang.IDNumber) {
		t.Errorf("before opening the page shows the ID number: %q", closed)
	}
	rp.click("review-open")
	eventually[bool](rp, `!document.getElementById("review-opened").hidden`)
	if fields := rp.text("#review-fields"); !strings.Contains(fields, zhang.RealName) || !strings.Contains(fields, zhang.IDNumber) {
		t.Errorf("opened request shows %q, want the name and ID number in full", fields)
	}
	if item := rp.text("#review-item"); !strings.Contains(item, ref) || !strings.Contains(item, "待审核") {
		t.Errorf("opened request = %q", item)
	}

	// An auditor, in a third browser context, reads the same request but
	// is offered no decision, and the API refuses one.
	actx, cancelA := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancelA()
	srv.ConsoleOperatorInBrowser(actx, t, "zhao_shenji", "auditor")
	ap := &page{t: t, ctx: actx, srv: srv}
	ap.do(chromedp.Navigate(srv.URL + "/console/reviews/" + id))
	ap.click("review-open")
	eventually[bool](ap, `!document.getElementById("review-opened").hidden`)
	if fields := ap.text("#review-fields"); !strings.Contains(fields, zhang.IDNumber) {
		t.Errorf("the auditor's opened request shows %q", fields)
	}
	if ro := ap.text("#read-only"); !strings.Contains(ro, "审计员只能查看") {
		t.Errorf("the auditor's page says %q", ro)
	}
	if eventually[string](ap, `String(!!document.getElementById("approve") || !!document.getElementById("reject"))`) != "false" {
		t.Error("the auditor is offered approve or reject")
	}
	refused, err := chromedp.Run(actx, chromedp.Evaluate[string](`consoleUI.api("POST", "/api/admin/v1/reviews/`+id+`/decision", {approve: true, reason: "审计员试图通过"}).then(function (res) {
		return res.status + " " + (res.data && res.data.error ? res.data.error.code : "");
	})`, chromedp.EvalAwaitPromise))
	if err != nil || refused != "403 operator_read_only" {
		t.Errorf("the auditor's decision: %q, %v", refused, err)
	}

	// Approving without a reason is refused and the request stays pending.
	rp.click("approve")
	rp.do(chromedp.WaitVisible(chromedp.ID("form-error")))
	if msg := rp.text("#form-error"); !strings.Contains(msg, "请填写理由") {
		t.Errorf("approval without a reason says %q", msg)
	}
	if eventually[string](rp, `String(document.getElementById("review-decided").hidden)`) != "true" || !strings.Contains(rp.text("#review-item"), "待审核") {
		t.Error("an approval without a reason decided the request")
	}
	if u, err := srv.App.Store.GetUserByLoginName(context.Background(), zhang.Login); err != nil || u.RealnameLevel != 2 {
		t.Errorf("level after the refused approval: %d, %v", u.RealnameLevel, err)
	}
	rp.do(chromedp.SendKeys(chromedp.ID("reason"), "本人持身份证到济南市政务服务中心窗口，当面核验一致"))
	rp.click("approve")
	rp.do(chromedp.WaitVisible(chromedp.ID("review-decided")))
	if got := rp.text("#review-decided"); !strings.Contains(got, "已通过") {
		t.Errorf("after approving the page says %q", got)
	}
	if item := rp.text("#review-item"); !strings.Contains(item, "已通过") || !strings.Contains(item, "当面核验一致") {
		t.Errorf("approved request = %q", item)
	}

	// 张三 reloads his page: 高级, nothing pending.
	p.do(chromedp.Navigate(srv.URL + "/settings/realname"))
	rnLevel("3")
	if got := p.text("#realname-level"); got != "高级" {
		t.Errorf("level after the approval = %q", got)
	}
	if eventually[string](p, `String(document.getElementById("realname-pending").hidden)`) != "true" {
		t.Errorf("still pending: %q", p.text("#realname-pending-list"))
	}
	if bindings := p.text("#realname-bindings-list"); !strings.Contains(bindings, "窗口现场认证") {
		t.Errorf("bindings = %q", bindings)
	}

	// The approval is among his messages, with the reference.
	p.do(chromedp.Navigate(srv.URL + "/me/messages"))
	eventually[bool](p, `document.querySelectorAll("#records-list .record").length === 1`)
	if list := p.text("#records-list"); !strings.Contains(list, "实名认证审核已通过") || !strings.Contains(list, ref) {
		t.Errorf("messages = %q", list)
	}
	if got := p.text("#records-unread"); !strings.Contains(got, "1 条未读") {
		t.Errorf("unread = %q", got)
	}

	// And an SMS told him.
	var sms []string
	for _, m := range srv.Outbox(t) {
		if m.To == zhang.Phone && m.Params["code"] == "" {
			sms = append(sms, m.Text)
		}
	}
	if len(sms) == 0 || !strings.Contains(sms[0], "实名认证申请已审核通过") {
		t.Errorf("SMS notices to %s: %q", zhang.Phone, sms)
	}
}

// TestBrowserOIDCStepUpThroughTheRealnamePage: a service system registered
// with a minimum real-name level of 2 (中级) signs in a user who is not
// verified. After signing in, unid sends the browser to the 实名认证 page
// for that service; asked without any page (prompt=none) unid answers
// unmet_authentication_requirements instead. The user reaches 初级 and
// 中级 on the page, follows its link back, allows the system on the
// consent page, and the system, with the OpenID Connect client library,
// gets an ID token that says level 2.
func TestBrowserOIDCStepUpThroughTheRealnamePage(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	requireOpenIDProvider(t, srv)
	p := &page{t: t, ctx: ctx, srv: srv}
	zhang := apptest.Zhang
	srv.Browser(t).MustRegister(zhang) // level 0: name and number typed, not verified
	rp := startStepUpRP(t, srv, "etax", "电子税务局", 2)

	// Signing in to the system: unid's login page, then the 实名认证 page.
	f := rp.newFlow()
	p.do(chromedp.Navigate(f.url))
	p.waitAt(srv.URL, "/login")
	p.fill("identifier", zhang.Login)
	p.fill("password", zhang.Password)
	p.solveCaptcha()
	p.click("login-submit")
	p.waitAt(srv.URL, "/settings/realname")
	upgrade := eventually[string](p, `location.href`)
	next := eventually[string](p, `new URLSearchParams(location.search).get("next") || ""`)
	if !strings.HasPrefix(next, "/oidc/authorize/callback?id=") {
		t.Fatalf("the upgrade page is for next=%q", next)
	}
	if got := p.text("#realname-for-service"); !strings.Contains(got, "需要更高的实名认证等级") {
		t.Errorf("the upgrade page says %q", got)
	}
	eventually[bool](p, `document.getElementById("realname-level").getAttribute("data-level") === "0"`)
	if got := p.text("#realname-level"); got != "未实名认证" {
		t.Errorf("level = %q", got)
	}
	if rp.requests() != 0 {
		t.Fatal("the system heard back before the user had the level")
	}

	// The same system asking without a page gets an error, not a code.
	quiet := rp.newFlow(oauth2.SetAuthURLParam("prompt", "none"))
	p.do(chromedp.Navigate(quiet.url))
	p.waitAt(rp.url, "/callback")
	if q := rp.last(); q.Get("error") != "unmet_authentication_requirements" || q.Get("state") != quiet.state || q.Get("code") != "" {
		t.Errorf("prompt=none below the level: %v", q)
	}

	// 初级, then 中级, on the page.
	p.do(chromedp.Navigate(upgrade))
	eventually[bool](p, `!document.getElementById("rn-use-registered-row").hidden && document.getElementById("use_registered").checked`)
	p.click("rn-identity-submit")
	eventually[bool](p, `document.getElementById("realname-level").getAttribute("data-level") === "1"`)
	if got := p.text("#realname-result"); !strings.Contains(got, "初级") {
		t.Errorf("after the registry check the page says %q", got)
	}
	// 初级 is not enough for this system: no way back yet, and the page
	// still says the system needs more.
	eventually[bool](p, `!document.getElementById("rn-bank_card").hidden && !document.getElementById("rn-bank-submit").disabled`)
	if eventually[string](p, `String(document.getElementById("realname-continue").hidden)`) != "true" {
		t.Errorf("at 初级 the page offers the way back to a system that needs 中级: %q", p.text("#realname-continue"))
	}
	if got := p.text("#realname-for-service"); !strings.Contains(got, "需要更高的实名认证等级") {
		t.Errorf("at 初级 the page says %q", got)
	}
	p.fill("card_number", "6222020200112233446")
	p.fill("phone", zhang.Phone)
	p.click("rn-bank-submit")
	eventually[bool](p, `document.getElementById("realname-level").getAttribute("data-level") === "2"`)
	if got := p.text("#realname-level"); got != "中级" {
		t.Errorf("level = %q", got)
	}
	if got := p.text("#realname-result"); !strings.Contains(got, "中级") {
		t.Errorf("after the bank card the page says %q", got)
	}
	eventually[bool](p, `!document.getElementById("realname-continue").hidden`)
	if href := eventually[string](p, `document.getElementById("realname-continue-link").getAttribute("href")`); href != next {
		t.Errorf("continue leads to %q, want %q", href, next)
	}

	// Back to the system, through the consent page.
	p.click("realname-continue-link")
	p.waitAt(srv.URL, "/oidc/consent")
	if got := p.text("#consent-client"); !strings.Contains(got, "电子税务局") {
		t.Errorf("consent page names %q", got)
	}
	p.click("consent-allow")
	p.waitAt(rp.url, "/callback")
	q := rp.last()
	if q.Get("state") != f.state || q.Get("code") == "" {
		t.Fatalf("the system got %v", q)
	}
	tok, err := rp.cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.provider.Verifier(&gooidc.Config{ClientID: rp.clientID, Now: srv.Clock.Now}).Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	var c struct {
		ACR   string `json:"acr"`
		Level *int   `json:"realname_level"`
	}
	if err := idt.Claims(&c); err != nil || c.ACR != "urn:unid:acr:realname:2" || c.Level == nil || *c.Level != 2 || idt.Nonce != f.nonce {
		t.Errorf("ID token: acr %q, realname_level %v, nonce ok %v, %v", c.ACR, c.Level, idt.Nonce == f.nonce, err)
	}
}

// stepUpRP is a confidential OpenID Connect client run in the test with
// coreos/go-oidc and x/oauth2: its callback page records what unid sent.
type stepUpRP struct {
	url, clientID string
	provider      *gooidc.Provider
	cfg           oauth2.Config

	mu      sync.Mutex
	queries []url.Values
}

// startStepUpRP registers a confidential client, not first-party (so the
// user is asked), that needs real-name level min, and starts its callback.
func startStepUpRP(t *testing.T, srv *apptest.Server, id, name string, min int) *stepUpRP {
	t.Helper()
	rp := &stepUpRP{clientID: id}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		rp.mu.Lock()
		rp.queries = append(rp.queries, r.URL.Query())
		rp.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>callback</title><p id="callback">ok</p>`)
	}))
	t.Cleanup(hs.Close)
	rp.url = hs.URL
	_, secret, err := srv.App.Clients.Create(context.Background(), client.Spec{
		ID: id, Name: name, Type: store.ClientOIDCConfidential,
		RedirectURIs: []string{hs.URL + "/callback"}, Scopes: []string{"openid", "profile"},
		MinRealnameLevel: min,
	}, audit.Origin{Actor: audit.Operator("test")})
	if err != nil {
		t.Fatalf("register %s: %v", id, err)
	}
	rp.provider, err = gooidc.NewProvider(context.Background(), srv.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	rp.cfg = oauth2.Config{ClientID: id, ClientSecret: secret, Endpoint: rp.provider.Endpoint(),
		RedirectURL: hs.URL + "/callback", Scopes: []string{gooidc.ScopeOpenID, "profile"}}
	return rp
}

// stepUpFlow is one authorization request of the client.
type stepUpFlow struct{ state, nonce, verifier, url string }

func (rp *stepUpRP) newFlow(opts ...oauth2.AuthCodeOption) stepUpFlow {
	f := stepUpFlow{state: rand.Text(), nonce: rand.Text(), verifier: oauth2.GenerateVerifier()}
	f.url = rp.cfg.AuthCodeURL(f.state, append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.verifier), gooidc.Nonce(f.nonce)}, opts...)...)
	return f
}

// requests is how many times unid sent the browser to the callback.
func (rp *stepUpRP) requests() int {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return len(rp.queries)
}

// last is the query of the callback's latest request.
func (rp *stepUpRP) last() url.Values {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if len(rp.queries) == 0 {
		return url.Values{}
	}
	return rp.queries[len(rp.queries)-1]
}
