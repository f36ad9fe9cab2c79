package pagekit

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"text/template/parse"

	"unid/internal/i18n"
)

func TestAcceptsGzip(t *testing.T) {
	tests := map[string]bool{
		"gzip": true, "gzip, deflate, br": true, "br;q=1.0, GZIP;q=0.5": true,
		"": false, "identity": false, "gzip;q=0": false, "deflate, gzip; q=0.0": false, "x-gzip": false,
	}
	for h, want := range tests {
		if got := AcceptsGzip(h); got != want {
			t.Errorf("AcceptsGzip(%q) = %v, want %v", h, got, want)
		}
	}
}

// TestKeysFindsEveryConstantKey checks the walk behind the start-up check
// that stops a template using a key the catalog lacks.
func TestKeysFindsEveryConstantKey(t *testing.T) {
	src := `{{define "x"}}{{.T "a.one"}}{{if .X}}{{$.T "a.two" "n" "1"}}{{else}}{{range .Y}}{{$.T "a.three"}}{{end}}{{end}}` +
		`{{with .Z}}{{template "y" ($.T "a.four")}}{{end}}{{.T .Dynamic}}{{.Other "not.a.key"}}{{end}}`
	trees, err := parse.Parse("x", src, "{{", "}}", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	Keys(trees["x"].Root, func(k string) { got = append(got, k) })
	want := []string{"a.one", "a.two", "a.three", "a.four"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("keys %v, want %v", got, want)
	}
}

func TestMissingMessages(t *testing.T) {
	tpl := template.Must(template.New("page").Parse(`{{define "layout"}}{{.T "a.known"}}{{template "content" .}}{{end}}` +
		`{{define "content"}}{{range .X}}{{$.T "a.missing"}}{{end}}{{end}}`))
	has := func(k string) bool { return k == "a.known" }
	err := MissingMessages(tpl, has)
	if err == nil || !strings.Contains(err.Error(), `template "content" uses message "a.missing"`) || strings.Contains(err.Error(), "a.known") {
		t.Errorf("MissingMessages = %v, want only a.missing in content", err)
	}
	if err := MissingMessages(tpl, func(string) bool { return true }); err != nil {
		t.Errorf("MissingMessages with every key known = %v", err)
	}
}

// testSet is one page, "hello", whose data is a string, over a static
// directory with one script.
func testSet(t *testing.T, gz bool) (*Set, *Assets) {
	t.Helper()
	fsys := fstest.MapFS{
		"templates/layout.html": {Data: []byte(`{{define "layout"}}<title>{{.Title}}</title><script src="{{static "a.js"}}"></script>{{.Data}} {{.LangHref}}{{end}}`)},
		"static/a.js":           {Data: []byte(strings.Repeat("var a = 1;\n", 50))},
	}
	a, err := LoadAssets(fsys, "static", "/s/", gz)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	title := cat.Keys()[0]
	s, err := NewSet([]Page{{Name: "hello", Files: []string{"templates/layout.html"}, Title: title, Status: http.StatusTeapot, Script: "a.js",
		Sample: func(i18n.Lang) any { return "sample" }}}, Options{Name: "test", FS: fsys, Assets: a, Catalog: cat, CSP: "default-src 'none'", Gzip: gz})
	if err != nil {
		t.Fatal(err)
	}
	return s, a
}

func TestSetRender(t *testing.T) {
	s, _ := testSet(t, false)
	tests := []struct {
		name       string
		status     int
		data       any
		wantStatus int
		wantBody   string
	}{
		{"page's own status", 0, "hi <b>", http.StatusTeapot, "hi &lt;b&gt; ?lang=en&amp;x=1"},
		{"caller's status", http.StatusForbidden, "hi", http.StatusForbidden, "hi ?lang=en&amp;x=1"},
		{"wrong data type", 0, 7, http.StatusInternalServerError, "Internal Server Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			s.Render(w, httptest.NewRequest(http.MethodGet, "/x?x=1", nil), i18n.ZH, tt.status, "hello", tt.data)
			if w.Code != tt.wantStatus || !strings.Contains(w.Body.String(), tt.wantBody) {
				t.Errorf("Render = %d %q, want %d with %q", w.Code, w.Body.String(), tt.wantStatus, tt.wantBody)
			}
			if tt.wantStatus != http.StatusInternalServerError &&
				(w.Header().Get("Content-Security-Policy") != "default-src 'none'" || w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Content-Language") != "zh-CN") {
				t.Errorf("headers %v", w.Header())
			}
		})
	}
}

func TestNewSetRefusesMissingScript(t *testing.T) {
	_, a := testSet(t, false)
	cat, _ := i18n.Load()
	_, err := NewSet([]Page{{Name: "p", Files: []string{"l.html"}, Title: cat.Keys()[0], Script: "nope.js", Sample: func(i18n.Lang) any { return "" }}},
		Options{Name: "test", FS: fstest.MapFS{"l.html": {Data: []byte(`{{define "layout"}}{{end}}`)}}, Assets: a, Catalog: cat})
	if err == nil || !strings.Contains(err.Error(), `no static file "nope.js"`) {
		t.Errorf("NewSet = %v, want the missing script named", err)
	}
}

func TestAssetsHandler(t *testing.T) {
	for _, gz := range []bool{false, true} {
		_, a := testSet(t, gz)
		u, _ := a.URL("a.js")
		h := a.Handler(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) })
		r := httptest.NewRequest(http.MethodGet, u, nil)
		r.Header.Set("Accept-Encoding", "gzip")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 || w.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" || (w.Header().Get("Content-Encoding") == "gzip") != gz {
			t.Errorf("gzip %v: %d %v", gz, w.Code, w.Header())
		}
		w = httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/s/a.js", nil))
		if w.Header().Get("Cache-Control") != "no-cache" {
			t.Errorf("unversioned: Cache-Control %q", w.Header().Get("Cache-Control"))
		}
		w = httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/s/b.js", nil))
		if w.Code != http.StatusGone {
			t.Errorf("missing file: %d, want the caller's not-found answer", w.Code)
		}
	}
}
