package web

import (
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"unid/internal/account"
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
	// SecureCookies marks the language cookie Secure (set under TLS).
	SecureCookies bool
}

// Pages serves the HTML pages and their static assets. The app mounts its
// handlers; Pages builds no mux of its own.
type Pages struct {
	o      Options
	log    *slog.Logger
	cat    *i18n.Catalog
	pages  map[string]*template.Template
	assets *assets
	js     map[i18n.Lang]map[string]string // page.js.* messages for app.js
}

// New parses every template and checks every message key the pages use; any
// problem is returned here, at start-up, rather than shown to a user.
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
	if p.pages, err = parsePages(templateFS, p.assets, p.cat.Has); err != nil {
		return nil, err
	}
	var missing []error
	for _, k := range goKeys() {
		if !p.cat.Has(k) {
			missing = append(missing, fmt.Errorf("web: message %q is missing from the catalog", k))
		}
	}
	if err := errors.Join(missing...); err != nil {
		return nil, err
	}
	p.js = make(map[i18n.Lang]map[string]string, len(i18n.Langs))
	for _, lang := range i18n.Langs {
		m := make(map[string]string)
		for _, k := range p.cat.Keys() {
			if name, ok := strings.CutPrefix(k, jsPrefix); ok {
				m[name] = p.cat.T(lang, k)
			}
		}
		p.js[lang] = m
	}
	if err := p.dryRun(); err != nil {
		return nil, err
	}
	return p, nil
}

// jsPrefix marks the messages that app.js needs; each page carries them,
// without the prefix, in a JSON block.
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

// Login serves the login page. After signing in, app.js goes to ?next= when
// it is a path on this site, else to /me.
func (p *Pages) Login(w http.ResponseWriter, r *http.Request) {
	lang := p.lang(w, r)
	next := SafeNext(r.URL.Query().Get("next"))
	if next == "" {
		next = "/me"
	}
	p.renderLogin(w, r, lang, loginData{Next: next})
}

// Register serves the registration page.
func (p *Pages) Register(w http.ResponseWriter, r *http.Request) {
	p.renderRegister(w, r, p.lang(w, r))
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
	p.renderMe(w, r, lang, me)
}

// NotFound serves a 404 page in the user's language.
func (p *Pages) NotFound(w http.ResponseWriter, r *http.Request) {
	p.renderNotFound(w, r, p.lang(w, r))
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
	if l, ok := i18n.Parse(r.URL.Query().Get("lang")); ok {
		http.SetCookie(w, &http.Cookie{
			Name:     i18n.CookieName,
			Value:    string(l),
			Path:     "/",
			MaxAge:   int(langCookieAge / time.Second),
			Expires:  time.Now().Add(langCookieAge),
			SameSite: http.SameSiteLaxMode,
			Secure:   p.o.SecureCookies,
		})
		return l
	}
	return i18n.Negotiate(r)
}

const langCookieAge = 365 * 24 * time.Hour

// SafeNext returns next when it is a path on this site, and "" otherwise.
// It accepts only an absolute path: "/" followed by anything but a second
// "/" or a "\" (both of which browsers read as the start of another host),
// with no control characters (browsers drop tabs and newlines, turning
// "/\t/evil.example" into "//evil.example") and no backslash at all.
func SafeNext(next string) string {
	if len(next) == 0 || len(next) > 2048 || next[0] != '/' {
		return ""
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return ""
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return ""
		}
	}
	return next
}
