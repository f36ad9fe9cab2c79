package oidc_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"unid/internal/account/accounttest"
	"unid/internal/app"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/i18n"
	"unid/internal/session"
	sso "unid/internal/sso/oidc"
	"unid/internal/store"
	"unid/internal/store/postgres/pgtest"
	"unid/internal/store/sqlite/sqlitetest"
	"unid/internal/web"
)

// jwksKids lists the kids the JWKS publishes.
func jwksKids(t testing.TB, base string) []string {
	t.Helper()
	res, err := http.Get(base + "/oidc/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		if k.IsPublic() && k.Use == "sig" {
			kids = append(kids, k.KeyID)
		} else {
			t.Errorf("JWKS key %s: public %v, use %q", k.KeyID, k.IsPublic(), k.Use)
		}
	}
	slices.Sort(kids)
	return kids
}

// jwksMaxAge is how long caches may keep the JWKS.
func jwksMaxAge(t testing.TB, base string) time.Duration {
	t.Helper()
	res, err := http.Get(base + "/oidc/keys")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cc := res.Header.Get("Cache-Control")
	_, v, ok := strings.Cut(cc, "max-age=")
	n, err := strconv.Atoi(v)
	if !ok || err != nil || n <= 0 {
		t.Fatalf("JWKS Cache-Control %q", cc)
	}
	return time.Duration(n) * time.Second
}

// kidOf returns the kid and alg in a JWT's header.
func kidOf(t testing.TB, token string) (string, string) {
	t.Helper()
	var h struct{ Kid, Alg string }
	json.Unmarshal(b64(t, strings.Split(token, ".")[0]), &h)
	return h.Kid, h.Alg
}

