package console

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
	"reflect"
	"time"

	"unid/internal/httpx/pagekit"
	"unid/internal/i18n"
)

//go:embed templates
var templateFS embed.FS

// page is one entry of the console's page table: its template
// (templates/<name>.html, parsed with the layout), its script under
// static/, its messages and a sample for the start-up dry run, as in the
// citizens' pages.
type page struct {
	name   string
	title  string // message key; default console.page.<name>.title
	status int    // default 200
	script string // the page's own script under static/, or ""
	sample func(c *Console, lang i18n.Lang) any
}

// The names of the pages.
const (
	pageSignIn   = "sign_in"
	pageSetup    = "setup"
	pageReviews  = "reviews"
	pageReview   = "review"
	pageNotFound = "notfound"
)

// sampleOperator is the signed-in operator of the dry run.
var sampleOperator = &header{LoginName: "sample", Roles: []string{"reviewer", "auditor"}}

// pageTable is every console page.
var pageTable = []page{
	{name: pageSignIn, script: "sign_in.js", sample: func(*Console, i18n.Lang) any { return signInData{Expired: true, Next: "/console/"} }},
	{name: pageSetup, script: "setup.js", sample: func(*Console, i18n.Lang) any { return struct{}{} }},
	{name: pageReviews, script: "reviews.js", sample: func(c *Console, lang i18n.Lang) any {
		return c.reviewsData(lang, sampleOperator, []string{"realname.counter", "realname.appeal"})
	}},
	{name: pageReview, script: "review.js", sample: func(c *Console, lang i18n.Lang) any {
		return reviewData{Chrome: c.chrome(lang, sampleOperator, pageReviews), ID: "x", CanDecide: true}
	}},
	{name: pageNotFound, status: http.StatusNotFound, sample: func(*Console, i18n.Lang) any { return struct{}{} }},
}

func (pg *page) titleKey() string {
	if pg.title != "" {
		return pg.title
	}
	return "console.page." + pg.name + ".title"
}

type parsed struct {
	page
	t        *template.Template
	dataType reflect.Type
}

// view is what every template receives.
type view struct {
	Lang      i18n.Lang
	OtherLang i18n.Lang
	LangHref  string
	Page      string
	Title     string
	Site      string
	Dev       bool
	Script    string
	Idle      int // the idle timeout in seconds, for the page's timer
	JS        map[string]string
	Data      any
	cat       *i18n.Catalog
}

// T translates key into the page's language.
func (v *view) T(key string, kv ...string) string { return v.cat.T(v.Lang, key, kv...) }

func parsePages(fsys fs.FS, a *pagekit.Assets, has func(string) bool) (map[string]*parsed, error) {
	funcs := template.FuncMap{"static": a.URL}
	pages := make(map[string]*parsed, len(pageTable))
	var errs []error
	for _, pg := range pageTable {
		t, err := template.New(pg.name).Funcs(funcs).ParseFS(fsys, "templates/layout.html", "templates/"+pg.name+".html")
		if err != nil {
			errs = append(errs, fmt.Errorf("console: parse %s: %w", pg.name, err))
			continue
		}
		if err := pagekit.MissingMessages(t, has); err != nil {
			errs = append(errs, fmt.Errorf("console: page %s: %w", pg.name, err))
		}
		if !has(pg.titleKey()) {
			errs = append(errs, fmt.Errorf("console: page %s needs message %q", pg.name, pg.titleKey()))
		}
		if pg.script != "" {
			if _, err := a.URL(pg.script); err != nil {
				errs = append(errs, fmt.Errorf("console: page %s: %w", pg.name, err))
			}
		}
		pages[pg.name] = &parsed{page: pg, t: t}
	}
	return pages, errors.Join(errs...)
}

// dryRun renders every page in every language with its sample.
func (c *Console) dryRun() error {
	var errs []error
	r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/console/"}}
	for _, pg := range c.pages {
		for _, lang := range i18n.Langs {
			data := pg.sample(c, lang)
			pg.dataType = reflect.TypeOf(data)
			if err := c.execute(io.Discard, r, lang, pg, data); err != nil {
				errs = append(errs, fmt.Errorf("console: render %s in %s: %w", pg.name, lang, err))
			}
		}
	}
	return errors.Join(errs...)
}

// contentSecurityPolicy allows only what unid serves itself; data: images
// carry the set-up QR code.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// render writes page name with data in lang; status 0 is the page's own.
func (c *Console) render(w http.ResponseWriter, r *http.Request, lang i18n.Lang, status int, name string, data any) {
	pg := c.pages[name]
	var buf bytes.Buffer
	err := fmt.Errorf("console: no page %q", name)
	if pg != nil {
		err = fmt.Errorf("console: page %s takes %v, not %T", name, pg.dataType, data)
		if reflect.TypeOf(data) == pg.dataType {
			err = c.execute(&buf, r, lang, pg, data)
		}
	}
	if err != nil {
		c.log.ErrorContext(r.Context(), "render console page", "page", name, "err", err)
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
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (c *Console) execute(w io.Writer, r *http.Request, lang i18n.Lang, pg *parsed, data any) error {
	other := i18n.EN
	if lang == i18n.EN {
		other = i18n.ZH
	}
	q := url.Values{}
	q.Set("lang", string(other))
	v := &view{
		Lang: lang, OtherLang: other, LangHref: "?" + q.Encode(), Page: pg.name,
		Title: c.cat.T(lang, pg.titleKey()), Site: c.cat.T(lang, "console.site.name"), Dev: c.o.Dev,
		Script: pg.script, JS: c.js[lang], Data: data, cat: c.cat,
		Idle: int(c.o.Operators.Options().Idle / time.Second),
	}
	return pg.t.ExecuteTemplate(w, "layout", v)
}

// jsPrefix marks the messages the console scripts need.
const jsPrefix = "console.js."
