package oidc_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"unid/internal/account"
	"unid/internal/app"
	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/config"
	"unid/internal/i18n"
	sso "unid/internal/sso/oidc"
	"unid/internal/store"
	"unid/internal/web"
)

// env is a whole unid (apptest: login API, sessions, client registry) with
// the OpenID provider mounted in front of it on a loopback listener.
type env struct {
	t     testing.TB
	srv   *apptest.Server
	URL   string // the issuer
	op    *sso.Provider
	store store.Store
	reg   *client.Registry
	prot  *account.Protector
	audit *audit.Log
	clock *apptest.Clock
	deps  sso.Deps
	opts  sso.Options
}

type envOptions struct {
	config func(*config.Config)
}

// newEnv starts unid. When the app mounts the OpenID provider itself (it
// has an exported *oidc.Provider field), the tests use that one, at the
// app's URL; until then the provider is built here and mounted in front of
// the app on a listener of its own.
func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	srv := apptest.Start(t, o.config)
	a := srv.App
	logger := app.NewLogger(srv.Logs, "debug", "text")
	keys, err := app.LoadKeys(a.Config, logger)
	if err != nil {
		t.Fatal(err)
	}
	prot, err := account.NewProtector(keys)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	pages, err := web.New(web.Options{Dev: true, Catalog: cat, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{
		t: t, srv: srv, store: a.Store, reg: a.Clients, prot: prot,
		audit: audit.New(a.Store, srv.Clock.Now, logger), clock: srv.Clock,
	}
	e.deps = sso.Deps{
		Store: a.Store, Registry: a.Clients, Sessions: a.Sessions, Protector: prot, Audit: e.audit,
		Logger: logger, Pages: app.OIDCPages(pages), Now: srv.Clock.Now,
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", srv.Logs.String())
		}
	})
	if mounted := mountedProvider(a); mounted != nil {
		e.URL, e.op = srv.URL, mounted
		e.opts = sso.Options{Issuer: e.URL, Dev: true}
		return e
	}
	ts := httptest.NewUnstartedServer(nil)
	e.URL = "http://" + ts.Listener.Addr().String()
	e.opts = sso.Options{Issuer: e.URL, Dev: true}
	e.op, err = sso.New(context.Background(), e.deps, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, r := range e.op.Routes() {
		mux.Handle(r.Pattern, r.Handler)
	}
	mux.Handle("/", a.Handler)
	ts.Config.Handler = mux
	ts.Start()
	t.Cleanup(ts.Close)
	return e
}

// instance starts another provider over deps, as a second instance of
// unid on the same database would be, and returns it with its URL.
func (e *env) instance(deps sso.Deps, o sso.Options) (*sso.Provider, string) {
	e.t.Helper()
	p, err := sso.New(context.Background(), deps, o)
	if err != nil {
		e.t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, r := range p.Routes() {
		mux.Handle(r.Pattern, r.Handler)
	}
	srv := httptest.NewServer(mux)
	e.t.Cleanup(srv.Close)
	return p, srv.URL
}

// mountedProvider finds the app's own provider, if it has one.
func mountedProvider(a *app.App) *sso.Provider {
	v := reflect.ValueOf(a).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); v.Type().Field(i).IsExported() {
			if p, ok := f.Interface().(*sso.Provider); ok && p != nil {
				return p
			}
		}
	}
	return nil
}

// person is a test user.
type person struct {
	login, password, phone, idNumber, realName, email string
	level                                             int
}

var zhang = person{
	login: "zhang_san", password: "Shandong#2026", phone: "13812345678",
	idNumber: "11010519491231002X", realName: "张三", email: "zhang@example.cn", level: 2,
}

