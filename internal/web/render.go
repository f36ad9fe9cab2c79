package web

import (
	"bytes"
	"compress/gzip"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"reflect"

	"unid/internal/httpx/pagekit"
	"unid/internal/i18n"
)

//go:embed templates
var templateFS embed.FS

// page is one entry of the page table. A page is this entry, its template
// (templates/<template>.html, parsed with the layout and the partials) and
// its messages; New parses and checks every one and renders each with its
// sample in every language, and render is the one way any of them reaches
// a browser, with the same headers, layout and development banner.
type page struct {
	name     string
	template string // default: name
	title    string // message key of the title; default page.<name>.title
	status   int    // default: 200
	script   string // the page's own script under static/, or ""
	// noEcho keeps the query out of the language link: the page must not
	// repeat an address that came from whoever made the link.
	noEcho bool
	// sample is data for the start-up dry run. Its type is the page's data
	// type: render refuses data of any other type.
	sample func(p *Pages, lang i18n.Lang) any
	// keys are messages Go code builds for the page (the template's own
	// are found in the template).
	keys func() []string
}

// pageTable is every page unid renders.
var pageTable = []page{
	{name: pageLogin, script: "login.js", sample: func(*Pages, i18n.Lang) any {
		return loginData{Next: "/oidc/authorize/callback?id=x", Client: "省网上办事大厅", Back: "/oidc/authorize/cancel?id=x", RegisterHref: "/register?next=%2F"}
	}},
	{name: pageRegister, script: "register.js", sample: func(*Pages, i18n.Lang) any {
		return registerData{Next: "/me", Client: "省网上办事大厅", LoginHref: "/login"}
	}},
	{name: pageRecover, script: "recover.js", keys: recoverKeys, noEcho: true, sample: func(p *Pages, lang i18n.Lang) any {
		return p.recoverData(lang, []string{"phone", "questions"}, true)
	}},
	{name: settingsPage("questions"), title: "page.settings.questions.title", script: "settings_questions.js", noEcho: true, sample: func(p *Pages, lang i18n.Lang) any {
		return p.settingsData(lang, &Me{LoginName: "sample", Phone: "138****0000"}, "questions")
	}},
	{name: pageMe, script: "me.js", keys: meKeys, noEcho: true, sample: func(p *Pages, lang i18n.Lang) any {
		return p.meData(lang, &Me{LoginName: "sample", Phone: "138****0000", IDNumber: "3701**********0000", RealName: "*三", Email: "s***@example.com", RealnameLevel: 1})
	}},
	{name: pageSettings, keys: settingsKeys, noEcho: true, sample: func(p *Pages, lang i18n.Lang) any {
		return p.settingsData(lang, &Me{LoginName: "sample", Phone: "138****0000"}, "")
	}},
	{name: settingsPage("sessions"), title: "page.settings.sessions.title", script: "settings_sessions.js", noEcho: true, sample: func(p *Pages, lang i18n.Lang) any {
		return p.settingsData(lang, sampleMe, "sessions")
	}},
	{name: settingsPage("profile"), title: "page.settings.profile.title", noEcho: true, script: "settings_profile.js", keys: settingsKeys, sample: func(p *Pages, lang i18n.Lang) any {
		return p.settingsData(lang, sampleMe, "profile")
	}},
	{name: settingsPage("password"), title: "page.settings.password.title", noEcho: true, script: "settings_password.js", keys: settingsKeys, sample: func(p *Pages, lang i18n.Lang) any {
		return p.settingsData(lang, sampleMe, "password")
	}},
	{name: settingsPage("phone"), title: "page.settings.phone.title", noEcho: true, script: "settings_phone.js", keys: settingsKeys, sample: func(p *Pages, lang i18n.Lang) any {
		return p.settingsData(lang, sampleMe, "phone")
	}},
	{name: settingsPage("addresses"), title: "page.settings.addresses.title", keys: settingsKeys, noEcho: true, script: "settings_addresses.js", sample: func(p *Pages, lang i18n.Lang) any {
		return p.settingsData(lang, sampleMe, "addresses")
	}},
	{name: settingsPage("email"), title: "page.settings.email.title", keys: settingsKeys, noEcho: true, script: "settings_email.js", sample: func(p *Pages, lang i18n.Lang) any {
		return p.settingsData(lang, sampleMe, "email")
	}},
	{name: settingsPage("realname"), title: "page.settings.realname.title", keys: realnameKeys, noEcho: true, script: "settings_realname.js", sample: func(p *Pages, lang i18n.Lang) any {
		return p.realnameData(lang, sampleMe, "/oidc/authorize/callback?id=x", "2")
	}},
	{name: pageMessages, noEcho: true, script: "messages.js", sample: func(*Pages, i18n.Lang) any { return messagesData{Me: sampleMe} }},
	{name: settingsPage("closure"), title: "page.settings.closure.title", keys: settingsKeys, noEcho: true, script: "settings_closure.js", sample: func(p *Pages, lang i18n.Lang) any {
		return p.settingsData(lang, sampleMe, "closure")
	}},
	{name: pageNotFound, status: http.StatusNotFound, sample: func(*Pages, i18n.Lang) any { return struct{}{} }},
	{name: pagePrivacy, template: "document", sample: func(p *Pages, lang i18n.Lang) any { return p.documentData(lang, pagePrivacy) }},
	{name: pageTerms, template: "document", sample: func(p *Pages, lang i18n.Lang) any { return p.documentData(lang, pageTerms) }},
	{name: pageConsent, script: "consent.js", keys: consentScopeKeys, sample: func(p *Pages, lang i18n.Lang) any {
		return p.consentData(lang, Consent{RequestID: "r", ClientID: "c", ClientName: "省网上办事大厅", LoginName: "sample", Scopes: append(scopeNames(), "unknown")})
	}},
	{name: pageSSOError, keys: ssoErrorKeys, sample: func(p *Pages, lang i18n.Lang) any { return p.ssoErrorData(lang, ssoErrorCodes[0]) }},
	{name: pageLogoutConfirm, sample: func(*Pages, i18n.Lang) any {
		return LogoutConfirm{Action: "/oidc/end_session", ClientID: "c", PostLogoutRedirectURI: "https://a.example/", State: "s", Service: "https://a.example/"}
	}},
	{name: pageCASError, template: "cas_notice", title: "cas.page.error_title", status: http.StatusBadRequest, noEcho: true, sample: func(p *Pages, lang i18n.Lang) any {
		return casNotice{ID: "error", Body: p.cat.T(lang, "cas.error.bad_request")}
	}},
	{name: pageCASSignedOut, template: "cas_notice", title: "cas.signed_out.title", noEcho: true, sample: func(p *Pages, lang i18n.Lang) any {
		return casNotice{ID: "signed-out", Body: p.cat.T(lang, "cas.signed_out.body")}
	}},
	{name: pageCASLevel, title: "cas.level.title", status: http.StatusForbidden, noEcho: true, keys: casLevelKeys, sample: func(p *Pages, lang i18n.Lang) any {
		return p.casLevelData(lang, "档案系统", 2, 0, "/settings/realname?next=%2Fcas%2Flogin%3Fservice%3Dx&level=2")
	}},
}

