package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/config"
	"unid/internal/store"
	"unid/internal/upstream"
	"unid/internal/upstream/alipay/alipaydev"
)

// Fictitious Alipay users of the fake gateway (alipaydev).
const (
	alipayCertified   = "certified"
	alipayUncertified = "uncertified"
)

// viaAlipay walks b from /upstream/alipay/start through the fake Alipay's
// page, where the fictitious user picks, back to unid's callback, and
// returns unid's answer to the callback.
func viaAlipay(t testing.TB, b *apptest.Browser, purpose, user string) apptest.Response {
	t.Helper()
	cb := alipayCallback(t, b, purpose, user)
	return b.Get(cb)
}

// alipayCallback walks b to the fake Alipay and back and returns the
// callback URL, not yet followed.
func alipayCallback(t testing.TB, b *apptest.Browser, purpose, user string) string {
	t.Helper()
	r := b.Get("/upstream/alipay/start?purpose=" + purpose)
	if r.Status != http.StatusSeeOther || !strings.Contains(r.Location(), alipaydev.PathPrefix+"publicAppAuthorize.htm") {
		t.Fatalf("start: %d %q", r.Status, r.Location())
	}
	auth, err := url.Parse(r.Location())
	if err != nil {
		t.Fatal(err)
	}
	if q := auth.Query(); q.Get("app_id") == "" || q.Get("state") == "" || q.Get("redirect_uri") != b.Base+"/upstream/alipay/callback" {
		t.Fatalf("authorization URL %s", auth)
	}
	form := url.Values{"user": {user}}
	if user == "" {
		form = url.Values{"cancel": {"1"}}
	}
	r = b.Do(http.MethodPost, r.Location(), "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if r.Status != http.StatusSeeOther && r.Status != http.StatusFound {
		t.Fatalf("the fake Alipay's page: %d %s", r.Status, r.Body)
	}
	return r.Location()
}

