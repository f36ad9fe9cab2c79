package oidc_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/config"
	unidflow "unid/internal/flow"
	"unid/internal/problem"
	sso "unid/internal/sso/oidc"
	"unid/internal/store"
)

// TestAuthorizeRefusedWithAPage: when the client or its redirect URI is
// wrong, or the request is oversize, the user gets a page in their
// language and the browser goes nowhere.
func TestAuthorizeRefusedWithAPage(t *testing.T) {
	e := newEnv(t, envOptions{})
	hall := e.newRP(client.Spec{ID: "hall", FirstParty: true})
	if _, _, err := e.reg.Create(context.Background(), client.Spec{ID: "archive", Name: "档案", Type: store.ClientCAS, RedirectURIs: []string{"https://archive.example.cn/*"}}, audit.Origin{Actor: audit.Operator("test")}); err != nil {
		t.Fatal(err)
	}
	good := url.Values{
		"client_id": {"hall"}, "redirect_uri": {rpCallback}, "response_type": {"code"}, "scope": {"openid"},
		"state": {"s"}, "code_challenge": {strings.Repeat("A", 43)}, "code_challenge_method": {"S256"},
	}
	with := func(k, v string) url.Values {
		q := url.Values{}
		for key, vals := range good {
			q[key] = slices.Clone(vals)
		}
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
		return q
	}
	big := strings.Repeat("x", 100<<10)
	tests := []struct {
		name   string
		query  url.Values
		status int
		zh, en string
	}{
		{"unknown client", with("client_id", "nobody"), 400, "未在本平台登记", "not registered"},
		{"a CAS service", with("client_id", "archive"), 400, "未在本平台登记", "not registered"},
		{"missing client", with("client_id", ""), 400, "未在本平台登记", "not registered"},
		{"redirect URI with an extra path", with("redirect_uri", rpCallback+"/x"), 400, "未经登记", "has not registered"},
		{"redirect URI with an extra query", with("redirect_uri", rpCallback+"?next=/x"), 400, "未经登记", "has not registered"},
		{"redirect URI on another host", with("redirect_uri", "https://evil.example/rp/callback"), 400, "未经登记", "has not registered"},
		{"redirect URI with another scheme", with("redirect_uri", "https://127.0.0.1/rp/callback"), 400, "未经登记", "has not registered"},
		{"missing redirect URI", with("redirect_uri", ""), 400, "未经登记", "has not registered"},
		{"100 KB state", with("state", big), 414, "过大", "too large"},
		{"100 KB scope", with("scope", big), 414, "过大", "too large"},
		{"state just over its limit", with("state", strings.Repeat("s", 1025)), 400, "过大", "too large"},
		{"nonce over its limit", with("nonce", strings.Repeat("n", 513)), 400, "过大", "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, lang := range []string{"", "en"} {
				b := e.browser(nil)
				b.Lang = lang
				r := b.do("GET", "/oidc/authorize?"+tt.query.Encode(), "", nil)
				want := tt.zh
				if lang == "en" {
					want = tt.en
				}
				if r.status != tt.status || r.header.Get("Location") != "" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") ||
					!strings.Contains(string(r.body), want) {
					t.Errorf("lang %q: %d, Location %q, body has %q: %v", lang, r.status, r.header.Get("Location"), want, strings.Contains(string(r.body), want))
				}
				if len(r.body) > 32<<10 {
					t.Errorf("lang %q: a %d-byte page: the request is echoed back", lang, len(r.body))
				}
			}
		})
	}
	t.Run("100 KB state in a POST", func(t *testing.T) {
		r := e.browser(nil).do("POST", "/oidc/authorize", "application/x-www-form-urlencoded", []byte(with("state", big).Encode()))
		if r.status != http.StatusRequestEntityTooLarge || r.header.Get("Location") != "" {
			t.Errorf("%d %v", r.status, r.header)
		}
	})
	_ = hall
}

