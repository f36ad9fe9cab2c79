package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"text/template/parse"

	"unid/internal/claims"
	"unid/internal/i18n"
)

//go:embed templates
var templateFS embed.FS

// The pages. Each is templates/<name>.html, parsed together with the layout
// and the partials.
const (
	pageLogin    = "login"
	pageRegister = "register"
	pageMe       = "me"
	pageNotFound = "notfound"
)

var pageNames = []string{pageLogin, pageRegister, pageMe, pageNotFound}

// view is what every template receives: the page's own data in Data, and
// what the layout needs. Templates translate with {{.T "key"}} (or {{$.T}}
// inside range and with).
type view[D any] struct {
	Lang      i18n.Lang
	OtherLang i18n.Lang // the language the switch link offers
	LangHref  string    // the current page in OtherLang
	Page      string
	TitleKey  string
	Dev       bool
	JS        map[string]string // messages for app.js
	Data      D
	cat       *i18n.Catalog
}

// T translates key into the page's language.
func (v *view[D]) T(key string, kv ...string) string { return v.cat.T(v.Lang, key, kv...) }

type loginData struct {
	Next string // where to go after signing in; always a safe path
}

type meData struct {
	Me            *Me
	Level         int
	LevelKey      string
	AccountTiles  []tile
	BusinessTiles []tile
}

// tile is a personal-space entry. None is built yet, so each is shown as
// "coming soon" rather than as a link that leads nowhere.
type tile struct {
	ID    string // element id: tile-<name>
	Icon  string // name of an icon in templates/icons.html
	Title string
	Desc  string
	Soon  string // the "coming soon" mark
}

var (
	accountTiles  = []string{"settings", "enterprise", "authorize"}
	businessTiles = []string{"cases", "consultations", "messages", "complaints", "favorites"}
)

func titleKey(page string) string { return "page." + page + ".title" }

func levelKey(level int) string { return "page.me.level." + strconv.Itoa(level) }

// goKeys lists the message keys that Go code builds; the keys written in
// templates are checked by parsePages.
func goKeys() []string {
	var keys []string
	for _, page := range pageNames {
		keys = append(keys, titleKey(page))
	}
	for level := 0; level <= 3; level++ {
		keys = append(keys, levelKey(level))
	}
	for _, name := range append(append([]string{}, accountTiles...), businessTiles...) {
		keys = append(keys, "page.me.tile."+name, "page.me.tile."+name+"_desc")
	}
	return keys
}

// parsePages parses each page with the layout and partials, and checks that
// every {{.T "key"}} names a message that exists.
func parsePages(fsys fs.FS, a *assets, has func(string) bool) (map[string]*template.Template, error) {
	funcs := template.FuncMap{"static": a.url}
	pages := make(map[string]*template.Template, len(pageNames))
	var errs []error
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(fsys,
			"templates/layout.html", "templates/partials.html", "templates/icons.html",
			"templates/"+name+".html")
		if err != nil {
			errs = append(errs, fmt.Errorf("web: parse %s: %w", name, err))
			continue
		}
		for _, tt := range t.Templates() {
			if tt.Tree == nil {
				continue
			}
			walkKeys(tt.Tree.Root, func(key string) {
				if !has(key) {
					errs = append(errs, fmt.Errorf("web: template %q (page %s) uses message %q, which is missing from the catalog", tt.Name(), name, key))
				}
			})
		}
		pages[name] = t
	}
	return pages, errors.Join(errs...)
}

// walkKeys calls f with the constant key of every call of T in the tree.
func walkKeys(n parse.Node, f func(string)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walkKeys(c, f)
		}
	case *parse.ActionNode:
		walkKeys(n.Pipe, f)
	case *parse.IfNode:
		walkKeys(n.Pipe, f)
		walkKeys(n.List, f)
		walkKeys(n.ElseList, f)
	case *parse.RangeNode:
		walkKeys(n.Pipe, f)
		walkKeys(n.List, f)
		walkKeys(n.ElseList, f)
	case *parse.WithNode:
		walkKeys(n.Pipe, f)
		walkKeys(n.List, f)
		walkKeys(n.ElseList, f)
	case *parse.TemplateNode:
		walkKeys(n.Pipe, f)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walkKeys(c, f)
		}
	case *parse.CommandNode:
		if len(n.Args) >= 2 && isT(n.Args[0]) {
			if s, ok := n.Args[1].(*parse.StringNode); ok {
				f(s.Text)
			}
		}
		for _, a := range n.Args {
			walkKeys(a, f)
		}
	}
}

