package oidc_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"unid/internal/app/apptest"
	"unid/internal/client"
	"unid/internal/config"
	sso "unid/internal/sso/oidc"
	"unid/internal/store"
)

func TestDiscovery(t *testing.T) {
	e := newEnv(t, envOptions{})
	p, err := gooidc.NewProvider(context.Background(), e.URL)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Issuer            string   `json:"issuer"`
		JWKS              string   `json:"jwks_uri"`
		Algs              []string `json:"id_token_signing_alg_values_supported"`
		PKCE              []string `json:"code_challenge_methods_supported"`
		ResponseTypes     []string `json:"response_types_supported"`
		Grants            []string `json:"grant_types_supported"`
		Scopes            []string `json:"scopes_supported"`
		ACRs              []string `json:"acr_values_supported"`
		Backchannel       bool     `json:"backchannel_logout_supported"`
		BackchannelSID    bool     `json:"backchannel_logout_session_supported"`
		RequestURI        *bool    `json:"request_uri_parameter_supported"`
		EndSession        string   `json:"end_session_endpoint"`
		Introspection     string   `json:"introspection_endpoint"`
		Revocation        string   `json:"revocation_endpoint"`
		IntrospectionAuth []string `json:"introspection_endpoint_auth_methods_supported"`
	}
	if err := p.Claims(&doc); err != nil {
		t.Fatal(err)
	}
	switch {
	case doc.Issuer != e.URL || doc.JWKS != e.URL+"/oidc/keys" || doc.EndSession != e.URL+"/oidc/end_session":
		t.Errorf("endpoints: %+v", doc)
	case !slices.Equal(doc.PKCE, []string{"S256"}):
		t.Errorf("code_challenge_methods_supported = %v; want only S256 (plain is refused)", doc.PKCE)
	case !slices.Equal(doc.ResponseTypes, []string{"code"}):
		t.Errorf("response_types_supported = %v", doc.ResponseTypes)
	case slices.Contains(doc.Grants, "implicit") || !slices.Contains(doc.Grants, "client_credentials"):
		t.Errorf("grant_types_supported = %v", doc.Grants)
	case !slices.Contains(doc.Algs, "RS256") || doc.Algs[0] != "ES256":
		t.Errorf("id_token_signing_alg_values_supported = %v; want ES256 first, RS256 supported", doc.Algs)
	case !slices.Contains(doc.Scopes, "idcard") || !slices.Contains(doc.ACRs, "urn:unid:acr:realname:3"):
		t.Errorf("scopes %v, acr values %v", doc.Scopes, doc.ACRs)
	case !doc.Backchannel || !doc.BackchannelSID:
		t.Error("back-channel logout is not advertised")
	case doc.RequestURI == nil || *doc.RequestURI:
		t.Error("request_uri_parameter_supported must be false (its default is true)")
	case slices.Contains(doc.IntrospectionAuth, "none"):
		t.Error("introspection must not be open to unauthenticated clients")
	}
	res, err := http.Get(e.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Errorf("discovery headers: %v", res.Header)
	}
}

