package web

import (
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"unid/internal/claims"
	"unid/internal/i18n"
)

// TestConsentExplainsEveryUserScope: every scope a user can grant has a
// title and a description in Chinese and in English, and the consent page
// shows them.
func TestConsentExplainsEveryUserScope(t *testing.T) {
	cat := catalog(t)
	for _, scope := range claims.UserScopes() {
		for _, key := range []string{"page.consent.scope." + scope, "page.consent.scope." + scope + "_desc"} {
			zh, en := cat.T(i18n.ZH, key), cat.T(i18n.EN, key)
			if zh == key || en == key || zh == en {
				t.Errorf("%s: zh-CN %q, en %q: want a message in each language", key, zh, en)
			}
		}
	}

	p, err := New(Options{Catalog: cat, Me: func(*http.Request) (*Me, bool) { return nil, false }})
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range i18n.Langs {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "/oidc/consent?id=r&lang="+string(lang), nil)
		p.Consent(w, r, Consent{RequestID: "r", ClientID: "hall", ClientName: "网上办事大厅", LoginName: "zhang_san", Scopes: claims.UserScopes()})
		body := html.UnescapeString(w.Body.String())
		for _, scope := range claims.UserScopes() {
			for _, key := range []string{"page.consent.scope." + scope, "page.consent.scope." + scope + "_desc"} {
				if msg := cat.T(lang, key); !strings.Contains(body, msg) {
					t.Errorf("%s consent page lacks %s (%q)", lang, key, msg)
				}
			}
		}
	}
}