// The names of the pages.
const (
	pageLogin         = "login"
	pageRegister      = "register"
	pageMe            = "me"
	pageMessages      = "messages"
	pageSettings      = "settings"
	pageNotFound      = "notfound"
	pagePrivacy       = "privacy"
	pageTerms         = "terms"
	pageConsent       = "consent"
	pageSSOError      = "sso_error"
	pageLogoutConfirm = "logout_confirm"
	pageCASError      = "cas_error"
	pageCASSignedOut  = "cas_signed_out"
	pageCASLevel      = "cas_level"
)

func (pg *page) templateName() string {
	if pg.template != "" {
		return pg.template
	}
	return pg.name
}

func (pg *page) titleKey() string {
	if pg.title != "" {
		return pg.title
	}
	return "page." + pg.name + ".title"
}

// parsed is a page of the table, ready to render.
type parsed struct {
	page
	t        *template.Template
	dataType reflect.Type
}

// view is what every template receives: the page's own data in Data, and
// what the layout needs. Templates translate with {{.T "key"}} (or {{$.T}}
// inside range and with).
type view struct {
	Lang      i18n.Lang
	OtherLang i18n.Lang // the language the switch link offers
	LangHref  string    // the current page in OtherLang
	Page      string
	Title     string
	Site      siteView
	Dev       bool
	Script    string            // the page's own script, or ""
	JS        map[string]string // messages for the page scripts
	Data      any
	cat       *i18n.Catalog
}

// siteView is Site in the page's language.
type siteView struct {
	Name, HelpURL, Hotline string
}

// T translates key into the page's language.
func (v *view) T(key string, kv ...string) string { return v.cat.T(v.Lang, key, kv...) }