// TestTokenEndpointRefuses: wrong client authentication, PKCE, redirect
// URI, another client's code: nothing issued, and the code still works for
// the right request; a replayed code revokes what it gave.
func TestTokenEndpointRefuses(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addUser(zhang)
	hall := e.newRP(client.Spec{ID: "hall", Scopes: []string{"openid", "offline_access"}, FirstParty: true})
	other := e.newRP(client.Spec{ID: "other", FirstParty: true})
	b := e.browser(&zhang)
	scope := oauth2.SetAuthURLParam("scope", "openid offline_access")
	f := hall.newFlow(scope)
	code := hall.code(b, f, "")
	exchange := func(id, secret string, v url.Values) (int, string) {
		t.Helper()
		r := e.form("/oidc/token", id, secret, v)
		m := decodeJSON(t, r.body)
		if r.status == http.StatusOK {
			return r.status, ""
		}
		if m["access_token"] != nil || m["id_token"] != nil {
			t.Errorf("an error answer carries tokens: %s", r.body)
		}
		s, _ := m["error"].(string)
		return r.status, s
	}
	grant := func(extra ...string) url.Values {
		v := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback}, "code_verifier": {f.verifier}}
		for i := 0; i+1 < len(extra); i += 2 {
			if extra[i+1] == "" {
				v.Del(extra[i])
			} else {
				v.Set(extra[i], extra[i+1])
			}
		}
		return v
	}
	refresh := func(token string) url.Values {
		return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}
	}
	before := len(e.auditActions())
	tests := []struct {
		name, id, secret string
		v                url.Values
		status           int
		code             string
	}{
		{"wrong secret", "hall", "wrong", grant(), 401, "invalid_client"},
		{"unknown client", "nobody", "x", grant(), 401, "invalid_client"},
		{"no client authentication", "", "", grant("client_id", "hall"), 401, "invalid_client"},
		{"missing PKCE verifier", "hall", hall.secret, grant("code_verifier", ""), 400, "invalid_request"},
		{"wrong PKCE verifier", "hall", hall.secret, grant("code_verifier", oauth2.GenerateVerifier()), 400, "invalid_grant"},
		{"another redirect URI", "hall", hall.secret, grant("redirect_uri", rpCallback+"/x"), 400, "invalid_grant"},
		{"another client's code", "other", other.secret, grant(), 400, "invalid_grant"},
		{"unknown code", "hall", hall.secret, grant("code", "forged"), 400, "invalid_grant"},
		{"unsupported grant", "hall", hall.secret, url.Values{"grant_type": {"password"}, "username": {"zhang_san"}}, 400, "unsupported_grant_type"},
		{"no grant type", "hall", hall.secret, url.Values{}, 400, "invalid_request"},
		{"oversize form", "hall", hall.secret, grant("state", strings.Repeat("x", 100<<10)), 400, "invalid_request"},
		{"refresh as an unknown client", "nobody", "x", refresh("x"), 401, "invalid_client"},
		{"refresh without a client", "", "", refresh("x"), 401, "invalid_client"},
		{"refresh with a client assertion", "", "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {"hall"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {"eyJhbGciOiJub25lIn0.e30."}}, 401, "invalid_client"},
		{"code with a client assertion", "", "", grant("client_id", "hall", "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion", "eyJhbGciOiJub25lIn0.e30."), 401, "invalid_client"},
	}
	for _, tt := range tests {
		if status, code := exchange(tt.id, tt.secret, tt.v); status != tt.status || code != tt.code {
			t.Errorf("%s: %d %q; want %d %q", tt.name, status, code, tt.status, tt.code)
		}
	}
	if after := len(e.auditActions()); after != before {
		t.Errorf("refused requests wrote %d audit events", after-before)
	}

	// The code still works for the right request.
	tok, err := hall.cfg.Exchange(context.Background(), code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatalf("the code after refused attempts: %v", err)
	}
	// Used again: refused, and everything it gave is revoked.
	if status, c := exchange("hall", hall.secret, grant()); status != 400 || c != "invalid_grant" {
		t.Fatalf("code reuse: %d %q", status, c)
	}
	if e.introspect(hall, tok.AccessToken)["active"] != false {
		t.Error("the access token from a replayed code is active")
	}
	if _, err := hall.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Error("the refresh token from a replayed code works")
	}
	if !slices.Contains(e.auditActions(), "oidc.code_reuse:grant_revoked") {
		t.Errorf("audit: %v", e.auditActions())
	}

	// A code expires after 60 s.
	f = hall.newFlow(scope)
	code = hall.code(b, f, "")
	e.clock.Advance(61 * time.Second)
	if _, err := hall.cfg.Exchange(context.Background(), code, oauth2.VerifierOption(f.verifier)); err == nil {
		t.Error("an expired code was exchanged")
	}
}

