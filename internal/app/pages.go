package app

import (
	"fmt"
	"net/http"
	"os"

	"unid/internal/config"
	"unid/internal/i18n"

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

// siteOf turns the configuration's site section into what the pages show,
// reading the privacy notice and user agreement files it names.
func siteOf(c config.Site) (web.Site, error) {
	s := web.Site{
		PlatformName: map[i18n.Lang]string{i18n.ZH: c.Name, i18n.EN: c.NameEN},
		HelpURL:      c.HelpURL, Hotline: c.Hotline,
		PrivacyNotice: map[i18n.Lang]string{}, UserAgreement: map[i18n.Lang]string{},
	}
	for _, f := range []struct {
		path string
		dst  map[i18n.Lang]string
		lang i18n.Lang
	}{
		{c.PrivacyFile, s.PrivacyNotice, i18n.ZH}, {c.PrivacyENFile, s.PrivacyNotice, i18n.EN},
		{c.TermsFile, s.UserAgreement, i18n.ZH}, {c.TermsENFile, s.UserAgreement, i18n.EN},
	} {
		if f.path == "" {
			continue
		}
		b, err := os.ReadFile(f.path)
		if err != nil {
			return web.Site{}, fmt.Errorf("app: site text: %w", err)
		}
		f.dst[f.lang] = string(b)
	}
	return s, nil
}
