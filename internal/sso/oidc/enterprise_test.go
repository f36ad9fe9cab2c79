package oidc_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"unid/internal/audit"
	"unid/internal/claims"
	"unid/internal/client"
	"unid/internal/enterprise"
	"unid/internal/sso/acting"
	"unid/internal/store"
)

// Two enterprises of the tests: credit codes with a valid check character.
var (
	acme = testEnterprise("91350100M000100Y4", "福州示例科技有限公司")
	tide = testEnterprise("91110000600037341", "北京潮汐贸易有限公司")
	// stranger is an enterprise the test user holds no role in.
	stranger = testEnterprise("91310000132200821", "上海示例有限公司")
)

type entFixture struct{ uscc, name string }

func testEnterprise(first17, name string) entFixture {
	c, ok := enterprise.USCCCheck(first17)
	if !ok {
		panic("bad credit code " + first17)
	}
	return entFixture{uscc: first17 + string(c), name: name}
}

// addMember gives the user a role in the enterprise, as an accepted grant
// of the enterprise space does, through the store with its
// audit event: a fixture step.
func (e *env) addMember(userID string, ent entFixture, role string, labels []string, isDefault bool) {
	e.t.Helper()
	now := e.clock.Now()
	err := e.store.ChangeEnterprise(context.Background(), store.EnterpriseChange{
		Enterprise:     &store.Enterprise{USCC: ent.uscc, Name: ent.name, Status: enterprise.StatusActive, CheckedAt: now, CreatedAt: now},
		KeepEnterprise: true,
		PutMembers:     []store.EnterpriseMember{{USCC: ent.uscc, UserID: userID, Role: role, Labels: labels, CreatedAt: now}},
	}, e.audit.Event(audit.Entry{Actor: audit.System(), Action: "test.member_added", Result: audit.ResultOK}), audit.Hash)
	if err != nil {
		e.t.Fatal(err)
	}
	if isDefault {
		err := e.store.SetDefaultEnterprise(context.Background(), userID, ent.uscc,
			e.audit.Event(audit.Entry{Actor: audit.User(userID), Action: "test.default_set", Result: audit.ResultOK}), audit.Hash)
		if err != nil {
			e.t.Fatal(err)
		}
	}
}

// removeMember revokes the user's role, as the legal representative
// revoking it does.
func (e *env) removeMember(userID string, ent entFixture) {
	e.t.Helper()
	err := e.store.ChangeEnterprise(context.Background(), store.EnterpriseChange{
		RemoveMembers: []store.MemberKey{{USCC: ent.uscc, UserID: userID}},
	}, e.audit.Event(audit.Entry{Actor: audit.System(), Action: "test.member_removed", Result: audit.ResultOK}), audit.Hash)
	if err != nil {
		e.t.Fatal(err)
	}
}

// entClaim is the enterprise claim as a client reads it.
type entClaim struct {
	Enterprise *struct {
		USCC   string   `json:"uscc"`
		Name   string   `json:"name"`
		Role   string   `json:"role"`
		Labels []string `json:"labels"`
	} `json:"enterprise"`
}

func (c entClaim) is(ent entFixture, role string) bool {
	return c.Enterprise != nil && c.Enterprise.USCC == ent.uscc && c.Enterprise.Name == ent.name && c.Enterprise.Role == role
}

// enterpriseOf reads the enterprise claim of a JSON object.
func enterpriseOf(t *testing.T, m map[string]any) entClaim {
	t.Helper()
	var c entClaim
	raw, ok := m["enterprise"].(map[string]any)
	if !ok {
		return c
	}
	c.Enterprise = &struct {
		USCC   string   `json:"uscc"`
		Name   string   `json:"name"`
		Role   string   `json:"role"`
		Labels []string `json:"labels"`
	}{USCC: raw["uscc"].(string), Name: raw["name"].(string), Role: raw["role"].(string)}
	for _, l := range raw["labels"].([]any) {
		c.Enterprise.Labels = append(c.Enterprise.Labels, l.(string))
	}
	return c
}

// identityPage checks that a walk ended at the identity page and returns
// its next and the page.
func identityPage(t *testing.T, s stop) (next, page string) {
	t.Helper()
	if s.at.Path != "/sso/identity" || s.status != http.StatusOK {
		t.Fatalf("ended at %s (%d), want the identity page", s.at, s.status)
	}
	return s.at.Query().Get("next"), string(s.body)
}