// TestCodeReplayDuringExchange: a replay that reaches another instance
// while the first is still between using the code up and issuing its
// tokens revokes those tokens all the same.
func TestCodeReplayDuringExchange(t *testing.T) {
	e, hall, v := offlineCode(t)

	// A second instance on the same database replays the code at the
	// first the moment its own exchange has used the code up.
	fired := false
	hooked := &storeHook{Store: e.deps.Store, afterRedeem: func(_ store.AuthRequest, err error) {
		if err != nil || fired {
			return
		}
		fired = true
		if r := e.form("/oidc/token", "hall", hall.secret, v); r.status != http.StatusBadRequest {
			t.Errorf("the replay: %d %s", r.status, r.body)
		}
	}}
	rec := exchangeAt(e.withStore(hooked), hall, v)
	if !fired {
		t.Fatalf("the exchange did not use the code up: %d %s", rec.Code, rec.Body)
	}
	e.wantRevokedTokens(hall, rec.Body.Bytes(), "oidc.code_reuse:grant_revoked")
}

// TestReplayerWhoHangsUpStillRevokes: a replay of a code or of a rotated
// refresh token revokes what was issued from it even when the replayer
// hangs up the moment the replay is recognised.
func TestReplayerWhoHangsUpStillRevokes(t *testing.T) {
	for _, what := range []string{"code", "refresh token"} {
		t.Run(what, func(t *testing.T) {
			e, hall, v := offlineCode(t)
			first := e.form("/oidc/token", "hall", hall.secret, v)
			if first.status != http.StatusOK {
				t.Fatalf("the exchange: %d %s", first.status, first.body)
			}
			issued := first.body
			ctx, hangUp := context.WithCancel(context.Background())
			defer hangUp()
			// The replay hangs up once its store has looked up what it
			// presents: the code, or the refresh token's grant.
			hooked := &storeHook{Store: e.deps.Store, afterLookup: func(store.AuthRequest) { hangUp() }}
			if what == "refresh token" {
				var tok struct {
					RefreshToken string `json:"refresh_token"`
				}
				json.Unmarshal(first.body, &tok)
				v = url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
				rotated := e.form("/oidc/token", "hall", hall.secret, v)
				if rotated.status != http.StatusOK {
					t.Fatalf("the refresh: %d %s", rotated.status, rotated.body)
				}
				issued = rotated.body
				hooked = &storeHook{Store: e.deps.Store, afterGrantLookup: hangUp}
			}
			rec := httptest.NewRecorder()
			req := httptest.NewRequestWithContext(ctx, "POST", "/oidc/token", strings.NewReader(v.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(hall.c.ID, hall.secret)
			serve(e.withStore(hooked), "POST /oidc/token", rec, req)
			if ctx.Err() == nil || rec.Code != http.StatusBadRequest {
				t.Fatalf("the replay: %d %s", rec.Code, rec.Body)
			}
			event := "oidc.code_reuse:grant_revoked"
			if what == "refresh token" {
				event = "oidc.refresh_reuse:family_revoked"
			}
			e.wantRevokedTokens(hall, issued, event)
		})
	}
}

// TestGrantWhoseTokensCannotBeSignedIsRevoked: when the tokens of a
// redeemed code cannot be signed, the client gets a server error and the
// grant stored with the redemption is revoked: nothing it could have given
// stays usable, and the code stays used.
func TestGrantWhoseTokensCannotBeSignedIsRevoked(t *testing.T) {
	e, hall, v := offlineCode(t)
	broken := e.withStore(e.deps.Store)
	sso.BreakSigning(broken)
	rec := exchangeAt(broken, hall, v)
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "server_error") {
		t.Fatalf("an exchange whose tokens cannot be signed: %d %s", rec.Code, rec.Body)
	}
	u, err := e.store.GetUserByLoginName(context.Background(), strings.ToLower(zhang.login))
	if err != nil {
		t.Fatal(err)
	}
	// Nothing live to revoke.
	if n, err := e.store.RevokeUserGrants(context.Background(), u.ID, e.clock.Now()); err != nil || n != 0 {
		t.Fatalf("grants left live by the failed exchange: %d, %v", n, err)
	}
	if r := e.form("/oidc/token", "hall", hall.secret, v); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "invalid_grant") {
		t.Fatalf("the code after the failed exchange: %d %.100s", r.status, r.body)
	}
}

