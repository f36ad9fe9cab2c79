package cas_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"unid/internal/account/accounttest"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/sso/cas"
	"unid/internal/store"
	"unid/internal/store/sqlite"
)

// TestSingleLogoutBudget: services that do not answer hold the logout up
// for LogoutBudget and no longer, and every request the budget cut short is
// still audited as cas.logout_failed — also those that never got a turn.
func TestSingleLogoutBudget(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "unid.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	protector := accounttest.NewProtector(t)
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // no answer while the test runs
	}))
	t.Cleanup(hung.Close)
	t.Cleanup(func() { close(release) }) // runs before hung.Close
	auditLog := audit.New(st, time.Now, slog.New(slog.DiscardHandler))
	registry := client.New(st, protector.MAC, auditLog, time.Now)
	if _, _, err := registry.Create(ctx, client.Spec{ID: "hung", Name: "hung", Type: store.ClientCAS, RedirectURIs: []string{hung.URL + "/app/*"}}, audit.Origin{Actor: audit.Operator("test")}); err != nil {
		t.Fatal(err)
	}
	// More sessions of services than are sent at once, so that some wait
	// for a turn until the budget is gone.
	const services = 10
	sess := store.Session{SID: "sid-1", UserID: "user-1"}
	for i := range services {
		if err := st.AddSessionClient(ctx, store.SessionClient{
			SID: sess.SID, ClientID: "hung", Protocol: "cas", Ref: fmt.Sprintf("ST-%026d", i),
			URL: fmt.Sprintf("%s/app/%d", hung.URL, i), UserID: sess.UserID, CreatedAt: time.Now(),
		}); err != nil {
			t.Fatal(err)
		}
	}
	const budget = 200 * time.Millisecond
	srv := cas.New(cas.Deps{
		Registry: registry, Store: st, Protector: protector, Now: time.Now,
		Audit:   auditLog,
		Options: cas.Options{LogoutTimeout: time.Minute, LogoutBudget: budget},
	})

	began := time.Now()
	srv.SingleLogout(ctx, sess)
	if took := time.Since(began); took > budget+2*time.Second {
		t.Errorf("single logout took %v with a budget of %v", took, budget)
	}
	events, err := st.ListAudit(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, e := range events {
		if e.Action == cas.ActionLogoutFailed && e.Subject == "hung" && e.Actor == sess.UserID {
			failed++
		}
	}
	if failed != services {
		t.Errorf("%d cas.logout_failed events for %d undelivered logouts", failed, services)
	}
}
