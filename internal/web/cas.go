package web

import (
	"net/http"
	"strings"

	"unid/internal/httpx"

	"unid/internal/i18n"
)

// casNotice is what the CAS server's pages say: an error, or that the user
// is signed out. The page never shows the service URL: it came from
// whoever made the link.
type casNotice struct {
	ID   string // element id suffix: cas-error, cas-signed-out
	Body string
}

// CASError shows why a CAS sign-in cannot go on; key is a cas.error.*
// message (internal/i18n/messages/*/cas.json).
func (p *Pages) CASError(w http.ResponseWriter, r *http.Request, status int, key string) {
	lang := p.lang(w, r)
	if !strings.HasPrefix(key, "cas.error.") || !p.cat.Has(key) {
		key = "cas.error.internal"
	}
	p.render(w, r, lang, status, pageCASError, casNotice{ID: "error", Body: p.cat.T(lang, key)})
}

// CASSignedOut shows that the user is signed out of unid and its services.
func (p *Pages) CASSignedOut(w http.ResponseWriter, r *http.Request) {
	lang := p.lang(w, r)
	p.render(w, r, lang, 0, pageCASSignedOut, casNotice{ID: "signed-out", Body: p.cat.T(lang, "cas.signed_out.body")})
}

// casLevel is what the page of a CAS sign-in refused for the user's
// real-name level says; Upgrade is the upgrade page's local path.
type casLevel struct {
	Body    string
	Upgrade string
}

// CASLevelRequired says that service (its registered name) needs
// real-name level required and the user has level, with a link to
// upgrade, the upgrade page's local path (anything else links to /me).
func (p *Pages) CASLevelRequired(w http.ResponseWriter, r *http.Request, service string, required, level int, upgrade string) {
	lang := p.lang(w, r)
	p.render(w, r, lang, http.StatusForbidden, pageCASLevel, p.casLevelData(lang, service, required, level, upgrade))
}

func (p *Pages) casLevelData(lang i18n.Lang, service string, required, level int, upgrade string) casLevel {
	if !strings.HasPrefix(upgrade, "/settings/realname?") || httpx.SafeNext(upgrade) != upgrade {
		upgrade = "/me"
	}
	name := func(level int) string { return p.cat.T(lang, levelKey(min(max(level, 0), 3))) }
	body := p.cat.T(lang, "cas.level.body", "service", service, "required", name(required), "level", name(level))
	return casLevel{Body: body, Upgrade: upgrade}
}

// casLevelKeys are the level names the page builds in Go.
func casLevelKeys() []string {
	var keys []string
	for level := 0; level <= 3; level++ {
		keys = append(keys, levelKey(level))
	}
	return keys
}
