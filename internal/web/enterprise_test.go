package web

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"unid/internal/i18n"
)

// TestEnterprisePageAreasByRole: the page of an enterprise shows each role
// only the areas it can use, in both languages: the authorization area to
// the legal representative and administrators (only the legal
// representative may grant administrators), unbinding to the legal
// representative, leaving to everyone else, and the enterprise's cases
// and consultations to all: every one to the legal representative and
// administrators, their own to a handler, as the page says.
func TestEnterprisePageAreasByRole(t *testing.T) {
	cat := catalog(t)
	srv := newServer(t, Options{Catalog: cat})
	for _, lang := range i18n.Langs {
		for _, c := range []struct {
			role                          string
			cookies                       []*http.Cookie
			authorize, grantAdmin, unbind bool
		}{
			{roleLegalRep, asLegalRep, true, true, true},
			{roleAdmin, asAdmin, true, false, false},
			{roleHandler, asHandler, false, false, false},
		} {
			res, body := get(t, srv, request{path: "/enterprise/" + testUSCC + "?lang=" + string(lang), cookies: c.cookies})
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s %s: status %d", lang, c.role, res.StatusCode)
			}
			text := html.UnescapeString(body)
			if strings.Contains(body, "示例<b>") || !strings.Contains(text, "示例<b>科技有限公司") {
				t.Errorf("%s %s: the enterprise name is not shown escaped", lang, c.role)
			}
			if !strings.Contains(text, cat.T(lang, "page.enterprise.role."+c.role)) {
				t.Errorf("%s %s: the role is not named", lang, c.role)
			}
			intro := "page.enterprise.one.records_all"
			if c.role == roleHandler {
				intro = "page.enterprise.one.records_own"
			}
			if !strings.Contains(text, cat.T(lang, intro)) {
				t.Errorf("%s %s: the records area does not say whose records it lists", lang, c.role)
			}
			for _, k := range []string{"cases", "consultations"} {
				if !strings.Contains(body, `data-api="/api/v1/enterprises/`+testUSCC+`/records/`+k+`"`) ||
					!strings.Contains(text, cat.T(lang, "page.enterprise.one.records_"+k+"_empty")) {
					t.Errorf("%s %s: no list of the enterprise's %s", lang, c.role, k)
				}
			}
			for _, a := range []struct {
				what string
				want bool
				mark string
			}{
				{"authorization area", c.authorize, `id="authorization"`},
				{"admin grant", c.grantAdmin, `<option value="admin">`},
				{"unbind", c.unbind, `id="unbind-form"`},
				{"leave", !c.unbind, `id="leave-button"`},
				{"configured labels", c.authorize, `name="labels" type="checkbox" value="人事&lt;b&gt;"`},
			} {
				if got := strings.Contains(body, a.mark); got != a.want {
					t.Errorf("%s %s: %s shown %v, want %v", lang, c.role, a.what, got, a.want)
				}
			}
		}
	}
}

// TestEnterprisePageForMembersOnly: someone with no role in the enterprise
// gets the ordinary not-found page, the same as for an enterprise that does
// not exist; a visitor who is not signed in goes to the login page and
// comes back.
func TestEnterprisePageForMembersOnly(t *testing.T) {
	cat := catalog(t)
	srv := newServer(t, Options{Catalog: cat})
	_, unknown := get(t, srv, request{path: "/no/such/page", cookies: signedIn})
	for _, c := range []struct {
		name    string
		path    string
		cookies []*http.Cookie
	}{
		{"no role", "/enterprise/" + testUSCC, signedIn},
		{"another enterprise", "/enterprise/91350100M000100Y51", asLegalRep},
		{"not a credit code", "/enterprise/x", asLegalRep},
	} {
		res, body := get(t, srv, request{path: c.path, cookies: c.cookies})
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", c.name, res.StatusCode)
		}
		if body != unknown {
			t.Errorf("%s: the page differs from the ordinary not-found page", c.name)
		}
	}
	for path, want := range map[string]string{
		"/enterprise":             "/login?next=/enterprise",
		"/enterprise/" + testUSCC: "/login?next=" + url.QueryEscape("/enterprise/"+testUSCC),
	} {
		res, _ := get(t, srv, request{path: path})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != want {
			t.Errorf("%s: not signed in gives %d %q, want %q", path, res.StatusCode, res.Header.Get("Location"), want)
		}
	}
}

// TestEnterpriseSpaceOffersBothWays: the enterprise space offers binding
// as legal representative (with the appeal ready behind it) and the
// handler application that the personal space's tile points at.
func TestEnterpriseSpaceOffersBothWays(t *testing.T) {
	cat := catalog(t)
	srv := newServer(t, Options{Catalog: cat})
	for _, lang := range i18n.Langs {
		_, body := get(t, srv, request{path: "/enterprise?lang=" + string(lang), cookies: signedIn})
		text := html.UnescapeString(body)
		for _, key := range []string{"page.enterprise.bind_heading", "page.enterprise.apply_heading", "page.enterprise.appeal_intro"} {
			if !strings.Contains(text, cat.T(lang, key)) {
				t.Errorf("%s: %s missing", lang, key)
			}
		}
		for _, want := range []string{`id="apply" aria-labelledby="apply-heading"`, `id="appeal" hidden`, `enctype="multipart/form-data"`, `/static/enterprise.js?v=`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the page lacks %s", lang, want)
			}
		}
	}
}

// TestEnterpriseMessages: every enterprise event of the contract has a
// title and body in both languages that need no parameter beyond what the
// enterprise service sends (the enterprise's name and credit code, an
// appeal's reference): no personal data, nothing a message could show
// unfilled.
func TestEnterpriseMessages(t *testing.T) {
	cat := catalog(t)
	placeholder := regexp.MustCompile(`\{([a-z0-9_]+)\}`)
	for _, event := range []string{"grant", "application_approved", "application_rejected", "appeal_approved", "appeal_rejected", "role_revoked", "unbound"} {
		for _, part := range []string{"title", "body"} {
			key := "message.enterprise." + event + "." + part
			if !cat.Has(key) {
				t.Errorf("%s missing", key)
				continue
			}
			for _, lang := range i18n.Langs {
				text := cat.T(lang, key, "name", "示例科技有限公司", "uscc", testUSCC, "reference", "K7Q2M9")
				if m := placeholder.FindString(text); m != "" {
					t.Errorf("%s %s needs %s", lang, key, m)
				}
				if part == "body" && !strings.Contains(text, testUSCC) {
					t.Errorf("%s %s does not name the enterprise", lang, key)
				}
			}
		}
	}
}
