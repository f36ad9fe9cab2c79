package web

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"unid/internal/httpx"

	"unid/internal/account"
	"unid/internal/httpx/pagekit"
	"unid/internal/i18n"
)

// Me is what the personal space shows about the signed-in user: the one
// masked profile of an account, as the JSON API shows it too.
type Me = account.Profile

// Options configures Pages.
type Options struct {
	// Dev shows the development-mode banner on every page.
	Dev bool
	// Catalog holds the page texts; required.
	Catalog *i18n.Catalog
	// Logger receives render failures; nil discards them.
	Logger *slog.Logger
	// Me returns the signed-in user of r, or false when nobody is signed
	// in. Nil means nobody ever is.
	Me func(r *http.Request) (*Me, bool)
	// Pending tells the login and registration pages which service system
	// a sign-in is for: next is the page's safe ?next= (a path such as
	// /oidc/authorize/callback?id=… or /cas/login/continue?id=…). It
	// returns the system's name and the address that takes the user back
	// to it without signing in, or false when next is no pending sign-in.
	// Nil means none ever is.
	Pending func(r *http.Request, next string) (clientName, backURL string, ok bool)
	// Enterprises returns the live enterprise memberships of the signed-in
	// user userID: the personal space shows 进入企业空间 when there is any,
	// and the page of an enterprise is shown to its members only. Nil
	// means nobody has any.
	Enterprises func(r *http.Request, userID string) ([]Membership, error)
	// EnterpriseLabels returns the permission labels a handler may carry
	// (enterprise.labels); nil or none leaves labels out of the forms.
	EnterpriseLabels func() []string
	// Identities returns whom the signed-in user of r may act for in
	// single sign-on (the identity page), or false when nobody is signed
	// in; an error when it cannot be told. Nil means nobody ever is.
	Identities func(r *http.Request) (Identities, bool, error)
	// Site names the platform and holds its help, hotline and legal texts.
	Site Site
	// SecureCookies marks the language cookie Secure (set under TLS).
	SecureCookies bool
	// RecoverMethods lists the ways of proof the recovery page offers;
	// RecoverWithCode says that security questions need a code as well.
	RecoverMethods  RecoverMethods
	RecoverWithCode bool
	// Unread returns how many of the user's records of each kind (cases,
	// consultations, …) are unread: the badges of the personal space's
	// tiles. Nil shows none.
	Unread func(r *http.Request, userID string) (map[string]int, error)
	// RecordSystems returns the service systems a records list of a kind
	// can be narrowed to, by name. Nil leaves the filter out.
	RecordSystems func(r *http.Request, lang i18n.Lang, plural string) ([]RecordSystem, error)
	// Upstreams lists the identity providers outside unid that people may
	// sign in, register, bind and recover with (Alipay, OpenID
	// providers), in the order their buttons appear. Nil or none leaves
	// every such button and the 账号绑定 section out.
	Upstreams func() []UpstreamButton
}

// Pages serves the HTML pages and their static assets. The app mounts its
// handlers; Pages builds no mux of its own.
type Pages struct {
	o      Options
	log    *slog.Logger
	cat    *i18n.Catalog
	pages  *pagekit.Set
	assets *pagekit.Assets
	js     map[i18n.Lang]map[string]string // messages for the page scripts
}

// New parses every page of the table and checks every message key the
// pages use; any problem is returned here, at start-up, rather than shown
// to a user.
func New(o Options) (*Pages, error) {
	if o.Catalog == nil {
		return nil, errors.New("web: Options.Catalog is required")
	}
	p := &Pages{o: o, log: o.Logger, cat: o.Catalog}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if p.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	p.js = pagekit.JSMessages(p.cat, jsPrefix)
	// The enterprise pages' script messages live with their other texts
	// (page.enterprise.js.*); the scripts read them as ent_*.
	for lang, m := range pagekit.JSMessages(p.cat, "page.enterprise.js.") {
		for k, v := range m {
			p.js[lang]["ent_"+k] = v
		}
	}
	for lang, m := range p.js {
		// The personal space names the scopes a system was granted.
		for _, scope := range scopeNames() {
			m["scope."+scope] = p.cat.T(lang, "page.consent.scope."+scope)
		}
	}
	if p.pages, err = p.newSet(templateFS); err != nil {
		return nil, err
	}
	return p, nil
}

// jsPrefix marks the messages that the page scripts need; each page
// carries them, without the prefix, in a JSON block.
const jsPrefix = "page.js."

