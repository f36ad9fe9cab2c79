package app_test

import (
	"net/http"
	"strings"
	"testing"

	"unid/internal/app/apptest"
	"unid/internal/config"
)

// TestRealnameWithoutAService: a platform without a verification service
// (realname.provider none, and production when none was chosen) offers no
// path: the page and the API say so, and asking anyway verifies nobody —
// not even one of the sandbox's public test people.
func TestRealnameWithoutAService(t *testing.T) {
	srv := apptest.Start(t, func(c *config.Config) { c.Realname.Provider = config.ProviderNone })
	b := srv.Browser(t)
	b.MustRegister(apptest.Zhang)
	b.MustLogin(apptest.Zhang.Login, apptest.Zhang.Password)
	st := realnameStatus(t, b)
	levels, _ := st["levels"].([]any)
	for _, l := range levels {
		for _, m := range l.(map[string]any)["methods"].([]any) {
			t.Errorf("method offered without a service: %v", m)
		}
	}
	r := b.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true})
	if r.Status == http.StatusOK || r.Status >= 500 {
		t.Errorf("identity check without a service: %d %s, want a clear refusal", r.Status, r.Body)
	}
	if realnameLevel(t, b) != 0 {
		t.Error("the level rose without a verification service")
	}
	if r := b.Get("/dev/realname/"); r.Status == http.StatusOK && strings.Contains(string(r.Body), "通过") {
		t.Error("the sandbox's page is served although the provider is none")
	}
}
