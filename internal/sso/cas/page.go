package cas

import (
	"bytes"
	"html/template"
	"net/http"

	"unid/internal/i18n"
)

// pageTemplate is the one small page of the CAS server: an error, or the
// signed-out notice. It links the site's stylesheet and has no script or
// inline style, so the pages' Content-Security-Policy holds. The page never
// shows the service URL: it came from whoever made the link.
var pageTemplate = template.Must(template.New("cas").Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<link rel="stylesheet" href="/static/app.css">
</head>
<body>
<main class="container">
<div class="card card-narrow" id="cas-{{.ID}}">
<h1>{{.Title}}</h1>
<p>{{.Body}}</p>
<p><a class="button button-primary" href="/">{{.Home}}</a></p>
</div>
</main>
</body>
</html>
`))

// Message keys of the pages (internal/i18n/messages/*/cas.json).
var pageKeys = []string{
	"cas.page.error_title", "cas.page.home",
	"cas.error.bad_request", "cas.error.service_invalid", "cas.error.service_unknown",
	"cas.error.login_expired", "cas.error.internal", "cas.error.too_many",
	"cas.signed_out.title", "cas.signed_out.body",
}

type pages struct{ cat *i18n.Catalog }

func newPages(cat *i18n.Catalog) *pages { return &pages{cat: cat} }

type pageData struct {
	Lang                  i18n.Lang
	ID, Title, Body, Home string
}

// fail shows an error page in the user's language.
func (p *pages) fail(w http.ResponseWriter, r *http.Request, status int, key string) {
	lang := i18n.Negotiate(r)
	p.render(w, status, pageData{Lang: lang, ID: "error", Title: p.t(lang, "cas.page.error_title"), Body: p.t(lang, key)})
}

// signedOut shows that the user is signed out of unid and its services.
func (p *pages) signedOut(w http.ResponseWriter, r *http.Request) {
	lang := i18n.Negotiate(r)
	p.render(w, http.StatusOK, pageData{Lang: lang, ID: "signed-out", Title: p.t(lang, "cas.signed_out.title"), Body: p.t(lang, "cas.signed_out.body")})
}

func (p *pages) t(lang i18n.Lang, key string) string {
	if p.cat == nil {
		return key
	}
	return p.cat.T(lang, key)
}

func (p *pages) render(w http.ResponseWriter, status int, d pageData) {
	d.Home = p.t(d.Lang, "cas.page.home")
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, d); err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", string(d.Lang))
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}
