package oidc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/config"
	"unid/internal/problem"
	"unid/internal/session"
	sso "unid/internal/sso/oidc"
	"unid/internal/store"
)

// logoutRP is a service system's back-channel logout endpoint: it verifies
// each logout token with the OP's JWKS (go-oidc's RemoteKeySet) and keeps
// the claims.
type logoutRP struct {
	t       testing.TB
	srv     *httptest.Server
	keys    *gooidc.RemoteKeySet
	issuer  string
	now     func() time.Time
	status  int           // what to answer; 0 means 200
	delay   time.Duration // how long to take
	mu      sync.Mutex
	tokens  []logoutClaims
	bad     []string
	attempt int
}

type logoutClaims struct {
	Iss    string         `json:"iss"`
	Sub    string         `json:"sub"`
	Aud    any            `json:"aud"`
	Iat    int64          `json:"iat"`
	Exp    int64          `json:"exp"`
	Jti    string         `json:"jti"`
	Sid    string         `json:"sid"`
	Nonce  *string        `json:"nonce"`
	Events map[string]any `json:"events"`
	typ    string
}

func newLogoutRP(t testing.TB, e *env) *logoutRP {
	l := &logoutRP{t: t, issuer: e.URL, now: e.clock.Now, keys: gooidc.NewRemoteKeySet(context.Background(), e.URL+"/oidc/keys")}
	l.srv = httptest.NewServer(http.HandlerFunc(l.serve))
	t.Cleanup(l.srv.Close)
	return l
}

func (l *logoutRP) serve(w http.ResponseWriter, r *http.Request) {
	r.ParseForm() // read the body first, so that a client hanging up cancels r's context
	l.mu.Lock()
	l.attempt++
	status, delay := l.status, l.delay
	l.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if status != 0 {
		w.WriteHeader(status)
		return
	}
	token := r.PostFormValue("logout_token")
	payload, err := l.keys.VerifySignature(r.Context(), token)
	if err != nil {
		l.fail("signature: " + err.Error())
		http.Error(w, "bad token", http.StatusBadRequest)
		return
	}
	// go-oidc's own checks of a logout token: iss, the event, jti, exp,
	// sub or sid, no nonce.
	v := gooidc.NewVerifier(l.issuer, l.keys, &gooidc.Config{SkipClientIDCheck: true, SupportedSigningAlgs: []string{"ES256", "RS256"}, Now: l.now})
	if _, err := v.VerifyLogout(r.Context(), token); err != nil {
		l.fail("VerifyLogout: " + err.Error())
		http.Error(w, "bad token", http.StatusBadRequest)
		return
	}
	var c logoutClaims
	json.Unmarshal(payload, &c)
	jws, _ := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	c.typ, _ = jws.Signatures[0].Header.ExtraHeaders[jose.HeaderType].(string)
	l.mu.Lock()
	l.tokens = append(l.tokens, c)
	l.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (l *logoutRP) fail(s string) {
	l.mu.Lock()
	l.bad = append(l.bad, s)
	l.mu.Unlock()
}

func (l *logoutRP) received() []logoutClaims {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.tokens)
}

