package web

import (
	"compress/gzip"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"unid/internal/i18n"
)

// pendingNext is the ?next= of a sign-in that a service system started.
const pendingNext = "/oidc/authorize/callback?id=abc"

// fakePending says pendingNext is a sign-in for the provincial service hall.
func fakePending(r *http.Request, next string) (string, string, bool) {
	if next != pendingNext {
		return "", "", false
	}
	return "省网上办事大厅<b>", "/oidc/authorize/cancel?id=abc", true
}

// TestLoginForAServiceSystem: the login page of a pending sign-in names the
// system, links back to it, and carries the sign-in through registration
// and back.
func TestLoginForAServiceSystem(t *testing.T) {
	cat := catalog(t)
	srv := newServer(t, Options{Catalog: cat, Pending: fakePending})
	for _, lang := range i18n.Langs {
		_, body := get(t, srv, request{path: "/login?lang=" + string(lang) + "&next=" + url.QueryEscape(pendingNext)})
		text := html.UnescapeString(body)
		if want := cat.T(lang, "page.login.continue_to", "client", "省网上办事大厅<b>"); !strings.Contains(text, want) {
			t.Errorf("%s: login page does not say %q", lang, want)
		}
		if strings.Contains(body, "大厅<b>") {
			t.Errorf("%s: the system's name is not escaped", lang)
		}
		for _, want := range []string{
			`id="login-back" href="/oidc/authorize/cancel?id=abc"`,
			`id="to-register" href="/register?next=` + url.QueryEscape(pendingNext) + `"`,
			`data-next="` + pendingNext + `"`,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: login page lacks %s", lang, want)
			}
		}
		if want := cat.T(lang, "page.login.back", "client", "省网上办事大厅<b>"); !strings.Contains(text, want) {
			t.Errorf("%s: back link does not say %q", lang, want)
		}

		_, body = get(t, srv, request{path: "/register?lang=" + string(lang) + "&next=" + url.QueryEscape(pendingNext)})
		text = html.UnescapeString(body)
		for _, want := range []string{
			`id="register-form" class="form" method="post" novalidate data-next="` + pendingNext + `"`,
			`id="to-login" href="/login?next=` + url.QueryEscape(pendingNext) + `"`,
			cat.T(lang, "page.register.continue_to", "client", "省网上办事大厅<b>"),
		} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: registration page lacks %s", lang, want)
			}
		}
	}

	// Any other next: no system, no way back, plain links.
	for _, next := range []string{"", "/me", "/cas/login/continue?id=x", "//evil.example"} {
		_, body := get(t, srv, request{path: "/login?next=" + url.QueryEscape(next)})
		if strings.Contains(body, `id="login-client"`) || strings.Contains(body, `id="login-back"`) {
			t.Errorf("next=%q: login page names a system", next)
		}
		_, body = get(t, srv, request{path: "/register?next=" + url.QueryEscape(next)})
		if strings.Contains(body, `id="register-client"`) {
			t.Errorf("next=%q: registration page names a system", next)
		}
		if next == "//evil.example" && (!strings.Contains(body, `data-next="/me"`) || !strings.Contains(body, `id="to-login" href="/login"`)) {
			t.Errorf("registration page carries an unsafe next")
		}
	}
}

// TestLoginWhileSignedIn: someone signed in is not asked to sign in again,
// unless a service system asked for it.
func TestLoginWhileSignedIn(t *testing.T) {
	srv := newServer(t, Options{Pending: fakePending})
	tests := []struct {
		path     string
		status   int
		location string
	}{
		{"/login", http.StatusSeeOther, "/me"},
		{"/login?next=%2Fme", http.StatusSeeOther, "/me"},
		{"/login?next=%2Fcas%2Flogin%3Fservice%3Dx", http.StatusSeeOther, "/cas/login?service=x"},
		{"/login?next=%2F%2Fevil.example", http.StatusSeeOther, "/me"},
		{"/login?next=https%3A%2F%2Fevil.example", http.StatusSeeOther, "/me"},
		{"/login?next=" + url.QueryEscape(pendingNext), http.StatusOK, ""},
	}
	for _, tt := range tests {
		res, _ := get(t, srv, request{path: tt.path, cookies: signedIn})
		if res.StatusCode != tt.status || res.Header.Get("Location") != tt.location {
			t.Errorf("%s: %d %q, want %d %q", tt.path, res.StatusCode, res.Header.Get("Location"), tt.status, tt.location)
		}
	}
}

