package web

import (
	"net/http"
	"net/url"

	"unid/internal/httpx"

	"unid/internal/i18n"
)

// The identity page (/sso/identity?next=…) asks whom a sign-in acts for
// (法人账号切换): the person, or one of the enterprises they hold a role
// in, the default one (or the one the session acts for) preselected. Its
// script (identity.js) posts the choice to POST
// /api/v1/sessions/current/acting and then follows next, back into the
// sign-in, which goes on for every later service system without asking.

// Identities is whom the signed-in user may act for.
type Identities struct {
	LoginName   string
	Enterprises []IdentityEnterprise
	Acting      string // the credit code the session acts for; "" the person
	Chosen      bool   // the session has chosen (else the default is preselected)
}

// IdentityEnterprise is one enterprise the user may act for.
type IdentityEnterprise struct {
	USCC, Name, Role string
	Labels           []string
	Default          bool
}

// identityRoles are the enterprise roles the page names
// (page.identity.role.<role>).
var identityRoles = []string{"legal_rep", "admin", "handler"}

func identityKeys() []string {
	keys := make([]string, 0, len(identityRoles))
	for _, r := range identityRoles {
		keys = append(keys, "page.identity.role."+r)
	}
	return keys
}

// identityData is what the page receives.
type identityData struct {
	Next    string
	Login   string
	Person  bool // the person is preselected
	Options []identityOption
}

type identityOption struct {
	IdentityEnterprise
	RoleName string
	Selected bool
}

func (p *Pages) identityData(lang i18n.Lang, next string, ids Identities) identityData {
	d := identityData{Next: next, Login: ids.LoginName, Person: true}
	for _, e := range ids.Enterprises {
		o := identityOption{IdentityEnterprise: e, RoleName: e.Role}
		if key := "page.identity.role." + e.Role; p.cat.Has(key) {
			o.RoleName = p.cat.T(lang, key)
		}
		if ids.Chosen && e.USCC == ids.Acting || !ids.Chosen && e.Default {
			o.Selected, d.Person = true, false
		}
		d.Options = append(d.Options, o)
	}
	return d
}

// Identity serves the identity page to a signed-in user; a visitor is sent
// to the login page first, to come back here.
func (p *Pages) Identity(w http.ResponseWriter, r *http.Request) {
	next := httpx.SafeNext(r.URL.Query().Get("next"))
	if next == "" {
		next = "/me"
	}
	var (
		ids Identities
		ok  bool
		err error
	)
	if p.o.Identities != nil {
		ids, ok, err = p.o.Identities(r)
	}
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		p.SSOError(w, r, http.StatusServiceUnavailable, "unavailable")
		return
	}
	if !ok {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	lang := p.lang(w, r)
	p.render(w, r, lang, 0, pageIdentity, p.identityData(lang, next, ids))
}