// isT reports whether n is .T or $.T.
func isT(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.FieldNode:
		return len(n.Ident) == 1 && n.Ident[0] == "T"
	case *parse.VariableNode:
		return len(n.Ident) == 2 && n.Ident[0] == "$" && n.Ident[1] == "T"
	}
	return false
}

// dryRun renders every page in every language once, so that a template
// that parses but cannot execute also stops New.
func (p *Pages) dryRun() error {
	var errs []error
	sample := &Me{LoginName: "sample", Phone: "138****0000", IDNumber: "3701**********0000", RealName: "*三", Email: "s***@example.com", RealnameLevel: 1}
	for _, lang := range i18n.Langs {
		r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/"}}
		for _, page := range pageNames {
			var err error
			switch page {
			case pageLogin:
				err = execute(p, io.Discard, r, lang, page, loginData{Next: "/me"})
			case pageRegister, pageNotFound:
				err = execute(p, io.Discard, r, lang, page, struct{}{})
			case pageMe:
				err = execute(p, io.Discard, r, lang, page, p.meData(lang, sample))
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("web: render %s in %s: %w", page, lang, err))
			}
		}
	}
	return errors.Join(errs...)
}

func (p *Pages) renderLogin(w http.ResponseWriter, r *http.Request, lang i18n.Lang, d loginData) {
	render(p, w, r, http.StatusOK, lang, pageLogin, d)
}

func (p *Pages) renderRegister(w http.ResponseWriter, r *http.Request, lang i18n.Lang) {
	render(p, w, r, http.StatusOK, lang, pageRegister, struct{}{})
}

func (p *Pages) renderMe(w http.ResponseWriter, r *http.Request, lang i18n.Lang, me *Me) {
	render(p, w, r, http.StatusOK, lang, pageMe, p.meData(lang, me))
}

func (p *Pages) renderNotFound(w http.ResponseWriter, r *http.Request, lang i18n.Lang) {
	render(p, w, r, http.StatusNotFound, lang, pageNotFound, struct{}{})
}

func (p *Pages) meData(lang i18n.Lang, me *Me) meData {
	level := claims.ClampLevel(me.RealnameLevel)
	build := func(names []string) []tile {
		ts := make([]tile, len(names))
		for i, n := range names {
			ts[i] = tile{
				ID:    "tile-" + n,
				Icon:  n,
				Title: p.cat.T(lang, "page.me.tile."+n),
				Desc:  p.cat.T(lang, "page.me.tile."+n+"_desc"),
				Soon:  p.cat.T(lang, "page.site.coming_soon"),
			}
		}
		return ts
	}
	return meData{
		Me:            me,
		Level:         level,
		LevelKey:      levelKey(level),
		AccountTiles:  build(accountTiles),
		BusinessTiles: build(businessTiles),
	}
}

// render writes a page with the page headers, or a bare 500 when the
// template fails (which the dry run in New makes unlikely).
func render[D any](p *Pages, w http.ResponseWriter, r *http.Request, status int, lang i18n.Lang, page string, data D) {
	var buf bytes.Buffer
	if err := execute(p, &buf, r, lang, page, data); err != nil {
		p.log.ErrorContext(r.Context(), "render page", "page", page, "lang", string(lang), "err", err)
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

func execute[D any](p *Pages, w io.Writer, r *http.Request, lang i18n.Lang, page string, data D) error {
	other := i18n.EN
	if lang == i18n.EN {
		other = i18n.ZH
	}
	// The switch link is query-only ("?lang=en&next=..."), so it always
	// stays on the current page, whatever the path looks like.
	q := r.URL.Query()
	q.Set("lang", string(other))
	v := &view[D]{
		Lang:      lang,
		OtherLang: other,
		LangHref:  "?" + q.Encode(),
		Page:      page,
		TitleKey:  titleKey(page),
		Dev:       p.o.Dev,
		JS:        p.js[lang],
		Data:      data,
		cat:       p.cat,
	}
	return p.pages[page].ExecuteTemplate(w, "layout", v)
}

// contentSecurityPolicy allows only what unid serves itself: no inline
// script or style, no framing, forms post only here.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

func setPageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
}