// TestPagesAreCompressed: every page is gzipped for a browser that takes
// it, and says that the answer depends on Accept-Encoding.
func TestPagesAreCompressed(t *testing.T) {
	srv := newServer(t, Options{})
	for _, pc := range pageCases {
		plainRes, plain := get(t, srv, request{path: pc.path, cookies: pc.cookies})
		res, gz := get(t, srv, request{path: pc.path, cookies: pc.cookies, encoding: "gzip, deflate, br"})
		if res.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("%s: Content-Encoding %q, want gzip", pc.name, res.Header.Get("Content-Encoding"))
			continue
		}
		if plainRes.Header.Get("Content-Encoding") != "" {
			t.Errorf("%s: compressed for a client that does not take gzip", pc.name)
		}
		for _, r := range []*http.Response{res, plainRes} {
			if !strings.Contains(r.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("%s: Vary %q", pc.name, r.Header.Get("Vary"))
			}
		}
		zr, err := gzip.NewReader(strings.NewReader(gz))
		if err != nil {
			t.Fatal(err)
		}
		unzipped, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if len(gz) >= len(plain) || !strings.Contains(string(unzipped), `id="main"`) {
			t.Errorf("%s: %d gzipped bytes for %d plain, or not the page", pc.name, len(gz), len(plain))
		}
		checkPageHeaders(t, res)
	}
}