// parsePages parses each page of the table with the layout and partials,
// and checks that every {{.T "key"}} and every key the page's Go code
// builds names a message that exists.
func parsePages(fsys fs.FS, a *pagekit.Assets, has func(string) bool) (map[string]*parsed, error) {
	funcs := template.FuncMap{"static": a.URL}
	pages := make(map[string]*parsed, len(pageTable))
	var errs []error
	need := func(name, key string) {
		if !has(key) {
			errs = append(errs, fmt.Errorf("web: page %s needs message %q, which is missing from the catalog", name, key))
		}
	}
	for _, pg := range pageTable {
		t, err := template.New(pg.name).Funcs(funcs).ParseFS(fsys,
			"templates/layout.html", "templates/partials.html", "templates/icons.html",
			"templates/"+pg.templateName()+".html")
		if err != nil {
			errs = append(errs, fmt.Errorf("web: parse %s: %w", pg.name, err))
			continue
		}
		if err := pagekit.MissingMessages(t, has); err != nil {
			errs = append(errs, fmt.Errorf("web: page %s: %w", pg.name, err))
		}
		need(pg.name, pg.titleKey())
		if pg.keys != nil {
			for _, k := range pg.keys() {
				need(pg.name, k)
			}
		}
		if pg.script != "" {
			if _, err := a.URL(pg.script); err != nil {
				errs = append(errs, fmt.Errorf("web: page %s: %w", pg.name, err))
			}
		}
		pages[pg.name] = &parsed{page: pg, t: t}
	}
	return pages, errors.Join(errs...)
}

// dryRun renders every page in every language with its sample, and records
// the sample's type as the page's data type, so that a template that parses
// but cannot execute also stops New.
func (p *Pages) dryRun() error {
	var errs []error
	r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/"}}
	for _, pg := range p.pages {
		for _, lang := range i18n.Langs {
			data := pg.sample(p, lang)
			pg.dataType = reflect.TypeOf(data)
			if err := p.execute(io.Discard, r, lang, pg, data); err != nil {
				errs = append(errs, fmt.Errorf("web: render %s in %s: %w", pg.name, lang, err))
			}
		}
	}
	return errors.Join(errs...)
}

// render writes page name with data, in lang, with the page headers; status
// 0 is the page's own. The answer is gzipped for a browser that takes it. A
// template that fails (which the dry run in New makes unlikely) or data of
// the wrong type is a bare 500.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, lang i18n.Lang, status int, name string, data any) {
	pg := p.pages[name]
	var buf bytes.Buffer
	err := fmt.Errorf("web: no page %q", name)
	if pg != nil {
		err = fmt.Errorf("web: page %s takes %v, not %T", name, pg.dataType, data)
		if reflect.TypeOf(data) == pg.dataType {
			err = p.execute(&buf, r, lang, pg, data)
		}
	}
	if err != nil {
		p.log.ErrorContext(r.Context(), "render page", "page", name, "lang", string(lang), "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	if status == 0 {
		status = pg.status
	}
	if status == 0 {
		status = http.StatusOK
	}
	h := w.Header()
	pagekit.SetHeaders(h, contentSecurityPolicy)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", string(lang))
	h.Add("Vary", "Accept-Encoding")
	body := buf.Bytes()
	if pagekit.AcceptsGzip(r.Header.Get("Accept-Encoding")) {
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
		zw.Write(body)
		zw.Close()
		body = gz.Bytes()
		h.Set("Content-Encoding", "gzip")
	}
	w.WriteHeader(status)
	w.Write(body)
}

// maxEchoedQuery bounds the query the language link repeats. The single
// sign-on endpoints refuse longer queries with a page (oidc's
// maxQueryBytes), and that page must not send the oversize request back.
const maxEchoedQuery = 8 << 10

func (p *Pages) execute(w io.Writer, r *http.Request, lang i18n.Lang, pg *parsed, data any) error {
	other := i18n.EN
	if lang == i18n.EN {
		other = i18n.ZH
	}
	// The switch link is query-only ("?lang=en&next=..."), so it always
	// stays on the current page, whatever the path looks like.
	q := url.Values{}
	if len(r.URL.RawQuery) <= maxEchoedQuery && !pg.noEcho {
		q = r.URL.Query()
	}
	q.Set("lang", string(other))
	v := &view{
		Lang:      lang,
		OtherLang: other,
		LangHref:  "?" + q.Encode(),
		Page:      pg.name,
		Title:     p.cat.T(lang, pg.titleKey()),
		Site:      siteView{Name: p.platformName(lang), HelpURL: p.o.Site.HelpURL, Hotline: p.o.Site.Hotline},
		Dev:       p.o.Dev,
		Script:    pg.script,
		JS:        p.js[lang],
		Data:      data,
		cat:       p.cat,
	}
	return pg.t.ExecuteTemplate(w, "layout", v)
}

// contentSecurityPolicy allows only what unid serves itself: no inline
// script or style, no framing, forms post only here.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
