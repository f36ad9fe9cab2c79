package pagekit

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"sync"

	"unid/internal/i18n"
)

// Page is one entry of an adapter's page table, as pagekit needs it.
type Page struct {
	Name   string
	Files  []string // the template files parsed for it; the "layout" template is what runs
	Title  string   // message key of the title
	Status int      // the status it is served with; 0 is 200
	Script string   // its own script among the assets, or ""
	Keys   []string // messages its Go code builds (the templates' own are found in them)
	// NoEcho keeps the query out of the language link: the page must not
	// repeat an address that came from whoever made the link.
	NoEcho bool
	// Sample is data for the start-up dry run. Its type is the page's data
	// type: Render refuses data of any other type.
	Sample func(lang i18n.Lang) any
}

// View is what every template receives, inside the adapter's own view
// that embeds it: the page's data in Data, and what the layout needs.
// Templates translate with {{.T "key"}} (or {{$.T}} inside range and with).
type View struct {
	Lang      i18n.Lang
	OtherLang i18n.Lang // the language the switch link offers
	LangHref  string    // the current page in OtherLang
	Page      string
	Title     string
	Dev       bool
	Script    string            // the page's own script, or ""
	JS        map[string]string // messages for the page scripts
	Data      any
	cat       *i18n.Catalog
}

// T translates key into the page's language.
func (v *View) T(key string, kv ...string) string { return v.cat.T(v.Lang, key, kv...) }

// Options configures a Set.
type Options struct {
	Name    string // the adapter, e.g. "web": starts every error
	FS      fs.FS  // holds the pages' template files
	Assets  *Assets
	Catalog *i18n.Catalog
	Logger  *slog.Logger // receives render failures; nil discards them
	Dev     bool         // shows the development banner
	JS      map[i18n.Lang]map[string]string
	CSP     string // the pages' Content-Security-Policy
	Gzip    bool   // gzip the page for a browser that takes it
	// View wraps the common view in the adapter's own, which embeds it;
	// nil gives the templates View itself.
	View func(v View) any
}

// Set is an adapter's pages, checked and ready to render.
//
// A page's templates are parsed and dry-run at start-up, then let go, and
// parsed again at its first render: an instance keeps in memory only the
// pages it serves. An instance that only issues tokens keeps none, and an
// idle one keeps about 5 MiB less (docs/performance.md, "Idle memory").
type Set struct {
	o     Options
	log   *slog.Logger
	funcs template.FuncMap
	pages map[string]*parsed
}

type parsed struct {
	Page
	dataType reflect.Type

	once sync.Once
	t    *template.Template // nil until the first render
	err  error
}

// parse parses the page's files.
func (s *Set) parse(pg Page) (*template.Template, error) {
	return template.New(pg.Name).Funcs(s.funcs).ParseFS(s.o.FS, pg.Files...)
}

// template is pg's templates, parsed at the first call. The start-up
// check parsed the same files, so an error here is the file system's.
func (s *Set) template(pg *parsed) (*template.Template, error) {
	pg.once.Do(func() { pg.t, pg.err = s.parse(pg.Page) })
	return pg.t, pg.err
}

// maxEchoedQuery bounds the query the language link repeats. The single
// sign-on endpoints refuse longer queries with a page (oidc's
// maxQueryBytes), and that page must not send the oversize request back.
const maxEchoedQuery = 8 << 10