// TestKeyRotation: a new key is published before it signs; tokens signed
// before it still verify, new ones use the new key, and the JWKS shows both
// until the old key's tokens have all expired.
func TestKeyRotation(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addUser(zhang)
	hall := e.newRP(client.Spec{ID: "hall", FirstParty: true})
	b := e.browser(&zhang)
	old, _ := hall.signIn(b, "")
	oldKid, alg := kidOf(t, old.AccessToken)
	if alg != "ES256" {
		t.Errorf("alg %s; want the default ES256", alg)
	}
	if got := jwksKids(t, e.URL); !slices.Equal(got, []string{oldKid}) {
		t.Fatalf("JWKS before rotation: %v", got)
	}
	// A cache (a relying party's, or a proxy's in front of unid) may keep
	// the JWKS of just before the rotation for its max-age.
	maxAge := jwksMaxAge(t, e.URL)

	newKid, err := e.op.RotateKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := jwksKids(t, e.URL), []string{oldKid, newKid}; !slices.Equal(got, sorted(want)) {
		t.Fatalf("JWKS after rotation: %v; want both %v", got, want)
	}
	// Published first, used later: until every instance publishes it, the
	// old key goes on signing.
	during, _ := hall.signIn(b, "")
	if kid, _ := kidOf(t, during.AccessToken); kid != oldKid {
		t.Fatalf("signed with %s right after the rotation; want the old key until the new one is published everywhere", kid)
	}
	e.clock.Advance(maxAge - second)
	cached, _ := hall.signIn(b, "")
	if kid, _ := kidOf(t, cached.AccessToken); kid != oldKid {
		t.Fatalf("signed with %s while a cache may still hold the JWKS without it (max-age %v)", kid, maxAge)
	}
	e.clock.Advance(2*sso.DefaultKeyRefresh - (maxAge - second))

	// A relying party that never saw the new key verifies old tokens, and
	// new ones after fetching the JWKS again (go-oidc does on an unknown kid).
	fresh, err := gooidc.NewProvider(context.Background(), e.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.Verifier(&gooidc.Config{ClientID: "hall", Now: e.clock.Now}).Verify(context.Background(), old.Extra("id_token").(string)); err != nil {
		t.Fatalf("an ID token from before the rotation: %v", err)
	}
	if r := e.userinfo(old.AccessToken); r.status != http.StatusOK {
		t.Fatalf("userinfo with an access token from before the rotation: %d", r.status)
	}
	tok, _ := hall.signIn(b, "")
	if kid, _ := kidOf(t, tok.AccessToken); kid != newKid {
		t.Fatalf("a new token is signed with %s; want the new key %s", kid, newKid)
	}
	if kid, _ := kidOf(t, tok.Extra("id_token").(string)); kid != newKid {
		t.Fatalf("a new ID token is signed with %s", kid)
	}
	if !slices.Contains(e.auditActions(), "oidc.signing_key_rotated:ok") {
		t.Errorf("audit: %v", e.auditActions())
	}
	events, _ := e.store.ListAudit(context.Background(), 0, 1000)
	for _, ev := range events {
		if ev.Action == "oidc.signing_key_rotated" && (ev.Actor != "system" || !strings.Contains(ev.Detail, `"kid":"`+newKid+`"`)) {
			t.Errorf("rotation audited as %q with %s, want the system and kid %s", ev.Actor, ev.Detail, newKid)
		}
	}

	// The last token of the old key was signed a minute after the rotation
	// and lives 10 minutes: the key is published until then (and a margin
	// for instances reloading late), and gone after.
	e.clock.Advance(11 * time.Minute)
	if got := jwksKids(t, e.URL); !slices.Contains(got, oldKid) {
		t.Fatalf("the old key left the JWKS while its tokens may live: %v", got)
	}
	e.clock.Advance(2 * time.Minute)
	if got := jwksKids(t, e.URL); !slices.Equal(got, []string{newKid}) {
		t.Fatalf("JWKS after the old key's tokens expired: %v; want only %s", got, newKid)
	}
	if err := e.op.Cleanup(context.Background()); err != nil {
		t.Fatal(err)
	}
	keys, _ := e.store.ListSigningKeys(context.Background())
	if len(keys) != 1 || keys[0].ID != newKid {
		t.Fatalf("keys after cleanup: %d", len(keys))
	}
}

func sorted(l []string) []string {
	l = slices.Clone(l)
	slices.Sort(l)
	return l
}

// TestInstancesShareKeys: two instances on one database publish the same
// keys; after one rotates, the other publishes the new key before either
// signs with it, and verifies what the first signs. An instance that
// reloads rarely (a long KeyRefresh) still verifies at once: an unknown
// kid makes it reload.
func TestInstancesShareKeys(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addUser(zhang)
	hall := e.newRP(client.Spec{ID: "hall", FirstParty: true})
	two, twoURL := e.instance(e.deps, e.opts)
	slow := e.opts
	slow.KeyRefresh = time.Hour
	_, slowURL := e.instance(e.deps, slow)
	if a, b := jwksKids(t, e.URL), jwksKids(t, twoURL); !slices.Equal(a, b) || len(a) != 1 {
		t.Fatalf("instances publish %v and %v", a, b)
	}
	kid, err := e.op.RotateKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(sso.DefaultKeyRefresh)
	if got := jwksKids(t, twoURL); !slices.Contains(got, kid) {
		t.Fatalf("the other instance does not publish the new key after its refresh: %v", got)
	}
	signWith := func(p *sso.Provider) string {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/oidc/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("hall", hall.secret)
		serve(p, "POST /oidc/token", rec, req)
		var cc struct {
			AccessToken string `json:"access_token"`
		}
		json.Unmarshal(rec.Body.Bytes(), &cc)
		got, _ := kidOf(t, cc.AccessToken)
		return got
	}
	if got := signWith(two); got == kid {
		t.Fatal("the other instance signs with the new key before every instance could publish it")
	}
	e.clock.Advance(sso.DefaultKeyRefresh)
	if got := signWith(two); got != kid {
		t.Fatalf("the other instance signs with %s; want %s", got, kid)
	}
	b := e.browser(&zhang)
	tok, _ := hall.signIn(b, "")
	userinfo := func(base string) int {
		req, _ := http.NewRequest("GET", base+"/oidc/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	for _, base := range []string{twoURL, slowURL} {
		if got := userinfo(base); got != http.StatusOK {
			t.Fatalf("an instance refused a token of the new key: %d", got)
		}
	}
}

// minimalDeps builds the provider's dependencies over st, for tests that
// need only its keys.
func minimalDeps(t testing.TB, st store.Store, now func() time.Time) sso.Deps {
	t.Helper()
	prot := accounttest.NewProtector(t)
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	pages, err := web.New(web.Options{Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	log := audit.New(st, now, slog.New(slog.DiscardHandler))
	return sso.Deps{
		Store: st, Registry: client.New(st, prot.MAC, log, now), Sessions: session.New(st, log, now, session.Options{Idle: time.Hour, Max: time.Hour}),
		Protector: prot, Audit: log, Pages: app.OIDCPages(pages), Now: now,
	}
}

// TestFirstKeyRace: instances starting together on an empty database end
// with one active key, which all of them use.
func TestFirstKeyRace(t *testing.T) {
	backends := []struct {
		name string
		open func(t *testing.T) store.Store
	}{
		{"sqlite", func(t *testing.T) store.Store { return sqlitetest.New(t) }},
		{"postgres", func(t *testing.T) store.Store { return pgtest.New(t) }},
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			st := be.open(t)
			now := func() time.Time { return time.Now().UTC() }
			deps := minimalDeps(t, st, now)
			const n = 8
			providers := make([]*sso.Provider, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				d := deps // each instance has its own session manager, as separate processes would
				d.Sessions = session.New(st, d.Audit, now, session.Options{Idle: time.Hour, Max: time.Hour})
				wg.Go(func() {
					providers[i], errs[i] = sso.New(context.Background(), d, sso.Options{Issuer: "https://unid.example.gov.cn"})
				})
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			keys, err := st.ListSigningKeys(context.Background())
			if err != nil || len(keys) != 1 || !keys[0].RetiredAt.IsZero() {
				t.Fatalf("keys after a start-up race: %d, %v", len(keys), err)
			}
			if strings.Contains(string(keys[0].Private), "PRIVATE KEY") {
				t.Fatal("the private key is stored in the clear")
			}
			var first string
			for i, p := range providers {
				rec := httptest.NewRecorder()
				serve(p, "GET /oidc/keys", rec, httptest.NewRequest("GET", "/oidc/keys", nil))
				if i == 0 {
					first = rec.Body.String()
				} else if rec.Body.String() != first {
					t.Fatalf("instance %d publishes %s; instance 0 %s", i, rec.Body, first)
				}
			}
		})
	}
}

// serve calls the handler of p's route pattern.
func serve(p *sso.Provider, pattern string, w http.ResponseWriter, r *http.Request) {
	for _, route := range p.Routes() {
		if route.Pattern == pattern {
			route.Handler(w, r)
			return
		}
	}
	panic("no route " + pattern)
}

// TestRS256: RS256 is a configuration away (OpenID Connect Core makes it
// the algorithm every RP can verify); changing the algorithm rotates the
// key at start-up, and the old key stays published for its tokens.
func TestRS256(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addUser(zhang)
	opts := e.opts
	opts.Algorithm = "RS256"
	rs, err := sso.New(context.Background(), e.deps, opts)
	if err != nil {
		t.Fatal(err)
	}
	hall := e.newRP(client.Spec{ID: "hall", FirstParty: true, Scopes: []string{"openid", "offline_access"}})
	b := e.browser(&zhang)
	tok, _ := hall.signIn(b, "", oauth2.SetAuthURLParam("scope", "openid offline_access"))
	if _, alg := kidOf(t, tok.Extra("id_token").(string)); alg != "ES256" {
		t.Fatalf("ID token alg %s before the switch; want ES256", alg)
	}
	e.clock.Advance(2 * sso.DefaultKeyRefresh) // the new key is published everywhere: it signs

	// The RS256 instance signs a refreshed ID token; go-oidc verifies it
	// with the published keys.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/oidc/token", strings.NewReader("grant_type=refresh_token&refresh_token="+tok.RefreshToken))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("hall", hall.secret)
	serve(rs, "POST /oidc/token", rec, req)
	var resp struct {
		IDToken string `json:"id_token"`
	}
	json.Unmarshal(rec.Body.Bytes(), &resp)
	if _, alg := kidOf(t, resp.IDToken); alg != "RS256" {
		t.Fatalf("refreshed ID token alg %s (%d %s); want RS256", alg, rec.Code, rec.Body)
	}
	if _, err := hall.verifier().Verify(context.Background(), resp.IDToken); err != nil {
		t.Fatalf("RS256 ID token: %v", err)
	}
	algs := []string{}
	res, err := http.Get(e.URL + "/oidc/keys")
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	json.NewDecoder(res.Body).Decode(&set)
	res.Body.Close()
	for _, k := range set.Keys {
		algs = append(algs, k.Algorithm)
	}
	slices.Sort(algs)
	if !slices.Equal(algs, []string{"ES256", "RS256"}) {
		t.Fatalf("after switching to RS256 the JWKS has %v; want the old ES256 key too", algs)
	}
	if _, err := sso.New(context.Background(), e.deps, sso.Options{Issuer: e.URL, Algorithm: "HS256"}); err == nil {
		t.Fatal("HS256 accepted as a signing algorithm")
	}
}
