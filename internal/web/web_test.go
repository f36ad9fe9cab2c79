package web

import (
	"compress/gzip"
	"encoding/json"
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"unid/internal/i18n"
)

func catalog(t *testing.T) *i18n.Catalog {
	t.Helper()
	c, err := i18n.Load()
	if err != nil {
		t.Fatalf("i18n.Load: %v", err)
	}
	return c
}

// testUser is who the fake session says is signed in: the cookie "sess=1".
var testUser = &Me{
	ID:            "u-zhang",
	LoginName:     "zhang_san",
	Phone:         "138****5678",
	IDNumber:      "3701**********1234",
	RealName:      "*三",
	RealnameLevel: 2,
}

// newServer mounts the handlers the way the app does, on a real listener.
func newServer(t *testing.T, o Options) *httptest.Server {
	t.Helper()
	if o.Catalog == nil {
		o.Catalog = catalog(t)
	}
	if o.Me == nil {
		o.Me = func(r *http.Request) (*Me, bool) {
			if c, err := r.Cookie("sess"); err == nil && c.Value == "1" {
				return testUser, true
			}
			return nil, false
		}
	}
	if o.Enterprises == nil {
		o.Enterprises = fakeEnterprises
	}
	if o.EnterpriseLabels == nil {
		o.EnterpriseLabels = func() []string { return []string{"财务", "人事<b>"} }
	}
	if o.Upstreams == nil {
		o.Upstreams = func() []UpstreamButton { return testUpstreams }
	}
	if o.RecordSystems == nil {
		o.RecordSystems = func(*http.Request, i18n.Lang, string) ([]RecordSystem, error) {
			return []RecordSystem{{ID: "hall", Name: "网上办事大厅<b>"}}, nil
		}
	}
	if o.Unread == nil {
		o.Unread = func(*http.Request, string) (map[string]int, error) { return map[string]int{"cases": 3}, nil }
	}
	p, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", p.Home)
	mux.HandleFunc("GET /login", p.Login)
	mux.HandleFunc("GET /register", p.Register)
	mux.HandleFunc("GET /recover", p.Recover)
	mux.HandleFunc("GET /upstream/continue", p.UpstreamContinue)
	mux.HandleFunc("GET /me", p.Me)
	for _, k := range []string{"cases", "consultations", "messages", "complaints", "favorites"} {
		mux.HandleFunc("GET /me/"+k, p.Records(k))
	}
	mux.HandleFunc("GET /sso/identity", p.Identity)
	mux.HandleFunc("GET /settings", p.Settings)
	mux.HandleFunc("GET /settings/{section}", p.SettingsSection)
	mux.HandleFunc("GET /enterprise", p.Enterprises)
	mux.HandleFunc("GET /enterprise/{uscc}", p.Enterprise)
	mux.HandleFunc("GET /privacy", p.Privacy)
	mux.HandleFunc("GET /terms", p.Terms)
	mux.Handle("GET /static/", p.Static())
	mux.HandleFunc("/", p.NotFound)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// client does not follow redirects, so tests see them.
var client = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       10 * time.Second,
}

type request struct {
	path     string
	cookies  []*http.Cookie
	accept   string // Accept-Language
	encoding string // Accept-Encoding
	header   http.Header
}

