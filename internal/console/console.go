package console

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"unid/internal/httpx"
	"unid/internal/httpx/pagekit"
	"unid/internal/i18n"
	"unid/internal/operator"
)

// Options configures the console.
type Options struct {
	Dev       bool // shows the development banner
	Catalog   *i18n.Catalog
	Logger    *slog.Logger
	Operators *operator.Service
	// Kinds lists the review kinds of the inbox, for the queue's filter.
	Kinds func() []string
	// SecureCookies marks the language cookie Secure (set under TLS).
	SecureCookies bool
}

// Console serves the console pages.
type Console struct {
	o      Options
	log    *slog.Logger
	cat    *i18n.Catalog
	pages  *pagekit.Set
	assets *pagekit.Assets
	static http.Handler
	js     map[i18n.Lang]map[string]string
}

// New parses and checks every console page.
func New(o Options) (*Console, error) {
	if o.Catalog == nil || o.Operators == nil {
		return nil, errors.New("console: Options.Catalog and Options.Operators are required")
	}
	c := &Console{o: o, log: o.Logger, cat: o.Catalog}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if c.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	c.static = c.assets.Handler(c.NotFound)
	for _, s := range sections {
		for _, k := range []string{"console.section." + s.name + ".title", "console.section." + s.name + ".desc"} {
			if !c.cat.Has(k) {
				return nil, errors.New("console: section " + s.name + " needs message " + k)
			}
		}
	}
	c.js = pagekit.JSMessages(c.cat, jsPrefix)
	if c.pages, err = c.newSet(templateFS); err != nil {
		return nil, err
	}
	return c, nil
}

// section is one part of the console, at /console/<name>, shown to the
// operators holding one of its roles, with the messages
// console.section.<name>.title and .desc. A section is one page,
// templates/<name>.html with the script static/<name>.js, whose data is
// sectionData and which Routes serves to its roles (a 403 page to others);
// its script works through the operator API and shows an item of the
// section (a citizen, a system) from the page's query (?id=…). Reviews
// has pages of its own (own).
type section struct {
	name  string
	roles []string
	own   bool
}

var sections = []section{
	{name: "dashboard", roles: operator.Roles},
	{name: "reviews", roles: reviewRoles, own: true},
	{name: "citizens", roles: []string{operator.RoleSecadmin}},
	{name: "enterprises", roles: []string{operator.RoleSecadmin}},
	{name: "audit", roles: []string{operator.RoleAuditor}},
	{name: "systems", roles: []string{operator.RoleSysadmin}},
	{name: "operators", roles: []string{operator.RoleSysadmin}},
	{name: "security", roles: operator.Roles},
}

// reviewRoles may open the review queue.
var reviewRoles = []string{operator.RoleReviewer, operator.RoleAuditor}

// sectionData is what a section's page receives: the chrome, and the
// signed-in operator's roles for the script to show only what they may do.
type sectionData struct {
	Chrome chrome
	Roles  []string
}

// Routes lists the console's pages.
func (c *Console) Routes() []httpx.Route {
	out := []httpx.Route{
		{Pattern: "GET /console/{$}", Handler: c.Home},
		{Pattern: "GET /console/sign-in", Handler: c.SignIn},
		{Pattern: "GET /console/setup", Handler: c.Setup},
		{Pattern: "GET /console/reviews", Handler: c.Reviews},
		{Pattern: "GET /console/reviews/{id}", Handler: c.Review},
	}
	for _, s := range sections {
		if !s.own {
			out = append(out, httpx.Route{Pattern: "GET /console/" + s.name, Handler: c.section(s)})
		}
	}
	return append(out,
		httpx.Route{Pattern: "GET /console/static/", Handler: c.Static},
		httpx.Route{Pattern: "/console/", Handler: c.NotFound})
}

// section serves the page of s.
func (c *Console) section(s section) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sg, ok := c.signedIn(w, r)
		if !ok {
			return
		}
		lang := c.lang(w, r)
		w.Header().Set("Cache-Control", "no-store")
		ch := c.chrome(lang, headerOf(sg), s.name)
		if !hasAny(sg.Operator.Roles, s.roles) {
			c.render(w, r, lang, 0, pageForbidden, sectionData{Chrome: ch})
			return
		}
		c.render(w, r, lang, 0, s.name, sectionData{Chrome: ch, Roles: sg.Operator.Roles})
	}
}

// header is the signed-in operator, as the console's header shows them.
type header struct {
	LoginName string
	Roles     []string
}

// navLink is one entry of the navigation.
type navLink struct {
	Name, Href, Title string
	Current           bool
}

// chrome is what every signed-in page shows around its content.
type chrome struct {
	Me       *header
	Sections []navLink
}

func (c *Console) chrome(lang i18n.Lang, me *header, current string) chrome {
	ch := chrome{Me: me}
	for _, s := range sections {
		if !hasAny(me.Roles, s.roles) {
			continue
		}
		ch.Sections = append(ch.Sections, navLink{Name: s.name, Href: "/console/" + s.name, Current: s.name == current,
			Title: c.cat.T(lang, "console.section."+s.name+".title")})
	}
	return ch
}

