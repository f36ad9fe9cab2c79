package oidc_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"unid/internal/client"
)

// TestConsent: a client that is not first-party asks once; the answer is
// kept per user and client, prompt=consent asks again, Deny answers
// access_denied, and a revoked consent takes the client's tokens with it.
func TestConsent(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addUser(zhang)
	shop := e.newRP(client.Spec{ID: "shop", Name: "便民服务商城", Scopes: []string{"openid", "profile", "offline_access"}})
	b := e.browser(&zhang)
	scope := oauth2.SetAuthURLParam("scope", "openid profile phone offline_access")

	// The consent page names the client and only the scopes it is registered for.
	f := shop.newFlow(scope)
	s := b.walk(f.url, "")
	if s.at.Path != "/oidc/consent" {
		t.Fatalf("first sign-in ended at %s; want the consent page", s.at)
	}
	page := b.do("GET", s.at.RequestURI(), "", nil)
	body := string(page.body)
	if page.status != http.StatusOK || !strings.Contains(body, "便民服务商城") || !strings.Contains(body, `data-scope="profile"`) ||
		strings.Contains(body, `data-scope="phone"`) || !strings.Contains(body, "zhang_san") {
		t.Fatalf("consent page: %d\n%s", page.status, body)
	}
	b.Lang = "en"
	if en := b.do("GET", s.at.RequestURI(), "", nil); !strings.Contains(string(en.body), "Allow") {
		t.Error("the consent page is not in English for an English browser")
	}
	b.Lang = ""

	tok, _ := shop.signIn(b, "allow", scope)
	if strings.Contains(tok.Extra("scope").(string), "phone") {
		t.Errorf("scope %q includes a scope the client is not registered for", tok.Extra("scope"))
	}
	info := decodeJSON(t, e.userinfo(tok.AccessToken).body)
	if info["phone_number"] != nil || info["preferred_username"] != "zhang_san" {
		t.Errorf("userinfo: %v", info)
	}

	// Asked once: the second sign-in goes straight through.
	if s := b.walk(shop.newFlow(scope).url, ""); s.consent || s.at.Query().Get("code") == "" {
		t.Fatalf("second sign-in ended at %s", s.at)
	}
	// prompt=consent asks again; Deny answers access_denied with the state.
	f = shop.newFlow(scope, oauth2.SetAuthURLParam("prompt", "consent"))
	s = b.walk(f.url, "deny")
	if !s.consent || s.at.Query().Get("error") != "access_denied" || s.at.Query().Get("state") != f.state {
		t.Fatalf("denied: ended at %s", s.at)
	}

	// The personal space lists and revokes consents.
	r := b.do("GET", "/api/v1/consents", "", nil)
	var list struct {
		Consents []struct {
			ClientID   string   `json:"client_id"`
			ClientName string   `json:"client_name"`
			Scopes     []string `json:"scopes"`
		}
	}
	json.Unmarshal(r.body, &list)
	if r.status != http.StatusOK || len(list.Consents) != 1 || list.Consents[0].ClientName != "便民服务商城" ||
		!slices.Equal(list.Consents[0].Scopes, []string{"openid", "profile", "offline_access"}) {
		t.Fatalf("consents: %d %s", r.status, r.body)
	}
	if r := b.do("DELETE", "/api/v1/consents/shop", "", nil); r.status != http.StatusNoContent {
		t.Fatalf("revoke consent: %d %s", r.status, r.body)
	}
	if r := b.do("DELETE", "/api/v1/consents/shop", "", nil); r.status != http.StatusNotFound || !strings.Contains(string(r.body), "consent_not_found") {
		t.Fatalf("revoke twice: %d %s", r.status, r.body)
	}
	if _, err := shop.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Fatal("the refresh token outlived the consent")
	}
	if e.introspect(shop, tok.AccessToken)["active"] != false {
		t.Fatal("the access token outlived the consent")
	}
	if s := b.walk(shop.newFlow(scope).url, ""); s.at.Path != "/oidc/consent" {
		t.Fatalf("after revoking: ended at %s; want the consent page", s.at)
	}
	acts := e.auditActions()
	for _, a := range []string{"oidc.consent_granted:ok", "oidc.consent_denied:ok", "oidc.consent_revoked:ok"} {
		if !slices.Contains(acts, a) {
			t.Errorf("audit has no %s: %v", a, acts)
		}
	}
	events, _ := e.store.ListAudit(context.Background(), 0, 1000)
	for _, ev := range events {
		want := map[string]string{
			"oidc.consent_granted": `{"client_id":"shop","scopes":"openid,profile,offline_access"}`,
			"oidc.consent_denied":  `{"client_id":"shop"}`, "oidc.consent_revoked": `{"client_id":"shop"}`,
		}[ev.Action]
		if want != "" && ev.Detail != want {
			t.Errorf("%s detail %s, want %s", ev.Action, ev.Detail, want)
		}
	}

	// Without a session the consent API says so.
	anon := e.browser(nil)
	if r := anon.do("GET", "/api/v1/consents", "", nil); r.status != http.StatusUnauthorized {
		t.Errorf("consents without a session: %d", r.status)
	}
	if r := anon.postJSON("/api/v1/consents", map[string]any{"request_id": "x", "allow": true}); r.status != http.StatusUnauthorized {
		t.Errorf("consent answer without a session: %d", r.status)
	}
	if r := b.postJSON("/api/v1/consents", map[string]any{"request_id": "nope", "allow": true}); r.status != http.StatusGone {
		t.Errorf("consent to an unknown request: %d %s", r.status, r.body)
	}
	if r := b.postJSON("/api/v1/consents", map[string]any{"request_id": "x", "allow": true, "extra": 1}); r.status != http.StatusBadRequest {
		t.Errorf("consent with an unknown field: %d", r.status)
	}
}