func get(t *testing.T, srv *httptest.Server, rq request) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+rq.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rq.cookies {
		req.AddCookie(c)
	}
	if rq.accept != "" {
		req.Header.Set("Accept-Language", rq.accept)
	}
	// An explicit Accept-Encoding stops the transport from decompressing.
	req.Header.Set("Accept-Encoding", "identity")
	if rq.encoding != "" {
		req.Header.Set("Accept-Encoding", rq.encoding)
	}
	for k, v := range rq.header {
		req.Header[k] = v
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

var signedIn = []*http.Cookie{{Name: "sess", Value: "1"}}

// pageCase is one page as a user reaches it.
type pageCase struct {
	name    string
	path    string
	cookies []*http.Cookie
	status  int
	ids     []string // element ids the browser test and app.js rely on
}

var pageCases = []pageCase{
	{"login", "/login", nil, http.StatusOK, []string{
		"login-form", "identifier", "password", "captcha-image", "captcha-refresh", "captcha-audio",
		"captcha-id", "captcha-answer", "login-submit", "to-register", "forgot-password", "form-error",
		"login-upstreams", "upstream-alipay", "upstream-gov",
	}},
	{"register", "/register", nil, http.StatusOK, []string{
		"register-form", "login_name", "password", "password_confirm", "phone", "captcha-image",
		"captcha-refresh", "captcha-audio", "captcha-id", "captcha-answer", "send-sms", "sms_code",
		"real_name", "id_number", "agreed", "to-terms", "to-privacy", "register-submit", "alipay-register", "to-login",
		"form-error", "sms-status",
	}},
	{"upstream_continue", "/upstream/continue", nil, http.StatusOK, []string{
		"continue", "continue-verified", "form-error", "continue-expired", "continue-again", "continue-choices",
		"choose-register", "choose-bind", "continue-register", "login_name", "password", "password_confirm", "phone",
		"captcha-image", "captcha-id", "captcha-answer", "send-sms", "sms_code", "sms-status", "agreed", "to-terms", "to-privacy",
		"register-submit", "continue-bind", "identifier", "bind-password", "bind-captcha-slot", "bind-submit", "continue-cancel",
	}},
	{"settings.links", "/settings/links", signedIn, http.StatusOK, []string{"form-error", "links-status", "links-list"}},
	{"me", "/me", signedIn, http.StatusOK, []string{
		"logout", "form-error", "me-login-name", "me-realname-level", "tile-cases", "tile-consultations",
		"tile-messages", "tile-complaints", "tile-favorites", "tile-settings", "tile-authorize",
		"consents", "consents-list", "consents-empty", "consents-status",
	}},
	{"me", "/me", asLegalRep, http.StatusOK, []string{"tile-enterprise", "tile-authorize"}},
	{"enterprise", "/enterprise", signedIn, http.StatusOK, []string{
		"form-error", "ent-status", "ent-list", "ent-empty", "ent-grants", "ent-grants-list", "ent-applications",
		"ent-applications-list", "bind", "bind-form", "bind-uscc", "bind-name", "bind-submit", "appeal", "appeal-form",
		"licence", "appeal-submit", "appeal-cancel", "bind-done", "apply", "apply-form", "apply-uscc", "apply-name",
		"apply-reason", "apply-submit", "apply-status", "enterprise-back",
	}},
	{"enterprise.one", "/enterprise/" + testUSCC, asLegalRep, http.StatusOK, []string{
		"form-error", "ent-status", "ent-page", "ent-name", "ent-uscc", "ent-role", "members-list", "authorization",
		"auth-applications-list", "auth-applications-empty", "auth-grants-list", "auth-grants-empty", "grant-form",
		"grant-phone", "grant-real-name", "grant-role", "grant-labels", "grant-label-0", "grant-label-1", "ent-labels", "grant-valid-until", "grant-submit", "grant-status",
		"cases", "records-intro", "ent-cases", "ent-cases-list", "ent-cases-more", "ent-cases-status", "ent-cases-client", "ent-consultations-list", "unbind-form", "unbind-confirm", "unbind-sms-code", "unbind-send-sms", "unbind-sms-status", "unbind-submit", "ent-left", "enterprise-back",
	}},
	{"enterprise.one", "/enterprise/" + strings.ToLower(testUSCC), asHandler, http.StatusOK, []string{
		"form-error", "ent-page", "members-list", "ent-cases-list", "ent-consultations-list", "leave", "leave-button", "ent-left",
	}},
	{"settings.sessions", "/settings/sessions", signedIn, http.StatusOK, []string{
		"form-error", "sessions", "sessions-list", "sessions-status", "sessions-end-others", "history", "history-list", "history-status",
	}},
	{"settings.realname", "/settings/realname", signedIn, http.StatusOK, []string{
		"form-error", "realname-result", "realname-continue", "realname-continue-link", "realname-level", "realname-levels",
		"realname-bindings", "realname-bindings-list", "realname-pending", "realname-pending-list", "realname-paths",
		"rn-identity-form", "use_registered", "type_identity", "real_name", "id_number", "rn-identity-submit",
		"rn-appeal-form", "id_photo", "handheld_photo", "rn-appeal-submit", "rn-bank-form", "card_number", "bank_phone",
		"rn-bank-submit", "rn-carrier-form", "carrier_bound", "carrier_other", "carrier_phone", "rn-carrier-submit",
		"rn-redirect-netid", "rn-redirect-face", "rn-redirect-netid_face", "rn-counter-submit", "rn-counter-reference",
	}},
	{"records.messages", "/me/messages", signedIn, http.StatusOK, []string{
		"form-error", "records-list", "records-empty", "records-unread", "records-read-all", "records-more", "records-back",
		"records-filter", "records-client", "records-from", "records-to", "records-q", "records-apply", "records-reset",
	}},
	{"records.cases", "/me/cases", signedIn, http.StatusOK, []string{
		"form-error", "records-list", "records-status", "records-client", "records-q", "records-more", "records-unread",
	}},
	{"records.consultations", "/me/consultations", signedIn, http.StatusOK, []string{"records-list", "records-status"}},
	{"records.complaints", "/me/complaints", signedIn, http.StatusOK, []string{"records-list", "records-status"}},
	{"records.favorites", "/me/favorites", signedIn, http.StatusOK, []string{"records-list", "records-q"}},
	{"privacy", "/privacy", nil, http.StatusOK, []string{"document-privacy", "footer-privacy", "footer-terms"}},
	{"terms", "/terms", nil, http.StatusOK, []string{"document-terms"}},
	{"notfound", "/no/such/page", nil, http.StatusNotFound, []string{"to-home"}},
}

// TestPagesRenderInBothLanguages renders every page in each language, chosen
// each way a user can choose it, and checks what every page must have.
func TestPagesRenderInBothLanguages(t *testing.T) {
	cat := catalog(t)
	srv := newServer(t, Options{Catalog: cat})
	choices := []struct {
		name    string
		lang    i18n.Lang
		query   string
		cookie  string
		accept  string
		siteKey string
	}{
		{name: "default", lang: i18n.ZH},
		{name: "query en", lang: i18n.EN, query: "lang=en"},
		{name: "query zh-CN", lang: i18n.ZH, query: "lang=zh-CN", cookie: "en"},
		{name: "cookie en", lang: i18n.EN, cookie: "en"},
		{name: "accept en", lang: i18n.EN, accept: "en-US,en;q=0.9"},
		{name: "accept zh-TW", lang: i18n.ZH, accept: "zh-TW,en;q=0.5"},
	}
	for _, pc := range pageCases {
		for _, ch := range choices {
			t.Run(pc.name+"/"+ch.name, func(t *testing.T) {
				path := pc.path
				if ch.query != "" {
					path += "?" + ch.query
				}
				cookies := append([]*http.Cookie{}, pc.cookies...)
				if ch.cookie != "" {
					cookies = append(cookies, &http.Cookie{Name: i18n.CookieName, Value: ch.cookie})
				}
				res, body := get(t, srv, request{path: path, cookies: cookies, accept: ch.accept})
				if res.StatusCode != pc.status {
					t.Fatalf("status %d, want %d", res.StatusCode, pc.status)
				}
				if !strings.Contains(body, `<html lang="`+string(ch.lang)+`">`) {
					t.Errorf("no <html lang=%q>", ch.lang)
				}
				if got := res.Header.Get("Content-Language"); got != string(ch.lang) {
					t.Errorf("Content-Language %q, want %q", got, ch.lang)
				}
				name := cat.T(ch.lang, "page.site.name")
				if !strings.Contains(body, name) {
					t.Errorf("header lacks the platform name %q", name)
				}
				title := cat.T(ch.lang, "page."+pc.name+".title")
				if !strings.Contains(body, "<title>"+title+" - "+name+"</title>") {
					t.Errorf("title is not %q", title+" - "+name)
				}
				checkPage(t, cat, body, pc.ids)
				checkPageHeaders(t, res)
			})
		}
	}
}

// rawKey matches anything shaped like a page message key.
var rawKey = regexp.MustCompile(`page\.[a-z_]+\.[a-z0-9_.]+`)

// checkPage checks the rules every rendered page keeps.
func checkPage(t *testing.T, cat *i18n.Catalog, body string, ids []string) {
	t.Helper()
	for _, id := range append([]string{"lang-switch", "main"}, ids...) {
		if n := strings.Count(body, ` id="`+id+`"`); n != 1 {
			t.Errorf("element id %q appears %d times, want 1", id, n)
		}
	}
	// No message key may reach a user: T falls back to the key when a
	// message is missing.
	if loc := rawKey.FindStringIndex(body); loc != nil {
		t.Errorf("raw message key on the page: %q", body[max(0, loc[0]-40):min(len(body), loc[1]+40)])
	}
	for _, k := range cat.Keys() {
		if strings.Contains(body, k) {
			t.Errorf("raw message key %q on the page", k)
		}
	}
	if strings.Contains(body, "{name}") || strings.Contains(body, "{page}") {
		t.Error("an unfilled placeholder is on the page")
	}
	// The CSP forbids inline script and style; make sure nothing relies on them.
	if regexp.MustCompile(`(?i)\sstyle=|<style|\son[a-z]+=|javascript:`).MatchString(body) {
		t.Error("page has an inline style, inline event handler or javascript: URL")
	}
	for _, m := range regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1) {
		if !strings.Contains(m, ` src="/static/`) && !strings.Contains(m, `type="application/json"`) {
			t.Errorf("inline script %s", m)
		}
	}
	// Every visible input has a label.
	for _, m := range regexp.MustCompile(`<input[^>]*>`).FindAllString(body, -1) {
		if strings.Contains(m, `type="hidden"`) {
			continue
		}
		id := regexp.MustCompile(` id="([^"]+)"`).FindStringSubmatch(m)
		if id == nil {
			t.Errorf("input without id: %s", m)
			continue
		}
		if !strings.Contains(body, `<label for="`+id[1]+`">`) {
			t.Errorf("input %q has no label", id[1])
		}
	}
	// A page with a script has the messages for it, as valid JSON; a page
	// without one has neither.
	scripted := strings.Contains(body, `<script src="/static/common.js`)
	if m := regexp.MustCompile(`(?s)<script type="application/json" id="page-messages">(.*?)</script>`).FindStringSubmatch(body); m == nil {
		if scripted {
			t.Error("no page-messages block")
		}
	} else if !scripted {
		t.Error("page-messages block on a page without a script")
	} else {
		var msgs map[string]string
		if err := json.Unmarshal([]byte(m[1]), &msgs); err != nil {
			t.Errorf("page-messages is not JSON: %v", err)
		}
		for _, k := range cat.Keys() {
			if name, ok := strings.CutPrefix(k, jsPrefix); ok && msgs[name] == "" {
				t.Errorf("page-messages lacks %q", name)
			}
		}
	}
}

