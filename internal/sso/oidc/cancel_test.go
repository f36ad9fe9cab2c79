package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"unid/internal/client"
)

// TestCancelSignIn: "back to the system" on the login page answers the
// client access_denied; a HEAD of the same link (a link checker, a
// prefetch) changes nothing.
func TestCancelSignIn(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addUser(zhang)
	hall := e.newRP(client.Spec{ID: "hall", FirstParty: true})
	b := e.browser(&zhang)
	r := b.do("GET", hall.newFlow().url, "", nil)
	login, _ := url.Parse(r.header.Get("Location"))
	next, _ := url.Parse(login.Query().Get("next"))
	id := next.Query().Get("id")
	if r.status != http.StatusSeeOther || login.Path != "/login" || id == "" {
		t.Fatalf("authorize without a session: %d %q", r.status, r.header.Get("Location"))
	}
	cancel := "/oidc/authorize/cancel?id=" + url.QueryEscape(id)
	if r := b.do("HEAD", cancel, "", nil); r.status != http.StatusMethodNotAllowed {
		t.Errorf("HEAD cancel: %d, want 405", r.status)
	}
	if r := b.do("GET", next.String(), "", nil); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
		t.Fatalf("after a HEAD the sign-in is still pending: %d %q, want the login page", r.status, r.header.Get("Location"))
	}
	s := b.walk(e.URL+cancel, "")
	if s.at.Query().Get("error") != "access_denied" || !strings.HasPrefix(s.at.String(), rpCallback) {
		t.Errorf("cancel ended at %s, want the client's redirect URI with access_denied", s.at)
	}
}

// TestCodeAfterGrantsRevoked: a code issued before the user's grants were
// revoked (a password change, a disabled account) cannot become a grant.
func TestCodeAfterGrantsRevoked(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.addUser(zhang)
	hall := e.newRP(client.Spec{ID: "hall", FirstParty: true})
	b := e.browser(&zhang)
	f := hall.newFlow()
	code := hall.code(b, f, "")
	if _, err := e.store.RevokeUserGrants(context.Background(), u.ID, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := hall.cfg.Exchange(context.Background(), code, oauth2.VerifierOption(f.verifier)); err == nil {
		t.Error("a code issued before the revocation was exchanged")
	}
}