// offlineCode signs zhang in to a first-party client with offline_access
// and returns the form that exchanges the code it got.
func offlineCode(t *testing.T) (*env, *rp, url.Values) {
	t.Helper()
	e := newEnv(t, envOptions{})
	e.addUser(zhang)
	hall := e.newRP(client.Spec{ID: "hall", Scopes: []string{"openid", "offline_access"}, FirstParty: true})
	f := hall.newFlow(oauth2.SetAuthURLParam("scope", "openid offline_access"))
	code := hall.code(e.browser(&zhang), f, "")
	return e, hall, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback}, "code_verifier": {f.verifier}}
}

// withStore is another provider on the env's database, through st.
func (e *env) withStore(st sso.Store) *sso.Provider {
	e.t.Helper()
	deps := e.deps
	deps.Store = st
	p, err := sso.New(context.Background(), deps, e.opts)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// exchangeAt posts the token request v of client c to the provider p.
func exchangeAt(p *sso.Provider, c *rp, v url.Values) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/oidc/token", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.c.ID, c.secret)
	serve(p, "POST /oidc/token", rec, req)
	return rec
}

// wantRevokedTokens checks that the tokens of a token response (body) do
// not work, and that the replay was audited as event ("action:result").
func (e *env) wantRevokedTokens(hall *rp, body []byte, event string) {
	e.t.Helper()
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	json.Unmarshal(body, &tok)
	if tok.AccessToken != "" && e.introspect(hall, tok.AccessToken)["active"] != false {
		e.t.Error("an access token issued from what was replayed is active")
	}
	if tok.RefreshToken != "" {
		if _, err := hall.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			e.t.Error("a refresh token issued from what was replayed works")
		}
	}
	if !slices.Contains(e.auditActions(), event) {
		e.t.Errorf("audit: %v; want %s", e.auditActions(), event)
	}
}