func checkPageHeaders(t *testing.T, res *http.Response) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"Cache-Control":           "no-store",
		"Content-Type":            "text/html; charset=utf-8",
	}
	for k, v := range want {
		if got := res.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
}

func TestDevBannerOnlyInDev(t *testing.T) {
	cat := catalog(t)
	for _, dev := range []bool{false, true} {
		srv := newServer(t, Options{Catalog: cat, Dev: dev})
		for _, pc := range pageCases {
			for _, lang := range i18n.Langs {
				_, body := get(t, srv, request{path: pc.path + "?lang=" + string(lang), cookies: pc.cookies})
				hasID := strings.Contains(body, `id="dev-banner"`)
				hasText := strings.Contains(body, html.EscapeString(cat.T(lang, "page.site.dev_banner")))
				if hasID != dev || hasText != dev {
					t.Errorf("dev=%v %s %s: banner id %v, text %v", dev, pc.name, lang, hasID, hasText)
				}
			}
		}
	}
}

func TestRedirects(t *testing.T) {
	srv := newServer(t, Options{})
	tests := []struct {
		name     string
		path     string
		cookies  []*http.Cookie
		status   int
		location string
	}{
		{"me signed out", "/me", nil, http.StatusSeeOther, "/login?next=/me"},
		{"me signed out in English", "/me?lang=en", nil, http.StatusSeeOther, "/login?next=/me"},
		{"me bad session", "/me", []*http.Cookie{{Name: "sess", Value: "x"}}, http.StatusSeeOther, "/login?next=/me"},
		{"me signed in", "/me", signedIn, http.StatusOK, ""},
		{"messages signed out", "/me/messages", nil, http.StatusSeeOther, "/login?next=/me/messages"},
		{"messages signed in", "/me/messages", signedIn, http.StatusOK, ""},
		{"cases signed out", "/me/cases", nil, http.StatusSeeOther, "/login?next=/me/cases"},
		{"favorites signed in", "/me/favorites", signedIn, http.StatusOK, ""},
		{"realname signed out", "/settings/realname", nil, http.StatusSeeOther, "/login?next=/settings/realname"},
		{"realname for a service signed out", "/settings/realname?next=%2Foidc%2Fauthorize%2Fcallback%3Fid%3Dx", nil, http.StatusSeeOther,
			"/login?next=" + url.QueryEscape("/settings/realname?next=%2Foidc%2Fauthorize%2Fcallback%3Fid%3Dx")},
		{"home signed out", "/", nil, http.StatusSeeOther, "/login"},
		{"home signed in", "/", signedIn, http.StatusSeeOther, "/me"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := get(t, srv, request{path: tt.path, cookies: tt.cookies})
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			if got := res.Header.Get("Location"); got != tt.location {
				t.Errorf("Location %q, want %q", got, tt.location)
			}
		})
	}

	// Without a Me func nobody is ever signed in.
	p, err := New(Options{Catalog: catalog(t)})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	p.Me(w, httptest.NewRequest(http.MethodGet, "/me", nil))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login?next=/me" {
		t.Errorf("nil Me: %d %q", w.Code, w.Header().Get("Location"))
	}
	// Home mounted on a catch-all pattern still answers 404 for other paths.
	w = httptest.NewRecorder()
	p.Home(w, httptest.NewRequest(http.MethodGet, "/nope", nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("Home on /nope: %d, want 404", w.Code)
	}
}

func TestLangQuerySetsCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		srv := newServer(t, Options{SecureCookies: secure})
		tests := []struct {
			path string
			want string // cookie value; "" means no cookie
		}{
			{"/login?lang=en", "en"},
			{"/register?lang=zh-CN", "zh-CN"},
			{"/me?lang=en", "en"}, // also when the answer is a redirect
			{"/nope?lang=en", "en"},
			{"/login", ""},
			{"/login?lang=fr", ""},
			{"/login?lang=%3Cscript%3E", ""},
		}
		for _, tt := range tests {
			res, _ := get(t, srv, request{path: tt.path})
			var c *http.Cookie
			for _, rc := range res.Cookies() {
				if rc.Name == i18n.CookieName {
					c = rc
				}
			}
			if tt.want == "" {
				if c != nil {
					t.Errorf("%s: cookie %v set, want none", tt.path, c)
				}
				continue
			}
			if c == nil {
				t.Errorf("%s: no %s cookie", tt.path, i18n.CookieName)
				continue
			}
			year := int((365 * 24 * time.Hour).Seconds())
			if c.Value != tt.want || c.Path != "/" || c.MaxAge != year || c.SameSite != http.SameSiteLaxMode || c.Secure != secure {
				t.Errorf("%s: cookie %+v, want value %q, Path=/, Max-Age=%d, SameSite=Lax, Secure=%v", tt.path, c, tt.want, year, secure)
			}
		}
	}
}

