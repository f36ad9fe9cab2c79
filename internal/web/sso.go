package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"

	"unid/internal/claims"
	"unid/internal/i18n"
)

// Consent is what the consent page shows: which service system asks, for
// which account, to know what (OpenID Connect scope names: "openid",
// "profile", "phone", ...).
type Consent struct {
	RequestID  string // the authorization request the answer is for
	ClientID   string
	ClientName string
	LoginName  string
	Scopes     []string
}

// SSOPages are the pages the single sign-on protocols render: the consent
// page and the page that explains a sign-in or logout request unid cannot
// answer to the service system (an unknown client, a redirect address it
// did not register, an expired request). Build them once at start-up with
// Pages.SSO, which parses and checks them like New does the others.
type SSOPages struct {
	p     *Pages
	pages map[string]*template.Template
}

const (
	pageConsent       = "consent"
	pageSSOError      = "sso_error"
	pageLogoutConfirm = "logout_confirm"
)

// LogoutConfirm is a logout request that did not prove which client sent it
// (no id_token_hint): the user confirms it by posting the form back.
type LogoutConfirm struct {
	ClientID, PostLogoutRedirectURI, State string
}

// ssoErrorCodes are the codes SSOError takes; each has the message
// page.sso_error.<code>.
var ssoErrorCodes = []string{
	"request_invalid", "request_too_large", "unknown_client", "redirect_uri",
	"request_expired", "logout_invalid", "unavailable",
}

// consentScopeKeys are the messages that explain the scopes a user can
// grant (claims.UserScopes), in that order: page.consent.scope.<name> and
// page.consent.scope.<name>_desc for each.
func consentScopeKeys() []string {
	var keys []string
	for _, scope := range claims.UserScopes() {
		keys = append(keys, "page.consent.scope."+scope, "page.consent.scope."+scope+"_desc")
	}
	return keys
}

// consentScope is one line of the consent page.
type consentScope struct {
	Name, Title, Desc string
}

type consentData struct {
	Consent
	Lines []consentScope
}

type ssoErrorData struct {
	Code, Message string
}

// SSO parses the single sign-on pages and checks every message they use in
// every language, rendering each once.
func (p *Pages) SSO() (*SSOPages, error) {
	s := &SSOPages{p: p, pages: make(map[string]*template.Template, 3)}
	funcs := template.FuncMap{"static": p.assets.url}
	var errs []error
	for _, name := range []string{pageConsent, pageSSOError, pageLogoutConfirm} {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS,
			"templates/layout.html", "templates/partials.html", "templates/icons.html", "templates/"+name+".html")
		if err != nil {
			errs = append(errs, fmt.Errorf("web: parse %s: %w", name, err))
			continue
		}
		for _, tt := range t.Templates() {
			if tt.Tree != nil {
				walkKeys(tt.Tree.Root, func(key string) {
					if !p.cat.Has(key) {
						errs = append(errs, fmt.Errorf("web: template %q (page %s) uses message %q, which is missing from the catalog", tt.Name(), name, key))
					}
				})
			}
		}
		s.pages[name] = t
		errs = append(errs, s.need(titleKey(name)))
	}
	for _, key := range consentScopeKeys() {
		errs = append(errs, s.need(key))
	}
	for _, code := range ssoErrorCodes {
		errs = append(errs, s.need("page.sso_error."+code))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/"}}
	sample := Consent{RequestID: "r", ClientID: "c", ClientName: "省网上办事大厅", LoginName: "sample", Scopes: append(claims.UserScopes(), "unknown")}
	for _, lang := range i18n.Langs {
		errs = append(errs,
			s.execute(io.Discard, r, lang, pageConsent, s.consentData(lang, sample)),
			s.execute(io.Discard, r, lang, pageSSOError, s.errorData(lang, ssoErrorCodes[0])),
			s.execute(io.Discard, r, lang, pageLogoutConfirm, LogoutConfirm{ClientID: "c", PostLogoutRedirectURI: "https://a.example/", State: "s"}))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("web: render single sign-on pages: %w", err)
	}
	return s, nil
}

func (s *SSOPages) need(key string) error {
	if !s.p.cat.Has(key) {
		return fmt.Errorf("web: message %q is missing from the catalog", key)
	}
	return nil
}

// Consent shows the consent page: the client's name, each scope explained,
// Allow and Deny (consent.js posts the answer to /api/v1/consents).
func (s *SSOPages) Consent(w http.ResponseWriter, r *http.Request, c Consent) {
	lang := s.p.lang(w, r)
	s.render(w, r, http.StatusOK, lang, pageConsent, s.consentData(lang, c))
}

// LogoutConfirm asks the user whether to sign out of unid (and so of every
// service system), as RP-initiated logout requires when the request does
// not show which client sent it.
func (s *SSOPages) LogoutConfirm(w http.ResponseWriter, r *http.Request, d LogoutConfirm) {
	lang := s.p.lang(w, r)
	s.render(w, r, http.StatusOK, lang, pageLogoutConfirm, d)
}

// SSOError shows why a request cannot be answered, in the user's language.
// code is one of ssoErrorCodes (request_invalid, request_too_large,
// unknown_client, redirect_uri, request_expired, logout_invalid,
// unavailable).
func (s *SSOPages) SSOError(w http.ResponseWriter, r *http.Request, status int, code string) {
	lang := s.p.lang(w, r)
	s.render(w, r, status, lang, pageSSOError, s.errorData(lang, code))
}

func (s *SSOPages) consentData(lang i18n.Lang, c Consent) consentData {
	d := consentData{Consent: c}
	for _, name := range c.Scopes {
		line := consentScope{Name: name, Title: name}
		if key := "page.consent.scope." + name; s.p.cat.Has(key) {
			line.Title, line.Desc = s.p.cat.T(lang, key), s.p.cat.T(lang, key+"_desc")
		}
		d.Lines = append(d.Lines, line)
	}
	return d
}

func (s *SSOPages) errorData(lang i18n.Lang, code string) ssoErrorData {
	key := "page.sso_error." + code
	if !s.p.cat.Has(key) {
		code, key = "request_invalid", "page.sso_error.request_invalid"
	}
	return ssoErrorData{Code: code, Message: s.p.cat.T(lang, key)}
}

func (s *SSOPages) render(w http.ResponseWriter, r *http.Request, status int, lang i18n.Lang, page string, data any) {
	var buf bytes.Buffer
	if err := s.execute(&buf, r, lang, page, data); err != nil {
		s.p.log.ErrorContext(r.Context(), "render page", "page", page, "lang", string(lang), "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	setPageHeaders(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", string(lang))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// maxEchoedQuery bounds the query the language link repeats. The single
// sign-on endpoints refuse longer queries with a page (oidc's
// maxQueryBytes), and that page must not send the oversize request back.
const maxEchoedQuery = 8 << 10

// execute is execute of render.go for the single sign-on pages.
func (s *SSOPages) execute(w io.Writer, r *http.Request, lang i18n.Lang, page string, data any) error {
	other := i18n.EN
	if lang == i18n.EN {
		other = i18n.ZH
	}
	q := url.Values{}
	if len(r.URL.RawQuery) <= maxEchoedQuery {
		q = r.URL.Query()
	}
	q.Set("lang", string(other))
	v := &view[any]{
		Lang: lang, OtherLang: other, LangHref: "?" + q.Encode(), Page: page, TitleKey: titleKey(page),
		Dev: s.p.o.Dev, JS: s.p.js[lang], Data: data, cat: s.p.cat,
	}
	return s.pages[page].ExecuteTemplate(w, "layout", v)
}