// TestConcurrentExchangesOfOneCode: two exchanges of one code that both
// got past the code's lookup meet where it is used up. One gets tokens;
// the other is a replay, and revokes them.
func TestConcurrentExchangesOfOneCode(t *testing.T) {
	e, hall, v := offlineCode(t)

	// The first to reach the redemption waits there for the second; the
	// second redeems once the first has.
	arrived, firstDone := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	var once sync.Once
	hooked := &storeHook{Store: e.deps.Store,
		beforeRedeem: func() {
			if calls.Add(1) == 1 {
				waitFor(t, arrived, "the second exchange")
				return
			}
			close(arrived)
			waitFor(t, firstDone, "the first redemption")
		},
		afterRedeem: func(store.AuthRequest, error) { once.Do(func() { close(firstDone) }) },
	}
	deps := e.deps
	deps.Store = hooked
	_, two := e.instance(deps, e.opts)
	type answer struct {
		status int
		body   []byte
		err    error
	}
	answers := make(chan answer, 2)
	for range 2 {
		go func() {
			req, _ := http.NewRequest("POST", two+"/oidc/token", strings.NewReader(v.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("hall", hall.secret)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				answers <- answer{err: err}
				return
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			answers <- answer{res.StatusCode, body, err}
		}()
	}
	var a, b2 answer
	for _, got := range []*answer{&a, &b2} {
		select {
		case *got = <-answers:
		case <-time.After(30 * time.Second):
			t.Fatal("an exchange did not answer")
		}
	}
	if a.err != nil || b2.err != nil {
		t.Fatal(a.err, b2.err)
	}
	if a.status != http.StatusOK {
		a, b2 = b2, a
	}
	if a.status != http.StatusOK || b2.status != http.StatusBadRequest || !strings.Contains(string(b2.body), "invalid_grant") {
		t.Fatalf("two exchanges of one code: %d %s and %d %s; want one 200 and one invalid_grant", a.status, a.body, b2.status, b2.body)
	}
	e.wantRevokedTokens(hall, a.body, "oidc.code_reuse:grant_revoked")
}

// TestCodeOfASignInThatNoLongerStands: a code gives nothing once the
// session that approved it has been ended or acts for someone else, or the
// consent it relied on was withdrawn. A password change, an operator's
// sign-out, an identity switch or a withdrawal changes the session or the
// consent and then denies the approved codes; an approval that read them
// before the change and wrote itself after the denial leaves an approved
// code behind, as each case here does, and the exchange must refuse it. A
// session that has merely gone idle since still stands.
func TestCodeOfASignInThatNoLongerStands(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		change func(e *env, s store.Session) error
		ok     bool
		// firstParty: the client needs no consent, but asks for it
		// (prompt=consent).
		firstParty bool
	}{
		{name: "the session was ended", change: func(e *env, s store.Session) error {
			_, err := e.store.DeleteUserSessions(ctx, s.UserID)
			return err
		}},
		{name: "the session switched to an enterprise", change: func(e *env, s store.Session) error {
			return e.store.SetSessionActing(ctx, s.TokenHash, acme.uscc)
		}},
		{name: "the consent was withdrawn", change: func(e *env, s store.Session) error {
			return e.store.DeleteConsent(ctx, s.UserID, "hall")
		}},
		{name: "the consent asked for by a first-party client was withdrawn", firstParty: true, change: func(e *env, s store.Session) error {
			return e.store.DeleteConsent(ctx, s.UserID, "hall")
		}},
		{name: "a first-party client's consent stands", firstParty: true, ok: true, change: func(*env, store.Session) error { return nil }},
		{name: "the consent was given again, for less", change: func(e *env, s store.Session) error {
			now := e.clock.Now()
			return e.store.PutConsent(ctx, store.Consent{UserID: s.UserID, ClientID: "hall", Scopes: []string{"openid"}, CreatedAt: now, UpdatedAt: now})
		}},
		{name: "the session went idle", ok: true, change: func(e *env, _ store.Session) error {
			e.clock.Advance(50 * time.Second) // --session-idle 30s; the code lives 60 s
			return nil
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{config: func(c *config.Config) { c.SessionIdle = 30 * time.Second }})
			u := e.addUser(zhang)
			hall := e.newRP(client.Spec{ID: "hall", Scopes: []string{"openid", "offline_access"}, FirstParty: tt.firstParty})
			b := e.browser(&zhang)
			// zhang has chosen to act as himself in this session.
			b.login()
			now := e.clock.Now()
			ss, err := e.store.ListUserSessions(ctx, u.ID, now, now.Add(-time.Hour))
			if err != nil || len(ss) != 1 {
				t.Fatalf("zhang's sessions: %v, %v", ss, err)
			}
			if err := e.store.SetSessionActing(ctx, ss[0].TokenHash, "-"); err != nil {
				t.Fatal(err)
			}
			opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("scope", "openid offline_access")}
			if tt.firstParty {
				opts = append(opts, oauth2.SetAuthURLParam("prompt", "consent"))
			}
			f := hall.newFlow(opts...)
			code := hall.code(b, f, "allow")
			if err := tt.change(e, ss[0]); err != nil {
				t.Fatal(err)
			}
			r := e.form("/oidc/token", "hall", hall.secret, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback}, "code_verifier": {f.verifier}})
			if tt.ok {
				if r.status != http.StatusOK {
					t.Fatalf("the exchange: %d %s", r.status, r.body)
				}
				return
			}
			if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "invalid_grant") {
				t.Fatalf("the exchange: %d %.100s; want invalid_grant", r.status, r.body)
			}
			// Nothing was granted: there is nothing to revoke.
			if n, err := e.store.RevokeUserGrants(ctx, u.ID, e.clock.Now()); err != nil || n != 0 {
				t.Fatalf("grants after the refused exchange: %d, %v", n, err)
			}
		})
	}
}