// choose posts the identity page's choice.
func (b *browser) choose(uscc string) {
	b.e.t.Helper()
	if r := b.postJSON("/api/v1/sessions/current/acting", map[string]string{"uscc": uscc}); r.status != http.StatusOK {
		b.e.t.Fatalf("choose %q: %d %s", uscc, r.status, r.body)
	}
}

// exchange redeems the code a walk brought back to the RP.
func (r *rp) exchange(s stop, f *flow) *oauth2.Token {
	r.e.t.Helper()
	if s.at.Host+s.at.Path != "127.0.0.1/rp/callback" || s.at.Query().Get("code") == "" {
		r.e.t.Fatalf("flow ended at %s (%d %s)", s.at, s.status, s.body)
	}
	tok, err := r.cfg.Exchange(context.Background(), s.at.Query().Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		r.e.t.Fatalf("exchange: %v", err)
	}
	return tok
}

// idClaims verifies the ID token of tok with go-oidc and reads its
// enterprise claim.
func (r *rp) idClaims(tok *oauth2.Token) entClaim {
	r.e.t.Helper()
	idt, err := r.verifier().Verify(context.Background(), tok.Extra("id_token").(string))
	if err != nil {
		r.e.t.Fatal(err)
	}
	var c entClaim
	if err := idt.Claims(&c); err != nil {
		r.e.t.Fatal(err)
	}
	return c
}

// refresh uses a refresh token at the token endpoint and returns the answer.
func (r *rp) refresh(token string) (reply, map[string]any) {
	r.e.t.Helper()
	rep := r.e.form("/oidc/token", r.c.ID, r.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}})
	return rep, decodeJSON(r.e.t, rep.body)
}

var entScopes = []string{"openid", "profile", "enterprise", "offline_access"}

