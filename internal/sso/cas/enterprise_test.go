package cas_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/enterprise"
	"unid/internal/sso/cas"
	"unid/internal/store"
)

type entFixture struct{ uscc, name string }

func testEnterprise(first17, name string) entFixture {
	c, ok := enterprise.USCCCheck(first17)
	if !ok {
		panic("bad credit code " + first17)
	}
	return entFixture{uscc: first17 + string(c), name: name}
}

var (
	acme = testEnterprise("91350100M000100Y4", "福州示例科技有限公司")
	tide = testEnterprise("91110000600037341", "北京潮汐贸易有限公司")
)

// addMember gives the user a role in the enterprise through the store,
// with its audit event, as an accepted grant does: a fixture step.
func (e *env) addMember(userID string, ent entFixture, role string, labels []string, isDefault bool) {
	e.t.Helper()
	st := e.srv.App.Store
	log := audit.New(st, e.srv.Clock.Now, slog.New(slog.DiscardHandler))
	now := e.srv.Clock.Now()
	err := st.ChangeEnterprise(context.Background(), store.EnterpriseChange{
		Enterprise:     &store.Enterprise{USCC: ent.uscc, Name: ent.name, Status: enterprise.StatusActive, CheckedAt: now, CreatedAt: now},
		KeepEnterprise: true,
		PutMembers:     []store.EnterpriseMember{{USCC: ent.uscc, UserID: userID, Role: role, Labels: labels, CreatedAt: now}},
	}, log.Event(audit.Entry{Actor: audit.System(), Action: "test.member_added", Result: audit.ResultOK}), audit.Hash)
	if err != nil {
		e.t.Fatal(err)
	}
	if isDefault {
		if err := st.SetDefaultEnterprise(context.Background(), userID, ent.uscc,
			log.Event(audit.Entry{Actor: audit.User(userID), Action: "test.default_set", Result: audit.ResultOK}), audit.Hash); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) removeMember(userID string, ent entFixture) {
	e.t.Helper()
	st := e.srv.App.Store
	log := audit.New(st, e.srv.Clock.Now, slog.New(slog.DiscardHandler))
	if err := st.ChangeEnterprise(context.Background(), store.EnterpriseChange{RemoveMembers: []store.MemberKey{{USCC: ent.uscc, UserID: userID}}},
		log.Event(audit.Entry{Actor: audit.System(), Action: "test.member_removed", Result: audit.ResultOK}), audit.Hash); err != nil {
		e.t.Fatal(err)
	}
}

// choose posts the identity page's choice.
func (b *browser) choose(uscc string) {
	b.T.Helper()
	if r := b.PostJSON("/api/v1/sessions/current/acting", map[string]string{"uscc": uscc}); r.Status != http.StatusOK {
		b.T.Fatalf("choose %q: %d %s", uscc, r.Status, r.Body)
	}
}

// entAttrs validates a ticket at /cas/p3/serviceValidate and returns the
// enterprise attributes, the labels as their list of values.
func (e *env) entAttrs(service, ticket string) (map[string]string, []string) {
	e.t.Helper()
	res := parseXML(e.t, e.validate("/cas/p3/serviceValidate", url.Values{"service": {service}, "ticket": {ticket}}))
	if res.Success == nil {
		e.t.Fatalf("validation failed: %+v", res.Failure)
	}
	m := map[string]string{}
	var labels []string
	if res.Success.Attributes != nil {
		for _, a := range res.Success.Attributes.Any {
			switch {
			case a.XMLName.Local == "enterprise_labels":
				labels = append(labels, a.Value)
			case strings.HasPrefix(a.XMLName.Local, "enterprise_"):
				m[a.XMLName.Local] = a.Value
			}
		}
	}
	return m, labels
}

// TestActingForAnEnterpriseCAS: a service registered for the attribute
// enterprise sends a user with enterprises to the identity page once; the
// attributes name the chosen enterprise (labels as several values, a list
// in JSON); a second service, CAS or OpenID Connect, gets the same choice;
// switching tells the first service by single logout; a role revoked
// before validation is not released; a service requiring a role refuses
// a user without it with a page and no ticket.
func TestActingForAnEnterpriseCAS(t *testing.T) {
	e := start(t, nil)
	qiye := newCASService(t, http.StatusOK)
	e.service(client.Spec{ID: "qiye", RedirectURIs: []string{qiye.URL + "/app/*"}, Scopes: []string{"login_name", "enterprise"}})
	e.service(client.Spec{ID: "shebao", RedirectURIs: []string{"https://shebao.example/*"}, Scopes: []string{"enterprise"}})
	e.service(client.Spec{ID: "bank", RedirectURIs: []string{"https://bank.example/*"}, MinEnterpriseRole: enterprise.RoleAdmin})
	e.service(client.Spec{ID: "plain", RedirectURIs: []string{"https://plain.example/*"}, Scopes: []string{"login_name"}})
	b := e.browser()
	userID := b.MustRegister(zhang)

	// No enterprise yet: no page, no enterprise attributes.
	service := qiye.URL + "/app/a"
	if m, _ := e.entAttrs(service, b.ticket(service, "")); len(m) != 0 {
		t.Fatalf("a person without enterprises: %v", m)
	}
	e.addMember(userID, acme, enterprise.RoleHandler, []string{"财务", "人事"}, true)
	e.addMember(userID, tide, enterprise.RoleAdmin, nil, false)

	// A new browser session: the identity page, the default preselected.
	b = e.browser()
	b.MustLogin("zhang_san", apptest.GoodPassword)
	b.Get("/cas/login?service=" + url.QueryEscape("https://plain.example/x")) // a service that does not ask
	r := b.Get("/cas/login?service=" + url.QueryEscape(service))
	loc, _ := url.Parse(r.Location())
	if r.Status != http.StatusFound || loc.Path != "/sso/identity" {
		t.Fatalf("first sign-in for enterprise attributes: %d %q", r.Status, r.Location())
	}
	// gateway shows no page: back to the service without a ticket.
	if r := b.Get("/cas/login?gateway=true&service=" + url.QueryEscape(service)); r.Status != http.StatusFound || r.Location() != service {
		t.Fatalf("gateway without a choice: %d %q", r.Status, r.Location())
	}
	page := b.Get(r.Location())
	if page.Status != http.StatusOK || !strings.Contains(string(page.Body), `value="`+acme.uscc+`" checked`) || !strings.Contains(string(page.Body), tide.name) {
		t.Fatalf("identity page: %d %s", page.Status, page.Body)
	}
	b.choose(acme.uscc)
	ticket := ticketOf(t, b.Get(loc.Query().Get("next")), service)
	m, labels := e.entAttrs(service, ticket)
	if m["enterprise_uscc"] != acme.uscc || m["enterprise_name"] != acme.name || m["enterprise_role"] != "handler" || !slices.Equal(labels, []string{"财务", "人事"}) {
		t.Fatalf("attributes: %v, labels %v", m, labels)
	}

	// A second service: straight to a ticket, the same enterprise; in
	// JSON the labels are a list.
	second := "https://shebao.example/in"
	j := parseJSON(t, e.validate("/cas/p3/serviceValidate", url.Values{"service": {second}, "ticket": {b.ticket(second, "")}, "format": {"JSON"}}))
	a := j.ServiceResponse.Success.Attributes
	if got := anyStrings(a["enterprise_uscc"]); len(got) != 1 || got[0] != acme.uscc {
		t.Fatalf("second service: %v", a)
	}
	if got := anyStrings(a["enterprise_labels"]); !slices.Equal(got, []string{"财务", "人事"}) {
		t.Fatalf("JSON labels: %v", a["enterprise_labels"])
	}

	// A service requiring admin: a handler is refused with a page, no ticket.
	bank := "https://bank.example/login"
	r = b.Get("/cas/login?service=" + url.QueryEscape(bank))
	if r.Status != http.StatusForbidden || strings.Contains(r.Location(), "ticket=") || !strings.Contains(string(r.Body), "企业") {
		t.Fatalf("a handler at a service requiring admin: %d %q %s", r.Status, r.Location(), r.Body)
	}
	if r := b.Get("/cas/login?gateway=true&service=" + url.QueryEscape(bank)); r.Status != http.StatusFound || r.Location() != bank {
		t.Fatalf("gateway without the role: %d %q", r.Status, r.Location())
	}
	refusals := e.auditEvents(cas.ActionLoginRefused)
	if len(refusals) != 2 || refusals[0].Result != cas.ReasonEnterpriseRole || refusals[0].Subject != "bank" || refusals[0].Actor != userID {
		t.Fatalf("refusals audited as %+v", refusals)
	}

	// Switching to tide: the first service hears of it by single logout
	// (the ticket it validated), the browser stays signed in, and the
	// service requiring admin now lets the user in.
	b.choose(tide.uscc)
	got := qiye.received(t)
	if len(got) != 1 || got[0].req.SessionIndex != ticket || got[0].req.NameID != userID {
		t.Fatalf("single logout at the switch: %+v", got)
	}
	bankTicket := ticketOf(t, b.Get("/cas/login?service="+url.QueryEscape(bank)), bank)
	ticket = b.ticket(service, "")

	// Revoked before the services validate: the attributes are gone, and
	// the service requiring admin refuses the ticket.
	e.removeMember(userID, tide)
	if m, _ := e.entAttrs(service, ticket); len(m) != 0 {
		t.Fatalf("a revoked role is still released: %v", m)
	}
	if code := failureCode(t, e.validate("/cas/serviceValidate", url.Values{"service": {bank}, "ticket": {bankTicket}})); code != "INVALID_TICKET" {
		t.Fatalf("a ticket of a revoked admin at the service requiring admin: %q", code)
	}
}
