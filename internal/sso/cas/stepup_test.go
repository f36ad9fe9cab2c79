package cas_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"unid/internal/app/apptest"
	"unid/internal/client"
	"unid/internal/httpx"
	"unid/internal/sso/cas"
	"unid/internal/store"
)

// records is a service registered with minimum real-name level 2 (中级).
const records = "https://records.example/cas/"

// setLevel stands in for a real-name verification: the realname service
// (another branch) changes the level on the user row in the same way;
// here the test does it through the store, as a fixture step.
func (e *env) setLevel(userID string, level int) {
	e.t.Helper()
	if _, err := e.srv.App.Store.UpdateUser(context.Background(), userID, func(u store.User) (store.User, error) {
		u.RealnameLevel = level
		return u, nil
	}); err != nil {
		e.t.Fatal(err)
	}
}

var upgradeLinkRE = regexp.MustCompile(`<a id="to-upgrade"[^>]* href="([^"]*)"`)

// refused checks that r is the page of a sign-in refused for the user's
// real-name level, in lang, naming the service, both levels, and linking
// to the upgrade page whose next is /cas/login for service; it returns
// that next.
func refused(t *testing.T, r apptest.Response, lang, service, need, have string) string {
	t.Helper()
	body := string(r.Body)
	if r.Status != http.StatusForbidden || r.Location() != "" {
		t.Fatalf("below the level: %d %q, want 403 and no redirect\n%s", r.Status, r.Location(), body)
	}
	if strings.Contains(body, "ticket=") || strings.Contains(body, "ST-") {
		t.Fatalf("the refusal page holds a ticket:\n%s", body)
	}
	if r.Header.Get("Content-Language") != lang {
		t.Errorf("Content-Language %q, want %s", r.Header.Get("Content-Language"), lang)
	}
	for _, want := range []string{"档案调阅", need, have} {
		if !strings.Contains(body, html.EscapeString(want)) {
			t.Errorf("the refusal page does not say %q:\n%s", want, body)
		}
	}
	m := upgradeLinkRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no link to the upgrade page:\n%s", body)
	}
	link, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil || link.Path != "/settings/realname" || link.Host != "" {
		t.Fatalf("upgrade link %q", m[1])
	}
	next := link.Query().Get("next")
	if next != "/cas/login?service="+url.QueryEscape(service) || httpx.SafeNext(next) != next {
		t.Fatalf("upgrade page next = %q", next)
	}
	// The service of these tests needs level 2: the upgrade page offers
	// the way back only once the user has it.
	if need := link.Query().Get("level"); need != "2" {
		t.Fatalf("upgrade page level = %q, want 2", need)
	}
	return next
}

// TestServiceMinimumLevel: a CAS service registered with a minimum
// real-name level refuses a user below it with a page that says both
// levels and links to the upgrade page, issues no ticket and audits the
// refusal; once the level is raised, the link back gives a ticket whose
// validation shows the level.
func TestServiceMinimumLevel(t *testing.T) {
	e := start(t, nil)
	e.service(client.Spec{ID: "records", Name: "档案调阅", RedirectURIs: []string{records + "*"},
		Scopes: []string{"realname_level", "acr"}, MinRealnameLevel: 2})
	e.service(client.Spec{ID: "tax", RedirectURIs: []string{tax}})
	b := e.browser()
	userID := b.MustRegister(zhang) // level 0: the ID number typed at registration is not verified
	service := records + "login"

	next := refused(t, b.Get("/cas/login?service="+url.QueryEscape(service)), "zh-CN", service, "中级", "未实名认证")
	// A service without a minimum signs the same user in.
	b.ticket(tax, "")
	// gateway shows no page: back to the service without a ticket.
	if r := b.Get("/cas/login?gateway=true&service=" + url.QueryEscape(service)); r.Status != http.StatusFound || r.Location() != service {
		t.Fatalf("gateway below the level: %d %q, want 302 to %s without a ticket", r.Status, r.Location(), service)
	}
	// Level 1 is still below 2.
	e.setLevel(userID, 1)
	refused(t, b.Get(next), "zh-CN", service, "中级", "初级")

	// Through the login page: the same refusal after signing in.
	other := e.browser()
	r := other.Get("/cas/login?service=" + url.QueryEscape(service))
	loc, _ := url.Parse(r.Location())
	if r.Status != http.StatusFound || loc.Path != "/login" {
		t.Fatalf("not signed in: %d %q", r.Status, r.Location())
	}
	other.MustLogin("zhang_san", apptest.GoodPassword)
	refused(t, other.Get(loc.Query().Get("next")), "zh-CN", service, "中级", "初级")
	// In English (the choice sticks to this browser).
	refused(t, other.Get("/cas/login?lang=en&service="+url.QueryEscape(service)), "en", service, "Intermediate", "Basic")

	if n := e.auditCount(cas.ActionTicketIssued); n != 1 { // the tax office's
		t.Fatalf("%d tickets issued, want only the tax office's", n)
	}
	events := e.auditEvents(cas.ActionLoginRefused)
	if len(events) != 5 {
		t.Fatalf("%d refusals audited, want 5", len(events))
	}
	for _, ev := range events {
		if ev.Actor != userID || ev.Subject != "records" || ev.Result != cas.ReasonRealnameLevel || !strings.Contains(ev.Detail, `"required":"2"`) {
			t.Errorf("refusal audited as %+v", ev)
		}
	}

	// The upgrade page's way back, at level 2: a ticket, and the level in
	// the attributes.
	e.setLevel(userID, 2)
	ticket := ticketOf(t, b.Get(next), service)
	got := parseXML(t, e.validate("/cas/p3/serviceValidate", url.Values{"service": {service}, "ticket": {ticket}})).attrs(t)
	if got["realname_level"] != "2" || got["acr"] != "urn:unid:acr:realname:2" {
		t.Fatalf("attributes after the upgrade: %v", got)
	}
	ticket = b.ticket(service, "")
	j := parseJSON(t, e.validate("/cas/p3/serviceValidate", url.Values{"service": {service}, "ticket": {ticket}, "format": {"JSON"}}))
	if a := j.ServiceResponse.Success.Attributes; a["acr"] == nil || !strings.Contains(strings.Join(anyStrings(a["acr"]), " "), "urn:unid:acr:realname:2") {
		t.Fatalf("JSON attributes after the upgrade: %v", a)
	}
}

// anyStrings reads a CAS JSON attribute, a value or a list of values.
func anyStrings(v any) []string {
	switch v := v.(type) {
	case []any:
		var out []string
		for _, x := range v {
			s, _ := x.(string)
			out = append(out, s)
		}
		return out
	case string:
		return []string{v}
	}
	return nil
}