// TestRPInitiatedLogout: logging out at one client ends the unid session,
// returns to the client's registered address with its state, and tells
// every client of the session over the back channel.
func TestRPInitiatedLogout(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.addUser(zhang)
	bc := newLogoutRP(t, e)
	hall := e.newRP(client.Spec{ID: "hall", FirstParty: true, BackchannelLogoutURI: bc.srv.URL + "/bcl/hall",
		PostLogoutRedirectURIs: []string{"http://127.0.0.1/rp/bye"}})
	tax := e.newRP(client.Spec{ID: "tax", FirstParty: true, BackchannelLogoutURI: bc.srv.URL + "/bcl/tax"})
	quiet := e.newRP(client.Spec{ID: "quiet", FirstParty: true}) // no back-channel URI
	b := e.browser(&zhang)
	tok, idt := hall.signIn(b, "")
	tax.signIn(b, "")
	quiet.signIn(b, "")
	var sid struct{ SID string }
	idt.Claims(&sid)

	// A post_logout_redirect_uri that is not registered exactly: a page, no logout.
	raw := tok.Extra("id_token").(string)
	for _, bad := range []string{"http://127.0.0.1/rp/bye/x", "http://127.0.0.1/rp/bye?x=1", "https://evil.example/bye"} {
		r := b.do("GET", "/oidc/end_session?"+url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {bad}}.Encode(), "", nil)
		if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
			t.Fatalf("logout to %s: %d %v", bad, r.status, r.header)
		}
	}
	if len(bc.received()) != 0 {
		t.Fatal("a refused logout request told the clients")
	}

	start := time.Now()
	r := b.do("GET", "/oidc/end_session?"+url.Values{
		"id_token_hint": {raw}, "post_logout_redirect_uri": {"http://127.0.0.1/rp/bye"}, "state": {"s&t=1"},
	}.Encode(), "", nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "http://127.0.0.1/rp/bye?state=s%26t%3D1" {
		t.Fatalf("logout: %d, Location %q", r.status, r.header.Get("Location"))
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("logout took %v", time.Since(start))
	}
	got := bc.received()
	if len(got) != 2 || len(bc.bad) != 0 {
		t.Fatalf("back-channel: %d tokens, bad %v", len(got), bc.bad)
	}
	auds := []string{}
	for _, c := range got {
		auds = append(auds, c.Aud.([]any)[0].(string))
		if c.Iss != e.URL || c.Sub != u.ID || c.Sid != sid.SID || c.Jti == "" || c.Iat == 0 || c.Exp <= c.Iat || c.Nonce != nil || c.typ != "logout+jwt" {
			t.Errorf("logout token: %+v", c)
		}
		if _, ok := c.Events["http://schemas.openid.net/event/backchannel-logout"]; !ok || len(c.Events) != 1 {
			t.Errorf("events: %v", c.Events)
		}
	}
	slices.Sort(auds)
	if !slices.Equal(auds, []string{"hall", "tax"}) {
		t.Errorf("audiences %v", auds)
	}
	// The unid session is gone: the next sign-in asks for the password.
	if s := b.walk(hall.newFlow().url, ""); s.logins != 1 {
		t.Errorf("after logout: %d logins", s.logins)
	}
	n := 0
	for _, a := range e.auditActions() {
		if a == "oidc.backchannel_logout:ok" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("audit: %v", e.auditActions())
	}
	// One session.logout, written by the session manager, naming the
	// protocol and the client that asked.
	events, _ := e.store.ListAudit(context.Background(), 0, 10000)
	var logouts []string
	for _, ev := range events {
		if ev.Action == audit.ActionLogout {
			logouts = append(logouts, ev.Actor+" "+ev.Detail)
		}
	}
	if want := []string{u.ID + ` {"client_id":"hall","sid":"` + sid.SID + `","via":"oidc"}`}; !slices.Equal(logouts, want) {
		t.Errorf("session.logout events: %q; want %q", logouts, want)
	}
}

// TestLogoutThroughUnid: signing out at unid itself (the JSON API) tells
// the clients too.
func TestLogoutThroughUnid(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addUser(zhang)
	bc := newLogoutRP(t, e)
	hall := e.newRP(client.Spec{ID: "hall", FirstParty: true, BackchannelLogoutURI: bc.srv.URL + "/bcl"})
	b := e.browser(&zhang)
	hall.signIn(b, "")
	if r := b.do("DELETE", "/api/v1/sessions/current", "", nil); r.status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	if got := bc.received(); len(got) != 1 {
		t.Fatalf("back-channel: %d tokens", len(got))
	}
}

// TestBackchannelFailures: a failing client is tried twice at most, a hung
// one does not hold the logout past the budget, and both are audited.
func TestBackchannelFailures(t *testing.T) {
	// Each POST may take 3 s: the hung client's second try is cut short by
	// the 5 s budget, which must not cost its audit event.
	e := newEnv(t, envOptions{config: func(c *config.Config) { c.OIDCBackchannelTimeout = 3 * time.Second }})
	e.addUser(zhang)
	broken, hung := newLogoutRP(t, e), newLogoutRP(t, e)
	broken.status = http.StatusInternalServerError
	hung.delay = time.Minute
	a := e.newRP(client.Spec{ID: "broken", FirstParty: true, BackchannelLogoutURI: broken.srv.URL})
	c := e.newRP(client.Spec{ID: "hung", FirstParty: true, BackchannelLogoutURI: hung.srv.URL})
	b := e.browser(&zhang)
	a.signIn(b, "")
	c.signIn(b, "")
	start := time.Now()
	r := b.do("POST", "/oidc/end_session", "application/x-www-form-urlencoded", nil)
	took := time.Since(start)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		t.Fatalf("logout: %d %q", r.status, r.header.Get("Location"))
	}
	if took > 6*time.Second {
		t.Errorf("logout waited %v for its clients; the budget is 5 s", took)
	}
	broken.mu.Lock()
	attempts := broken.attempt
	broken.mu.Unlock()
	if attempts != 2 {
		t.Errorf("broken client: %d attempts; want 2 (one retry)", attempts)
	}
	failed := 0
	for _, act := range e.auditActions() {
		if act == "oidc.backchannel_logout:failed" {
			failed++
		}
	}
	if failed != 2 {
		t.Errorf("audit: %v", e.auditActions())
	}
	logs := e.srv.Logs.String()
	if !strings.Contains(logs, `client_id=broken`) || strings.Contains(logs, broken.srv.URL) {
		t.Errorf("the failure log must name the client, not its address")
	}
}