// TestScopesAndLevels: idcard only for a verified user; acr_values above
// the user's level send the user to the upgrade page (stepup_test.go has
// the whole step-up), or with prompt=none fail with
// unmet_authentication_requirements.
func TestScopesAndLevels(t *testing.T) {
	e := newEnv(t, envOptions{})
	wang := person{login: "wang_wu", password: "Shandong#2026", phone: "13712345678", idNumber: "110105194912310037", realName: "王五", email: "w@example.cn", level: 0}
	e.addUser(wang)
	hall := e.newRP(client.Spec{ID: "hall", Scopes: []string{"openid", "profile", "idcard"}, FirstParty: true})
	b := e.browser(&wang)
	tok, idt := hall.signIn(b, "", oauth2.SetAuthURLParam("scope", "openid profile idcard"))
	if s, _ := tok.Extra("scope").(string); strings.Contains(s, "idcard") {
		t.Errorf("scope %q: idcard for an unverified user", s)
	}
	info := decodeJSON(t, e.userinfo(tok.AccessToken).body)
	if info["id_number"] != nil || info["name"] != nil || info["realname_level"] != float64(0) {
		t.Errorf("userinfo of an unverified user: %v", info)
	}
	var c struct{ ACR string }
	idt.Claims(&c)
	if c.ACR != "urn:unid:acr:realname:0" {
		t.Errorf("acr = %q", c.ACR)
	}

	f := hall.newFlow(oauth2.SetAuthURLParam("acr_values", "urn:unid:acr:realname:2 urn:unid:acr:realname:3"))
	s := b.walk(f.url, "")
	if s.at.Path != "/settings/realname" {
		t.Fatalf("acr above the level: ended at %s", s.at)
	}
	f = hall.newFlow(oauth2.SetAuthURLParam("acr_values", "urn:unid:acr:realname:2 urn:unid:acr:realname:3"), oauth2.SetAuthURLParam("prompt", "none"))
	s = b.walk(f.url, "")
	if s.at.Query().Get("error") != "unmet_authentication_requirements" || s.at.Query().Get("state") != f.state {
		t.Fatalf("acr above the level, prompt=none: ended at %s", s.at)
	}
	f = hall.newFlow(oauth2.SetAuthURLParam("acr_values", "urn:unid:acr:realname:0 urn:other"))
	if s := b.walk(f.url, ""); s.at.Query().Get("code") == "" {
		t.Fatalf("acr at the level: ended at %s", s.at)
	}
}