// TestSite: the platform's name, help and hotline, and its legal texts.
func TestSite(t *testing.T) {
	cat := catalog(t)
	// The defaults: the catalog's name, a notice and an agreement in each
	// language, no help link or hotline.
	srv := newServer(t, Options{Catalog: cat})
	for _, lang := range i18n.Langs {
		for _, path := range []string{"/privacy", "/terms"} {
			res, body := get(t, srv, request{path: path + "?lang=" + string(lang)})
			if res.StatusCode != http.StatusOK || strings.Count(body, "<h2>") < 3 || strings.Count(body, "<p>") < 4 {
				t.Errorf("%s %s: %d, the default text is missing", path, lang, res.StatusCode)
			}
		}
		_, body := get(t, srv, request{path: "/login?lang=" + string(lang)})
		if strings.Contains(body, "footer-help") || strings.Contains(body, "footer-hotline") {
			t.Errorf("%s: help or hotline shown though not configured", lang)
		}
	}

	srv = newServer(t, Options{Catalog: cat, Site: Site{
		PlatformName:  map[i18n.Lang]string{i18n.ZH: "山东省政务服务统一身份认证"},
		HelpURL:       "https://help.example.gov.cn/",
		Hotline:       "12345",
		PrivacyNotice: map[i18n.Lang]string{i18n.ZH: "## 第一条\n\n本平台保护<您>的信息。"},
	}})
	_, body := get(t, srv, request{path: "/login"})
	for _, want := range []string{
		"<title>" + cat.T(i18n.ZH, "page.login.title") + " - 山东省政务服务统一身份认证</title>",
		`<span class="brand-name">山东省政务服务统一身份认证</span>`,
		`<a id="footer-help" href="https://help.example.gov.cn/">`,
		cat.T(i18n.ZH, "page.site.hotline", "number", "12345"),
	} {
		if !strings.Contains(body, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	// A language without a configured name keeps the default.
	_, body = get(t, srv, request{path: "/login?lang=en"})
	if !strings.Contains(body, `<span class="brand-name">`+cat.T(i18n.EN, "page.site.name")+`</span>`) {
		t.Error("English page lost the default platform name")
	}
	_, body = get(t, srv, request{path: "/privacy"})
	if !strings.Contains(body, "<h2>第一条</h2>") || !strings.Contains(body, "<p>本平台保护&lt;您&gt;的信息。</p>") {
		t.Errorf("configured privacy notice not shown (escaped):\n%s", body)
	}
	_, body = get(t, srv, request{path: "/privacy?lang=en"})
	if !strings.Contains(body, "Personal Information Protection Law") {
		t.Error("English privacy notice lost its default")
	}
}

// TestRenderRefusesWrongData: a page renders only with its own data type,
// as the page table says; anything else is a 500, not a half page.
func TestRenderRefusesWrongData(t *testing.T) {
	p, err := New(Options{Catalog: catalog(t)})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	p.render(w, httptest.NewRequest(http.MethodGet, "/login", nil), i18n.ZH, 0, pageLogin, registerData{})
	if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "<html") {
		t.Errorf("wrong data: %d", w.Code)
	}
	w = httptest.NewRecorder()
	p.render(w, httptest.NewRequest(http.MethodGet, "/x", nil), i18n.ZH, 0, "nope", struct{}{})
	if w.Code != http.StatusInternalServerError {
		t.Errorf("unknown page: %d", w.Code)
	}
}

// TestCASPages: the CAS server's pages have the site's layout and headers,
// never repeat the query (the service URL), and take only CAS messages.
func TestCASPages(t *testing.T) {
	cat := catalog(t)
	p, err := New(Options{Catalog: cat, Dev: true})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/cas/login?service=https%3A%2F%2Fevil.example%2F&lang=en", nil)
	w := httptest.NewRecorder()
	p.CASError(w, r, http.StatusBadRequest, "cas.error.service_unknown")
	body := w.Body.String()
	if w.Code != http.StatusBadRequest || !strings.Contains(body, html.EscapeString(cat.T(i18n.EN, "cas.error.service_unknown"))) ||
		!strings.Contains(body, `id="dev-banner"`) || !strings.Contains(body, `id="cas-error"`) {
		t.Errorf("CAS error page: %d\n%s", w.Code, body)
	}
	if strings.Contains(body, "evil") || strings.Contains(body, "<script") {
		t.Errorf("CAS error page repeats the query or has a script:\n%s", body)
	}
	if w.Header().Get("Content-Security-Policy") != contentSecurityPolicy {
		t.Error("CAS page without the pages' CSP")
	}
	w = httptest.NewRecorder()
	p.CASError(w, r, http.StatusBadRequest, "page.site.dev_banner")
	if !strings.Contains(w.Body.String(), html.EscapeString(cat.T(i18n.EN, "cas.error.internal"))) {
		t.Error("a key that is no CAS error was shown")
	}
	// The level page links only to the upgrade page, whatever it is given.
	for upgrade, want := range map[string]string{
		"/settings/realname?next=%2Fcas%2Flogin%3Fservice%3Dx": `href="/settings/realname?next=%2Fcas%2Flogin%3Fservice%3Dx"`,
		"https://evil.example/settings/realname?next=/":        `href="/me"`,
		"//evil.example/settings/realname?x":                   `href="/me"`,
	} {
		w = httptest.NewRecorder()
		p.CASLevelRequired(w, r, "档案调阅", 3, 1, upgrade)
		body = w.Body.String()
		if w.Code != http.StatusForbidden || !strings.Contains(body, want) || strings.Contains(body, "evil") ||
			!strings.Contains(body, cat.T(i18n.EN, "realname.level.3.name")) || !strings.Contains(body, cat.T(i18n.EN, "realname.level.1.name")) {
			t.Errorf("CAS level page for %q: %d\n%s", upgrade, w.Code, body)
		}
	}
	w = httptest.NewRecorder()
	p.CASSignedOut(w, httptest.NewRequest(http.MethodGet, "/cas/logout", nil))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), cat.T(i18n.ZH, "cas.signed_out.title")) {
		t.Errorf("signed out page: %d", w.Code)
	}
}