func TestLangSwitchLink(t *testing.T) {
	srv := newServer(t, Options{})
	tests := []struct {
		path string
		want string
	}{
		{"/login", `id="lang-switch" class="lang-switch" href="?lang=en" lang="en" hreflang="en"`},
		{"/login?lang=en", `href="?lang=zh-CN" lang="zh-CN" hreflang="zh-CN"`},
		{"/login?next=%2Fme%2Fx", `href="?lang=en&amp;next=%2Fme%2Fx"`},
	}
	for _, tt := range tests {
		_, body := get(t, srv, request{path: tt.path})
		if !strings.Contains(body, tt.want) {
			t.Errorf("%s: no %s", tt.path, tt.want)
		}
	}
}

// TestLoginNextIsNeverOpenRedirect checks what the login page gives app.js
// as the place to go after signing in.
func TestLoginNextIsNeverOpenRedirect(t *testing.T) {
	srv := newServer(t, Options{})
	tests := []struct {
		next string
		want string
	}{
		{"", "/me"},
		{"/me", "/me"},
		{"/cas/login?service=x", "/cas/login?service=x"},
		{"//evil.example", "/me"},
		{`/\evil.example`, "/me"},
		{"https://evil.example", "/me"},
		{"/\t/evil.example", "/me"},
		{`"><script>alert(1)</script>`, "/me"},
	}
	for _, tt := range tests {
		path := "/login"
		if tt.next != "" {
			path += "?next=" + url.QueryEscape(tt.next)
		}
		_, body := get(t, srv, request{path: path})
		m := regexp.MustCompile(`data-next="([^"]*)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("next=%q: no data-next", tt.next)
		}
		if got := html.UnescapeString(m[1]); got != tt.want {
			t.Errorf("next=%q: data-next %q, want %q", tt.next, got, tt.want)
		}
	}
}

func TestMePage(t *testing.T) {
	cat := catalog(t)
	levels := []struct {
		level int
		key   string
	}{{0, "realname.level.0.name"}, {1, "realname.level.1.name"}, {2, "realname.level.2.name"}, {3, "realname.level.3.name"}, {7, "realname.level.3.name"}, {-1, "realname.level.0.name"}}
	for _, lv := range levels {
		me := &Me{LoginName: "<b>li_si</b>", Phone: "139****0000", RealnameLevel: lv.level}
		srv := newServer(t, Options{Catalog: cat, Me: func(*http.Request) (*Me, bool) { return me, true }})
		for _, lang := range i18n.Langs {
			_, body := get(t, srv, request{path: "/me?lang=" + string(lang)})
			want := `data-level="` + string(rune('0'+min(max(lv.level, 0), 3))) + `">` + cat.T(lang, lv.key) + `</span>`
			if !strings.Contains(body, want) {
				t.Errorf("level %d %s: no %s", lv.level, lang, want)
			}
			if !strings.Contains(body, html.EscapeString(cat.T(lang, "page.me.greeting", "name", "<b>li_si</b>"))) {
				t.Errorf("level %d %s: no escaped greeting", lv.level, lang)
			}
			if strings.Contains(body, "<b>li_si") {
				t.Error("login name is not escaped")
			}
			if !strings.Contains(body, `id="me-phone">139****0000<`) {
				t.Error("masked phone missing")
			}
			// Unset details are left out, not shown empty.
			for _, id := range []string{"me-id-number", "me-real-name", "me-email"} {
				if strings.Contains(body, `id="`+id+`"`) {
					t.Errorf("%s shown though not set", id)
				}
			}
		}
	}

	srv := newServer(t, Options{Catalog: cat})
	for _, lang := range i18n.Langs {
		_, body := get(t, srv, request{path: "/me?lang=" + string(lang), cookies: signedIn})
		for _, s := range []string{testUser.LoginName, testUser.Phone, testUser.IDNumber, testUser.RealName} {
			if !strings.Contains(body, ">"+s+"<") {
				t.Errorf("%s: %q not shown", lang, s)
			}
		}
		// The account settings tile leads to the user center, which has a
		// working section.
		if !strings.Contains(body, `<a class="tile tile-live" id="tile-settings" href="/settings">`) {
			t.Errorf("%s: the settings tile does not lead to /settings", lang)
		}
		// Every kind of records is built: its tile leads to its page.
		for _, k := range []string{"cases", "consultations", "messages", "complaints", "favorites"} {
			if !strings.Contains(body, `<a class="tile tile-live" id="tile-`+k+`" href="/me/`+k+`">`) {
				t.Errorf("%s: the %s tile does not lead to /me/%s", lang, k, k)
			}
		}
		// The level badge leads to the 实名认证 page.
		if !regexp.MustCompile(`<a id="me-realname-link" class="level-link" href="/settings/realname"><span id="me-realname-level"`).MatchString(body) {
			t.Errorf("%s: the level badge does not lead to /settings/realname", lang)
		}
		// 企业办事申请授权 leads to the application form of the enterprise
		// space; 进入企业空间 is there only for someone with a role.
		if !strings.Contains(body, `<a class="tile tile-live" id="tile-authorize" href="/enterprise#apply">`) {
			t.Errorf("%s: the authorize tile does not lead to /enterprise#apply", lang)
		}
		if strings.Contains(body, `id="tile-enterprise"`) {
			t.Errorf("%s: 进入企业空间 shown to a user with no enterprise", lang)
		}
		_, withRole := get(t, srv, request{path: "/me?lang=" + string(lang), cookies: asHandler})
		if !strings.Contains(withRole, `<a class="tile tile-live" id="tile-enterprise" href="/enterprise">`) ||
			!strings.Contains(withRole, cat.T(lang, "page.me.tile.enterprise")) {
			t.Errorf("%s: a handler's personal space has no 进入企业空间 leading to /enterprise", lang)
		}
		if strings.Contains(body, `aria-disabled="true"`) || strings.Contains(body, cat.T(lang, "page.site.coming_soon")) {
			t.Errorf("%s: the personal space still has a coming-soon tile", lang)
		}
		// A kind with unread records says how many on its tile; one with
		// none has no badge.
		if want := `id="tile-cases-unread" data-unread="3">` + cat.T(lang, "page.me.tile.unread", "n", "3") + `<`; !strings.Contains(body, want) {
			t.Errorf("%s: the cases tile lacks its unread badge %s", lang, want)
		}
		if strings.Contains(body, `id="tile-messages-unread"`) {
			t.Errorf("%s: the messages tile has a badge with nothing unread", lang)
		}
		for _, name := range []string{"cases", "consultations", "messages", "complaints", "favorites", "settings", "authorize"} {
			if !strings.Contains(body, cat.T(lang, "page.me.tile."+name)) {
				t.Errorf("%s: tile %s has no title", lang, name)
			}
		}
	}
}

func TestStatic(t *testing.T) {
	srv := newServer(t, Options{})
	_, page := get(t, srv, request{path: "/login"})
	refs := regexp.MustCompile(`(?:href|src)="(/static/[^"?]+)\?v=([0-9a-f]{16})"`).FindAllStringSubmatch(page, -1)
	if len(refs) != 4 {
		t.Fatalf("page links %d static files, want 4 (css, the shared script, the page's script, icon)", len(refs))
	}
	types := map[string]string{
		"/static/app.css":     "text/css; charset=utf-8",
		"/static/common.js":   "text/javascript; charset=utf-8",
		"/static/login.js":    "text/javascript; charset=utf-8",
		"/static/favicon.svg": "image/svg+xml",
	}
	for _, ref := range refs {
		path, hash := ref[1], html.UnescapeString(ref[2])
		t.Run(path, func(t *testing.T) {
			want, ok := types[path]
			if !ok {
				t.Fatalf("unexpected static file %s", path)
			}
			res, body := get(t, srv, request{path: path + "?v=" + hash})
			if res.StatusCode != http.StatusOK || len(body) == 0 {
				t.Fatalf("status %d, %d bytes", res.StatusCode, len(body))
			}
			if got := res.Header.Get("Content-Type"); got != want {
				t.Errorf("Content-Type %q, want %q", got, want)
			}
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q", got)
			}
			if got := res.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
				t.Errorf("versioned Cache-Control %q", got)
			}
			etag := res.Header.Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}

			// Without the version (or with an old one): revalidate.
			res, _ = get(t, srv, request{path: path + "?v=0000000000000000"})
			if got := res.Header.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("unversioned Cache-Control %q, want no-cache", got)
			}
			res, body = get(t, srv, request{path: path, header: http.Header{"If-None-Match": {etag}}})
			if res.StatusCode != http.StatusNotModified || body != "" {
				t.Errorf("If-None-Match: status %d, want 304", res.StatusCode)
			}

			// Compressed for browsers that take gzip.
			res, gz := get(t, srv, request{path: path, encoding: "gzip, deflate, br"})
			if res.Header.Get("Content-Encoding") == "gzip" {
				zr, err := gzip.NewReader(strings.NewReader(gz))
				if err != nil {
					t.Fatal(err)
				}
				plain, err := io.ReadAll(zr)
				if err != nil || string(plain) != body0(t, srv, path) {
					t.Error("gzip body differs from the plain body")
				}
				if res.Header.Get("ETag") == etag {
					t.Error("gzip variant has the same ETag as the plain one")
				}
			} else if path != "/static/favicon.svg" {
				t.Error("text asset not gzipped")
			}
			if res.Header.Get("Vary") != "Accept-Encoding" {
				t.Error("no Vary: Accept-Encoding")
			}
		})
	}

	for _, path := range []string{"/static/nope.js", "/static/", "/static/templates/layout.html", "/static/static/login.js", "/static/app.js"} {
		res, _ := get(t, srv, request{path: path})
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, res.StatusCode)
		}
	}

	// Mounted behind http.StripPrefix as well.
	p, err := New(Options{Catalog: catalog(t)})
	if err != nil {
		t.Fatal(err)
	}
	h := http.StripPrefix("/static/", p.Static())
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/static/login.js", nil))
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != types["/static/login.js"] {
		t.Errorf("behind StripPrefix: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	w = httptest.NewRecorder()
	p.Static().ServeHTTP(w, &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/static/../web.go"}})
	if w.Code != http.StatusNotFound {
		t.Errorf("/static/../web.go: %d, want 404", w.Code)
	}
	w = httptest.NewRecorder()
	p.Static().ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/static/login.js", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", w.Code)
	}
}

