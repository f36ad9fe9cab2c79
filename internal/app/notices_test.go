package app_test

import (
	"net/http"
	"testing"

	"unid/internal/app/apptest"
	"unid/internal/config"
)

// TestLockNoticesShareTheSMSBudget: once the platform's SMS budget is
// spent, locking an account (which texts its owner) sends nothing more, so
// wrong passwords cannot be turned into texts the platform pays for.
func TestLockNoticesShareTheSMSBudget(t *testing.T) {
	srv := apptest.Start(t, func(c *config.Config) { c.SMSGlobalHour = 1 })
	b := srv.Browser(t)
	b.MustRegister(apptest.Zhang) // the registration code is the hour's one text
	attacker := srv.Browser(t)
	for range 6 {
		if r := attacker.Login(apptest.Zhang.Login, "Wrong#Password1"); r.Status != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d %s", r.Status, r.Body)
		}
	}
	srv.App.Close() // waits for lock notices still being sent
	if n := len(srv.App.Outbox.List()); n != 1 {
		t.Errorf("%d texts sent, want only the registration code: the lock notice must wait for the budget", n)
	}
}
