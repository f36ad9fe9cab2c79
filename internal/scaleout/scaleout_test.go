package scaleout_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// person is a citizen of the scenario.
type person struct{ login, password, phone string }

var (
	zhang = person{"zhang_san", "Shandong#2026", "13812345678"}
	li    = person{"li_si", "Jinan#Quancheng2026", "13912345678"}
	wang  = person{"wang_wu", "Qingdao#Haibin2026", "13712345678"}
)

const (
	rpCallback = "http://127.0.0.1/hall/callback" // the OIDC service system
	casService = "http://127.0.0.1/tax/"          // the CAS service system
)

// TestTwoInstancesBehindNginx runs examples/nginx/unid.conf in front of two
// unid processes and takes citizens through them, one request here and
// the next there; then it kills one instance and checks that what the
// citizens were told had succeeded still holds through the other.
func TestTwoInstancesBehindNginx(t *testing.T) {
	c := startCluster(t)
	hallSecret := c.createClient("--id", "hall", "--name", "网上办事大厅", "--type", "oidc_confidential", "--redirect-uri", rpCallback, "--first-party")
	c.createClient("--id", "tax", "--name", "电子税务局", "--type", "cas", "--redirect-uri", casService+"*")
	ctx := gooidc.ClientContext(context.Background(), c.client(nil))
	op, err := gooidc.NewProvider(ctx, c.URL)
	if err != nil {
		t.Fatalf("discovery through nginx: %v", err)
	}
	hall := &oauth2.Config{ClientID: "hall", ClientSecret: hallSecret, Endpoint: op.Endpoint(), RedirectURL: rpCallback, Scopes: []string{gooidc.ScopeOpenID}}
	idTokens := op.Verifier(&gooidc.Config{ClientID: "hall"})

	// Both instances up: every request goes to the other one than the
	// request before.
	start := c.mark()
	b := c.browser()

	// A phone gets one code a minute, whichever instance is asked.
	sentBy := c.mark()
	r := b.sendCode(zhang.phone)
	if r.status != http.StatusAccepted {
		t.Fatalf("send code: %d %s", r.status, r.body)
	}
	code := c.code(zhang.phone)
	c.pin = 1 - c.servedBy(c.find(sentBy, "/api/v1/sms-codes"))
	r = b.sendCode(zhang.phone)
	c.pin = -1
	if r.status != http.StatusTooManyRequests || r.errCode(t) != "sms_rate_limited" || r.header.Get("Retry-After") == "" {
		t.Fatalf("second code within a minute on the other instance: %d %s; want 429 sms_rate_limited", r.status, r.body)
	}
	if n := len(c.gw.texts(zhang.phone)); n != 1 {
		t.Fatalf("the phone received %d texts; want 1", n)
	}

	// Registration signs the browser in; the session works on both.
	zhangID := b.register(zhang, code)
	for i := range c.inst {
		c.pin = i
		if me := b.me(); me != zhangID {
			t.Fatalf("GET /api/v1/me on %s: %q; want the new account %q", c.inst[i].name, me, zhangID)
		}
	}
	c.pin = -1

	// Sign-in in another browser, and single sign-on from it.
	b = c.browser()
	if r := b.login(zhang.login, zhang.password); r.status != http.StatusCreated {
		t.Fatalf("sign-in: %d %s", r.status, r.body)
	}
	if sub := c.oidcSignIn(ctx, b, hall, idTokens); sub != zhangID {
		t.Fatalf("OIDC subject %q; want %q", sub, zhangID)
	}
	ticket, issuer := b.casTicket()
	c.pin = 1 - issuer
	if user := c.validateTicket(ticket); user != zhangID {
		t.Fatalf("CAS user %q; want %q", user, zhangID)
	}
	c.pin = -1

	// Wrong passwords, alternating between the instances, lock the
	// account for this network; then the right password is refused on
	// both.
	for range 5 {
		if r := c.browser().login(zhang.login, "Wrong#Password1"); r.status != http.StatusUnauthorized || r.errCode(t) != "login_failed" {
			t.Fatalf("wrong password: %d %s; want 401 login_failed", r.status, r.body)
		}
	}
	for i := range c.inst {
		c.pin = i
		if r := c.browser().login(zhang.login, zhang.password); r.status != http.StatusUnauthorized || r.errCode(t) != "login_failed" {
			t.Fatalf("right password after the lockout on %s: %d %s; want 401 login_failed", c.inst[i].name, r.status, r.body)
		}
	}
	c.pin = -1
	c.checkRoundRobin(start)

	// Everything of the next citizens is done on one instance, k; then k
	// is killed.
	k := c.last()
	c.pin = k
	b = c.browser()
	if r := b.sendCode(li.phone); r.status != http.StatusAccepted {
		t.Fatalf("send code: %d %s", r.status, r.body)
	}
	if r := c.browser().sendCode(wang.phone); r.status != http.StatusAccepted {
		t.Fatalf("send code: %d %s", r.status, r.body)
	}
	wangCode := c.code(wang.phone)
	liID := b.register(li, c.code(li.phone))
	flow := newOIDCFlow(hall)
	oidcCode := b.authorize(flow)
	ticket, _ = b.casTicket()
	c.pin = -1

	c.kill(k)
	killed := c.mark()
	if user := c.validateTicket(ticket); user != liID {
		t.Fatalf("CAS ticket issued before the kill: user %q; want %q", user, liID)
	}
	if sub := c.exchange(ctx, hall, idTokens, flow, oidcCode); sub != liID {
		t.Fatalf("OIDC code issued before the kill: subject %q; want %q", sub, liID)
	}
	if me := b.me(); me != liID {
		t.Fatalf("session after the kill: %q; want %q", me, liID)
	}
	wangB := c.browser()
	wangB.register(wang, wangCode)
	if r := c.browser().login(li.login, li.password); r.status != http.StatusCreated {
		t.Fatalf("sign-in after the kill: %d %s", r.status, r.body)
	}
	for _, h := range c.hops(killed) {
		if i := c.servedBy(h); i != 1-k {
			t.Errorf("%s %s after the kill: answered by %d (status %d); want %s", h.method, h.path, i, h.status, c.inst[1-k].name)
		}
	}
	// nginx met the dead instance and carried the requests over.
	errorLog, _ := os.ReadFile(c.proxy.errorLog)
	if !regexp.MustCompile(`connect\(\) failed \(111: Connection refused\).*upstream: "http://` + regexp.QuoteMeta(c.inst[k].addr)).Match(errorLog) {
		t.Errorf("nginx's error log shows no request refused by the killed %s and carried over:\n%s", c.inst[k].name, errorLog)
	}

	// What the example promises besides: plain HTTP is sent to HTTPS, and
	// the access log holds paths, not the codes and tickets of queries.
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(c.proxy.redirect + "/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMovedPermanently || !strings.HasPrefix(res.Header.Get("Location"), "https://") {
		t.Errorf("plain HTTP: %d to %q; want 301 to https://", res.StatusCode, res.Header.Get("Location"))
	}
	access, _ := os.ReadFile(c.proxy.accessLog)
	if !bytes.Contains(access, []byte("/cas/p3/serviceValidate")) || bytes.Contains(access, []byte("ST-")) || bytes.Contains(access, []byte("code=")) {
		t.Errorf("access log keeps queries or misses requests:\n%s", access)
	}
	if n := c.gw.Refused(); n != 0 {
		t.Errorf("the gateway refused %d requests as not signed", n)
	}
}