// TestCodeFlow signs a user in to a confidential client with PKCE and
// checks everything an RP relies on.
func TestCodeFlow(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.addUser(zhang)
	hall := e.newRP(client.Spec{ID: "hall", Scopes: []string{"openid", "profile", "phone", "email", "idcard", "offline_access"}, FirstParty: true})
	b := e.browser(&zhang)

	tok, idt := hall.signIn(b, "", oauth2.SetAuthURLParam("scope", "openid profile phone email idcard offline_access"))
	if idt.Issuer != e.URL || idt.Subject != u.ID || !slices.Equal(idt.Audience, []string{"hall"}) {
		t.Errorf("ID token iss %q sub %q aud %v", idt.Issuer, idt.Subject, idt.Audience)
	}
	var claims struct {
		ACR      string  `json:"acr"`
		Level    int     `json:"realname_level"`
		SID      string  `json:"sid"`
		AuthTime int64   `json:"auth_time"`
		AZP      string  `json:"azp"`
		Nonce    string  `json:"nonce"`
		AtHash   string  `json:"at_hash"`
		Name     *string `json:"name"`
		IDNumber *string `json:"id_number"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.ACR != "urn:unid:acr:realname:2" || claims.Level != 2 || claims.SID == "" || claims.AuthTime == 0 || claims.AZP != "hall" {
		t.Errorf("ID token claims: %+v", claims)
	}
	if claims.Name != nil || claims.IDNumber != nil {
		t.Error("personal data in the ID token; it belongs to userinfo")
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	if tok.RefreshToken == "" || tok.TokenType != "Bearer" || time.Until(tok.Expiry) > 11*time.Minute {
		t.Errorf("token: type %q, refresh %v, expiry %v", tok.TokenType, tok.RefreshToken != "", tok.Expiry)
	}

	// userinfo through go-oidc: the real values of the granted scopes.
	info, err := hall.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := info.Claims(&got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"sub": u.ID, "preferred_username": "zhang_san", "nickname": "zhang_san", "name": "张三",
		"phone_number": "+8613812345678", "phone_number_verified": true, "email": "zhang@example.cn",
		"id_number": "11010519491231002X", "realname_level": float64(2),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("userinfo %s = %v; want %v", k, got[k], v)
		}
	}
	if v := got["email_verified"]; v != true {
		t.Errorf("userinfo email_verified = %v; every stored email was proven by a code", v)
	}

	// The access token is an RFC 9068 JWT.
	parts := strings.Split(tok.AccessToken, ".")
	if len(parts) != 3 {
		t.Fatalf("access token is not a JWS: %q", tok.AccessToken)
	}
	var header struct{ Typ, Alg, Kid string }
	json.Unmarshal(b64(t, parts[0]), &header)
	var at map[string]any
	json.Unmarshal(b64(t, parts[1]), &at)
	if header.Typ != "at+jwt" || header.Kid == "" {
		t.Errorf("access token header %+v", header)
	}
	for _, k := range []string{"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"} {
		if at[k] == nil {
			t.Errorf("access token has no %s: %v", k, at)
		}
	}

	// The session is recorded for back-channel logout.
	list, err := e.store.ListSessionClients(context.Background(), claims.SID)
	if err != nil || len(list) != 1 || list[0].ClientID != "hall" || list[0].Protocol != "oidc" {
		t.Errorf("session clients = %+v, %v", list, err)
	}
	if !slices.Contains(e.auditActions(), "oidc.token_issued:ok") {
		t.Errorf("no token_issued in the audit log: %v", e.auditActions())
	}
}

// TestSecondClientWithoutPassword: a signed-in user signs in to another
// client without the login page.
func TestSecondClientWithoutPassword(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addUser(zhang)
	hall := e.newRP(client.Spec{ID: "hall", FirstParty: true})
	tax := e.newRP(client.Spec{ID: "tax", FirstParty: true, RedirectURIs: []string{"http://127.0.0.1/rp/callback"}})
	b := e.browser(&zhang)
	f := hall.newFlow()
	if s := b.walk(f.url, ""); s.logins != 1 {
		t.Fatalf("first sign-in: %d logins", s.logins)
	}
	f = tax.newFlow()
	if s := b.walk(f.url, ""); s.logins != 0 || s.at.Query().Get("code") == "" {
		t.Fatalf("second client: %d logins, ended at %s", s.logins, s.at)
	}
}

// TestFormPostResponseMode: with response_mode=form_post the code and
// state come back in a page that posts them to the redirect URI (OAuth 2.0
// Form Post Response Mode), kept by no cache and shown in no frame, for a
// user signed in already and for one who signs in on the way, and the
// code is exchanged.
func TestFormPostResponseMode(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addUser(zhang)
	hall := e.newRP(client.Spec{ID: "hall", FirstParty: true})
	for _, signedIn := range []bool{false, true} {
		b := e.browser(&zhang)
		if signedIn {
			b.login()
		}
		f := hall.newFlow(oauth2.SetAuthURLParam("response_mode", "form_post"))
		s := b.walk(f.url, "")
		if s.status != http.StatusOK || s.logins != map[bool]int{false: 1, true: 0}[signedIn] {
			t.Fatalf("signed in %v: ended at %s (%d, %d logins)", signedIn, s.at, s.status, s.logins)
		}
		if h := s.header; h.Get("Cache-Control") != "no-store" || h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("signed in %v: the page with the code may be cached, framed or referred: %v", signedIn, h)
		}
		form := formPostRE.FindSubmatch(s.body)
		if form == nil || string(form[1]) != rpCallback || string(form[2]) != f.state {
			t.Fatalf("signed in %v: the page does not post the state to %s:\n%s", signedIn, rpCallback, s.body)
		}
		tok, err := hall.cfg.Exchange(context.Background(), string(form[3]), oauth2.VerifierOption(f.verifier))
		if err != nil || tok.Extra("id_token") == nil {
			t.Fatalf("signed in %v: exchange of the posted code: %v", signedIn, err)
		}
	}
}

// formPostRE finds a form post page's action, state and code.
var formPostRE = regexp.MustCompile(`(?s)<form method="post" action="([^"]+)">\s*<input type="hidden" name="state" value="([^"]+)"/>\s*<input type="hidden" name="code" value="([^"]+)" />`)