// NewSet parses every page with its files and checks every message key the
// pages use and every script they name, then renders each with its sample
// in every language, so that any problem stops the server at start-up
// instead of being shown to a user.
func NewSet(pages []Page, o Options) (*Set, error) {
	s := &Set{o: o, log: o.Logger, funcs: template.FuncMap{"static": o.Assets.URL}, pages: make(map[string]*parsed, len(pages))}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var errs []error
	r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/"}}
	for _, pg := range pages {
		t, err := s.parse(pg)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: parse %s: %w", o.Name, pg.Name, err))
			continue
		}
		if err := MissingMessages(t, o.Catalog.Has); err != nil {
			errs = append(errs, fmt.Errorf("%s: page %s: %w", o.Name, pg.Name, err))
		}
		for _, k := range append([]string{pg.Title}, pg.Keys...) {
			if !o.Catalog.Has(k) {
				errs = append(errs, fmt.Errorf("%s: page %s needs message %q, which is missing from the catalog", o.Name, pg.Name, k))
			}
		}
		if pg.Script != "" {
			if _, err := o.Assets.URL(pg.Script); err != nil {
				errs = append(errs, fmt.Errorf("%s: page %s: %w", o.Name, pg.Name, err))
			}
		}
		p := &parsed{Page: pg}
		s.pages[pg.Name] = p
		// Each page is tried as soon as it is parsed and then dropped, so
		// that start-up never holds every page's templates at once.
		errs = append(errs, s.dryRun(r, p, t))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// dryRun renders a page in every language with its sample, and records
// the sample's type as the page's data type, so that a template that parses
// but cannot execute also stops the server.
func (s *Set) dryRun(r *http.Request, pg *parsed, t *template.Template) error {
	var errs []error
	for _, lang := range i18n.Langs {
		data := pg.Sample(lang)
		pg.dataType = reflect.TypeOf(data)
		if err := s.execute(io.Discard, r, lang, pg, t, data); err != nil {
			errs = append(errs, fmt.Errorf("%s: render %s in %s: %w", s.o.Name, pg.Name, lang, err))
		}
	}
	return errors.Join(errs...)
}

// Render writes page name with data, in lang, with the page headers;
// status 0 is the page's own. A template that fails (which the dry run
// makes unlikely) or data of the wrong type is a bare 500.
func (s *Set) Render(w http.ResponseWriter, r *http.Request, lang i18n.Lang, status int, name string, data any) {
	pg := s.pages[name]
	var buf bytes.Buffer
	err := fmt.Errorf("%s: no page %q", s.o.Name, name)
	if pg != nil {
		err = fmt.Errorf("%s: page %s takes %v, not %T", s.o.Name, name, pg.dataType, data)
		if reflect.TypeOf(data) == pg.dataType {
			var t *template.Template
			if t, err = s.template(pg); err == nil {
				err = s.execute(&buf, r, lang, pg, t, data)
			}
		}
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "render page", "page", name, "lang", string(lang), "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	if status == 0 {
		status = pg.Status
	}
	if status == 0 {
		status = http.StatusOK
	}
	h := w.Header()
	SetHeaders(h, s.o.CSP)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", string(lang))
	body := buf.Bytes()
	if s.o.Gzip {
		h.Add("Vary", "Accept-Encoding")
		if AcceptsGzip(r.Header.Get("Accept-Encoding")) {
			var gz bytes.Buffer
			zw := gzipWriters.Get().(*gzip.Writer)
			zw.Reset(&gz)
			zw.Write(body)
			zw.Close()
			zw.Reset(io.Discard) // let go of this answer before pooling
			gzipWriters.Put(zw)
			body = gz.Bytes()
			h.Set("Content-Encoding", "gzip")
		}
	}
	w.WriteHeader(status)
	w.Write(body)
}

// gzipWriters are the compressors of pages, reused: a new one is most of
// a megabyte of garbage for every page served.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
	return zw
}}

func (s *Set) execute(w io.Writer, r *http.Request, lang i18n.Lang, pg *parsed, t *template.Template, data any) error {
	other := i18n.EN
	if lang == i18n.EN {
		other = i18n.ZH
	}
	// The switch link is query-only ("?lang=en&next=..."), so it always
	// stays on the current page, whatever the path looks like.
	q := url.Values{}
	if len(r.URL.RawQuery) <= maxEchoedQuery && !pg.NoEcho {
		q = r.URL.Query()
	}
	q.Set("lang", string(other))
	v := View{
		Lang:      lang,
		OtherLang: other,
		LangHref:  "?" + q.Encode(),
		Page:      pg.Name,
		Title:     s.o.Catalog.T(lang, pg.Title),
		Dev:       s.o.Dev,
		Script:    pg.Script,
		JS:        s.o.JS[lang],
		Data:      data,
		cat:       s.o.Catalog,
	}
	var view any = &v
	if s.o.View != nil {
		view = s.o.View(v)
	}
	return t.ExecuteTemplate(w, "layout", view)
}
