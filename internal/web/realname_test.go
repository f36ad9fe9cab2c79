package web

import (
	"html"
	"net/url"
	"strings"
	"testing"

	"unid/internal/i18n"
)

// TestRealnamePage: the 实名认证 section is in the user center's
// navigation, shows the user's level and what every level unlocks, offers
// the redirect methods as buttons, and carries only a safe ?next= to its
// "continue" link.
func TestRealnamePage(t *testing.T) {
	cat := catalog(t)
	srv := newServer(t, Options{Catalog: cat})
	for _, lang := range i18n.Langs {
		for _, path := range []string{"/settings", "/settings/profile", "/settings/realname"} {
			_, body := get(t, srv, request{path: path + "?lang=" + string(lang), cookies: signedIn})
			link := `<a href="/settings/realname">` + cat.T(lang, "page.settings.realname.title") + `</a>`
			switch path {
			case "/settings": // the index lists the sections as tiles
				link = `<a class="tile tile-live" id="settings-realname" href="/settings/realname">` + "\n" + `<span class="tile-title">` + cat.T(lang, "page.settings.realname.title") + `</span>`
			case "/settings/realname":
				link = `<a href="/settings/realname" aria-current="page">` + cat.T(lang, "page.settings.realname.title") + `</a>`
			}
			if !strings.Contains(body, link) {
				t.Errorf("%s %s: the navigation does not list 实名认证", lang, path)
			}
		}

		next := "/oidc/authorize/callback?id=abc&x=1"
		_, body := get(t, srv, request{path: "/settings/realname?lang=" + string(lang) + "&next=" + url.QueryEscape(next), cookies: signedIn})
		text := html.UnescapeString(body)
		// testUser is at level 2.
		if want := `data-level="2">` + cat.T(lang, "realname.level.2.name") + `</span>`; !strings.Contains(text, want) {
			t.Errorf("%s: no current level %s", lang, want)
		}
		for level := 1; level <= 3; level++ {
			for _, part := range []string{"name", "unlocks"} {
				if want := cat.T(lang, realnameLevelKey(level, part)); !strings.Contains(text, want) {
					t.Errorf("%s: level %d lacks its %s %q", lang, level, part, want)
				}
			}
		}
		for _, m := range realnameRedirects {
			if want := `id="rn-redirect-` + m + `" type="button" class="button rn-redirect" data-method="` + m + `" disabled>` + cat.T(lang, "page.realname."+m+".submit"); !strings.Contains(text, want) {
				t.Errorf("%s: no button for %s", lang, m)
			}
		}
		for _, want := range []string{`data-next="` + next + `"`, `id="realname-continue-link" class="button button-primary button-wide" href="` + next + `"`, cat.T(lang, "page.realname.for_service")} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: the page for a service lacks %s", lang, want)
			}
		}
		// The forms start disabled and the continue box hidden: the script
		// enables what the API says is available.
		if !strings.Contains(body, `aria-labelledby="realname-continue-heading" data-next="`) || !strings.Contains(body, `id="rn-identity-submit" type="submit" class="button" disabled>`) {
			t.Errorf("%s: the page does not start with its forms disabled", lang)
		}
	}

	// Only a path on this site is a way back.
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"} {
		_, body := get(t, srv, request{path: "/settings/realname?next=" + url.QueryEscape(next), cookies: signedIn})
		if !strings.Contains(body, `data-next=""`) || !strings.Contains(body, `id="realname-continue-link" class="button button-primary button-wide" href="/me"`) ||
			strings.Contains(body, "evil.example") || strings.Contains(body, `id="realname-for-service"`) {
			t.Errorf("next=%q is carried", next)
		}
	}
}