// TestActingForAnEnterprise: a client asking for the scope enterprise
// sends a user with enterprises to the identity page (the default
// preselected); the chosen enterprise is in the ID token, userinfo and
// introspection; a second client gets the same choice without asking;
// prompt=select_account asks again; switching in the personal space tells
// the first client by back-channel logout and revokes its refresh token,
// and the browser stays signed in.
func TestActingForAnEnterprise(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.addUser(zhang)
	e.addMember(u.ID, acme, enterprise.RoleHandler, []string{"财务"}, true)
	e.addMember(u.ID, tide, enterprise.RoleAdmin, nil, false)
	bc := newLogoutRP(t, e)
	hall := e.newRP(client.Spec{ID: "hall", FirstParty: true, Scopes: entScopes, BackchannelLogoutURI: bc.srv.URL + "/bcl/hall"})
	tax := e.newRP(client.Spec{ID: "tax", FirstParty: true, Scopes: []string{"openid", "enterprise"}})
	person := e.newRP(client.Spec{ID: "archive", FirstParty: true, Scopes: []string{"openid", "profile"}})
	b := e.browser(&zhang)

	// A client that does not ask for enterprise never shows the page.
	person.signIn(b, "")

	// prompt=none cannot show the page: account_selection_required.
	f := hall.newFlow(oauth2.SetAuthURLParam("prompt", "none"))
	if s := b.walk(f.url, ""); s.at.Query().Get("error") != "account_selection_required" || s.at.Query().Get("state") != f.state {
		t.Fatalf("prompt=none without a choice: ended at %s", s.at)
	}

	f = hall.newFlow()
	next, page := identityPage(t, b.walk(f.url, ""))
	// The person and both enterprises; the default one preselected.
	for _, want := range []string{acme.name, tide.name, `value="` + acme.uscc + `" checked`, "财务"} {
		if !strings.Contains(page, want) {
			t.Fatalf("identity page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, `value="" checked`) {
		t.Fatal("the person is preselected although the user has a default enterprise")
	}
	// Not a member: refused, and the choice is unchanged.
	if r := b.postJSON("/api/v1/sessions/current/acting", map[string]string{"uscc": stranger.uscc}); r.status != http.StatusNotFound ||
		!strings.Contains(string(r.body), "enterprise_not_member") {
		t.Fatalf("acting for another enterprise: %d %s", r.status, r.body)
	}
	if r := b.postJSON("/api/v1/sessions/current/acting", map[string]string{"uscc": "not-a-code"}); r.status != http.StatusBadRequest ||
		!strings.Contains(string(r.body), "uscc_format") {
		t.Fatalf("a malformed credit code: %d %s", r.status, r.body)
	}
	b.choose(tide.uscc)
	tok := hall.exchange(b.walk(e.URL+next, ""), f)
	if c := hall.idClaims(tok); !c.is(tide, "admin") {
		t.Fatalf("ID token enterprise = %+v", c.Enterprise)
	}
	info := e.userinfo(tok.AccessToken)
	if c := enterpriseOf(t, decodeJSON(t, info.body)); !c.is(tide, "admin") || len(c.Enterprise.Labels) != 0 {
		t.Fatalf("userinfo enterprise = %+v (%s)", c.Enterprise, info.body)
	}
	if c := enterpriseOf(t, e.introspect(hall, tok.AccessToken)); !c.is(tide, "admin") {
		t.Fatalf("introspection enterprise = %+v", c.Enterprise)
	}
	if c := enterpriseOf(t, e.introspect(hall, tok.RefreshToken)); !c.is(tide, "admin") {
		t.Fatalf("introspection of the refresh token: enterprise = %+v", c.Enterprise)
	}

	// A second client: no page, the same enterprise.
	tok2, _ := tax.signIn(b, "")
	if c := tax.idClaims(tok2); !c.is(tide, "admin") {
		t.Fatalf("second client: enterprise = %+v", c.Enterprise)
	}

	// And a CAS service registered for the attribute enterprise.
	casService := "http://127.0.0.1/cas-app/"
	if _, _, err := e.reg.Create(context.Background(), client.Spec{ID: "cas-app", Name: "企业服务", Type: store.ClientCAS,
		RedirectURIs: []string{casService + "*"}, Scopes: []string{"enterprise"}}, audit.Origin{Actor: audit.Operator("test")}); err != nil {
		t.Fatal(err)
	}
	r := b.do("GET", "/cas/login?service="+url.QueryEscape(casService+"in"), "", nil)
	ticket, ok := strings.CutPrefix(r.header.Get("Location"), casService+"in?ticket=")
	if r.status != http.StatusFound || !ok {
		t.Fatalf("CAS after the OpenID Connect choice: %d %q", r.status, r.header.Get("Location"))
	}
	res, err := http.Get(e.URL + "/cas/p3/serviceValidate?" + url.Values{"service": {casService + "in"}, "ticket": {ticket}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	xmlBody, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(xmlBody), "<cas:enterprise_uscc>"+tide.uscc+"</cas:enterprise_uscc>") {
		t.Fatalf("CAS attributes after the OpenID Connect choice:\n%s", xmlBody)
	}

	// prompt=select_account: the page again, the session's choice preselected.
	f = tax.newFlow(oauth2.SetAuthURLParam("prompt", "select_account"))
	next, page = identityPage(t, b.walk(f.url, ""))
	if !strings.Contains(page, `value="`+tide.uscc+`" checked`) {
		t.Fatalf("select_account: the session's choice is not preselected:\n%s", page)
	}
	b.choose(tide.uscc) // the same again: nothing is signed out
	if c := tax.idClaims(tax.exchange(b.walk(e.URL+next, ""), f)); !c.is(tide, "admin") {
		t.Fatalf("after select_account: enterprise = %+v", c.Enterprise)
	}
	if n := len(bc.received()); n != 0 {
		t.Fatalf("choosing the same identity sent %d logout tokens", n)
	}

	// The switch from the personal space.
	var sid struct{ SID string }
	idt, _ := hall.verifier().Verify(context.Background(), tok.Extra("id_token").(string))
	idt.Claims(&sid)
	b.choose(acme.uscc)
	got := bc.received()
	if len(got) != 1 || got[0].Sid != sid.SID || got[0].Sub != u.ID {
		t.Fatalf("the switch told the first client %+v; want one logout token for sid %s", got, sid.SID)
	}
	if rep, body := hall.refresh(tok.RefreshToken); rep.status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("the old identity's refresh token after the switch: %d %v", rep.status, body)
	}
	// Still signed in: the next sign-in asks nothing and acts for acme.
	s := b.walk(hall.newFlow().url, "")
	if s.logins != 0 || s.at.Path != "/rp/callback" {
		t.Fatalf("after the switch: ended at %s after %d logins", s.at, s.logins)
	}
	tok3, _ := tax.signIn(b, "")
	if c := tax.idClaims(tok3); !c.is(acme, "handler") || !slices.Equal(c.Enterprise.Labels, []string{"财务"}) {
		t.Fatalf("after the switch: enterprise = %+v", c.Enterprise)
	}
	if !slices.Contains(e.auditActions(), "session.acting_switched:ok") {
		t.Fatalf("no session.acting_switched event: %v", e.auditActions())
	}

	// The person: no claim.
	b.choose("")
	tok4, _ := tax.signIn(b, "")
	if c := tax.idClaims(tok4); c.Enterprise != nil {
		t.Fatalf("acting as the person: enterprise = %+v", c.Enterprise)
	}
}

// TestRevokedRoleAtRefresh: a role revoked after the sign-in is not in the
// tokens of the next refresh, nor in userinfo.
func TestRevokedRoleAtRefresh(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.addUser(zhang)
	e.addMember(u.ID, acme, enterprise.RoleHandler, []string{"人事"}, true)
	hall := e.newRP(client.Spec{ID: "hall", FirstParty: true, Scopes: entScopes})
	b := e.browser(&zhang)
	f := hall.newFlow()
	next, _ := identityPage(t, b.walk(f.url, ""))
	b.choose(acme.uscc)
	tok := hall.exchange(b.walk(e.URL+next, ""), f)
	if c := hall.idClaims(tok); !c.is(acme, "handler") {
		t.Fatalf("enterprise = %+v", c.Enterprise)
	}
	e.removeMember(u.ID, acme)
	rep, body := hall.refresh(tok.RefreshToken)
	if rep.status != http.StatusOK {
		t.Fatalf("refresh: %d %v", rep.status, body)
	}
	if c := hall.idClaims((&oauth2.Token{}).WithExtra(body)); c.Enterprise != nil {
		t.Fatalf("the refreshed ID token still says %+v", c.Enterprise)
	}
	if c := enterpriseOf(t, decodeJSON(t, e.userinfo(body["access_token"].(string)).body)); c.Enterprise != nil {
		t.Fatalf("userinfo still says %+v", c.Enterprise)
	}
	if c := enterpriseOf(t, decodeJSON(t, e.userinfo(tok.AccessToken).body)); c.Enterprise != nil {
		t.Fatalf("userinfo with the first access token still says %+v", c.Enterprise)
	}
}

// TestClientRequiringARole: a client registered with a minimum enterprise
// role refuses an identity without it (access_denied with a description,
// prompt=none too, audited), accepts one with it, and refuses the refresh
// once the role is revoked (invalid_grant, the grant revoked, audited).
func TestClientRequiringARole(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.addUser(zhang)
	e.addMember(u.ID, acme, enterprise.RoleHandler, nil, true)
	e.addMember(u.ID, tide, enterprise.RoleAdmin, nil, false)
	// No enterprise scope: the role is required all the same.
	bank := e.newRP(client.Spec{ID: "bank", FirstParty: true, Scopes: []string{"openid", "offline_access"}, MinEnterpriseRole: enterprise.RoleAdmin})
	b := e.browser(&zhang)

	f := bank.newFlow()
	next, _ := identityPage(t, b.walk(f.url, ""))
	b.choose(acme.uscc) // a handler: not enough
	s := b.walk(e.URL+next, "")
	q := s.at.Query()
	if s.at.Path != "/rp/callback" || q.Get("error") != "access_denied" || !strings.Contains(q.Get("error_description"), "admin") || q.Get("code") != "" {
		t.Fatalf("a handler at a client requiring admin: ended at %s", s.at)
	}
	f = bank.newFlow(oauth2.SetAuthURLParam("prompt", "none"))
	if s := b.walk(f.url, ""); s.at.Query().Get("error") != "access_denied" || s.at.Query().Get("state") != f.state {
		t.Fatalf("prompt=none: ended at %s", s.at)
	}
	if !slices.Contains(e.auditActions(), "oidc.enterprise_refused:role_below_minimum") {
		t.Fatalf("the refusal is not audited: %v", e.auditActions())
	}

	b.choose(tide.uscc)
	f = bank.newFlow()
	tok := bank.exchange(b.walk(f.url, ""), f)
	if c := bank.idClaims(tok); c.Enterprise != nil {
		t.Fatalf("a client without the scope enterprise got %+v", c.Enterprise)
	}
	e.removeMember(u.ID, tide)
	// Before any refresh: introspection already says the token is no
	// longer good for this client.
	if m := e.introspect(bank, tok.AccessToken); m["active"] != false {
		t.Fatalf("introspection after the role was revoked: %v", m)
	}
	rep, body := bank.refresh(tok.RefreshToken)
	if rep.status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("refresh without the role: %d %v", rep.status, body)
	}
	if !slices.Contains(e.auditActions(), "oidc.refresh_refused:enterprise_role_gone") {
		t.Fatalf("the refused refresh is not audited: %v", e.auditActions())
	}
	if m := e.introspect(bank, tok.AccessToken); m["active"] != false {
		t.Fatalf("the access token of the revoked grant is still active: %v", m)
	}
}

// TestSwitchDeniesUnredeemedCodes: a code approved while the session acted
// for one enterprise, not yet redeemed when the user switches to another,
// gives no tokens: the service system must not receive the old identity.
func TestSwitchDeniesUnredeemedCodes(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.addUser(zhang)
	e.addMember(u.ID, acme, enterprise.RoleHandler, nil, true)
	e.addMember(u.ID, tide, enterprise.RoleAdmin, nil, false)
	hall := e.newRP(client.Spec{ID: "hall", FirstParty: true, Scopes: entScopes})
	b := e.browser(&zhang)
	f := hall.newFlow()
	next, _ := identityPage(t, b.walk(f.url, ""))
	b.choose(acme.uscc)
	s := b.walk(e.URL+next, "")
	code := s.at.Query().Get("code")
	if code == "" {
		t.Fatalf("no code: ended at %s", s.at)
	}
	b.choose(tide.uscc) // the switch, before the system redeemed the code
	if _, err := hall.cfg.Exchange(context.Background(), code, oauth2.VerifierOption(f.verifier)); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("exchange of the code approved before the switch: %v, want invalid_grant", err)
	}
}