// Home sends a signed-in user to the personal space and anyone else to the
// login page.
func (p *Pages) Home(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		p.NotFound(w, r)
		return
	}
	p.lang(w, r)
	w.Header().Set("Cache-Control", "no-store")
	if _, ok := p.me(r); ok {
		http.Redirect(w, r, "/me", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

type loginData struct {
	Next         string // where to go after signing in; always a safe path
	Client       string // the service system the sign-in is for, or ""
	Back         string // back to that system without signing in
	RegisterHref string // the registration page, carrying Next
	Upstreams    []upstreamLink
	Error        string // why signing in with a provider failed, or ""
}

// Login serves the login page. After signing in, login.js goes to ?next=
// when it is a path on this site, else to /me. Someone already signed in
// goes straight there, unless next is a pending single sign-on: the
// service system sent them here because it wants the password (again).
func (p *Pages) Login(w http.ResponseWriter, r *http.Request) {
	lang := p.lang(w, r)
	next := httpx.SafeNext(r.URL.Query().Get("next"))
	client, back, pending := p.pending(r, next)
	if _, ok := p.me(r); ok && !pending {
		if next == "" {
			next = "/me"
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	d := loginData{Next: next, Client: client, Back: back, RegisterHref: withNext("/register", next),
		Upstreams: p.upstreamLinks(lang, "signin", next, "page.login.upstream"),
		Error:     p.upstreamError(lang, r.URL.Query().Get("upstream_error"))}
	if d.Next == "" {
		d.Next = "/me"
	}
	p.render(w, r, lang, 0, pageLogin, d)
}

type registerData struct {
	Next      string // where to go once registered; always a safe path
	Client    string // the service system the sign-in is for, or ""
	LoginHref string // the login page, carrying Next
	Alipay    string // 支付宝快捷注册, when Alipay is configured; or ""
}

// Register serves the registration page. A ?next= is carried through: a
// person who came from a service system's sign-in goes back into it once
// registered.
func (p *Pages) Register(w http.ResponseWriter, r *http.Request) {
	lang := p.lang(w, r)
	next := httpx.SafeNext(r.URL.Query().Get("next"))
	client, _, _ := p.pending(r, next)
	d := registerData{Next: next, Client: client, LoginHref: withNext("/login", next)}
	if u, ok := p.upstream(kindAlipay); ok && u.Kind == kindAlipay {
		d.Alipay = upstreamStart(u.ID, "signin", next)
	}
	if d.Next == "" {
		d.Next = "/me"
	}
	p.render(w, r, lang, 0, pageRegister, d)
}

// withNext is path carrying next, when there is one.
func withNext(path, next string) string {
	if next == "" || next == "/me" {
		return path
	}
	return path + "?next=" + url.QueryEscape(next)
}

func (p *Pages) pending(r *http.Request, next string) (client, back string, ok bool) {
	if p.o.Pending == nil || next == "" {
		return "", "", false
	}
	return p.o.Pending(r, next)
}

// Me serves the personal space, or sends a visitor who is not signed in to
// the login page, to come back here afterwards.
func (p *Pages) Me(w http.ResponseWriter, r *http.Request) {
	lang := p.lang(w, r)
	me, ok := p.me(r)
	if !ok {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, "/login?next=/me", http.StatusSeeOther)
		return
	}
	p.render(w, r, lang, 0, pageMe, p.meData(lang, me, len(p.memberships(r, me)) > 0, p.unread(r, me.ID)))
}

// NotFound serves a 404 page in the user's language.
func (p *Pages) NotFound(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, p.lang(w, r), 0, pageNotFound, struct{}{})
}

// Privacy serves the privacy notice, which registration asks the user to
// agree to.
func (p *Pages) Privacy(w http.ResponseWriter, r *http.Request) {
	lang := p.lang(w, r)
	p.render(w, r, lang, 0, pagePrivacy, p.documentData(lang, pagePrivacy))
}

// Terms serves the user agreement, which registration asks the user to
// agree to.
func (p *Pages) Terms(w http.ResponseWriter, r *http.Request) {
	lang := p.lang(w, r)
	p.render(w, r, lang, 0, pageTerms, p.documentData(lang, pageTerms))
}

type documentData struct {
	Blocks []block
}

func (p *Pages) documentData(lang i18n.Lang, name string) documentData {
	if name == pagePrivacy {
		return documentData{Blocks: blocks(siteText(p.o.Site.PrivacyNotice, name, lang))}
	}
	return documentData{Blocks: blocks(siteText(p.o.Site.UserAgreement, name, lang))}
}

func (p *Pages) me(r *http.Request) (*Me, bool) {
	if p.o.Me == nil {
		return nil, false
	}
	me, ok := p.o.Me(r)
	return me, ok && me != nil
}

// lang returns the language for r; a valid ?lang= is also remembered in the
// unid_lang cookie, which the JSON API reads too.
func (p *Pages) lang(w http.ResponseWriter, r *http.Request) i18n.Lang {
	return pagekit.Lang(w, r, p.o.SecureCookies)
}