func TestPublicClientPKCE(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addUser(zhang)
	app := e.newRP(client.Spec{ID: "mobile", Type: store.ClientOIDCPublic, Scopes: []string{"openid", "profile", "offline_access"}, FirstParty: true})
	app.cfg.ClientSecret = ""
	b := e.browser(&zhang)
	tok, _ := app.signIn(b, "", oauth2.SetAuthURLParam("scope", "openid profile offline_access"))
	// A public client refreshes with its client_id alone.
	next, err := app.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil || next.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh: %v", err)
	}

	// Without a code_challenge a public client gets an error at its redirect URI.
	u := app.cfg.AuthCodeURL("st")
	s := b.walk(u, "")
	if s.at.Query().Get("error") != "invalid_request" || s.at.Query().Get("state") != "st" {
		t.Fatalf("no PKCE: ended at %s", s.at)
	}
	// plain is refused.
	u = app.cfg.AuthCodeURL("st", oauth2.SetAuthURLParam("code_challenge", strings.Repeat("a", 43)), oauth2.SetAuthURLParam("code_challenge_method", "plain"))
	if s := b.walk(u, ""); s.at.Query().Get("error") != "invalid_request" {
		t.Fatalf("plain PKCE: ended at %s", s.at)
	}
}

// TestRefreshRotationAndReuse: every refresh rotates the token; replaying a
// used one revokes the family, so the rotated token dies too, and so do the
// grant's access tokens.
func TestRefreshRotationAndReuse(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addUser(zhang)
	hall := e.newRP(client.Spec{ID: "hall", Scopes: []string{"openid", "profile", "offline_access"}, FirstParty: true})
	b := e.browser(&zhang)
	first, _ := hall.signIn(b, "", oauth2.SetAuthURLParam("scope", "openid profile offline_access"))

	refresh := func(rt string) (*oauth2.Token, error) {
		return hall.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: rt}).Token()
	}
	second, err := refresh(first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("refresh did not rotate")
	}
	raw, _ := second.Extra("id_token").(string)
	if _, err := hall.verifier().Verify(context.Background(), raw); err != nil {
		t.Fatalf("ID token from a refresh: %v", err)
	}
	if e.introspect(hall, second.AccessToken)["active"] != true {
		t.Fatal("the new access token is not active")
	}

	// Replay the used token: refused, and the family is revoked.
	_, err = refresh(first.RefreshToken)
	var re *oauth2.RetrieveError
	if !errorAs(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("replayed refresh token: %v; want invalid_grant", err)
	}
	if _, err := refresh(second.RefreshToken); err == nil {
		t.Fatal("the rotated refresh token still works after a replay")
	}
	if e.introspect(hall, second.AccessToken)["active"] != false || e.introspect(hall, second.RefreshToken)["active"] != false {
		t.Fatal("tokens of a revoked family are active")
	}
	if r := e.userinfo(second.AccessToken); r.status != http.StatusUnauthorized {
		t.Fatalf("userinfo with a revoked family's token: %d", r.status)
	}
	if !slices.Contains(e.auditActions(), "oidc.refresh_reuse:family_revoked") {
		t.Errorf("no refresh_reuse in the audit log: %v", e.auditActions())
	}
}

// TestRefreshNeverOutlivesItsGrant: each refresh token lives 30 days from
// its refresh, but none past 90 days from the sign-in that made its grant.
func TestRefreshNeverOutlivesItsGrant(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addUser(zhang)
	hall := e.newRP(client.Spec{ID: "hall", Scopes: []string{"openid", "offline_access"}, FirstParty: true})
	b := e.browser(&zhang)
	granted := e.clock.Now()
	tok, _ := hall.signIn(b, "", oauth2.SetAuthURLParam("scope", "openid offline_access"))
	expiry := func(rt string) time.Time {
		t.Helper()
		sum := sha256.Sum256([]byte(rt))
		stored, err := e.store.GetRefreshToken(context.Background(), sum[:])
		if err != nil {
			t.Fatal(err)
		}
		return stored.ExpiresAt
	}
	limit := granted.Add(sso.DefaultRefreshMaxTTL)
	for day := 25; day <= 75; day += 25 {
		e.clock.Advance(25 * 24 * time.Hour)
		next, err := hall.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil {
			t.Fatalf("refresh on day %d: %v", day, err)
		}
		tok = next
		want := e.clock.Now().Add(sso.DefaultRefreshTTL)
		if want.After(limit) {
			want = limit
		}
		if got := expiry(tok.RefreshToken); got.Sub(want).Abs() > time.Second {
			t.Fatalf("the refresh token of day %d expires %v; want %v", day, got, want)
		}
	}
}