// TestEndSessionWithoutHint ends the session and goes home; a hint for
// another user does not sign this browser out.
func TestEndSessionWithoutHint(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addUser(zhang)
	li := person{login: "li_si", password: "Shandong#2026", phone: "13912345678", idNumber: "110105194912310029", realName: "李四", email: "li@example.cn", level: 1}
	e.addUser(li)
	hall := e.newRP(client.Spec{ID: "hall", FirstParty: true, PostLogoutRedirectURIs: []string{"http://127.0.0.1/rp/bye"}})
	bz, bl := e.browser(&zhang), e.browser(&li)
	hall.signIn(bz, "")
	tokLi, _ := hall.signIn(bl, "")
	r := bz.do("GET", "/oidc/end_session?"+url.Values{"id_token_hint": {tokLi.Extra("id_token").(string)}}.Encode(), "", nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.status)
	}
	if s := bz.walk(hall.newFlow().url, ""); s.logins != 0 {
		t.Error("a hint for another user signed this browser out")
	}
	// post_logout_redirect_uri without a way to know the client: a page.
	r = bz.do("GET", "/oidc/end_session?post_logout_redirect_uri="+url.QueryEscape("http://127.0.0.1/rp/bye"), "", nil)
	if r.status != http.StatusBadRequest {
		t.Fatalf("redirect without client: %d", r.status)
	}
	// client_id is enough, but without a hint the user is asked first: a
	// link from any site must not sign them out.
	q := url.Values{"client_id": {"hall"}, "post_logout_redirect_uri": {"http://127.0.0.1/rp/bye"}, "state": {"s1"}}
	r = bz.do("GET", "/oidc/end_session?"+q.Encode(), "", nil)
	if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`id="logout-form"`)) || !bytes.Contains(r.body, []byte(`value="s1"`)) {
		t.Fatalf("logout without a hint: %d, want the confirmation page", r.status)
	}
	if s := bz.walk(hall.newFlow().url, ""); s.logins != 0 {
		t.Fatal("the confirmation page signed the browser out")
	}
	r = bz.do("POST", "/oidc/end_session", "application/x-www-form-urlencoded", []byte(q.Encode()))
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "http://127.0.0.1/rp/bye?state=s1" {
		t.Fatalf("confirmed logout: %d %q", r.status, r.header.Get("Location"))
	}
	if s := bz.walk(hall.newFlow().url, ""); s.logins != 1 {
		t.Error("still signed in after logout")
	}
}

// TestBackchannelHookFaults: the clients are told even when the request
// that ended the session was cancelled (the browser went away: the session
// is gone either way), and a client the registry cannot look up is audited
// as a failure, not skipped in silence.
func TestBackchannelHookFaults(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.addUser(zhang)
	bc := newLogoutRP(t, e)
	hall := e.newRP(client.Spec{ID: "hall", FirstParty: true, BackchannelLogoutURI: bc.srv.URL + "/bcl"})
	tax := e.newRP(client.Spec{ID: "tax", FirstParty: true, BackchannelLogoutURI: bc.srv.URL + "/bcl"})
	b := e.browser(&zhang)
	_, idt := hall.signIn(b, "")
	tax.signIn(b, "")
	var sid struct{ SID string }
	idt.Claims(&sid)

	hooks := &hookCatcher{Sessions: e.deps.Sessions}
	registry := &faultyRegistry{Registry: e.deps.Registry}
	registry.fail("tax")
	deps := e.deps
	deps.Sessions, deps.Registry = hooks, registry
	if _, err := sso.New(context.Background(), deps, e.opts); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	hooks.hook(ctx, store.Session{SID: sid.SID, UserID: u.ID})
	if got := bc.received(); len(got) != 1 || got[0].Sid != sid.SID || got[0].Aud.([]any)[0] != "hall" {
		t.Fatalf("back-channel after a cancelled logout request: %+v, bad %v", got, bc.bad)
	}
	events, _ := e.store.ListAudit(context.Background(), 0, 1000)
	var logouts []string
	for _, ev := range events {
		if ev.Action == "oidc.backchannel_logout" {
			logouts = append(logouts, ev.Result+" "+ev.Detail)
		}
	}
	slices.Sort(logouts)
	if want := []string{`failed {"client_id":"tax","reason":"registry","sid":"` + sid.SID + `"}`, `ok {"client_id":"hall","sid":"` + sid.SID + `"}`}; !slices.Equal(logouts, want) {
		t.Errorf("audit: %q; want %q", logouts, want)
	}
}

// hookCatcher keeps the logout hook a provider registers.
type hookCatcher struct {
	sso.Sessions
	hook session.Hook
}

func (h *hookCatcher) OnEnd(f session.Hook) { h.hook = f }

// faultyRegistry answers for one client as a registry whose database is
// unreachable does.
type faultyRegistry struct {
	sso.Registry
	mu   sync.Mutex
	down string
}

func (f *faultyRegistry) fail(id string) {
	f.mu.Lock()
	f.down = id
	f.mu.Unlock()
}

func (f *faultyRegistry) Get(ctx context.Context, id string) (store.Client, error) {
	f.mu.Lock()
	down := f.down == id
	f.mu.Unlock()
	if down {
		return store.Client{}, problem.Wrap(errors.New("registry: database unreachable"))
	}
	return f.Registry.Get(ctx, id)
}
