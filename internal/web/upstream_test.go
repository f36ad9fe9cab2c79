package web

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"unid/internal/i18n"
)

// testUpstreams are the providers outside unid of the test server: Alipay
// and an OpenID provider whose icon is on another site.
var testUpstreams = []UpstreamButton{
	{ID: "alipay", Kind: "alipay", Name: "支付宝"},
	{ID: "gov", Kind: "oidc", Name: "国家政务服务平台<b>", Icon: "https://evil.example/icon.png"},
}

func noUpstreams() []UpstreamButton { return nil }

// TestLoginOffersUpstreams: the login page has a button per provider that
// starts a sign-in there and comes back to the page's next, and shows
// why a sign-in there failed.
func TestLoginOffersUpstreams(t *testing.T) {
	cat := catalog(t)
	srv := newServer(t, Options{Catalog: cat})
	for _, lang := range i18n.Langs {
		_, body := get(t, srv, request{path: "/login?lang=" + string(lang) + "&next=" + url.QueryEscape(pendingNext)})
		text := html.UnescapeString(body)
		for _, want := range []string{
			cat.T(lang, "page.login.other_ways"),
			`id="upstream-alipay" class="button button-secondary" href="/upstream/alipay/start?next=` + url.QueryEscape(pendingNext) + `&purpose=signin"`,
			`id="upstream-gov" class="button button-secondary" href="/upstream/gov/start?next=` + url.QueryEscape(pendingNext) + `&purpose=signin"`,
			cat.T(lang, "page.login.upstream", "name", "支付宝"),
			cat.T(lang, "page.login.upstream", "name", "国家政务服务平台<b>"),
		} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: login page lacks %s", lang, want)
			}
		}
		if strings.Contains(body, "平台<b>") || strings.Contains(body, "evil.example") {
			t.Errorf("%s: a provider's name is not escaped, or its foreign icon is shown", lang)
		}
		if strings.Count(body, `class="icon"`) < 2 {
			t.Errorf("%s: the buttons lack their icons", lang)
		}
	}

	// ?upstream_error= is the form's error: a known code by its message,
	// anything else by a general one, never the query's own text.
	tests := []struct{ code, key string }{
		{"upstream_cancelled", "error.upstream_cancelled"},
		{"flow_expired", "error.flow_expired"},
		{"account_disabled", "error.account_disabled"},
		{"<script>", "page.upstream.error_other"},
	}
	for _, tt := range tests {
		_, body := get(t, srv, request{path: "/login?upstream_error=" + url.QueryEscape(tt.code)})
		want := `<div id="form-error" class="form-error" role="alert" tabindex="-1">` + html.EscapeString(cat.T(i18n.ZH, tt.key)) + `</div>`
		if !strings.Contains(body, want) {
			t.Errorf("upstream_error=%s: no %s", tt.code, want)
		}
	}
	_, body := get(t, srv, request{path: "/login"})
	if !strings.Contains(body, `<div id="form-error" class="form-error" role="alert" tabindex="-1"></div>`) {
		t.Error("login page shows an error nobody asked for")
	}
	// The default next is the core's: no next= at all.
	if !strings.Contains(body, `href="/upstream/alipay/start?purpose=signin"`) {
		t.Error("login page without next does not start a plain sign-in")
	}

	srv = newServer(t, Options{Catalog: cat, Upstreams: noUpstreams})
	_, body = get(t, srv, request{path: "/login"})
	if strings.Contains(body, "login-upstreams") || strings.Contains(body, "/upstream/") {
		t.Error("login page offers providers though none is configured")
	}
}

// TestRegisterWithAlipay: 支付宝快捷注册 starts a sign-in at Alipay, and is
// there only when Alipay is configured.
func TestRegisterWithAlipay(t *testing.T) {
	cat := catalog(t)
	srv := newServer(t, Options{Catalog: cat})
	_, body := get(t, srv, request{path: "/register?next=" + url.QueryEscape(pendingNext)})
	if want := `id="alipay-register" class="button button-secondary button-wide" href="/upstream/alipay/start?next=` + url.QueryEscape(pendingNext) + `&amp;purpose=signin"`; !strings.Contains(body, want) {
		t.Errorf("registration page lacks %s", want)
	}
	if strings.Contains(body, html.EscapeString(cat.T(i18n.ZH, "page.site.coming_soon"))) || strings.Contains(body, "disabled aria-describedby") {
		t.Error("the Alipay button still says it is coming")
	}
	for _, ups := range []func() []UpstreamButton{noUpstreams, func() []UpstreamButton { return testUpstreams[1:] }} {
		srv := newServer(t, Options{Catalog: cat, Upstreams: ups})
		_, body := get(t, srv, request{path: "/register"})
		if strings.Contains(body, "alipay-register") || strings.Contains(body, cat.T(i18n.ZH, "page.register.alipay")) {
			t.Errorf("registration page offers Alipay though it is not configured (%d providers)", len(ups()))
		}
	}
}