// quickRegister registers a new account through Alipay as user and
// returns its ID; the browser is signed in.
func quickRegister(t testing.TB, srv *apptest.Server, b *apptest.Browser, user, login, phone, password string) string {
	t.Helper()
	if r := viaAlipay(t, b, "signin", user); r.Location() != "/upstream/continue" {
		t.Fatalf("callback of a new identity: %d %q", r.Status, r.Location())
	}
	code := b.SendCode(phone)
	r := b.PostJSON("/api/v1/upstream/pending/register", map[string]any{
		"login_name": login, "password": password, "password_confirm": password, "phone": phone, "sms_code": code, "agreed": true,
	})
	if r.Status != http.StatusCreated {
		t.Fatalf("quick registration: %d %s", r.Status, r.Body)
	}
	u, err := srv.App.Store.GetUserByLoginName(context.Background(), strings.ToLower(login))
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func links(t testing.TB, srv *apptest.Server, userID string) []store.UpstreamLink {
	t.Helper()
	l, err := srv.App.Store.ListUpstreamLinks(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func signedInAs(t testing.TB, b *apptest.Browser) string {
	t.Helper()
	r := b.Get("/api/v1/me")
	if r.Status != http.StatusOK {
		return ""
	}
	login, _ := r.JSON(t)["login_name"].(string)
	return login
}

func TestAlipayQuickRegistrationThenSignIn(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	if r := viaAlipay(t, b, "signin", alipayCertified); r.Location() != "/upstream/continue" {
		t.Fatalf("callback: %d %q", r.Status, r.Location())
	}
	p := b.Get("/api/v1/upstream/pending").JSON(t)
	if p["provider"] != "alipay" || p["nickname"] != "张实名（测试）" || p["certified"] != true {
		t.Fatalf("pending identity %v", p)
	}
	if signedInAs(t, b) != "" {
		t.Fatal("signed in before registering")
	}
	// A form with errors keeps the identity: the person corrects it.
	r := b.PostJSON("/api/v1/upstream/pending/register", map[string]any{"login_name": "x", "phone": "123", "sms_code": "1", "agreed": true})
	if r.Status != http.StatusUnprocessableEntity && r.Status != http.StatusBadRequest {
		t.Fatalf("bad form: %d %s", r.Status, r.Body)
	}
	code := b.SendCode("13912345678")
	r = b.PostJSON("/api/v1/upstream/pending/register", map[string]any{
		"login_name": "ali_zhang", "phone": "13912345678", "sms_code": code, "agreed": true, // no password: Alipay is the way in
	})
	if r.Status != http.StatusCreated {
		t.Fatalf("quick registration: %d %s", r.Status, r.Body)
	}
	if got := signedInAs(t, b); got != "ali_zhang" {
		t.Fatalf("signed in as %q", got)
	}
	u, _ := srv.App.Store.GetUserByLoginName(context.Background(), "ali_zhang")
	l := links(t, srv, u.ID)
	if len(l) != 1 || l[0].Provider != "alipay" || l[0].Subject != "074aTestCertifiedOpenId0001" || l[0].AlipayUserID != "2088000000000001" || !l[0].Certified || l[0].Display == "" || strings.Contains(l[0].Display, "张实名") {
		t.Fatalf("link %+v", l)
	}
	if u.PasswordHash != "" || u.RealnameLevel != 0 {
		t.Fatalf("account: password %q, level %d; want none and 0 (Alipay's certification is no level of its own)", u.PasswordHash, u.RealnameLevel)
	}
	if r := b.PostJSON("/api/v1/upstream/pending/register", map[string]any{"login_name": "ali_two", "phone": "13912345679", "sms_code": "000000", "agreed": true}); r.Status != http.StatusGone {
		t.Fatalf("the spent flow registers again: %d %s", r.Status, r.Body)
	}

	// No password: a password sign-in fails as a wrong one does.
	other := srv.Browser(t)
	if r := other.Login("ali_zhang", apptest.GoodPassword); r.Status != http.StatusUnauthorized {
		t.Fatalf("password sign-in of an Alipay-only account: %d %s", r.Status, r.Body)
	}
	// Sign in with Alipay: straight in, as the linked account.
	if r := viaAlipay(t, other, "signin", alipayCertified); r.Status != http.StatusSeeOther || r.Location() != "/me" {
		t.Fatalf("sign-in with Alipay: %d %q", r.Status, r.Location())
	}
	if got := signedInAs(t, other); got != "ali_zhang" {
		t.Fatalf("signed in as %q", got)
	}
	ss, err := srv.App.Store.ListUserSessions(context.Background(), u.ID, srv.Clock.Now(), srv.Clock.Now().Add(-time.Hour))
	if err != nil || len(ss) != 2 || strings.Join(ss[0].AMR, " ")+"|"+strings.Join(ss[1].AMR, " ") == "" {
		t.Fatalf("sessions %+v, %v", ss, err)
	}
	for _, s := range ss {
		if s.AMR[0] != store.AMRAlipay {
			t.Errorf("session amr %v; want alipay first", s.AMR)
		}
	}
	wantAudit(t, srv, audit.ActionLogin, u.ID, "ok")
	if page := string(other.Get("/dev/").Body); !strings.Contains(page, "074aTestCertifiedOpenId0001") {
		t.Error("/dev/ does not list the fake Alipay's users")
	}
}

// wantAudit fails unless the audit log has an event of action by actor
// with result.
func wantAudit(t testing.TB, srv *apptest.Server, action, userID, result string) {
	t.Helper()
	evs, err := srv.App.Store.ListAudit(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Action == action && e.Actor == audit.User(userID).String() && e.Result == result {
			return
		}
	}
	t.Errorf("no %s by %s with %s in the audit log", action, userID, result)
}

func TestAlipayBindExistingAccount(t *testing.T) {
	srv := apptest.Start(t, nil)
	owner := srv.Browser(t)
	zhangID := owner.MustRegister(apptest.Zhang)

	b := srv.Browser(t)
	if r := viaAlipay(t, b, "signin", alipayCertified); r.Location() != "/upstream/continue" {
		t.Fatalf("callback: %d %q", r.Status, r.Location())
	}
	// A wrong password binds nothing and answers as a sign-in does.
	id, answer := b.Captcha()
	r := b.PostJSON("/api/v1/upstream/pending/bind", map[string]any{"identifier": apptest.Zhang.Login, "password": "Wrong#Pass2026", "captcha_id": id, "captcha_answer": answer})
	if r.Status != http.StatusUnauthorized || r.ErrCode(t) != "login_failed" {
		t.Fatalf("wrong password: %d %s", r.Status, r.Body)
	}
	if l := links(t, srv, zhangID); len(l) != 0 {
		t.Fatalf("a wrong password linked %+v", l)
	}
	id, answer = b.Captcha()
	r = b.PostJSON("/api/v1/upstream/pending/bind", map[string]any{"identifier": apptest.Zhang.Login, "password": apptest.Zhang.Password, "captcha_id": id, "captcha_answer": answer})
	if r.Status != http.StatusCreated {
		t.Fatalf("bind: %d %s", r.Status, r.Body)
	}
	if l := links(t, srv, zhangID); len(l) != 1 {
		t.Fatalf("links %+v", l)
	}
	wantAudit(t, srv, "upstream.linked", zhangID, "ok")
	var msgs struct {
		Messages []struct{ Title, Link string } `json:"messages"`
	}
	if r := owner.Get("/api/v1/messages"); json.Unmarshal(r.Body, &msgs) != nil || len(msgs.Messages) == 0 ||
		!strings.Contains(msgs.Messages[0].Title, "支付宝") || msgs.Messages[0].Link != "/settings/links" {
		t.Errorf("the owner's messages after a link: %s", r.Body)
	}
	// … and by SMS: the message alone reaches whoever added the link.
	if out := srv.Outbox(t); len(out) == 0 || out[0].To != apptest.Zhang.Phone || !strings.Contains(out[0].Text, "绑定第三方账号") {
		t.Errorf("no SMS to the owner about the link: %+v", out[:min(len(out), 1)])
	}

	// The same Alipay identity cannot be bound to another account.
	li := srv.Browser(t)
	liID := li.MustRegister(apptest.Person{Login: "li_si", Password: apptest.GoodPassword, Phone: "13712345678"})
	if r := viaAlipay(t, li, "bind", alipayCertified); r.Location() != "/settings/links?error=upstream_linked_elsewhere" {
		t.Fatalf("binding an identity linked elsewhere: %d %q", r.Status, r.Location())
	}
	if l := links(t, srv, liID); len(l) != 0 {
		t.Fatalf("li got %+v", l)
	}
	// From the user center, another Alipay identity binds.
	if r := viaAlipay(t, li, "bind", alipayUncertified); r.Location() != "/settings/links?bound=alipay" {
		t.Fatalf("bind from the user center: %d %q", r.Status, r.Location())
	}
	if l := links(t, srv, liID); len(l) != 1 || l[0].Subject != "074aTestUncertifiedOpenId02" {
		t.Fatalf("li's links %+v", l)
	}
	got := li.Get("/api/v1/me/links").JSON(t)
	if ls, _ := got["links"].([]any); len(ls) != 1 || got["has_password"] != true {
		t.Fatalf("links answer %v", got)
	}
	// Binding adds a way in: it needs a recent sign-in.
	srv.Clock.Advance(apptestReauthWindow)
	if r := li.Get("/upstream/alipay/start?purpose=bind"); r.Location() != "/settings/links?error=reauthentication_required" {
		t.Fatalf("bind without a recent sign-in: %d %q", r.Status, r.Location())
	}
	// Binding needs a signed-in browser.
	anon := srv.Browser(t)
	if r := anon.Get("/upstream/alipay/start?purpose=bind"); !strings.HasPrefix(r.Location(), "/login?next=") {
		t.Fatalf("bind while signed out: %d %q", r.Status, r.Location())
	}
}

func TestAlipayRecoveryAndUnbinding(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	userID := quickRegister(t, srv, b, alipayCertified, "ali_wang", "13612345678", "")

	// The only way in cannot be unbound, even after re-authenticating.
	if r := b.SendJSON(http.MethodDelete, "/api/v1/me/links/alipay", nil); r.Status != http.StatusConflict || r.ErrCode(t) != "upstream_only_way_in" {
		t.Fatalf("unbinding the only way in: %d %s", r.Status, r.Body)
	}
	if l := links(t, srv, userID); len(l) != 1 {
		t.Fatal("the refused unbinding removed the link")
	}

	// 快捷方式找回: Alipay proves the person, a password follows.
	other := srv.Browser(t)
	r := viaAlipay(t, other, "recover", alipayCertified)
	const prefix = "/recover#flow="
	if !strings.HasPrefix(r.Location(), prefix) {
		t.Fatalf("recovery callback: %d %q", r.Status, r.Location())
	}
	flowID := strings.TrimPrefix(r.Location(), prefix)
	outbox := srv.OutboxLen(t)
	r = other.PostJSON("/api/v1/recovery/"+flowID+"/password", map[string]any{"password": apptest.GoodPassword, "password_confirm": apptest.GoodPassword})
	if r.Status/100 != 2 {
		t.Fatalf("new password: %d %s", r.Status, r.Body)
	}
	if signedInAs(t, b) != "" {
		t.Fatal("the session from before the recovery lives on")
	}
	if srv.OutboxLen(t) <= outbox {
		t.Error("the owner was not told of the new password")
	}
	other.MustLogin("ali_wang", apptest.GoodPassword)

	// With a password, Alipay may go — after a recent sign-in.
	srv.Clock.Advance(apptestReauthWindow)
	if r := other.SendJSON(http.MethodDelete, "/api/v1/me/links/alipay", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("unbinding without a recent sign-in: %d %s", r.Status, r.Body)
	}
	// Re-authenticating through Alipay itself opens it.
	if r := viaAlipay(t, other, "reauth", alipayCertified); r.Location() != "/me" {
		t.Fatalf("reauth: %d %q", r.Status, r.Location())
	}
	// The person's copy of their data names the link.
	var exp struct {
		Links []struct{ Provider, Subject string } `json:"links"`
	}
	if r := other.Get("/api/v1/me/export"); r.Status != http.StatusOK || json.Unmarshal(r.Body, &exp) != nil ||
		len(exp.Links) != 1 || exp.Links[0].Subject != "074aTestCertifiedOpenId0001" {
		t.Fatalf("export: %d %+v", r.Status, exp)
	}
	if r := other.SendJSON(http.MethodDelete, "/api/v1/me/links/alipay", nil); r.Status != http.StatusNoContent {
		t.Fatalf("unbinding: %d %s", r.Status, r.Body)
	}
	if l := links(t, srv, userID); len(l) != 0 {
		t.Fatalf("left %+v", l)
	}
	wantAudit(t, srv, "upstream.unlinked", userID, "ok")

	// An identity linked to nobody recovers nothing.
	r = viaAlipay(t, srv.Browser(t), "recover", alipayCertified)
	if r.Location() != "/recover?upstream=unlinked" {
		t.Fatalf("recovery by an unlinked identity: %d %q", r.Status, r.Location())
	}
}

// apptestReauthWindow is past the re-authentication window of sensitive
// changes.
const apptestReauthWindow = 16 * time.Minute

func TestAlipayRefusals(t *testing.T) {
	srv := apptest.Start(t, nil)
	gw := srv.App.AlipayGateway
	nothingWritten := func(t *testing.T, b *apptest.Browser) {
		t.Helper()
		if signedInAs(t, b) != "" {
			t.Error("signed in")
		}
		if r := b.Get("/api/v1/upstream/pending"); r.Status != http.StatusGone {
			t.Errorf("pending after a refusal: %d %s", r.Status, r.Body)
		}
		n, err := srv.App.Store.CountUsers(context.Background())
		if err != nil || n != 0 {
			t.Errorf("%d accounts, %v", n, err)
		}
	}
	for _, tt := range []struct {
		name  string
		fault alipaydev.Fault
		user  string
		code  string
	}{
		{"gateway down", alipaydev.FaultServerError, alipayCertified, "upstream_unavailable"},
		{"answer with a bad signature", alipaydev.FaultBadSignature, alipayCertified, "upstream_unverified"},
		{"expired code", alipaydev.FaultExpiredCode, alipayCertified, "upstream_code_invalid"},
		{"token refused", alipaydev.FaultInsufficientToken, alipayCertified, "upstream_code_invalid"},
		{"cancelled", alipaydev.FaultNone, "", "upstream_cancelled"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gw.SetFault(tt.fault)
			defer gw.SetFault(alipaydev.FaultNone)
			b := srv.Browser(t)
			r := viaAlipay(t, b, "signin", tt.user)
			if r.Location() != "/login?upstream_error="+tt.code {
				t.Fatalf("%d %q; want the login page with %s", r.Status, r.Location(), tt.code)
			}
			nothingWritten(t, b)
			page := b.Get(r.Location())
			if page.Status != http.StatusOK {
				t.Fatalf("login page: %d", page.Status)
			}
		})
	}

	t.Run("state of another browser", func(t *testing.T) {
		victim, attacker := srv.Browser(t), srv.Browser(t)
		cb := alipayCallback(t, attacker, "signin", alipayCertified)
		// The attacker's callback, in the victim's browser (which started
		// a flow of its own).
		victim.Get("/upstream/alipay/start")
		if r := victim.Get(cb); r.Location() != "/login?upstream_error=upstream_state_mismatch" {
			t.Fatalf("%d %q", r.Status, r.Location())
		}
		nothingWritten(t, victim)
		// The attacker's own browser still finishes its flow: nothing of
		// it was spent by the refused attempt.
		if r := attacker.Get(cb); r.Location() != "/upstream/continue" {
			t.Fatalf("the attacker's own callback: %d %q", r.Status, r.Location())
		}
	})

	t.Run("replayed auth_code", func(t *testing.T) {
		b := srv.Browser(t)
		cb := alipayCallback(t, b, "signin", alipayCertified)
		if r := b.Get(cb); r.Location() != "/upstream/continue" {
			t.Fatalf("first: %d %q", r.Status, r.Location())
		}
		if r := b.Get(cb); r.Location() != "/login?upstream_error=flow_expired" {
			t.Fatalf("replay: %d %q", r.Status, r.Location())
		}
		// The replay leaves the waiting registration as it was.
		if r := b.Get("/api/v1/upstream/pending"); r.Status != http.StatusOK {
			t.Fatalf("pending after a replay: %d %s", r.Status, r.Body)
		}
	})

	t.Run("too many starts from one address", func(t *testing.T) {
		srv.Clock.Advance(time.Minute)
		defer srv.Clock.Advance(time.Minute)
		b := srv.Browser(t)
		for range upstream.StartsPerAddressMinute {
			if r := b.Get("/upstream/alipay/start"); r.Status != http.StatusSeeOther || !strings.Contains(r.Location(), alipaydev.PathPrefix) {
				t.Fatalf("start: %d %q", r.Status, r.Location())
			}
		}
		if r := b.Get("/upstream/alipay/start"); r.Location() != "/login?upstream_error=upstream_rate_limited" {
			t.Fatalf("one start too many: %d %q", r.Status, r.Location())
		}
	})

	t.Run("disabled account", func(t *testing.T) {
		b := srv.Browser(t)
		userID := quickRegister(t, srv, b, alipayUncertified, "ali_zhao", "13512345678", apptest.GoodPassword)
		if _, err := srv.App.Store.UpdateUser(context.Background(), userID, func(u store.User) (store.User, error) {
			u.Status = store.UserDisabled
			return u, nil
		}); err != nil {
			t.Fatal(err)
		}
		if r := viaAlipay(t, srv.Browser(t), "signin", alipayUncertified); r.Location() != "/login?upstream_error=account_disabled" {
			t.Fatalf("%d %q", r.Status, r.Location())
		}
	})
}

// TestAlipaySignInReachesServiceSystems signs in with Alipay and then
// through OpenID Connect with go-oidc: the ID token's amr says Alipay.
func TestAlipaySignInReachesServiceSystems(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	quickRegister(t, srv, b, alipayCertified, "ali_amr", "13412345678", "")
	redirect := "http://127.0.0.1/hall/callback"
	c, secret, err := srv.App.Clients.Create(context.Background(), client.Spec{
		Name: "政务服务大厅", Type: store.ClientOIDCConfidential, RedirectURIs: []string{redirect}, Scopes: []string{"openid", "profile"},
	}, audit.Origin{Actor: audit.Operator("test")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := gooidc.ClientContext(context.Background(), srv.Browser(t).Client)
	provider, err := gooidc.NewProvider(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: c.ID, ClientSecret: secret, Endpoint: provider.Endpoint(), RedirectURL: redirect, Scopes: []string{"openid", "profile"}}
	query := walkAuthorize(t, b, conf.AuthCodeURL("st", gooidc.Nonce("nn")), redirect)
	tok, err := conf.Exchange(ctx, query.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&gooidc.Config{ClientID: c.ID}).Verify(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	var cl struct {
		AMR []string `json:"amr"`
	}
	if err := idt.Claims(&cl); err != nil || strings.Join(cl.AMR, " ") != "alipay sms" {
		t.Fatalf("amr %v, %v; want [alipay sms] (registered through Alipay with an SMS code)", cl.AMR, err)
	}
}

// walkAuthorize follows an authorization request in b (signed in),
// answering consent with allow, to the client's redirect, whose query it
// returns.
func walkAuthorize(t *testing.T, b *apptest.Browser, u, redirect string) url.Values {
	t.Helper()
	for range 12 {
		if strings.HasPrefix(u, redirect) {
			back, err := url.Parse(u)
			if err != nil {
				t.Fatal(err)
			}
			return back.Query()
		}
		next, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		if next.Path == "/oidc/consent" {
			r := b.PostJSON("/api/v1/consents", map[string]any{"request_id": next.Query().Get("id"), "allow": true})
			var to struct {
				RedirectTo string `json:"redirect_to"`
			}
			if err := json.Unmarshal(r.Body, &to); err != nil || r.Status != http.StatusOK {
				t.Fatalf("consent: %d %s", r.Status, r.Body)
			}
			u = to.RedirectTo
			continue
		}
		r := b.Get(u)
		if r.Status < 300 || r.Status > 399 {
			t.Fatalf("the walk stopped at %s: %d %s", u, r.Status, r.Body)
		}
		abs, err := next.Parse(r.Location())
		if err != nil {
			t.Fatal(err)
		}
		u = abs.String()
	}
	t.Fatalf("too many redirects, last %s", u)
	return nil
}

// TestOpenIDUpstream signs in to one unid through another unid acting as
// the OpenID provider (the national platform, a provincial app).
func TestOpenIDUpstream(t *testing.T) {
	// The provider's pages and cookies live under "localhost", the relying
	// unid's under 127.0.0.1: one browser, two sites.
	var opURL string
	op := apptest.Start(t, func(c *config.Config) {
		c.PublicURL = strings.Replace(c.PublicURL, "127.0.0.1", "localhost", 1)
		opURL = c.PublicURL
	})
	opBrowserUser := op.Browser(t)
	opBrowserUser.MustRegister(apptest.Zhang)

	var secret string
	rp := apptest.Start(t, func(c *config.Config) {
		spec := client.Spec{ID: "unid-rp", Name: "统一身份认证平台（市级）", Type: store.ClientOIDCConfidential,
			RedirectURIs: []string{c.PublicURL + "/upstream/gov/callback"}, Scopes: []string{"openid", "profile", "phone"}}
		var err error
		if _, secret, err = op.App.Clients.Create(context.Background(), spec, audit.Origin{Actor: audit.Operator("test")}); err != nil {
			t.Fatal(err)
		}
		u := config.DefaultUpstream()
		u.ID, u.Name, u.Issuer, u.ClientID = "gov", "国家政务服务平台", opURL, "unid-rp"
		u.ClientSecret.Value = secret
		u.Scopes = []string{"openid", "profile", "phone"}
		c.Upstream = []config.Upstream{u}
	})
	if got := rp.Browser(t).Get("/api/v1/upstreams").Body; !strings.Contains(string(got), `"id":"gov"`) {
		t.Fatalf("providers %s", got)
	}
	b := rp.Browser(t)
	atOP := &apptest.Browser{T: t, Srv: op, Client: b.Client, Base: opURL}
	atOP.MustLogin(apptest.Zhang.Login, apptest.Zhang.Password)

	r := b.Get("/upstream/gov/start")
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location(), opURL+"/oidc/authorize") {
		t.Fatalf("start: %d %q", r.Status, r.Location())
	}
	q := walkAuthorize(t, atOP, r.Location(), rp.URL+"/upstream/gov/callback")
	back := rp.URL + "/upstream/gov/callback?" + q.Encode()
	if r := b.Get(back); r.Location() != "/upstream/continue" {
		t.Fatalf("callback: %d %q", r.Status, r.Location())
	}
	p := b.Get("/api/v1/upstream/pending").JSON(t)
	if p["provider"] != "gov" || p["login_name"] != apptest.Zhang.Login {
		t.Fatalf("pending %v", p)
	}
	userID := quickRegisterPending(t, rp, b, "gov_zhang", "13812345678")
	l := links(t, rp, userID)
	if len(l) != 1 || l[0].Provider != "gov" || l[0].App != opURL {
		t.Fatalf("links %+v", l)
	}
	// Signed out, the upstream signs the same person straight in.
	b.SendJSON(http.MethodDelete, "/api/v1/sessions/current", nil)
	r = b.Get("/upstream/gov/start")
	q = walkAuthorize(t, atOP, r.Location(), rp.URL+"/upstream/gov/callback")
	if r := b.Get(rp.URL + "/upstream/gov/callback?" + q.Encode()); r.Location() != "/me" {
		t.Fatalf("second sign-in: %d %q", r.Status, r.Location())
	}
	if got := signedInAs(t, b); got != "gov_zhang" {
		t.Fatalf("signed in as %q", got)
	}
}

// quickRegisterPending finishes b's identified flow with a new account.
func quickRegisterPending(t testing.TB, srv *apptest.Server, b *apptest.Browser, login, phone string) string {
	t.Helper()
	code := b.SendCode(phone)
	r := b.PostJSON("/api/v1/upstream/pending/register", map[string]any{"login_name": login, "phone": phone, "sms_code": code, "agreed": true})
	if r.Status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	u, err := srv.App.Store.GetUserByLoginName(context.Background(), login)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// TestAlipayReviewedEdges are the answers a security review asked for.
func TestAlipayReviewedEdges(t *testing.T) {
	srv := apptest.Start(t, nil)

	t.Run("a bind finished by another signed-in user links nobody", func(t *testing.T) {
		b := srv.Browser(t)
		zhangID := b.MustRegister(apptest.Person{Login: "bind_zhang", Password: apptest.GoodPassword, Phone: "13312345671"})
		r := b.Get("/upstream/alipay/start?purpose=bind")
		page := r.Location()
		b.SendJSON(http.MethodDelete, "/api/v1/sessions/current", nil)
		liID := srv.Browser(t).MustRegister(apptest.Person{Login: "bind_li", Password: apptest.GoodPassword, Phone: "13312345672"})
		b.MustLogin("bind_li", apptest.GoodPassword)
		r = b.Do(http.MethodPost, page, "application/x-www-form-urlencoded", strings.NewReader("user="+alipayUncertified))
		if r = b.Get(r.Location()); r.Location() != "/settings/links?error=upstream_session_changed" {
			t.Fatalf("callback: %d %q", r.Status, r.Location())
		}
		if len(links(t, srv, zhangID))+len(links(t, srv, liID)) != 0 {
			t.Fatal("a link was made")
		}
	})

	t.Run("another site cannot start a bind or a re-authentication", func(t *testing.T) {
		b := srv.Browser(t)
		b.MustRegister(apptest.Person{Login: "cross_site", Password: apptest.GoodPassword, Phone: "13312345673"})
		for _, purpose := range []string{"bind", "reauth"} {
			r := b.Do(http.MethodGet, "/upstream/alipay/start?purpose="+purpose, "", nil, "Sec-Fetch-Site", "cross-site")
			if !strings.HasPrefix(r.Location(), "/settings/links?error=") {
				t.Errorf("%s from another site: %d %q", purpose, r.Status, r.Location())
			}
		}
	})

	t.Run("re-authenticating keeps what Alipay certified", func(t *testing.T) {
		b := srv.Browser(t)
		userID := quickRegister(t, srv, b, alipayCertified, "keep_cert", "13312345674", "")
		if r := viaAlipay(t, b, "reauth", alipayCertified); r.Location() != "/me" {
			t.Fatalf("reauth: %d %q", r.Status, r.Location())
		}
		l := links(t, srv, userID)
		if len(l) != 1 || !l[0].Certified || l[0].Display == "" || len(l[0].IDNumberIndex) == 0 {
			t.Fatalf("link after a re-authentication (auth_base): %+v", l)
		}
	})

	t.Run("binding on the continue page signs in by password only", func(t *testing.T) {
		b := srv.Browser(t)
		userID := b.MustRegister(apptest.Person{Login: "amr_pwd", Password: apptest.GoodPassword, Phone: "13312345675"})
		b.SendJSON(http.MethodDelete, "/api/v1/sessions/current", nil)
		if r := viaAlipay(t, b, "signin", "openid-only"); r.Location() != "/upstream/continue" {
			t.Fatalf("callback: %d %q", r.Status, r.Location())
		}
		id, answer := b.Captcha()
		if r := b.PostJSON("/api/v1/upstream/pending/bind", map[string]any{"identifier": "amr_pwd", "password": apptest.GoodPassword, "captcha_id": id, "captcha_answer": answer}); r.Status != http.StatusCreated {
			t.Fatalf("bind: %d %s", r.Status, r.Body)
		}
		ss, err := srv.App.Store.ListUserSessions(context.Background(), userID, srv.Clock.Now(), srv.Clock.Now().Add(-time.Hour))
		if err != nil || len(ss) != 1 || strings.Join(ss[0].AMR, " ") != "pwd" {
			t.Fatalf("sessions %+v, %v; want amr pwd", ss, err)
		}
	})

	t.Run("a replayed callback of another browser is audited once", func(t *testing.T) {
		owner := srv.Browser(t)
		cb := alipayCallback(t, owner, "signin", alipayUncertified)
		before := countAudit(t, srv, "upstream.failed", "upstream_state_mismatch")
		for range 5 {
			srv.Browser(t).Get(cb)
		}
		if n := countAudit(t, srv, "upstream.failed", "upstream_state_mismatch") - before; n != 1 {
			t.Errorf("%d audit events for 5 replays; want 1", n)
		}
	})
}

func countAudit(t testing.TB, srv *apptest.Server, action, result string) int {
	t.Helper()
	evs, err := srv.App.Store.ListAudit(context.Background(), 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Action == action && e.Result == result {
			n++
		}
	}
	return n
}