// addUser stores p as an active user with sealed personal data.
func (e *env) addUser(p person) store.User {
	e.t.Helper()
	ctx := context.Background()
	h := account.NewHasher(account.Params{Memory: 8 * 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 2)
	hash, err := h.Hash(ctx, p.password)
	if err != nil {
		e.t.Fatal(err)
	}
	seal := func(kind, v string) store.Sealed {
		s, err := e.prot.Seal(kind, v)
		if err != nil {
			e.t.Fatal(err)
		}
		return s
	}
	now := e.clock.Now()
	u := store.User{
		ID: strings.ToLower(rand.Text()), LoginName: p.login, LoginNameKey: strings.ToLower(p.login), PasswordHash: hash,
		Phone: seal(account.FieldPhone, p.phone), IDNumber: seal(account.FieldIDNumber, p.idNumber),
		Email: seal(account.FieldEmail, p.email), RealName: seal(account.FieldRealName, p.realName),
		RealnameLevel: p.level, Status: store.UserActive, CreatedAt: now, UpdatedAt: now,
	}
	u.RealName.Index = nil
	if err := e.store.CreateUser(ctx, u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// browser is one user agent (apptest's, talking to the provider's URL) that
// signs in as who when the OP sends it to the login page.
type browser struct {
	*apptest.Browser
	e   *env
	who *person
}

func (e *env) browser(who *person) *browser {
	b := e.srv.Browser(e.t)
	b.Base = e.URL
	return &browser{Browser: b, e: e, who: who}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func replyOf(r apptest.Response) reply {
	return reply{status: r.Status, header: r.Header, body: r.Body}
}

func (b *browser) do(method, u, contentType string, body []byte) reply {
	b.e.t.Helper()
	return replyOf(b.Do(method, u, contentType, bytes.NewReader(body)))
}

func (b *browser) postJSON(path string, v any) reply {
	b.e.t.Helper()
	return replyOf(b.PostJSON(path, v))
}

// login signs the browser in as who, as the login page does.
func (b *browser) login() {
	b.e.t.Helper()
	b.MustLogin(b.who.login, b.who.password)
}

// stop says where a walk through the OP ended.
type stop struct {
	at      *url.URL // the last URL asked for
	status  int      // its answer
	header  http.Header
	body    []byte
	logins  int // how often the OP sent the browser to the login page
	consent bool
}

// walk follows redirects from u while they stay on the OP, signing in when
// sent to the login page; it stops at the first URL off the OP (the
// client's redirect URI) or a page. consent ("allow", "deny" or "") answers
// the consent page, or stops there.
func (b *browser) walk(u, consent string) stop {
	b.e.t.Helper()
	var s stop
	for range 12 {
		next, err := url.Parse(u)
		if err != nil {
			b.e.t.Fatal(err)
		}
		s.at = next
		if !strings.HasPrefix(u, b.e.URL) && !strings.HasPrefix(u, "/") {
			return s
		}
		switch {
		case next.Path == "/login" && b.who != nil:
			s.logins++
			b.login()
			u = next.Query().Get("next")
			continue
		case next.Path == "/oidc/consent" && consent != "":
			s.consent = true
			r := b.do("GET", u, "", nil)
			if r.status != http.StatusOK {
				b.e.t.Fatalf("consent page: %d %s", r.status, r.body)
			}
			a := b.postJSON("/api/v1/consents", map[string]any{"request_id": next.Query().Get("id"), "allow": consent == "allow"})
			if a.status != http.StatusOK {
				b.e.t.Fatalf("consent answer: %d %s", a.status, a.body)
			}
			var to struct {
				RedirectTo string `json:"redirect_to"`
			}
			json.Unmarshal(a.body, &to)
			u = to.RedirectTo
			continue
		}
		r := b.do("GET", u, "", nil)
		s.status, s.header, s.body = r.status, r.header, r.body
		loc := r.header.Get("Location")
		if r.status < 300 || r.status > 399 || loc == "" {
			return s
		}
		abs, err := next.Parse(loc)
		if err != nil {
			b.e.t.Fatal(err)
		}
		u = abs.String()
		if strings.HasPrefix(loc, "/") {
			u = b.e.URL + abs.RequestURI()
		}
	}
	b.e.t.Fatalf("too many redirects from %s", u)
	return s
}

// rp is a relying party built on go-oidc and x/oauth2.
type rp struct {
	e        *env
	c        store.Client
	secret   string
	provider *gooidc.Provider
	cfg      oauth2.Config
}

const rpCallback = "http://127.0.0.1/rp/callback"

func (e *env) newRP(spec client.Spec) *rp {
	e.t.Helper()
	if spec.Name == "" {
		spec.Name = "省网上办事大厅"
	}
	if spec.Type == "" {
		spec.Type = store.ClientOIDCConfidential
	}
	if spec.RedirectURIs == nil {
		spec.RedirectURIs = []string{rpCallback}
	}
	c, secret, err := e.reg.Create(context.Background(), spec, audit.Origin{Actor: audit.Operator("test")})
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := gooidc.NewProvider(context.Background(), e.URL)
	if err != nil {
		e.t.Fatalf("discovery: %v", err)
	}
	return &rp{e: e, c: c, secret: secret, provider: p, cfg: oauth2.Config{
		ClientID: c.ID, ClientSecret: secret, Endpoint: p.Endpoint(), RedirectURL: c.RedirectURIs[0], Scopes: c.Scopes,
	}}
}

// verifier checks ID tokens by unid's clock.
func (r *rp) verifier() *gooidc.IDTokenVerifier {
	return r.provider.Verifier(&gooidc.Config{ClientID: r.c.ID, Now: r.e.clock.Now})
}

// flow is one authorization request of an RP.
type flow struct {
	state, nonce, verifier string
	url                    string
}

func (r *rp) newFlow(opts ...oauth2.AuthCodeOption) *flow {
	f := &flow{state: rand.Text(), nonce: rand.Text(), verifier: oauth2.GenerateVerifier()}
	opts = append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.verifier), gooidc.Nonce(f.nonce)}, opts...)
	f.url = r.cfg.AuthCodeURL(f.state, opts...)
	return f
}

// code walks the browser through f and returns the code the RP receives,
// failing unless it comes back to the RP with its state.
func (r *rp) code(b *browser, f *flow, consent string) string {
	r.e.t.Helper()
	s := b.walk(f.url, consent)
	if s.at.Host+s.at.Path != "127.0.0.1/rp/callback" {
		r.e.t.Fatalf("flow ended at %s (%d %s)", s.at, s.status, s.body)
	}
	q := s.at.Query()
	if q.Get("state") != f.state {
		r.e.t.Fatalf("state = %q; want %q", q.Get("state"), f.state)
	}
	if q.Get("error") != "" || q.Get("code") == "" {
		r.e.t.Fatalf("error = %q (%s); want a code", q.Get("error"), q.Get("error_description"))
	}
	return q.Get("code")
}

// signIn runs the whole code flow with PKCE and verifies the ID token.
func (r *rp) signIn(b *browser, consent string, opts ...oauth2.AuthCodeOption) (*oauth2.Token, *gooidc.IDToken) {
	r.e.t.Helper()
	f := r.newFlow(opts...)
	code := r.code(b, f, consent)
	tok, err := r.cfg.Exchange(context.Background(), code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		r.e.t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := r.verifier().Verify(context.Background(), raw)
	if err != nil {
		r.e.t.Fatalf("ID token: %v", err)
	}
	if idt.Nonce != f.nonce {
		r.e.t.Fatalf("nonce = %q; want %q", idt.Nonce, f.nonce)
	}
	return tok, idt
}

// form posts values to an OP endpoint with HTTP Basic client
// authentication when id is not empty.
func (e *env) form(path, id, secret string, v url.Values) reply {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: data}
}

// introspect asks about a token as client c.
func (e *env) introspect(c *rp, token string) map[string]any {
	e.t.Helper()
	r := e.form("/oidc/introspect", c.c.ID, c.secret, url.Values{"token": {token}})
	if r.status != http.StatusOK {
		e.t.Fatalf("introspect: %d %s", r.status, r.body)
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

// userinfo calls the userinfo endpoint with a bearer token.
func (e *env) userinfo(token string) reply {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.URL+"/oidc/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: data}
}

// auditActions lists the actions of the audit log, in order.
func (e *env) auditActions() []string {
	e.t.Helper()
	events, err := e.store.ListAudit(context.Background(), 0, 10000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range events {
		out = append(out, ev.Action+":"+ev.Result)
	}
	return out
}

func decodeJSON(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%q is not JSON: %v", b, err)
	}
	return m
}

// second is a small step of the clock, past the key ring's reload throttle.
const second = time.Second
