package web

import (
	"embed"
	"io/fs"
	"net/http"

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
var pageTable = append([]page{
	{name: pageLogin, script: "login.js", keys: upstreamKeys, sample: func(*Pages, i18n.Lang) any {
		return loginData{Next: "/oidc/authorize/callback?id=x", Client: "省网上办事大厅", Back: "/oidc/authorize/cancel?id=x", RegisterHref: "/register?next=%2F",
			Upstreams: sampleLinks("signin"), Error: "x"}
	}},
	{name: pageRegister, script: "register.js", sample: func(*Pages, i18n.Lang) any {
		return registerData{Next: "/me", Client: "省网上办事大厅", LoginHref: "/login", Alipay: "/upstream/alipay/start?purpose=signin"}
	}},
	{name: pageRecover, script: "recover.js", keys: recoverKeys, noEcho: true, sample: func(p *Pages, lang i18n.Lang) any {
		d := p.recoverData(lang, []string{"phone", "questions"}, true)
		d.Upstreams, d.Unlinked, d.Error = sampleLinks("recover"), true, "x"
		return d
	}},
	{name: pageUpstreamContinue, script: "upstream_continue.js", sample: func(p *Pages, lang i18n.Lang) any {
		return upstreamContinueData{Next: "/me", Again: "/upstream/alipay/start?purpose=signin", AgainLabel: "x"}
	}},
	{name: settingsPage("links"), title: "page.settings.links.title", keys: settingsKeys, noEcho: true, script: "settings_links.js", sample: func(p *Pages, lang i18n.Lang) any {
		return linksData{settingsData: p.settingsData(lang, sampleMe, "links"), Bound: "x", Error: "x", Reauth: true}
	}},
	{name: settingsPage("questions"), title: "page.settings.questions.title", script: "settings_questions.js", noEcho: true, sample: func(p *Pages, lang i18n.Lang) any {
		return p.settingsData(lang, &Me{LoginName: "sample", Phone: "138****0000"}, "questions")
	}},
	{name: pageMe, script: "me.js", keys: meKeys, noEcho: true, sample: func(p *Pages, lang i18n.Lang) any {
		return p.meData(lang, &Me{LoginName: "sample", Phone: "138****0000", IDNumber: "3701**********0000", RealName: "*三", Email: "s***@example.com", RealnameLevel: 1}, true, map[string]int{"messages": 2})
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
	{name: settingsPage("closure"), title: "page.settings.closure.title", keys: settingsKeys, noEcho: true, script: "settings_closure.js", sample: func(p *Pages, lang i18n.Lang) any {
		return p.settingsData(lang, sampleMe, "closure")
	}},
	{name: pageEnterprises, template: "enterprise", script: "enterprise.js", noEcho: true, sample: func(*Pages, i18n.Lang) any {
		return enterprisesData{Me: sampleMe}
	}},
	{name: pageEnterprise, template: "enterprise_one", title: "page.enterprise.one.title", script: "enterprise_one.js", noEcho: true, keys: enterpriseKeys, sample: func(p *Pages, lang i18n.Lang) any {
		return p.enterpriseData(lang, sampleMe, Membership{USCC: "91350100M000100Y43", Name: "示例有限公司", Role: roleLegalRep}, []string{"财务", "人事"},
			func(string) []RecordSystem { return []RecordSystem{{ID: "hall", Name: "网上办事大厅"}} })
	}},
	{name: pageNotFound, status: http.StatusNotFound, sample: func(*Pages, i18n.Lang) any { return struct{}{} }},
	{name: pagePrivacy, template: "document", sample: func(p *Pages, lang i18n.Lang) any { return p.documentData(lang, pagePrivacy) }},
	{name: pageTerms, template: "document", sample: func(p *Pages, lang i18n.Lang) any { return p.documentData(lang, pageTerms) }},
	{name: pageConsent, script: "consent.js", keys: consentScopeKeys, sample: func(p *Pages, lang i18n.Lang) any {
		return p.consentData(lang, Consent{RequestID: "r", ClientID: "c", ClientName: "省网上办事大厅", LoginName: "sample", Scopes: append(scopeNames(), "unknown")})
	}},
	{name: pageIdentity, script: "identity.js", keys: identityKeys, noEcho: true, sample: func(p *Pages, lang i18n.Lang) any {
		return p.identityData(lang, "/oidc/authorize/callback?id=x", Identities{LoginName: "sample", Enterprises: []IdentityEnterprise{
			{USCC: "91350100M000100Y43", Name: "福州示例科技有限公司", Role: "handler", Labels: []string{"财务"}, Default: true},
			{USCC: "91110000600037341L", Name: "示例贸易有限公司", Role: "legal_rep"},
		}})
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
}, recordsPages()...)

// The names of the pages.
const (
	pageLogin         = "login"
	pageRegister      = "register"
	pageMe            = "me"
	pageSettings      = "settings"
	pageNotFound      = "notfound"
	pageEnterprises   = "enterprise"
	pageEnterprise    = "enterprise_one"
	pagePrivacy       = "privacy"
	pageTerms         = "terms"
	pageConsent       = "consent"
	pageSSOError      = "sso_error"
	pageLogoutConfirm = "logout_confirm"
	pageCASError      = "cas_error"
	pageCASSignedOut  = "cas_signed_out"
	pageCASLevel      = "cas_level"
	pageIdentity      = "identity"
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

// view is what every template receives: pagekit's common view, and the
// site in the page's language.
type view struct {
	pagekit.View
	Site siteView
}

// siteView is Site in the page's language.
type siteView struct {
	Name, HelpURL, Hotline string
}

// newSet parses each page of the table from fsys with the layout and
// partials, checks every message key the pages use, and dry-runs them.
func (p *Pages) newSet(fsys fs.FS) (*pagekit.Set, error) {
	pages := make([]pagekit.Page, 0, len(pageTable))
	for _, pg := range pageTable {
		var keys []string
		if pg.keys != nil {
			keys = pg.keys()
		}
		pages = append(pages, pagekit.Page{
			Name:   pg.name,
			Files:  []string{"templates/layout.html", "templates/partials.html", "templates/icons.html", "templates/" + pg.templateName() + ".html"},
			Title:  pg.titleKey(),
			Status: pg.status,
			Script: pg.script,
			Keys:   keys,
			NoEcho: pg.noEcho,
			Sample: func(lang i18n.Lang) any { return pg.sample(p, lang) },
		})
	}
	return pagekit.NewSet(pages, pagekit.Options{
		Name: "web", FS: fsys, Assets: p.assets, Catalog: p.cat, Logger: p.log, Dev: p.o.Dev,
		JS: p.js, CSP: contentSecurityPolicy, Gzip: true,
		View: func(v pagekit.View) any {
			return &view{View: v, Site: siteView{Name: p.platformName(v.Lang), HelpURL: p.o.Site.HelpURL, Hotline: p.o.Site.Hotline}}
		},
	})
}

// render writes page name with data, in lang, with the page headers; status
// 0 is the page's own. The answer is gzipped for a browser that takes it.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, lang i18n.Lang, status int, name string, data any) {
	p.pages.Render(w, r, lang, status, name, data)
}

// contentSecurityPolicy allows only what unid serves itself: no inline
// script or style, no framing, forms post only here.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