func TestClientCredentials(t *testing.T) {
	e := newEnv(t, envOptions{})
	svc := e.newRP(client.Spec{ID: "records", Scopes: []string{"openid", "unid.admin"}})
	cc := clientcredentials.Config{ClientID: svc.c.ID, ClientSecret: svc.secret, TokenURL: svc.provider.Endpoint().TokenURL}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	at := e.introspect(svc, tok.AccessToken)
	if at["active"] != true || at["sub"] != "records" || at["client_id"] != "records" || at["scope"] != "unid.admin" {
		t.Fatalf("introspection of a client-credentials token: %v", at)
	}
	// Scopes it is not registered for are dropped; user scopes never apply.
	cc.Scopes = []string{"unid.admin", "idcard", "openid", "records:write"}
	tok, err = cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s := e.introspect(svc, tok.AccessToken)["scope"]; s != "unid.admin" {
		t.Fatalf("scope = %v; want only unid.admin", s)
	}
	// No userinfo for a token without a user.
	if r := e.userinfo(tok.AccessToken); r.status != http.StatusForbidden {
		t.Fatalf("userinfo with a client token: %d", r.status)
	}
	// Audited once per client and minute, with a count of the others.
	count := func() (n int) {
		for _, a := range e.auditActions() {
			if a == "oidc.token_issued:ok" {
				n++
			}
		}
		return n
	}
	if n := count(); n != 1 {
		t.Fatalf("%d audit events for 2 tokens in a minute; want 1", n)
	}
	e.clock.Advance(time.Minute)
	if _, err := cc.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	events, _ := e.store.ListAudit(context.Background(), 0, 1000)
	last := events[len(events)-1]
	if want := `{"client_id":"records","grant_type":"client_credentials","unrecorded_since_last":"1"}`; count() != 2 || last.Actor != "client:records" || last.Detail != want {
		t.Fatalf("audit after a minute: %+v", last)
	}

	// A public client has no client credentials.
	pub := e.newRP(client.Spec{ID: "spa", Type: store.ClientOIDCPublic})
	r := e.form("/oidc/token", pub.c.ID, "", url.Values{"grant_type": {"client_credentials"}})
	if r.status != http.StatusUnauthorized {
		t.Fatalf("client credentials for a public client: %d %s", r.status, r.body)
	}
}