// hasAny asks the operator package, the one place roles are compared.
func hasAny(roles, want []string) bool {
	return operator.HasAnyRole(roles, want...)
}

// lang returns the page's language; a valid ?lang= is remembered in the
// language cookie, as on the citizens' pages.
func (c *Console) lang(w http.ResponseWriter, r *http.Request) i18n.Lang {
	return pagekit.Lang(w, r, c.o.SecureCookies)
}

// signedIn returns the operator of r, or sends the browser to the sign-in
// page (saying that the session timed out, when it did) and false.
func (c *Console) signedIn(w http.ResponseWriter, r *http.Request) (operator.Signed, bool) {
	sg, state, err := c.o.Operators.Current(r.Context(), r)
	if err != nil {
		c.log.ErrorContext(r.Context(), "console session", "err", err)
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		return operator.Signed{}, false
	}
	if state == operator.Live {
		return sg, true
	}
	q := url.Values{"next": {r.URL.Path}}
	if state == operator.TimedOut {
		q.Set("expired", "1")
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/console/sign-in?"+q.Encode(), http.StatusSeeOther)
	return operator.Signed{}, false
}

func headerOf(sg operator.Signed) *header {
	return &header{LoginName: sg.Operator.LoginName, Roles: sg.Operator.Roles}
}

// safeNext keeps a ?next= only when it is a console path.
func safeNext(next string) string {
	if n := httpx.SafeNext(next); strings.HasPrefix(n, "/console/") {
		return n
	}
	return "/console/"
}

type signInData struct {
	Expired bool   // the session timed out: say so
	Next    string // where to go once signed in
}

// SignIn serves the sign-in page (GET /console/sign-in).
func (c *Console) SignIn(w http.ResponseWriter, r *http.Request) {
	lang := c.lang(w, r)
	q := r.URL.Query()
	c.render(w, r, lang, 0, pageSignIn, signInData{Expired: q.Get("expired") == "1", Next: safeNext(q.Get("next"))})
}

// Setup serves the set-up page (GET /console/setup); its script reads the
// token from the address's fragment.
func (c *Console) Setup(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, c.lang(w, r), 0, pageSetup, struct{}{})
}

// Home sends an operator to the first section their roles open.
func (c *Console) Home(w http.ResponseWriter, r *http.Request) {
	sg, ok := c.signedIn(w, r)
	if !ok {
		return
	}
	lang := c.lang(w, r)
	ch := c.chrome(lang, headerOf(sg), "")
	w.Header().Set("Cache-Control", "no-store")
	if len(ch.Sections) == 0 {
		// No section is open to these roles (none is: the dashboard is
		// every role's); the empty queue page would say so.
		c.render(w, r, lang, 0, pageReviews, reviewsData{Chrome: ch})
		return
	}
	http.Redirect(w, r, ch.Sections[0].Href, http.StatusSeeOther)
}

type kindOption struct {
	Value, Label string
}

type reviewsData struct {
	Chrome chrome
	Kinds  []kindOption
	Open   bool // the operator may open items (reviewer or auditor)
}

func (c *Console) reviewsData(lang i18n.Lang, me *header, kinds []string) reviewsData {
	d := reviewsData{Chrome: c.chrome(lang, me, "reviews"), Open: hasAny(me.Roles, reviewRoles)}
	for _, k := range kinds {
		label := k
		if key := "console.js.kind." + k; c.cat.Has(key) {
			label = c.cat.T(lang, key)
		}
		d.Kinds = append(d.Kinds, kindOption{Value: k, Label: label})
	}
	return d
}

func (c *Console) kinds() []string {
	if c.o.Kinds == nil {
		return nil
	}
	return c.o.Kinds()
}

// Reviews serves the review queue (GET /console/reviews).
func (c *Console) Reviews(w http.ResponseWriter, r *http.Request) {
	sg, ok := c.signedIn(w, r)
	if !ok {
		return
	}
	lang := c.lang(w, r)
	d := c.reviewsData(lang, headerOf(sg), c.kinds())
	if !d.Open {
		c.render(w, r, lang, http.StatusForbidden, pageReviews, d)
		return
	}
	c.render(w, r, lang, 0, pageReviews, d)
}

type reviewData struct {
	Chrome    chrome
	ID        string
	CanDecide bool // a reviewer; an auditor only reads
}

// Review serves one item of the queue (GET /console/reviews/{id}).
func (c *Console) Review(w http.ResponseWriter, r *http.Request) {
	sg, ok := c.signedIn(w, r)
	if !ok {
		return
	}
	lang := c.lang(w, r)
	if !hasAny(sg.Operator.Roles, reviewRoles) {
		c.render(w, r, lang, http.StatusForbidden, pageReviews, c.reviewsData(lang, headerOf(sg), nil))
		return
	}
	c.render(w, r, lang, 0, pageReview, reviewData{
		Chrome: c.chrome(lang, headerOf(sg), "reviews"), ID: r.PathValue("id"),
		CanDecide: hasAny(sg.Operator.Roles, []string{operator.RoleReviewer}),
	})
}

// NotFound serves the console's 404 page.
func (c *Console) NotFound(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, c.lang(w, r), 0, pageNotFound, struct{}{})
}
