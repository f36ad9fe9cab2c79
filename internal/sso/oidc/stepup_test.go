package oidc_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"unid/internal/httpx"
	sso "unid/internal/sso/oidc"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"unid/internal/client"
	"unid/internal/store"
)

// li is a user of real-name level 1 (初级), below what the clients of the
// step-up tests require.
var li = person{
	login: "li_si", password: "Shandong#2026", phone: "13912345678",
	idNumber: "110105194912310051", realName: "李四", email: "li@example.cn", level: 1,
}

// setLevel stands in for a real-name verification: the realname service
// (another branch) raises or lowers the level in the same way, on the user
// row; here the test does it through the store, as a fixture step.
func (e *env) setLevel(userID string, level int) {
	e.t.Helper()
	_, err := e.store.UpdateUser(context.Background(), userID, func(u store.User) (store.User, error) {
		u.RealnameLevel = level
		return u, nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// levelClaims are the real-name claims of an ID token, userinfo or
// introspection answer.
type levelClaims struct {
	ACR   string `json:"acr"`
	Level *int   `json:"realname_level"`
}

func (c levelClaims) is(level int) bool {
	return c.Level != nil && *c.Level == level && c.ACR == "urn:unid:acr:realname:"+strconv.Itoa(level)
}

// upgradeNext checks that a walk ended at the upgrade page and returns
// the page's next: the callback of the authorization request, a local
// path the page will link back to.
func upgradeNext(t *testing.T, s stop) string {
	t.Helper()
	if s.at.Path != "/settings/realname" {
		t.Fatalf("ended at %s (%d), want the upgrade page", s.at, s.status)
	}
	next := s.at.Query().Get("next")
	if !strings.HasPrefix(next, "/oidc/authorize/callback?id=") || httpx.SafeNext(next) != next {
		t.Fatalf("upgrade page next = %q", next)
	}
	// Every client of these tests needs level 2: the page offers the way
	// back only once the user has it.
	if need := s.at.Query().Get("level"); need != "2" {
		t.Fatalf("upgrade page level = %q, want 2", need)
	}
	return next
}

// TestStepUp: a client that requires level 2 — by acr_values, or by its
// registered minimum — sends a level-1 user to the upgrade page; once the
// level is raised the same request goes on to the client, and the tokens,
// userinfo and introspection say level 2. prompt=none never shows the
// upgrade page: it answers unmet_authentication_requirements.
func TestStepUp(t *testing.T) {
	acr2 := oauth2.SetAuthURLParam("acr_values", "urn:unid:acr:realname:2")
	tests := []struct {
		name string
		spec client.Spec
		opts []oauth2.AuthCodeOption
	}{
		{"acr_values", client.Spec{ID: "hall", FirstParty: true}, []oauth2.AuthCodeOption{acr2}},
		{"registered minimum", client.Spec{ID: "tax", FirstParty: true, MinRealnameLevel: 2}, nil},
		// acr_values cannot lower the registered minimum.
		{"registered minimum over a lower acr_values", client.Spec{ID: "tax", FirstParty: true, MinRealnameLevel: 2},
			[]oauth2.AuthCodeOption{oauth2.SetAuthURLParam("acr_values", "urn:unid:acr:realname:1")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			u := e.addUser(li)
			rp := e.newRP(tt.spec)
			b := e.browser(&li)

			// prompt=none: an error at the client, no page.
			f := rp.newFlow(append(tt.opts, oauth2.SetAuthURLParam("prompt", "none"))...)
			b.login()
			if s := b.walk(f.url, ""); s.at.Query().Get("error") != "unmet_authentication_requirements" || s.at.Query().Get("state") != f.state {
				t.Fatalf("prompt=none below the level: ended at %s", s.at)
			}

			f = rp.newFlow(tt.opts...)
			next := upgradeNext(t, b.walk(f.url, ""))
			// Back too early: still level 1, so the upgrade page again, for
			// the same request.
			if again := upgradeNext(t, b.walk(e.URL+next, "")); again != next {
				t.Fatalf("back below the level: next %q, then %q", next, again)
			}
			e.clock.Advance(10 * time.Minute) // verifying takes a while
			e.setLevel(u.ID, 2)
			s := b.walk(e.URL+next, "")
			if s.at.Host+s.at.Path != "127.0.0.1/rp/callback" || s.at.Query().Get("state") != f.state || s.at.Query().Get("code") == "" {
				t.Fatalf("after the upgrade: ended at %s (%d %s)", s.at, s.status, s.body)
			}
			tok, err := rp.cfg.Exchange(context.Background(), s.at.Query().Get("code"), oauth2.VerifierOption(f.verifier))
			if err != nil {
				t.Fatal(err)
			}
			idt, err := rp.verifier().Verify(context.Background(), tok.Extra("id_token").(string))
			if err != nil {
				t.Fatal(err)
			}
			var c levelClaims
			if err := idt.Claims(&c); err != nil || !c.is(2) || idt.Nonce != f.nonce {
				t.Fatalf("ID token after the upgrade: %+v (level %v), %v", c, c.Level, err)
			}
			info, err := rp.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatal(err)
			}
			c = levelClaims{}
			if err := info.Claims(&c); err != nil || !c.is(2) {
				t.Fatalf("userinfo after the upgrade: %+v, %v", c, err)
			}
			c = levelClaims{}
			remarshal(t, e.introspect(rp, tok.AccessToken), &c)
			if !c.is(2) {
				t.Fatalf("introspection after the upgrade: %+v", c)
			}
		})
	}
}

// TestStepUpRequestExpires: the authorization request lives
// AuthRequestTTL; a user who comes back from the upgrade page after that
// gets the usual expired page, not a code.
func TestStepUpRequestExpires(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.addUser(li)
	rp := e.newRP(client.Spec{ID: "tax", FirstParty: true, MinRealnameLevel: 2})
	b := e.browser(&li)
	next := upgradeNext(t, b.walk(rp.newFlow().url, ""))
	e.clock.Advance(31 * time.Minute)
	e.setLevel(u.ID, 2)
	r := b.do("GET", e.URL+next, "", nil)
	if r.status != http.StatusGone || r.header.Get("Location") != "" {
		t.Fatalf("back after the request expired: %d %s", r.status, r.header.Get("Location"))
	}
}

// TestLevelOnRefresh: a token refresh carries the user's level at the
// refresh, raised or lowered (a binding removed) since the sign-in.
func TestLevelOnRefresh(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.addUser(li)
	hall := e.newRP(client.Spec{ID: "hall", Scopes: []string{"openid", "offline_access"}, FirstParty: true})
	b := e.browser(&li)
	tok, idt := hall.signIn(b, "", oauth2.SetAuthURLParam("scope", "openid offline_access"))
	var c levelClaims
	if err := idt.Claims(&c); err != nil || !c.is(1) {
		t.Fatalf("ID token at sign-in: %+v, %v", c, err)
	}
	refresh := tok.RefreshToken
	for _, level := range []int{3, 0} {
		e.setLevel(u.ID, level)
		e.clock.Advance(time.Minute)
		r := e.form("/oidc/token", hall.c.ID, hall.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
		if r.status != http.StatusOK {
			t.Fatalf("refresh: %d %s", r.status, r.body)
		}
		resp := decodeJSON(t, r.body)
		refresh, _ = resp["refresh_token"].(string)
		raw, _ := resp["id_token"].(string)
		idt, err := hall.provider.Verifier(&gooidc.Config{ClientID: hall.c.ID, Now: e.clock.Now}).Verify(context.Background(), raw)
		if err != nil {
			t.Fatal(err)
		}
		c = levelClaims{}
		if err := idt.Claims(&c); err != nil || !c.is(level) {
			t.Fatalf("ID token of the refresh at level %d: %+v, %v", level, c, err)
		}
		c = levelClaims{}
		remarshal(t, e.introspect(hall, resp["access_token"].(string)), &c)
		if !c.is(level) {
			t.Fatalf("introspection at level %d: %+v", level, c)
		}
	}
}

// TestMinimumLevelOnRefresh: a client's minimum level holds for every
// token: once the user falls below it (a binding removed, an appeal that
// moved their ID number away), a refresh is refused and the grant is
// revoked, so raising the level again does not bring the old token back.
func TestMinimumLevelOnRefresh(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.addUser(li)
	e.setLevel(u.ID, 2)
	tax := e.newRP(client.Spec{ID: "tax", Scopes: []string{"openid", "offline_access"}, FirstParty: true, MinRealnameLevel: 2})
	b := e.browser(&li)
	tok, _ := tax.signIn(b, "", oauth2.SetAuthURLParam("scope", "openid offline_access"))
	refresh := func(token string) reply {
		return e.form("/oidc/token", tax.c.ID, tax.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}})
	}
	r := refresh(tok.RefreshToken)
	if r.status != http.StatusOK {
		t.Fatalf("refresh at the minimum: %d %s", r.status, r.body)
	}
	next, _ := decodeJSON(t, r.body)["refresh_token"].(string)
	e.setLevel(u.ID, 1)
	e.clock.Advance(time.Minute)
	if r := refresh(next); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "invalid_grant") {
		t.Fatalf("refresh below the minimum: %d %s, want 400 invalid_grant", r.status, r.body)
	}
	e.setLevel(u.ID, 2)
	if r := refresh(next); r.status != http.StatusBadRequest {
		t.Fatalf("refresh of the revoked grant after the level came back: %d %s, want 400", r.status, r.body)
	}
	if n := slices.Index(e.auditActions(), sso.ActionRefreshRefused+":level_below_minimum"); n < 0 {
		t.Errorf("no %s event in %v", sso.ActionRefreshRefused, e.auditActions())
	}
}

// remarshal reads a decoded JSON object into v.
func remarshal(t *testing.T, m map[string]any, v any) {
	t.Helper()
	b, err := json.Marshal(m)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		t.Fatal(err)
	}
}