func TestIntrospectionAndRevocation(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.addUser(zhang)
	hall := e.newRP(client.Spec{ID: "hall", Scopes: []string{"openid", "profile", "offline_access"}, FirstParty: true})
	other := e.newRP(client.Spec{ID: "other", FirstParty: true})
	pub := e.newRP(client.Spec{ID: "spa", Type: store.ClientOIDCPublic, FirstParty: true})
	b := e.browser(&zhang)
	tok, _ := hall.signIn(b, "", oauth2.SetAuthURLParam("scope", "openid profile offline_access"))

	at := e.introspect(hall, tok.AccessToken)
	if at["active"] != true || at["sub"] != u.ID || at["client_id"] != "hall" || at["token_type"] != "Bearer" || at["iss"] != e.URL {
		t.Fatalf("introspection: %v", at)
	}
	if rt := e.introspect(hall, tok.RefreshToken); rt["active"] != true || rt["token_type"] != "refresh_token" {
		t.Fatalf("refresh token introspection: %v", rt)
	}
	// Another client's view: foreign tokens are inactive.
	if e.introspect(other, tok.AccessToken)["active"] != false || e.introspect(other, tok.RefreshToken)["active"] != false {
		t.Fatal("a client sees another client's tokens")
	}
	// Public clients and wrong secrets may not introspect.
	for _, c := range []struct{ id, secret string }{{"spa", ""}, {"hall", "wrong"}, {"", ""}} {
		r := e.form("/oidc/introspect", c.id, c.secret, url.Values{"token": {tok.AccessToken}})
		if r.status != http.StatusUnauthorized {
			t.Errorf("introspect as %q/%q: %d %s", c.id, c.secret, r.status, r.body)
		}
	}
	_ = pub

	// Revoke the access token (RFC 7009): inactive, userinfo refuses it.
	if r := e.form("/oidc/revoke", "other", other.secret, url.Values{"token": {tok.AccessToken}}); r.status != http.StatusOK {
		t.Fatalf("revoke as another client: %d", r.status)
	}
	if e.introspect(hall, tok.AccessToken)["active"] != true {
		t.Fatal("another client revoked hall's token")
	}
	if r := e.form("/oidc/revoke", "hall", hall.secret, url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}}); r.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if e.introspect(hall, tok.AccessToken)["active"] != false {
		t.Fatal("a revoked access token is active")
	}
	if r := e.userinfo(tok.AccessToken); r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("userinfo with a revoked token: %d %v", r.status, r.header)
	}
	// Revoke the refresh token: the grant goes.
	if r := e.form("/oidc/revoke", "hall", hall.secret, url.Values{"token": {tok.RefreshToken}}); r.status != http.StatusOK {
		t.Fatalf("revoke refresh: %d", r.status)
	}
	if _, err := hall.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Fatal("a revoked refresh token works")
	}
	// Unknown tokens: 200 all the same.
	if r := e.form("/oidc/revoke", "hall", hall.secret, url.Values{"token": {"nonsense"}}); r.status != http.StatusOK {
		t.Fatalf("revoke unknown: %d", r.status)
	}
	if r := e.form("/oidc/revoke", "hall", "wrong", url.Values{"token": {"nonsense"}}); r.status != http.StatusUnauthorized {
		t.Fatalf("revoke with a wrong secret: %d", r.status)
	}
	// The client that revoked is the actor; the user whose token it was is in the detail.
	events, _ := e.store.ListAudit(context.Background(), 0, 1000)
	var revoked []string
	for _, ev := range events {
		if ev.Action == "oidc.token_revoked" {
			revoked = append(revoked, ev.Actor+" "+ev.Detail)
		}
	}
	if got, want := strings.Join(revoked, "\n"), `client:hall {"client_id":"hall","token_type":"access_token","user_id":"`+u.ID+`"}`+"\n"+
		`client:hall {"client_id":"hall","token_type":"refresh_token","user_id":"`+u.ID+`"}`; got != want {
		t.Errorf("revocations audited:\n%s\nwant:\n%s", got, want)
	}
}

func b64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64RawURL(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFlowsOnEveryBackend runs the stateful parts (codes, grants, refresh
// families, consents) on each database unid supports.
func TestFlowsOnEveryBackend(t *testing.T) {
	for _, be := range apptest.Backends {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, envOptions{config: func(c *config.Config) { be.Use(t, c) }})
			e.addUser(zhang)
			shop := e.newRP(client.Spec{ID: "shop", Scopes: []string{"openid", "phone", "offline_access"}})
			b := e.browser(&zhang)
			scope := oauth2.SetAuthURLParam("scope", "openid phone offline_access")
			f := shop.newFlow(scope)
			code := shop.code(b, f, "allow")
			tok, err := shop.cfg.Exchange(context.Background(), code, oauth2.VerifierOption(f.verifier))
			if err != nil {
				t.Fatal(err)
			}
			if info := decodeJSON(t, e.userinfo(tok.AccessToken).body); info["phone_number"] != "+8613812345678" {
				t.Fatalf("userinfo: %v", info)
			}
			refresh := func(rt string) (*oauth2.Token, error) {
				return shop.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: rt}).Token()
			}
			next, err := refresh(tok.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := refresh(tok.RefreshToken); err == nil {
				t.Fatal("a used refresh token worked")
			}
			if _, err := refresh(next.RefreshToken); err == nil {
				t.Fatal("the family survived a replay")
			}
			if _, err := shop.cfg.Exchange(context.Background(), code, oauth2.VerifierOption(f.verifier)); err == nil {
				t.Fatal("a code was exchanged twice")
			}
			if s := b.walk(shop.newFlow(scope).url, ""); s.consent || s.at.Query().Get("code") == "" {
				t.Fatalf("the consent was not kept: ended at %s", s.at)
			}
		})
	}
}
