package web

import (
	"net/http"
	"slices"

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

// LogoutConfirm is a logout request that did not prove who sent it — an
// OpenID logout without id_token_hint, or a CAS logout from another site:
// the user confirms it by posting the form back to Action, one of unid's
// logout endpoints, with the request's parameters.
type LogoutConfirm struct {
	Action                                 string // "/oidc/end_session" or "/cas/logout"
	ClientID, PostLogoutRedirectURI, State string // OpenID Connect
	Service                                string // CAS
}

// logoutActions are the forms the confirmation may post to.
var logoutActions = []string{"/oidc/end_session", "/cas/logout"}

// ssoErrorCodes are the codes SSOError takes; each has the message
// page.sso_error.<code>.
var ssoErrorCodes = []string{
	"request_invalid", "request_too_large", "unknown_client", "redirect_uri",
	"request_expired", "logout_invalid", "unavailable",
}

func ssoErrorKeys() []string {
	keys := make([]string, len(ssoErrorCodes))
	for i, code := range ssoErrorCodes {
		keys[i] = "page.sso_error." + code
	}
	return keys
}

// scopeNames are the scopes a user can grant (claims.UserScopes).
func scopeNames() []string { return claims.UserScopes() }

// consentScopeKeys are the messages that explain the scopes a user can
// grant, in that order: page.consent.scope.<name> and
// page.consent.scope.<name>_desc for each.
func consentScopeKeys() []string {
	var keys []string
	for _, scope := range scopeNames() {
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

// Consent shows the consent page: the client's name, each scope explained,
// Allow and Deny (consent.js posts the answer to /api/v1/consents).
func (p *Pages) Consent(w http.ResponseWriter, r *http.Request, c Consent) {
	lang := p.lang(w, r)
	p.render(w, r, lang, 0, pageConsent, p.consentData(lang, c))
}

// LogoutConfirm asks the user whether to sign out of unid (and so of every
// service system), as RP-initiated logout requires when the request does
// not show which client sent it.
func (p *Pages) LogoutConfirm(w http.ResponseWriter, r *http.Request, d LogoutConfirm) {
	if !slices.Contains(logoutActions, d.Action) {
		d.Action = logoutActions[0]
	}
	p.render(w, r, p.lang(w, r), 0, pageLogoutConfirm, d)
}

// CASLogoutConfirm asks the user whether to sign out of unid and every
// service system, for a CAS logout that another site sent.
func (p *Pages) CASLogoutConfirm(w http.ResponseWriter, r *http.Request, service string) {
	p.LogoutConfirm(w, r, LogoutConfirm{Action: "/cas/logout", Service: service})
}

// SSOError shows why a request cannot be answered, in the user's language.
// code is one of ssoErrorCodes (request_invalid, request_too_large,
// unknown_client, redirect_uri, request_expired, logout_invalid,
// unavailable).
func (p *Pages) SSOError(w http.ResponseWriter, r *http.Request, status int, code string) {
	lang := p.lang(w, r)
	p.render(w, r, lang, status, pageSSOError, p.ssoErrorData(lang, code))
}

func (p *Pages) consentData(lang i18n.Lang, c Consent) consentData {
	d := consentData{Consent: c}
	for _, name := range c.Scopes {
		line := consentScope{Name: name, Title: name}
		if key := "page.consent.scope." + name; p.cat.Has(key) {
			line.Title, line.Desc = p.cat.T(lang, key), p.cat.T(lang, key+"_desc")
		}
		d.Lines = append(d.Lines, line)
	}
	return d
}

func (p *Pages) ssoErrorData(lang i18n.Lang, code string) ssoErrorData {
	key := "page.sso_error." + code
	if !p.cat.Has(key) {
		code, key = "request_invalid", "page.sso_error.request_invalid"
	}
	return ssoErrorData{Code: code, Message: p.cat.T(lang, key)}
}
