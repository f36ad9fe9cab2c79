package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/store"
)

// TestDisabledClient: once an operator disables a system, its RP (go-oidc
// and x/oauth2) gets unauthorized_client back from the authorization
// endpoint, invalid_client from the token endpoint (code, refresh and
// client credentials), and the tokens it holds are refused by userinfo and
// introspection; enabled again, it signs users in as before.
func TestDisabledClient(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addUser(zhang)
	by := audit.Origin{Actor: audit.Operator("test")}
	hall := e.newRP(client.Spec{ID: "hall", Scopes: []string{"openid", "profile", "offline_access"}, FirstParty: true})
	app := e.newRP(client.Spec{ID: "app", Type: store.ClientOIDCPublic, Scopes: []string{"openid", "profile", "offline_access"},
		RedirectURIs: []string{rpCallback}, FirstParty: true})
	b := e.browser(&zhang)
	tok, _ := hall.signIn(b, "", oauth2.SetAuthURLParam("scope", "openid profile offline_access"))
	appTok, _ := app.signIn(b, "", oauth2.SetAuthURLParam("scope", "openid profile offline_access"))
	if r := e.userinfo(tok.AccessToken); r.status != http.StatusOK {
		t.Fatalf("userinfo before = %d %s", r.status, r.body)
	}
	// A sign-in started before the system is disabled and finished after.
	pending := hall.newFlow(oauth2.SetAuthURLParam("prompt", "login"))

	for _, id := range []string{"hall", "app"} {
		if _, err := e.reg.Disable(context.Background(), id, by); err != nil {
			t.Fatal(err)
		}
	}

	// The authorization endpoint answers at the registered redirect URI.
	s := b.walk(hall.newFlow().url, "")
	if s.at.Host+s.at.Path != "127.0.0.1/rp/callback" || s.at.Query().Get("error") != "unauthorized_client" || s.at.Query().Get("code") != "" {
		t.Fatalf("authorize for a disabled client ended at %s (%d %s)", s.at, s.status, s.body)
	}
	s = b.walk(pending.url, "")
	if q := s.at.Query(); q.Get("error") != "unauthorized_client" || q.Get("state") != pending.state || q.Get("code") != "" {
		t.Fatalf("a sign-in under way ended at %s (%d %s)", s.at, s.status, s.body)
	}

	// The token endpoint refuses the client, whatever the grant.
	for name, r := range map[string]reply{
		"refresh":            e.form("/oidc/token", "hall", hall.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}),
		"client credentials": e.form("/oidc/token", "hall", hall.secret, url.Values{"grant_type": {"client_credentials"}}),
		"public refresh":     e.form("/oidc/token", "", "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {appTok.RefreshToken}, "client_id": {"app"}}),
	} {
		if r.status != http.StatusUnauthorized || !strings.Contains(string(r.body), `"invalid_client"`) {
			t.Errorf("%s for a disabled client = %d %s", name, r.status, r.body)
		}
	}
	// Its tokens no longer work.
	if r := e.userinfo(tok.AccessToken); r.status != http.StatusUnauthorized {
		t.Errorf("userinfo with a disabled client's token = %d %s", r.status, r.body)
	}
	if r := e.form("/oidc/introspect", "hall", hall.secret, url.Values{"token": {tok.AccessToken}}); r.status != http.StatusUnauthorized {
		t.Errorf("introspection by a disabled client = %d %s", r.status, r.body)
	}

	// Enabled again: the same RP signs in and refreshes.
	if _, err := e.reg.Enable(context.Background(), "hall", by); err != nil {
		t.Fatal(err)
	}
	tok2, _ := hall.signIn(b, "", oauth2.SetAuthURLParam("scope", "openid profile offline_access"))
	if _, err := hall.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok2.RefreshToken}).Token(); err != nil {
		t.Fatalf("refresh after enabling: %v", err)
	}
}

// TestRedirectURIRemovedDuringSignIn: an address an operator removes
// while a user signs in (a compromised one, say) gets nothing: the
// callback shows a page, with no code and no error sent there.
func TestRedirectURIRemovedDuringSignIn(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addUser(zhang)
	const other = "https://hall.example.gov.cn/callback"
	hall := e.newRP(client.Spec{ID: "hall", RedirectURIs: []string{rpCallback, other}, FirstParty: true})
	b := e.browser(&zhang)
	r := b.do("GET", hall.newFlow().url, "", nil)
	login, err := url.Parse(r.header.Get("Location"))
	if r.status != http.StatusSeeOther || err != nil || login.Path != "/login" {
		t.Fatalf("authorize before signing in = %d %q; want the login page", r.status, r.header.Get("Location"))
	}
	if _, err := e.reg.Update(context.Background(), "hall", client.Patch{RedirectURIs: &[]string{other}}, audit.Origin{Actor: audit.Operator("test")}); err != nil {
		t.Fatal(err)
	}
	b.login()
	r = b.do("GET", e.URL+login.Query().Get("next"), "", nil)
	if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
		t.Fatalf("callback after the address was removed = %d, Location %q; want a page", r.status, r.header.Get("Location"))
	}
}
