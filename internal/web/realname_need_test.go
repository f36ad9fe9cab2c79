package web

import (
	"net/url"
	"strings"
	"testing"
)

// TestRealnamePageNeed: the upgrade page carries the level a service
// needs (?level=, 1…3) for its script, which offers the way back only once
// the user has it; without a next, or with a level out of range, there is
// none (0: the way back after any success).
func TestRealnamePageNeed(t *testing.T) {
	srv := newServer(t, Options{Catalog: catalog(t)})
	next := url.QueryEscape("/oidc/authorize/callback?id=abc")
	for query, want := range map[string]string{
		"next=" + next + "&level=2":                  `data-need="2"`,
		"next=" + next + "&level=3":                  `data-need="3"`,
		"next=" + next:                               `data-need="0"`,
		"next=" + next + "&level=4":                  `data-need="0"`,
		"next=" + next + "&level=0":                  `data-need="0"`,
		"next=" + next + "&level=-1":                 `data-need="0"`,
		"next=" + next + "&level=two":                `data-need="0"`,
		"level=2":                                    `data-need="0"`,
		"next=https%3A%2F%2Fevil.example%2F&level=2": `data-need="0"`,
	} {
		_, body := get(t, srv, request{path: "/settings/realname?" + query, cookies: signedIn})
		if !strings.Contains(body, want) {
			t.Errorf("?%s: the page lacks %s", query, want)
		}
	}
}