// TestWithdrawalWhoseSecondPassFails: a consent withdrawal whose second
// pass over the client's codes and grants fails has still withdrawn the
// consent and revoked the grants: the user is answered as withdrawn, and
// the record says the pass failed.
func TestWithdrawalWhoseSecondPassFails(t *testing.T) {
	ctx := context.Background()
	e, hall, v := offlineCode(t)
	r := e.form("/oidc/token", "hall", hall.secret, v)
	if r.status != http.StatusOK {
		t.Fatalf("the exchange: %d %s", r.status, r.body)
	}
	u, err := e.store.GetUserByLoginName(ctx, strings.ToLower(zhang.login))
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	if err := e.store.PutConsent(ctx, store.Consent{UserID: u.ID, ClientID: "hall", Scopes: []string{"openid"}, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	p := e.withStore(&storeHook{Store: e.deps.Store, sweepFails: true})
	if err := p.RevokeConsent(ctx, u.ID, "hall", unidflow.Client{}); err != nil {
		t.Fatalf("RevokeConsent with a failed second pass: %v; want it withdrawn", err)
	}
	if _, err := e.store.GetConsent(ctx, u.ID, "hall"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the consent: %v; want it gone", err)
	}
	if n, err := e.store.RevokeUserGrants(ctx, u.ID, e.clock.Now()); err != nil || n != 0 {
		t.Fatalf("grants left live: %d, %v", n, err)
	}
	events, err := e.store.ListAudit(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var recorded bool
	for _, ev := range events {
		recorded = recorded || ev.Action == sso.ActionConsentRevoked && strings.Contains(ev.Detail, `"sweep_failed":"true"`)
	}
	if !recorded {
		t.Fatal("the withdrawal was not recorded with its failed pass")
	}
}

// TestExchangeWhenTheClientGoesMeanwhile: a client deleted between the
// check of its code and the code's redemption gets invalid_grant, as for
// any code that gives nothing, not a server error.
func TestExchangeWhenTheClientGoesMeanwhile(t *testing.T) {
	e, hall, v := offlineCode(t)
	hooked := &storeHook{Store: e.deps.Store, beforeRedeem: func() {
		if err := e.store.DeleteClient(context.Background(), "hall"); err != nil {
			t.Error(err)
		}
	}}
	rec := exchangeAt(e.withStore(hooked), hall, v)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "invalid_grant") {
		t.Fatalf("an exchange for a client deleted meanwhile: %d %s; want invalid_grant", rec.Code, rec.Body)
	}
}

// TestRegistryFaultOnAPage: a registry that cannot answer while a sign-in
// is under way gives a "try again later" page, logged, not "this service
// system is not registered".
func TestRegistryFaultOnAPage(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.addUser(zhang)
	shop := e.newRP(client.Spec{ID: "shop"})
	registry := &faultyRegistry{Registry: e.deps.Registry}
	deps := e.deps
	deps.Registry = registry
	op, two := e.instance(deps, e.opts)
	b := e.browser(&zhang)
	b.login()
	r := b.do("GET", two+strings.TrimPrefix(shop.newFlow().url, e.URL), "", nil)
	consent := r.header.Get("Location")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(consent, "/oidc/consent?id=") {
		t.Fatalf("authorize: %d, Location %q", r.status, consent)
	}
	registry.fail("shop")
	callback := "/oidc/authorize/callback?" + strings.TrimPrefix(consent, "/oidc/consent?")
	for _, path := range []string{consent, callback} {
		r := b.do("GET", two+path, "", nil)
		if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), `data-code="unavailable"`) {
			t.Errorf("%s with the registry down: %d %s", path, r.status, r.body)
		}
	}
	if !strings.Contains(e.srv.Logs.String(), "client registry") {
		t.Error("the registry fault is not logged")
	}
	id := strings.TrimPrefix(consent, "/oidc/consent?id=")
	if _, err := op.AnswerConsent(context.Background(), store.Session{}, u, id, true, unidflow.Client{}); problem.As(err).Kind != problem.Internal {
		t.Errorf("consent with the registry down: %v; want an internal error, not \"the request expired\"", err)
	}
}

// TestRefreshWhenTheClientGoesMeanwhile: a refresh whose token, grant or
// client is deleted between its check and its rotation gets
// invalid_grant, not a server error.
func TestRefreshWhenTheClientGoesMeanwhile(t *testing.T) {
	e, hall, v := offlineCode(t)
	tok := exchangeAt(e.op, hall, v)
	var got struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(tok.Body.Bytes(), &got); err != nil || got.RefreshToken == "" {
		t.Fatalf("exchange: %d %s", tok.Code, tok.Body)
	}
	hooked := &storeHook{Store: e.deps.Store, beforeRotate: func() {
		if err := e.store.DeleteClient(context.Background(), "hall"); err != nil {
			t.Error(err)
		}
	}}
	rec := exchangeAt(e.withStore(hooked), hall, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {got.RefreshToken}})
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "invalid_grant") {
		t.Fatalf("a refresh for a client deleted meanwhile: %d %s; want invalid_grant", rec.Code, rec.Body)
	}
}

// waitFor waits for ch to close, failing the test after 30 s.
func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Error("waited in vain for " + what)
	}
}

