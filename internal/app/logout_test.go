package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"unid/internal/app/apptest"
)

// TestLogoutFromAnotherSiteAsksFirst: a link or form on another site that
// points at /cas/logout or /oidc/end_session (without an ID token hint)
// shows a confirmation instead of signing the user out of every system;
// the user's own click on that page, or a logout from unid's own pages,
// signs out.
func TestLogoutFromAnotherSiteAsksFirst(t *testing.T) {
	srv := apptest.Start(t, nil)
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name           string
		method, target string
		body           string
		site           string // Sec-Fetch-Site
		wantAsk        bool   // the confirmation page, still signed in
		wantStatus     int
	}{
		{"CAS logout linked from another site", "GET", "/cas/logout", "", "cross-site", true, http.StatusOK},
		{"CAS logout linked from a sibling subdomain", "GET", "/cas/logout", "", "same-site", true, http.StatusOK},
		{"CAS logout typed in", "GET", "/cas/logout", "", "none", false, http.StatusOK},
		{"CAS logout from a plain-HTTP link without a referrer", "GET", "/cas/logout", "", "", true, http.StatusOK},
		{"CAS logout confirmed on unid's page", "POST", "/cas/logout", "service=", "same-origin", false, http.StatusOK},
		{"CAS logout posted from another site", "POST", "/cas/logout", "service=", "cross-site", false, http.StatusForbidden},
		{"OIDC logout posted from another site", "POST", "/oidc/end_session", "", "cross-site", true, http.StatusOK},
		{"OIDC logout posted from a sibling subdomain", "POST", "/oidc/end_session", "", "same-site", true, http.StatusOK},
		{"OIDC logout linked from another site", "GET", "/oidc/end_session", "", "cross-site", true, http.StatusOK},
		{"OIDC logout confirmed on unid's page", "POST", "/oidc/end_session", "", "same-origin", false, http.StatusSeeOther},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := srv.Browser(t)
			b.MustRegister(apptest.Person{Login: fmt.Sprintf("li_%d", i), Password: apptest.GoodPassword, Phone: fmt.Sprintf("137000000%02d", i)})
			ct := ""
			if tt.method == "POST" {
				ct = form
			}
			r := b.Do(tt.method, tt.target, ct, strings.NewReader(tt.body), "Sec-Fetch-Site", tt.site)
			if r.Status != tt.wantStatus {
				t.Fatalf("%s %s: %d %s, want %d", tt.method, tt.target, r.Status, r.Body, tt.wantStatus)
			}
			asked := strings.Contains(string(r.Body), `id="logout-form"`)
			if asked != tt.wantAsk {
				t.Errorf("confirmation page shown: %v, want %v", asked, tt.wantAsk)
			}
			if asked {
				action := "/cas/logout"
				if strings.HasPrefix(tt.target, "/oidc/") {
					action = "/oidc/end_session"
				}
				if !strings.Contains(string(r.Body), `action="`+action+`"`) {
					t.Errorf("the confirmation does not post to %s:\n%s", action, r.Body)
				}
			}
			signedIn := b.Get("/api/v1/me").Status == http.StatusOK
			if want := tt.wantAsk || tt.wantStatus == http.StatusForbidden; signedIn != want {
				t.Errorf("signed in afterwards: %v, want %v", signedIn, want)
			}
		})
	}
}
