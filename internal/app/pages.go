package app

import (
	"net/http"

	"unid/internal/sso/oidc"
	"unid/internal/web"
)

// OIDCPages returns the OpenID provider's pages over the web package's
// pages.
func OIDCPages(p *web.Pages) oidc.Pages { return ssoPages{p} }

// ssoPages shows the OpenID provider's pages with the web package's
// templates; the two packages are adapters and do not know each other.
type ssoPages struct{ *web.Pages }

func (p ssoPages) Consent(w http.ResponseWriter, r *http.Request, d oidc.ConsentPage) {
	p.Pages.Consent(w, r, web.Consent(d))
}

func (p ssoPages) LogoutConfirm(w http.ResponseWriter, r *http.Request, d oidc.LogoutConfirmPage) {
	p.Pages.LogoutConfirm(w, r, web.LogoutConfirm{Action: "/oidc/end_session", ClientID: d.ClientID, PostLogoutRedirectURI: d.PostLogoutRedirectURI, State: d.State})
}
