package web

import (
	"net/http"
	"net/url"
	"strings"

	"unid/internal/httpx"
	"unid/internal/i18n"
)

// Signing in with an identity provider outside unid (Alipay, an OpenID
// provider) runs through the pages like this; the rules and every redirect
// are the core's (GET /upstream/{id}/start and …/callback), the pages only
// offer the way in and finish what the core asks the person to finish:
//
//	/login, /register ──► /upstream/{id}/start?purpose=signin ──► provider ──► callback
//	       │                                                                     │
//	       │   linked: signed in, to next ◄──────────────────────────────────────┤
//	       │   not linked: /upstream/continue (register or bind) ◄───────────────┤
//	       └── ?upstream_error=<code> ◄──────────────────────────────────────────┘
//	/recover ──► …?purpose=recover ──► /recover#flow=<id> (new password) or ?upstream=unlinked
//	/settings/links ──► …?purpose=bind ──► /settings/links?bound=<id> or ?error=<code>

// UpstreamButton is an identity provider outside unid that people may sign
// in with, as the pages show it: the app lists the configured ones.
type UpstreamButton struct {
	ID   string // in URLs: "alipay", or the provider's configured id
	Kind string // "alipay" or "oidc"
	Name string // on the button: 支付宝
	Icon string // an image unid serves ("/static/…"), or "" for the kind's own icon
}

// kindAlipay is the Kind of Alipay, whose buttons carry its own icon.
const kindAlipay = "alipay"

// upstreamKeys are the messages upstream.go builds: the labels with a
// provider's name, and the message of a code without one of its own (the
// codes the core sends each have error.<code>, which a test checks).
func upstreamKeys() []string {
	return []string{"page.upstream.error_other", "page.login.upstream", "page.recover.upstream",
		"page.settings.links.bound", "page.upstream_continue.again", "page.upstream_continue.again_login"}
}

// upstreamError is the message for code, or "" for none.
func (p *Pages) upstreamError(lang i18n.Lang, code string) string {
	switch {
	case code == "":
		return ""
	case p.cat.Has("error." + code):
		return p.cat.T(lang, "error."+code)
	}
	return p.cat.T(lang, "page.upstream.error_other")
}

// upstreamLink is one provider's button on a page.
type upstreamLink struct {
	UpstreamButton
	Href  string
	Label string
}

// upstreams returns the configured providers, each with a usable icon.
func (p *Pages) upstreams() []UpstreamButton {
	if p.o.Upstreams == nil {
		return nil
	}
	var out []UpstreamButton
	for _, u := range p.o.Upstreams() {
		if u.ID == "" {
			continue
		}
		// Only an image of this site: the CSP would refuse any other,
		// and a broken image is worse than the generic icon.
		if httpx.SafeNext(u.Icon) == "" || strings.ContainsAny(u.Icon, "?#") {
			u.Icon = ""
		}
		out = append(out, u)
	}
	return out
}

// upstream returns the configured provider id.
func (p *Pages) upstream(id string) (UpstreamButton, bool) {
	for _, u := range p.upstreams() {
		if u.ID == id {
			return u, true
		}
	}
	return UpstreamButton{}, false
}

// upstreamStart is the core's start of a run at provider id for purpose,
// coming back to next (a safe path, or "" for the core's default).
func upstreamStart(id, purpose, next string) string {
	q := url.Values{"purpose": {purpose}}
	if next != "" {
		q.Set("next", next)
	}
	return "/upstream/" + url.PathEscape(id) + "/start?" + q.Encode()
}

// upstreamLinks are the buttons of every provider for purpose; label is the
// message of a button, with {name}.
func (p *Pages) upstreamLinks(lang i18n.Lang, purpose, next, label string) []upstreamLink {
	var out []upstreamLink
	for _, u := range p.upstreams() {
		out = append(out, upstreamLink{UpstreamButton: u, Href: upstreamStart(u.ID, purpose, next), Label: p.cat.T(lang, label, "name", u.Name)})
	}
	return out
}

// sampleUpstreams are the providers of the start-up dry run.
var sampleUpstreams = []UpstreamButton{
	{ID: "alipay", Kind: kindAlipay, Name: "支付宝"},
	{ID: "gov", Kind: "oidc", Name: "国家政务服务平台", Icon: "/static/favicon.svg"},
}

func sampleLinks(purpose string) []upstreamLink {
	var out []upstreamLink
	for _, u := range sampleUpstreams {
		out = append(out, upstreamLink{UpstreamButton: u, Href: upstreamStart(u.ID, purpose, "/me"), Label: u.Name})
	}
	return out
}

const pageUpstreamContinue = "upstream_continue"

// upstreamContinueData is what the page after a first sign-in with a
// provider shows before its script asks the core about the identity.
type upstreamContinueData struct {
	Next string // where to go once registered or bound; a safe path
	// Again is where to start afresh when the verified identity has
	// expired: the provider itself when there is only one, else the login
	// page; AgainLabel says which.
	Again, AgainLabel string
}

// UpstreamContinue serves /upstream/continue, where the core sends someone
// whose provider identity is linked to no account: register an account
// with it, or bind it to the account they have (upstream_continue.js).
func (p *Pages) UpstreamContinue(w http.ResponseWriter, r *http.Request) {
	lang := p.lang(w, r)
	p.render(w, r, lang, 0, pageUpstreamContinue, p.upstreamContinueData(lang, httpx.SafeNext(r.URL.Query().Get("next"))))
}

func (p *Pages) upstreamContinueData(lang i18n.Lang, next string) upstreamContinueData {
	d := upstreamContinueData{Next: next, Again: withNext("/login", next), AgainLabel: p.cat.T(lang, "page.upstream_continue.again_login")}
	if d.Next == "" {
		d.Next = "/me"
	}
	if ups := p.upstreams(); len(ups) == 1 {
		d.Again = upstreamStart(ups[0].ID, "signin", next)
		d.AgainLabel = p.cat.T(lang, "page.upstream_continue.again", "name", ups[0].Name)
	}
	return d
}

// linksData is the user center's 账号绑定 section.
type linksData struct {
	settingsData
	Bound string // "已绑定支付宝" after a bind, or ""
	Error string // why a bind failed, or ""
	// Reauth says that a bind was refused for want of a recent sign-in:
	// the script confirms the person before the next one.
	Reauth bool
}

func (p *Pages) linksData(lang i18n.Lang, me *Me, q url.Values) linksData {
	d := linksData{settingsData: p.settingsData(lang, me, "links"), Error: p.upstreamError(lang, q.Get("error")),
		Reauth: q.Get("error") == "reauthentication_required"}
	if u, ok := p.upstream(q.Get("bound")); ok {
		d.Bound = p.cat.T(lang, "page.settings.links.bound", "name", u.Name)
	}
	return d
}