// BenchmarkEnterpriseClaims: what the enterprise claim adds to a code
// exchange for a person with 50 enterprises, acting for one of them: the
// exchange with the scope enterprise against the same exchange without it
// (docs/performance.md). Run it with
//
//	go test ./internal/sso/oidc -run '^$' -bench EnterpriseClaims
func BenchmarkEnterpriseClaims(b *testing.B) {
	e := newEnv(b, envOptions{})
	u := e.addUser(zhang)
	var actingFor entFixture
	for i := range 50 {
		ent := testEnterprise(fmt.Sprintf("913501%02dM00010%03d", i, i), fmt.Sprintf("示例企业%02d有限公司", i))
		e.addMember(u.ID, ent, enterprise.RoleHandler, []string{"财务"}, i == 0)
		if i == 25 {
			actingFor = ent
		}
	}
	hall := e.newRP(client.Spec{ID: "hall", FirstParty: true, Scopes: []string{"openid", "enterprise"}})
	be := &benchEnv{env: e, hall: hall, b: e.browser(&zhang)}
	be.b.login()
	be.b.choose(actingFor.uscc)
	// What the exchange does more for the scope: read the membership again
	// and release it in the ID token.
	b.Run("re-read", func(b *testing.B) {
		ctx := context.Background()
		for range b.N {
			m, err := acting.Live(ctx, e.srv.App.Enterprise, u.ID, actingFor.uscc)
			if err != nil || m == nil {
				b.Fatal(m, err)
			}
			if _, err := claims.Release(claims.Request{Form: claims.IDToken, User: u, Client: hall.c, Scopes: []string{"openid", "enterprise"},
				Enterprise: acting.Released(m)}); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The whole exchange with and without the scope, alternating (the
	// machine is shared: compare the pairs, not one run).
	for _, scope := range []string{"openid enterprise", "openid", "openid enterprise", "openid"} {
		b.Run(strings.ReplaceAll(scope, " ", "+"), func(b *testing.B) {
			codes, verifier := be.codes(b.N, scope)
			b.ResetTimer()
			for i := range b.N {
				r := e.form("/oidc/token", hall.c.ID, hall.secret, url.Values{"grant_type": {"authorization_code"}, "code": {codes[i]},
					"redirect_uri": {rpCallback}, "code_verifier": {verifier}})
				if r.status != http.StatusOK {
					b.Fatalf("exchange: %d %s", r.status, r.body)
				}
				if scope != "openid" && i == 0 {
					tok := (&oauth2.Token{}).WithExtra(decodeJSON(b, r.body))
					if c := hall.idClaims(tok); !c.is(actingFor, "handler") {
						b.Fatalf("enterprise = %+v", c.Enterprise)
					}
				}
			}
		})
	}
}