// TestPrompts: prompt=none never shows a page, prompt=login and max_age
// ask for the password again even with a session.
func TestPrompts(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addUser(zhang)
	hall := e.newRP(client.Spec{ID: "hall", FirstParty: true})
	shop := e.newRP(client.Spec{ID: "shop"})
	none := oauth2.SetAuthURLParam("prompt", "none")

	anon := e.browser(nil)
	f := hall.newFlow(none)
	if s := anon.walk(f.url, ""); s.at.Query().Get("error") != "login_required" || s.at.Query().Get("state") != f.state {
		t.Fatalf("prompt=none without a session: ended at %s", s.at)
	}
	b := e.browser(&zhang)
	hall.signIn(b, "")
	if s := b.walk(hall.newFlow(none).url, ""); s.at.Query().Get("code") == "" {
		t.Fatalf("prompt=none with a session: ended at %s", s.at)
	}
	if s := b.walk(shop.newFlow(none).url, ""); s.at.Query().Get("error") != "consent_required" {
		t.Fatalf("prompt=none without consent: ended at %s", s.at)
	}
	if s := b.walk(hall.newFlow(oauth2.SetAuthURLParam("prompt", "none login")).url, ""); s.at.Query().Get("error") != "invalid_request" {
		t.Fatalf("prompt=none login: ended at %s", s.at)
	}

	// prompt=login: the login page even though signed in, and auth_time moves.
	_, first := hall.signIn(b, "")
	e.clock.Advance(2 * time.Minute)
	f = hall.newFlow(oauth2.SetAuthURLParam("prompt", "login"))
	s := b.walk(f.url, "")
	if s.logins != 1 || s.at.Query().Get("code") == "" {
		t.Fatalf("prompt=login: %d logins, ended at %s", s.logins, s.at)
	}
	tok, err := hall.cfg.Exchange(context.Background(), s.at.Query().Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}
	idt, err := hall.verifier().Verify(context.Background(), tok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	var c1, c2 struct {
		AuthTime int64 `json:"auth_time"`
		SID      string
	}
	first.Claims(&c1)
	idt.Claims(&c2)
	if c2.AuthTime <= c1.AuthTime || c2.SID != c1.SID {
		t.Errorf("after prompt=login: auth_time %d → %d, sid %q → %q; want a later auth_time, the same sid", c1.AuthTime, c2.AuthTime, c1.SID, c2.SID)
	}

	// max_age: a session older than it means a fresh login.
	e.clock.Advance(2 * time.Minute)
	if s := b.walk(hall.newFlow(oauth2.SetAuthURLParam("max_age", "600")).url, ""); s.logins != 0 {
		t.Errorf("max_age=600 with a 2-minute-old login: %d logins", s.logins)
	}
	if s := b.walk(hall.newFlow(oauth2.SetAuthURLParam("max_age", "60")).url, ""); s.logins != 1 || s.at.Query().Get("code") == "" {
		t.Errorf("max_age=60 with a 2-minute-old login: %d logins, ended at %s", s.logins, s.at)
	}
	e.clock.Advance(2 * time.Minute)
	if s := b.walk(hall.newFlow(oauth2.SetAuthURLParam("max_age", "60"), none).url, ""); s.at.Query().Get("error") != "login_required" {
		t.Errorf("max_age=60 with prompt=none: ended at %s", s.at)
	}

	// ui_locales reaches the login page.
	r := anon.do("GET", hall.newFlow(oauth2.SetAuthURLParam("ui_locales", "en-US zh-CN")).url, "", nil)
	loc, _ := url.Parse(r.header.Get("Location"))
	if loc.Path != "/login" || loc.Query().Get("lang") != "en" || !strings.HasPrefix(loc.Query().Get("next"), "/oidc/authorize/callback?id=") {
		t.Errorf("login redirect %q", r.header.Get("Location"))
	}
}