// TestRecoverWithUpstream: the recovery page offers the providers, and
// says when the one just used is bound to no account or failed.
func TestRecoverWithUpstream(t *testing.T) {
	cat := catalog(t)
	srv := newServer(t, Options{Catalog: cat})
	for _, lang := range i18n.Langs {
		_, body := get(t, srv, request{path: "/recover?lang=" + string(lang) + "&upstream=unlinked&upstream_error=upstream_unavailable"})
		text := html.UnescapeString(body)
		for _, want := range []string{
			cat.T(lang, "page.recover.upstream_heading"),
			`id="upstream-alipay" class="button button-secondary" href="/upstream/alipay/start?purpose=recover"`,
			cat.T(lang, "page.recover.upstream", "name", "支付宝"),
			`id="recover-unlinked"`, cat.T(lang, "page.recover.upstream_unlinked"),
			`tabindex="-1">` + cat.T(lang, "error.upstream_unavailable") + `</div>`,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: recovery page lacks %s", lang, want)
			}
		}
		// The page never repeats its query in the language link.
		if strings.Contains(body, "unlinked&") || strings.Contains(body, "upstream_error=") {
			t.Errorf("%s: the query is echoed", lang)
		}
	}
	_, body := get(t, srv, request{path: "/recover"})
	if strings.Contains(body, "recover-unlinked") {
		t.Error("recovery page says unlinked unasked")
	}
	srv = newServer(t, Options{Catalog: cat, Upstreams: noUpstreams})
	_, body = get(t, srv, request{path: "/recover"})
	if strings.Contains(body, "recover-upstreams") {
		t.Error("recovery page offers providers though none is configured")
	}
}

// TestUpstreamContinue: the page after a first sign-in with a provider
// goes on to the safe next, and when the identity has expired leads back
// to the one provider there is, or to the login page.
func TestUpstreamContinue(t *testing.T) {
	cat := catalog(t)
	srv := newServer(t, Options{Catalog: cat})
	for _, lang := range i18n.Langs {
		_, body := get(t, srv, request{path: "/upstream/continue?lang=" + string(lang) + "&next=" + url.QueryEscape(pendingNext)})
		text := html.UnescapeString(body)
		for _, want := range []string{
			`data-next="` + pendingNext + `"`,
			`id="continue-again" class="button button-primary button-wide" href="/login?next=` + url.QueryEscape(pendingNext) + `"`,
			cat.T(lang, "page.upstream_continue.again_login"),
			cat.T(lang, "page.upstream_continue.register"), cat.T(lang, "page.upstream_continue.bind"),
			cat.T(lang, "page.upstream_continue.password_hint"),
		} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: continue page lacks %s", lang, want)
			}
		}
	}
	srv = newServer(t, Options{Catalog: cat, Upstreams: func() []UpstreamButton { return testUpstreams[:1] }})
	_, body := get(t, srv, request{path: "/upstream/continue?next=%2F%2Fevil.example"})
	text := html.UnescapeString(body)
	for _, want := range []string{`data-next="/me"`, `href="/upstream/alipay/start?purpose=signin"`, cat.T(i18n.ZH, "page.upstream_continue.again", "name", "支付宝")} {
		if !strings.Contains(text, want) {
			t.Errorf("continue page with Alipay only lacks %s", want)
		}
	}
}

// TestSettingsLinks: 账号绑定 is a section of the user center where a
// provider is configured, and says what a bind just did.
func TestSettingsLinks(t *testing.T) {
	cat := catalog(t)
	srv := newServer(t, Options{Catalog: cat})
	for _, lang := range i18n.Langs {
		_, body := get(t, srv, request{path: "/settings?lang=" + string(lang), cookies: signedIn})
		if !strings.Contains(body, `id="settings-links" href="/settings/links"`) || !strings.Contains(body, html.EscapeString(cat.T(lang, "page.settings.links.desc"))) {
			t.Errorf("%s: the user center does not list 账号绑定", lang)
		}
		_, body = get(t, srv, request{path: "/settings/links?lang=" + string(lang) + "&bound=alipay&error=upstream_linked_elsewhere", cookies: signedIn})
		text := html.UnescapeString(body)
		for _, want := range []string{
			`id="links-status" class="status" role="status">` + cat.T(lang, "page.settings.links.bound", "name", "支付宝") + `</p>`,
			`tabindex="-1">` + cat.T(lang, "error.upstream_linked_elsewhere") + `</div>`,
			`<a href="/settings/links" aria-current="page">`,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: links page lacks %s", lang, want)
			}
		}
	}
	// A provider that is not configured is not said to be bound.
	_, body := get(t, srv, request{path: "/settings/links?bound=nope", cookies: signedIn})
	if !strings.Contains(body, `<p id="links-status" class="status" role="status"></p>`) {
		t.Error("links page says an unknown provider was bound")
	}
	if strings.Contains(body, "data-reauth") {
		t.Error("links page asks to confirm before binding unasked")
	}
	// A bind refused for want of a recent sign-in says so, and the
	// script confirms the person before the next one.
	_, body = get(t, srv, request{path: "/settings/links?error=reauthentication_required", cookies: signedIn})
	if !strings.Contains(body, `data-reauth="true"`) || !strings.Contains(body, html.EscapeString(cat.T(i18n.ZH, "error.reauthentication_required"))) {
		t.Error("links page does not take up a bind refused for want of a recent sign-in")
	}
	res, _ := get(t, srv, request{path: "/settings/links"})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login?next=/settings/links" {
		t.Errorf("signed out: %d %q", res.StatusCode, res.Header.Get("Location"))
	}

	srv = newServer(t, Options{Catalog: cat, Upstreams: noUpstreams})
	_, body = get(t, srv, request{path: "/settings", cookies: signedIn})
	if strings.Contains(body, "/settings/links") {
		t.Error("the user center lists 账号绑定 though no provider is configured")
	}
	if res, _ := get(t, srv, request{path: "/settings/links", cookies: signedIn}); res.StatusCode != http.StatusNotFound {
		t.Errorf("links page without providers: %d, want 404", res.StatusCode)
	}
}