// find returns the first hop to path from index from on.
func (c *cluster) find(from int, path string) hop {
	c.t.Helper()
	for _, h := range c.hops(from) {
		if h.path == path {
			return h
		}
	}
	c.t.Fatalf("no request to %s", path)
	return hop{}
}

// browser is one browser of a citizen: its own cookies, through nginx.
type browser struct {
	c    *cluster
	http *http.Client
}

func (c *cluster) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{c: c, http: c.client(jar)}
}

// reply is an answer as the page's script sees it.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) errCode(t *testing.T) string {
	t.Helper()
	var e struct{ Error struct{ Code string } }
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("body %q is not an error: %v", r.body, err)
	}
	return e.Error.Code
}

// send sends req through nginx with client, first steering it to the
// pinned instance, if any, and checking that it got there.
func (c *cluster) send(client *http.Client, req *http.Request) reply {
	c.t.Helper()
	pin := c.pin
	if pin >= 0 {
		c.steer(pin)
	}
	res, err := client.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if pin >= 0 && c.last() != pin {
		c.t.Fatalf("%s %s reached %s; want %s", req.Method, req.URL.Path, c.inst[c.last()].name, c.inst[pin].name)
	}
	return reply{status: res.StatusCode, header: res.Header, body: body}
}

// do sends a request of unid's own pages: paths are on nginx, v (if not
// nil) goes as JSON.
func (b *browser) do(method, target string, v any) reply {
	b.c.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = b.c.URL + target
	}
	var body io.Reader
	if v != nil {
		data, err := json.Marshal(v)
		if err != nil {
			b.c.t.Fatal(err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		b.c.t.Fatal(err)
	}
	if v != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	// As a browser does for a request from unid's own pages.
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.c.send(b.http, req)
}

// captcha creates a captcha and returns its id and answer.
func (b *browser) captcha() (id, answer string) {
	b.c.t.Helper()
	r := b.do(http.MethodPost, "/api/v1/captchas", map[string]any{})
	if r.status != http.StatusCreated {
		b.c.t.Fatalf("create captcha: %d %s", r.status, r.body)
	}
	var v struct{ ID string }
	json.Unmarshal(r.body, &v)
	return v.ID, b.c.captchaAnswer(v.ID)
}

// sendCode asks for a registration code for phone.
func (b *browser) sendCode(phone string) reply {
	b.c.t.Helper()
	id, answer := b.captcha()
	return b.do(http.MethodPost, "/api/v1/sms-codes", map[string]any{"phone": phone, "purpose": "register", "captcha_id": id, "captcha_answer": answer})
}

// code is the code of the newest text to phone.
func (c *cluster) code(phone string) string {
	c.t.Helper()
	texts := c.gw.texts(phone)
	if len(texts) == 0 || texts[len(texts)-1].Params["code"] == "" {
		c.t.Fatalf("no code reached %s", phone)
	}
	return texts[len(texts)-1].Params["code"]
}

// register registers p with code and returns the new account's id.
func (b *browser) register(p person, code string) string {
	b.c.t.Helper()
	r := b.do(http.MethodPost, "/api/v1/users", map[string]any{"login_name": p.login, "password": p.password, "password_confirm": p.password, "phone": p.phone, "sms_code": code, "agreed": true})
	if r.status != http.StatusCreated {
		b.c.t.Fatalf("register %s: %d %s", p.login, r.status, r.body)
	}
	var v struct{ ID string }
	json.Unmarshal(r.body, &v)
	return v.ID
}

// login signs in as the login page does.
func (b *browser) login(identifier, password string) reply {
	b.c.t.Helper()
	id, answer := b.captcha()
	return b.do(http.MethodPost, "/api/v1/sessions", map[string]any{"identifier": identifier, "password": password, "captcha_id": id, "captcha_answer": answer})
}

// me returns the id of the account the browser is signed in to.
func (b *browser) me() string {
	b.c.t.Helper()
	r := b.do(http.MethodGet, "/api/v1/me", nil)
	if r.status != http.StatusOK {
		b.c.t.Fatalf("GET /api/v1/me: %d %s", r.status, r.body)
	}
	var v struct{ ID string }
	json.Unmarshal(r.body, &v)
	return v.ID
}

// oidcFlow is one authorization request of the OIDC service system.
type oidcFlow struct{ state, nonce, verifier, url string }

func newOIDCFlow(rp *oauth2.Config) *oidcFlow {
	f := &oidcFlow{state: rand.Text(), nonce: rand.Text(), verifier: oauth2.GenerateVerifier()}
	f.url = rp.AuthCodeURL(f.state, oauth2.S256ChallengeOption(f.verifier), gooidc.Nonce(f.nonce))
	return f
}

// authorize walks the signed-in browser from the service system's
// authorization request back to its callback, consenting if asked, and
// returns the code.
func (b *browser) authorize(f *oidcFlow) string {
	b.c.t.Helper()
	u := f.url
	for range 10 {
		if !strings.HasPrefix(u, b.c.URL) {
			break
		}
		next, _ := url.Parse(u)
		if next.Path == "/oidc/consent" {
			r := b.do(http.MethodPost, "/api/v1/consents", map[string]any{"request_id": next.Query().Get("id"), "allow": true})
			var to struct {
				RedirectTo string `json:"redirect_to"`
			}
			if r.status != http.StatusOK || json.Unmarshal(r.body, &to) != nil {
				b.c.t.Fatalf("consent: %d %s", r.status, r.body)
			}
			u = to.RedirectTo
		} else {
			r := b.do(http.MethodGet, u, nil)
			loc, err := next.Parse(r.header.Get("Location"))
			if r.status != http.StatusFound && r.status != http.StatusSeeOther || err != nil {
				b.c.t.Fatalf("GET %s: %d %s", next.Path, r.status, r.body)
			}
			u = loc.String()
		}
		if strings.HasPrefix(u, "/") {
			u = b.c.URL + u
		}
	}
	back, err := url.Parse(u)
	if err != nil || !strings.HasPrefix(u, rpCallback+"?") {
		b.c.t.Fatalf("authorization ended at %s; want the callback", u)
	}
	q := back.Query()
	if q.Get("state") != f.state || q.Get("code") == "" {
		b.c.t.Fatalf("callback %s: want state %s and a code", u, f.state)
	}
	return q.Get("code")
}

// exchange redeems code as the service system does and returns the
// subject of the verified ID token.
func (c *cluster) exchange(ctx context.Context, rp *oauth2.Config, v *gooidc.IDTokenVerifier, f *oidcFlow, code string) string {
	c.t.Helper()
	tok, err := rp.Exchange(ctx, code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		c.t.Fatalf("token exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := v.Verify(ctx, raw)
	if err != nil {
		c.t.Fatalf("ID token: %v", err)
	}
	if idt.Nonce != f.nonce {
		c.t.Fatalf("nonce %q; want %q", idt.Nonce, f.nonce)
	}
	return idt.Subject
}

// oidcSignIn runs the whole code flow with PKCE and returns the subject.
func (c *cluster) oidcSignIn(ctx context.Context, b *browser, rp *oauth2.Config, v *gooidc.IDTokenVerifier) string {
	c.t.Helper()
	f := newOIDCFlow(rp)
	return c.exchange(ctx, rp, v, f, b.authorize(f))
}

// casTicket has the signed-in browser open the CAS service system and
// returns the service ticket it brings there, and the instance that
// issued it.
func (b *browser) casTicket() (string, int) {
	b.c.t.Helper()
	r := b.do(http.MethodGet, "/cas/login?service="+url.QueryEscape(casService), nil)
	loc, err := url.Parse(r.header.Get("Location"))
	if r.status != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), casService+"?") || !strings.HasPrefix(loc.Query().Get("ticket"), "ST-") {
		b.c.t.Fatalf("CAS login: %d to %q; want the service with a ticket", r.status, r.header.Get("Location"))
	}
	return loc.Query().Get("ticket"), b.c.last()
}

var casUser = regexp.MustCompile(`<cas:user>([^<]*)</cas:user>`)

// validateTicket validates ticket as the service system does and returns
// the user.
func (c *cluster) validateTicket(ticket string) string {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.URL+"/cas/p3/serviceValidate?service="+url.QueryEscape(casService)+"&ticket="+url.QueryEscape(ticket), nil)
	r := c.send(c.client(nil), req)
	m := casUser.FindSubmatch(r.body)
	if r.status != http.StatusOK || m == nil {
		c.t.Fatalf("serviceValidate: %d %s", r.status, r.body)
	}
	return string(m[1])
}
