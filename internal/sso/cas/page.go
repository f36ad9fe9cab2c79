package cas

import (
	"net/http"
	"strconv"

	"unid/internal/i18n"
)

// Pages shows the CAS server's two pages, an error and the signed-out
// notice, with the site's layout and headers; *web.Pages has them. The
// pages never show the service URL: it came from whoever made the link.
type Pages interface {
	// CASError shows why a sign-in cannot go on; key is one of the
	// cas.error.* messages (internal/i18n/messages/*/cas.json).
	CASError(w http.ResponseWriter, r *http.Request, status int, key string)
	// CASSignedOut shows that the user is signed out of unid and its
	// services.
	CASSignedOut(w http.ResponseWriter, r *http.Request)
	// CASLogoutConfirm asks whether to sign out, posting the answer to
	// /cas/logout with service.
	CASLogoutConfirm(w http.ResponseWriter, r *http.Request, service string)
	// CASLevelRequired says that service (its registered name, not its
	// URL) needs real-name level required and the user has level, with a
	// link to upgrade, the local path of the upgrade page (HTTP 403).
	CASLevelRequired(w http.ResponseWriter, r *http.Request, service string, required, level int, upgrade string)
}

// Message keys of the pages (internal/i18n/messages/*/cas.json).
var pageKeys = []string{
	"cas.page.error_title", "cas.page.home",
	"cas.error.bad_request", "cas.error.service_invalid", "cas.error.service_unknown",
	"cas.error.login_expired", "cas.error.internal", "cas.error.unavailable", "cas.error.too_many", "cas.error.enterprise_role",
	"cas.error.service_disabled", // in console_systems.json, with the disabling of systems
	"cas.signed_out.title", "cas.signed_out.body",
	"cas.level.title", "cas.level.body", "cas.level.upgrade",
}

// pages answers with Deps.Pages, or, without them (a CAS server built
// alone, in tests), with the message as plain text.
type pages struct {
	p   Pages
	cat *i18n.Catalog
}

func newPages(p Pages, cat *i18n.Catalog) *pages { return &pages{p: p, cat: cat} }

// fail shows an error page in the user's language.
func (p *pages) fail(w http.ResponseWriter, r *http.Request, status int, key string) {
	if p.p != nil {
		p.p.CASError(w, r, status, key)
		return
	}
	p.plain(w, r, status, key)
}

// signedOut shows that the user is signed out of unid and its services.
func (p *pages) signedOut(w http.ResponseWriter, r *http.Request) {
	if p.p != nil {
		p.p.CASSignedOut(w, r)
		return
	}
	p.plain(w, r, http.StatusOK, "cas.signed_out.body")
}

// confirmLogout asks the user whether to sign out; without pages (a CAS
// server built alone) it only says so, and signs nobody out.
func (p *pages) confirmLogout(w http.ResponseWriter, r *http.Request, service string) {
	w.Header().Set("Cache-Control", "no-store")
	if p.p != nil {
		p.p.CASLogoutConfirm(w, r, service)
		return
	}
	p.plain(w, r, http.StatusOK, "page.logout_confirm.question")
}

// levelRequired says that service needs real-name level required, with
// a link to upgrade; without pages (a CAS server built alone) it says so
// in plain text, with the link.
func (p *pages) levelRequired(w http.ResponseWriter, r *http.Request, service string, required, level int, upgrade string) {
	if p.p != nil {
		p.p.CASLevelRequired(w, r, service, required, level, upgrade)
		return
	}
	text := "cas.level.body"
	if p.cat != nil {
		text = p.cat.T(i18n.Negotiate(r), "cas.level.body", "service", service,
			"required", strconv.Itoa(required), "level", strconv.Itoa(level))
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, text+"\n"+upgrade, http.StatusForbidden)
}

func (p *pages) plain(w http.ResponseWriter, r *http.Request, status int, key string) {
	text := key
	if p.cat != nil {
		text = p.cat.T(i18n.Negotiate(r), key)
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, text, status)
}
