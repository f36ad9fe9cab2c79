package oidc_test

import (
	"context"
	"net/http"
	"testing"

	"golang.org/x/oauth2"

	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/store"
)

// TestClosureEndsTokensAndTellsClients: when an account is closed, its
// access and refresh tokens are inactive at introspection, a refresh is
// refused, and every client the session signed in to receives a
// back-channel logout.
func TestClosureEndsTokensAndTellsClients(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.addUser(zhang)
	bc := newLogoutRP(t, e)
	hall := e.newRP(client.Spec{ID: "hall", Scopes: []string{"openid", "profile", "offline_access"}, FirstParty: true,
		BackchannelLogoutURI: bc.srv.URL + "/bcl"})
	b := e.browser(&zhang)
	tok, idt := hall.signIn(b, "", oauth2.SetAuthURLParam("scope", "openid profile offline_access"))
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	for _, tk := range []string{tok.AccessToken, tok.RefreshToken} {
		if e.introspect(hall, tk)["active"] != true {
			t.Fatal("a token is inactive before the closure")
		}
	}

	if err := e.srv.App.Accounts.Close(context.Background(), u.ID, audit.User(u.ID)); err != nil {
		t.Fatalf("Close: %v", err)
	}

	for name, tk := range map[string]string{"access token": tok.AccessToken, "refresh token": tok.RefreshToken} {
		if got := e.introspect(hall, tk)["active"]; got != false {
			t.Errorf("%s after the closure: active = %v, want false", name, got)
		}
	}
	if _, err := hall.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Error("the refresh token still gives tokens")
	}
	if r := e.userinfo(tok.AccessToken); r.status != http.StatusUnauthorized {
		t.Errorf("userinfo after the closure: %d, want 401", r.status)
	}
	var sid struct{ SID string }
	idt.Claims(&sid)
	got := bc.received()
	if len(got) != 1 || got[0].Sub != u.ID || got[0].Sid != sid.SID {
		t.Errorf("back-channel logouts = %+v, want one for %s", got, u.ID)
	}
}

// TestIntrospectionOfADisabledAccount: a token of an account that can no
// longer sign in is inactive at introspection even if revoking its grant
// failed, so a service system never keeps trusting it.
func TestIntrospectionOfADisabledAccount(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.addUser(zhang)
	hall := e.newRP(client.Spec{ID: "hall", FirstParty: true, Scopes: []string{"openid", "offline_access"}})
	tok, _ := hall.signIn(e.browser(&zhang), "", oauth2.SetAuthURLParam("scope", "openid offline_access"))
	if e.introspect(hall, tok.AccessToken)["active"] != true || e.introspect(hall, tok.RefreshToken)["active"] != true {
		t.Fatal("fresh tokens are inactive")
	}
	if _, err := e.store.UpdateUser(context.Background(), u.ID, func(old store.User) (store.User, error) {
		old.Status = store.UserDisabled // as a failed clean-up after closure would leave the grants
		return old, nil
	}); err != nil {
		t.Fatal(err)
	}
	if e.introspect(hall, tok.AccessToken)["active"] != false {
		t.Error("the access token of a disabled account is active")
	}
	if e.introspect(hall, tok.RefreshToken)["active"] != false {
		t.Error("the refresh token of a disabled account is active")
	}
}