// storeHook runs afterLookup after each lookup of a code that found one,
// afterGrantLookup after each lookup of a grant,
// beforeRedeem and afterRedeem around each redemption of a code, and
// beforeRotate before each rotation of a refresh token.
type storeHook struct {
	sso.Store
	afterLookup      func(store.AuthRequest)
	afterGrantLookup func()
	sweepFails       bool // WithdrawConsent's second pass fails
	beforeRedeem     func()
	afterRedeem      func(store.AuthRequest, error)
	beforeRotate     func()
}

func (s *storeHook) GetAuthRequestByCode(ctx context.Context, codeHash []byte) (store.AuthRequest, error) {
	a, err := s.Store.GetAuthRequestByCode(ctx, codeHash)
	if err == nil && s.afterLookup != nil {
		s.afterLookup(a)
	}
	return a, err
}

func (s *storeHook) WithdrawConsent(ctx context.Context, userID, clientID string, at time.Time) (int64, error) {
	n, err := s.Store.WithdrawConsent(ctx, userID, clientID, at)
	if err == nil && s.sweepFails {
		err = fmt.Errorf("%w: the database went away", store.ErrNotSwept)
	}
	return n, err
}

func (s *storeHook) GetGrant(ctx context.Context, id string) (store.Grant, error) {
	g, err := s.Store.GetGrant(ctx, id)
	if s.afterGrantLookup != nil {
		s.afterGrantLookup()
	}
	return g, err
}

func (s *storeHook) RotateRefreshToken(ctx context.Context, oldHash []byte, next store.RefreshToken) error {
	if s.beforeRotate != nil {
		s.beforeRotate()
	}
	return s.Store.RotateRefreshToken(ctx, oldHash, next)
}

func (s *storeHook) RedeemCode(ctx context.Context, seen store.AuthRequest, g store.Grant, first *store.RefreshToken, fn func(store.AuthRequest) (store.AuthRequest, error)) (store.AuthRequest, error) {
	if s.beforeRedeem != nil {
		s.beforeRedeem()
	}
	a, err := s.Store.RedeemCode(ctx, seen, g, first, fn)
	if s.afterRedeem != nil {
		s.afterRedeem(a, err)
	}
	return a, err
}

// TestStateAndNonceAreOpaque: state and nonce come back exactly as sent,
// whatever they contain, and a code gives the nonce of its own request.
func TestStateAndNonceAreOpaque(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addUser(zhang)
	hall := e.newRP(client.Spec{ID: "hall", FirstParty: true})
	b := e.browser(&zhang)
	f1, f2 := hall.newFlow(), hall.newFlow()
	f1.state = "a&code=forged#frag=1 <x>"
	f1.nonce = `n"&<>` + strings.Repeat("z", 400)
	f1.url = hall.cfg.AuthCodeURL(f1.state, oauth2.S256ChallengeOption(f1.verifier), oauth2.SetAuthURLParam("nonce", f1.nonce))
	s := b.walk(f1.url, "")
	if got := s.at.Query()["state"]; len(got) != 1 || got[0] != f1.state || len(s.at.Query()["code"]) != 1 || s.at.Fragment != "" {
		t.Fatalf("state came back as %q in %s", got, s.at)
	}
	code1 := s.at.Query().Get("code")
	code2 := hall.code(b, f2, "")
	for _, c := range []struct {
		code string
		f    *flow
	}{{code2, f2}, {code1, f1}} {
		tok, err := hall.cfg.Exchange(context.Background(), c.code, oauth2.VerifierOption(c.f.verifier))
		if err != nil {
			t.Fatal(err)
		}
		idt, err := hall.verifier().Verify(context.Background(), tok.Extra("id_token").(string))
		if err != nil || idt.Nonce != c.f.nonce {
			t.Fatalf("nonce %q (%v); want %q", idt.Nonce, err, c.f.nonce)
		}
	}
}

