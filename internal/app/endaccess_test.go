package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/store"
)

// TestPasswordChangeAndDisableSignOutEverywhere: when an account's
// password is changed or the account is disabled, whoever held a session
// is signed out of unid and of every service system that session signed
// in to (CAS single logout here), not only of unid.
func TestPasswordChangeAndDisableSignOutEverywhere(t *testing.T) {
	for _, change := range []string{"password", "disable"} {
		t.Run(change, func(t *testing.T) {
			ctx := context.Background()
			srv := apptest.Start(t, nil)
			var mu sync.Mutex
			logouts := 0
			svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost && strings.Contains(r.FormValue("logoutRequest"), "LogoutRequest") {
					mu.Lock()
					logouts++
					mu.Unlock()
				}
			}))
			t.Cleanup(svc.Close)
			if _, _, err := srv.App.Clients.Create(ctx, client.Spec{ID: "archive", Name: "档案查询", Type: store.ClientCAS,
				RedirectURIs: []string{svc.URL + "/app/*"}, Scopes: []string{"login_name"}}, audit.Origin{Actor: audit.Operator("test")}); err != nil {
				t.Fatal(err)
			}
			b := srv.Browser(t)
			id := b.MustRegister(apptest.Zhang)
			service := svc.URL + "/app/"
			r := b.Get("/cas/login?service=" + url.QueryEscape(service))
			loc, _ := url.Parse(r.Location())
			ticket := loc.Query().Get("ticket")
			if ticket == "" {
				t.Fatalf("cas login: %d %q", r.Status, r.Location())
			}
			if v := b.Get("/cas/serviceValidate?" + url.Values{"service": {service}, "ticket": {ticket}}.Encode()); !strings.Contains(string(v.Body), "authenticationSuccess") {
				t.Fatalf("validate: %s", v.Body)
			}
			var err error
			if change == "password" {
				err = srv.App.Accounts.SetPassword(ctx, id, "Taishan#Sunrise2026", audit.User(id))
			} else {
				err = srv.App.Accounts.Disable(ctx, id, audit.Operator("ops"), "test")
			}
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			n := logouts
			mu.Unlock()
			if n != 1 {
				t.Errorf("%d single logouts reached the service, want 1", n)
			}
			if r := b.Get("/api/v1/me"); r.Status != http.StatusUnauthorized {
				t.Errorf("the old session after the change: %d, want 401", r.Status)
			}
		})
	}
}