func body0(t *testing.T, srv *httptest.Server, path string) string {
	_, b := get(t, srv, request{path: path})
	return b
}

func TestNewNeedsCatalog(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("New without a catalog succeeded")
	}
}

// TestNewSetRejectsBrokenTemplates covers what New refuses at start-up.
func TestNewSetRejectsBrokenTemplates(t *testing.T) {
	real := func(name string) []byte {
		b, err := templateFS.ReadFile("templates/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	p, err := New(Options{Catalog: catalog(t)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		login   string
		wantErr string
	}{
		{"real", string(real("login.html")), ""},
		{"syntax error", `{{define "content"}}{{if .Data}}{{end}`, "parse login"},
		{"missing key", `{{define "content"}}{{.T "page.login.nope"}}{{end}}`, `"page.login.nope"`},
		{"missing key in range", `{{define "content"}}{{range .JS}}{{$.T "page.nope"}}{{end}}{{end}}`, `"page.nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			entries, err := fs.ReadDir(templateFS, "templates")
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				fsys["templates/"+e.Name()] = &fstest.MapFile{Data: real(e.Name())}
			}
			fsys["templates/login.html"] = &fstest.MapFile{Data: []byte(tt.login)}
			_, err = p.newSet(fsys)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("newSet: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("newSet error %v, want one with %q", err, tt.wantErr)
			}
		})
	}
}

// testUSCC is the credit code of the enterprise the fake memberships name.
const testUSCC = "91350100M000100Y43"

// The signed-in test user holding a role in the test enterprise.
var (
	asLegalRep = []*http.Cookie{{Name: "sess", Value: "1"}, {Name: "ent", Value: "legal_rep"}}
	asAdmin    = []*http.Cookie{{Name: "sess", Value: "1"}, {Name: "ent", Value: "admin"}}
	asHandler  = []*http.Cookie{{Name: "sess", Value: "1"}, {Name: "ent", Value: "handler"}}
)

// fakeEnterprises gives the signed-in user the role the "ent" cookie names
// in the test enterprise, and none without it.
func fakeEnterprises(r *http.Request, userID string) ([]Membership, error) {
	c, err := r.Cookie("ent")
	if err != nil || userID != testUser.ID {
		return nil, nil
	}
	return []Membership{{USCC: testUSCC, Name: "示例<b>科技有限公司", Role: c.Value}}, nil
}
