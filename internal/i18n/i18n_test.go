package i18n

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// TestCatalogComplete loads the real embedded catalog: it fails when a key
// is in one language but not the other, and when a translation drops or
// invents a {placeholder}, which would leave a raw "{name}" on a page.
func TestCatalogComplete(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(c.Keys()) == 0 {
		t.Fatal("catalog is empty")
	}
	placeholder := regexp.MustCompile(`\{[a-z_]+\}`)
	for _, k := range c.Keys() {
		zh, en := c.msgs[ZH][k], c.msgs[EN][k]
		if strings.TrimSpace(zh) == "" || strings.TrimSpace(en) == "" {
			t.Errorf("key %q has an empty message", k)
		}
		pz, pe := placeholder.FindAllString(zh, -1), placeholder.FindAllString(en, -1)
		slices.Sort(pz)
		slices.Sort(pe)
		if !slices.Equal(pz, pe) {
			t.Errorf("key %q: placeholders differ: zh-CN %v, en %v", k, pz, pe)
		}
	}
}

func TestLoadRejectsIncompleteCatalog(t *testing.T) {
	tests := []struct {
		name  string
		files fstest.MapFS
		want  string // in the error; "" means Load succeeds
	}{
		{
			name: "complete",
			files: fstest.MapFS{
				"zh-CN/a.json": {Data: []byte(`{"x":"甲"}`)},
				"zh-CN/b.json": {Data: []byte(`{"y":"乙"}`)},
				"en/a.json":    {Data: []byte(`{"x":"A","y":"B"}`)},
			},
		},
		{
			name: "missing in en",
			files: fstest.MapFS{
				"zh-CN/a.json": {Data: []byte(`{"x":"甲","y":"乙"}`)},
				"en/a.json":    {Data: []byte(`{"x":"A"}`)},
			},
			want: `key "y" is in zh-CN but not in en`,
		},
		{
			name: "missing in zh-CN",
			files: fstest.MapFS{
				"zh-CN/a.json": {Data: []byte(`{"x":"甲"}`)},
				"en/a.json":    {Data: []byte(`{"x":"A","z":"C"}`)},
			},
			want: `key "z" is in en but not in zh-CN`,
		},
		{
			name: "duplicate across files",
			files: fstest.MapFS{
				"zh-CN/a.json": {Data: []byte(`{"x":"甲"}`)},
				"zh-CN/b.json": {Data: []byte(`{"x":"乙"}`)},
				"en/a.json":    {Data: []byte(`{"x":"A"}`)},
			},
			want: `key "x" is in both`,
		},
		{
			name: "not a flat object",
			files: fstest.MapFS{
				"zh-CN/a.json": {Data: []byte(`{"x":{"y":"甲"}}`)},
				"en/a.json":    {Data: []byte(`{}`)},
			},
			want: "zh-CN/a.json",
		},
		{
			name: "language missing",
			files: fstest.MapFS{
				"zh-CN/a.json": {Data: []byte(`{}`)},
			},
			want: "no message files for en",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(tt.files)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("load: %v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("load succeeded, want error with %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("load error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestT(t *testing.T) {
	c, err := load(fstest.MapFS{
		"zh-CN/a.json": {Data: []byte(`{"hello":"{name}，您好","only":"仅中文","plain":"你好"}`)},
		"en/a.json":    {Data: []byte(`{"hello":"Hello, {name}","only":"","plain":"Hi"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	delete(c.msgs[EN], "only") // as if a translation were missing at run time
	tests := []struct {
		lang Lang
		key  string
		kv   []string
		want string
	}{
		{ZH, "hello", []string{"name", "张三"}, "张三，您好"},
		{EN, "hello", []string{"name", "zhang3"}, "Hello, zhang3"},
		{EN, "hello", []string{"name", "{name}"}, "Hello, {name}"}, // no second pass
		{EN, "hello", nil, "Hello, {name}"},
		{EN, "plain", []string{"name", "x"}, "Hi"},
		{EN, "only", nil, "仅中文"},            // falls back to Chinese
		{Lang("fr"), "plain", nil, "你好"},    // unknown language: Chinese
		{EN, "page.nope", nil, "page.nope"}, // unknown key: the key
	}
	for _, tt := range tests {
		if got := c.T(tt.lang, tt.key, tt.kv...); got != tt.want {
			t.Errorf("T(%s, %q, %q) = %q, want %q", tt.lang, tt.key, tt.kv, got, tt.want)
		}
	}
	if !c.Has("hello") || c.Has("nope") {
		t.Error("Has is wrong")
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name   string
		query  string
		cookie string
		accept string
		want   Lang
	}{
		{name: "nothing", want: ZH},
		{name: "query en", query: "en", want: EN},
		{name: "query zh-CN", query: "zh-CN", want: ZH},
		{name: "query beats cookie", query: "zh-CN", cookie: "en", want: ZH},
		{name: "query beats accept", query: "en", accept: "zh-CN", want: EN},
		{name: "bad query falls through to cookie", query: "fr", cookie: "en", want: EN},
		{name: "garbage query", query: "<script>", accept: "en", want: EN},
		{name: "cookie en", cookie: "en", want: EN},
		{name: "cookie beats accept", cookie: "zh-CN", accept: "en-US", want: ZH},
		{name: "bad cookie falls through", cookie: "xx", accept: "en", want: EN},
		{name: "accept zh", accept: "zh", want: ZH},
		{name: "accept zh-CN", accept: "zh-CN,zh;q=0.9,en;q=0.8", want: ZH},
		{name: "accept zh-Hans", accept: "zh-Hans", want: ZH},
		{name: "accept zh-TW", accept: "zh-TW", want: ZH},
		{name: "accept zh-TW before en", accept: "zh-TW,en;q=0.8", want: ZH},
		{name: "accept zh-HK before en", accept: "zh-HK, en-US;q=0.9", want: ZH},
		{name: "accept en-US", accept: "en-US,en;q=0.9", want: EN},
		{name: "accept en-GB before zh", accept: "en-GB,zh-CN;q=0.8", want: EN},
		{name: "accept q order", accept: "zh;q=0.5,en;q=0.9", want: EN},
		{name: "accept unsupported", accept: "fr-FR,de", want: ZH},
		{name: "accept unsupported then en", accept: "ja,en;q=0.5", want: EN},
		{name: "accept wildcard", accept: "*", want: ZH},
		{name: "accept garbage", accept: ";;;===", want: ZH},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := "/"
			if tt.query != "" {
				target += "?lang=" + tt.query
			}
			r := httptest.NewRequest(http.MethodGet, target, nil)
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: CookieName, Value: tt.cookie})
			}
			if tt.accept != "" {
				r.Header.Set("Accept-Language", tt.accept)
			}
			if got := Negotiate(r); got != tt.want {
				t.Errorf("Negotiate = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Lang
		ok   bool
	}{
		{"zh-CN", ZH, true}, {"zh", ZH, true}, {"zh-Hans", ZH, true}, {"ZH-cn", ZH, true},
		{"en", EN, true}, {"en-US", EN, true},
		{"", "", false}, {"fr", "", false}, {"und", "", false}, {"en;drop table", "", false},
	}
	for _, tt := range tests {
		if got, ok := Parse(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("Parse(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestWith: a deployment's wording replaces the catalog's in one language
// only, leaves the catalog it came from alone, and a key the catalog does
// not hold is refused rather than silently ignored.
func TestWith(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	before := c.T(ZH, "realname.level.2.name")
	d, err := c.With(ZH, map[string]string{"realname.level.2.name": "二级"})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.T(ZH, "realname.level.2.name"); got != "二级" {
		t.Errorf("overridden message = %q, want 二级", got)
	}
	if got := d.T(EN, "realname.level.2.name"); got != c.T(EN, "realname.level.2.name") {
		t.Errorf("English changed too: %q", got)
	}
	if got := c.T(ZH, "realname.level.2.name"); got != before {
		t.Errorf("the original catalog changed: %q", got)
	}
	if _, err := c.With(ZH, map[string]string{"realname.level.9.name": "九级"}); err == nil {
		t.Error("an unknown key was accepted")
	}
}
