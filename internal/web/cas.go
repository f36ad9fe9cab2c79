package web

import (
	"net/http"
	"strings"
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
