package console

import (
	"embed"
	"io/fs"
	"net/http"
	"slices"
	"time"

	"unid/internal/httpx/pagekit"
	"unid/internal/i18n"
	"unid/internal/operator"
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
	pageSignIn    = "sign_in"
	pageSetup     = "setup"
	pageReviews   = "reviews"
	pageReview    = "review"
	pageNotFound  = "notfound"
	pageForbidden = "forbidden"

	pageAddressForbidden = "address_forbidden"
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
	{name: pageForbidden, status: http.StatusForbidden, sample: func(c *Console, lang i18n.Lang) any {
		return sectionData{Chrome: c.chrome(lang, sampleOperator, "")}
	}},
	{name: pageAddressForbidden, status: http.StatusForbidden, sample: func(*Console, i18n.Lang) any { return struct{}{} }},
}

// sampleEveryRole is the operator of a section page's dry run.
var sampleEveryRole = &header{LoginName: "sample", Roles: operator.Roles}

// pages is the page table with a page for each section that has no pages
// of its own.
func pages() []page {
	out := slices.Clone(pageTable)
	for _, s := range sections {
		if s.own {
			continue
		}
		out = append(out, page{name: s.name, title: "console.section." + s.name + ".title", script: s.name + ".js",
			sample: func(c *Console, lang i18n.Lang) any {
				return sectionData{Chrome: c.chrome(lang, sampleEveryRole, s.name), Roles: operator.Roles}
			}})
	}
	return out
}

func (pg *page) titleKey() string {
	if pg.title != "" {
		return pg.title
	}
	return "console.page." + pg.name + ".title"
}

// view is what every template receives: pagekit's common view, the site's
// name and the idle timeout in seconds, for the page's timer.
type view struct {
	pagekit.View
	Site string
	Idle int
}

// newSet parses each page of the table with the layout, checks every
// message key the pages use, and dry-runs them.
func (c *Console) newSet(fsys fs.FS) (*pagekit.Set, error) {
	table := pages()
	out := make([]pagekit.Page, 0, len(table))
	for _, pg := range table {
		out = append(out, pagekit.Page{
			Name:   pg.name,
			Files:  []string{"templates/layout.html", "templates/" + pg.name + ".html"},
			Title:  pg.titleKey(),
			Status: pg.status,
			Script: pg.script,
			NoEcho: true, // the console's language link never repeats a query
			Sample: func(lang i18n.Lang) any { return pg.sample(c, lang) },
		})
	}
	return pagekit.NewSet(out, pagekit.Options{
		Name: "console", FS: fsys, Assets: c.assets, Catalog: c.cat, Logger: c.log, Dev: c.o.Dev,
		JS: c.js, CSP: contentSecurityPolicy,
		View: func(v pagekit.View) any {
			return &view{View: v, Site: c.cat.T(v.Lang, "console.site.name"), Idle: int(c.o.Operators.Options().Idle / time.Second)}
		},
	})
}

// contentSecurityPolicy allows only what unid serves itself; data: images
// carry the set-up QR code.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// render writes page name with data in lang; status 0 is the page's own.
func (c *Console) render(w http.ResponseWriter, r *http.Request, lang i18n.Lang, status int, name string, data any) {
	c.pages.Render(w, r, lang, status, name, data)
}

// jsPrefix marks the messages the console scripts need.
const jsPrefix = "console.js."