// TestForgedTokensRefused: a JWT with alg "none", one signed with another
// key under unid's kid, an HMAC one keyed with unid's public key, an ID
// token passed off as an access token, and an expired one: userinfo says
// invalid_token, introspection says inactive, nothing changes.
func TestForgedTokensRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.addUser(zhang)
	hall := e.newRP(client.Spec{ID: "hall", Scopes: []string{"openid", "profile"}, FirstParty: true})
	b := e.browser(&zhang)
	tok, _ := hall.signIn(b, "", oauth2.SetAuthURLParam("scope", "openid profile"))
	parts := strings.Split(tok.AccessToken, ".")
	var header map[string]any
	json.Unmarshal(b64(t, parts[0]), &header)
	kid := header["kid"].(string)
	claims := b64(t, parts[1])

	enc := base64.RawURLEncoding.EncodeToString
	none := enc([]byte(`{"alg":"none","typ":"at+jwt","kid":"`+kid+`"}`)) + "." + parts[1] + "."

	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: other, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	jws, _ := signer.Sign(claims)
	otherKey, _ := jws.CompactSerialize()

	jwks := e.browser(nil).do("GET", "/oidc/keys", "", nil)
	hmacSigner, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: jwks.body}, (&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", kid))
	jws, _ = hmacSigner.Sign(claims)
	hmacToken, _ := jws.CompactSerialize()

	idToken := tok.Extra("id_token").(string)
	// The payload of a real token with a changed subject under the real signature.
	var m map[string]any
	json.Unmarshal(claims, &m)
	m["sub"] = "someone-else"
	changed, _ := json.Marshal(m)
	tampered := parts[0] + "." + enc(changed) + "." + parts[2]

	before := len(e.auditActions())
	for name, forged := range map[string]string{
		"alg none": none, "another key": otherKey, "HMAC with the public key": hmacToken,
		"ID token": idToken, "tampered": tampered, "garbage": "a.b.c", "oversize": strings.Repeat("A", 12000),
	} {
		if r := e.userinfo(forged); r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("userinfo with %s: %d %s", name, r.status, r.body)
		}
		if got := e.introspect(hall, forged); got["active"] != false || len(got) != 1 {
			t.Errorf("introspect %s: %v", name, got)
		}
		if r := e.form("/oidc/revoke", "hall", hall.secret, url.Values{"token": {forged}}); r.status != http.StatusOK {
			t.Errorf("revoke %s: %d", name, r.status)
		}
	}
	if after := len(e.auditActions()); after != before {
		t.Errorf("forged tokens wrote %d audit events", after-before)
	}
	if r := e.userinfo(tok.AccessToken); r.status != http.StatusOK || decodeJSON(t, r.body)["sub"] != u.ID {
		t.Fatalf("the real token after the forgeries: %d %s", r.status, r.body)
	}
	if r := e.userinfo(""); r.status != http.StatusUnauthorized {
		t.Errorf("userinfo without a token: %d", r.status)
	}

	// Expired by unid's clock.
	e.clock.Advance(10*time.Minute + time.Second)
	if r := e.userinfo(tok.AccessToken); r.status != http.StatusUnauthorized {
		t.Errorf("userinfo with an expired token: %d", r.status)
	}
	if e.introspect(hall, tok.AccessToken)["active"] != false {
		t.Error("an expired token is active")
	}
}

// TestSecretsNeverLogged: codes, tokens, secrets and personal data do not
// reach the log or the audit trail.
func TestSecretsNeverLogged(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addUser(zhang)
	hall := e.newRP(client.Spec{ID: "hall", Scopes: []string{"openid", "profile", "phone", "idcard", "offline_access"}, FirstParty: true})
	b := e.browser(&zhang)
	f := hall.newFlow(oauth2.SetAuthURLParam("scope", "openid profile phone idcard offline_access"))
	code := hall.code(b, f, "")
	tok, err := hall.cfg.Exchange(context.Background(), code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}
	e.userinfo(tok.AccessToken)
	hall.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	hall.cfg.Exchange(context.Background(), code, oauth2.VerifierOption(f.verifier)) // a replay, logged and audited
	events, _ := e.store.ListAudit(context.Background(), 0, 1000)
	var trail strings.Builder
	for _, ev := range events {
		trail.WriteString(ev.Actor + ev.Subject + ev.Detail + "\n")
	}
	for what, secret := range map[string]string{
		"code": code, "access token": tok.AccessToken, "refresh token": tok.RefreshToken, "client secret": hall.secret,
		"ID token": tok.Extra("id_token").(string), "PKCE verifier": f.verifier,
		"phone": zhang.phone, "ID number": zhang.idNumber, "real name": zhang.realName,
	} {
		if strings.Contains(e.srv.Logs.String(), secret) {
			t.Errorf("the %s is in the log", what)
		}
		if strings.Contains(trail.String(), secret) {
			t.Errorf("the %s is in the audit trail", what)
		}
	}
}
