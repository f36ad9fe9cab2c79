package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"unid/internal/account/accounttest"
	"unid/internal/app/apptest"
	"unid/internal/config"
)

// hasPassword is what GET /api/v1/me says of b's account.
func hasPassword(t *testing.T, b *apptest.Browser) bool {
	t.Helper()
	r := b.Get("/api/v1/me")
	if r.Status != http.StatusOK {
		t.Fatalf("GET /api/v1/me: %d %s", r.Status, r.Body)
	}
	var me struct {
		HasPassword *bool `json:"has_password"`
	}
	if err := json.Unmarshal(r.Body, &me); err != nil || me.HasPassword == nil {
		t.Fatalf("GET /api/v1/me has no has_password (%v): %s", err, r.Body)
	}
	return *me.HasPassword
}

// passwordChanges counts the password changes in b's own history.
func passwordChanges(t *testing.T, b *apptest.Browser) int {
	t.Helper()
	r := b.Get("/api/v1/me/history")
	if r.Status != http.StatusOK {
		t.Fatalf("history: %d %s", r.Status, r.Body)
	}
	var body struct {
		Events []struct{ Action string } `json:"events"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range body.Events {
		if e.Action == "account.password_changed" {
			n++
		}
	}
	return n
}

// TestFirstPasswordAfterAlipay: an account made through 支付宝快捷注册
// has no password; shortly after signing in its owner sets one without
// any current password, is told, and signs in with it. Later than the
// re-authentication window the first password is refused until Alipay
// proves the person again.
func TestFirstPasswordAfterAlipay(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	userID := quickRegister(t, srv, b, alipayCertified, "ali_first", "13612340001", "")
	if hasPassword(t, b) {
		t.Fatal("an account made through Alipay without a password says it has one")
	}
	set := map[string]any{"password": apptest.GoodPassword, "password_confirm": apptest.GoodPassword, "sign_out_others": false}

	// Stale: refused, and nothing changes.
	srv.Clock.Advance(apptestReauthWindow)
	if r := b.SendJSON(http.MethodPut, "/api/v1/me/password", set); r.Status != http.StatusUnauthorized || r.ErrCode(t) != "reauthentication_required" {
		t.Fatalf("first password on a stale session: %d %s", r.Status, r.Body)
	}
	if u, err := srv.App.Store.GetUser(context.Background(), userID); err != nil || u.PasswordHash != "" {
		t.Fatalf("the refused first password was stored (%v)", err)
	}
	if r := srv.Browser(t).Login("ali_first", apptest.GoodPassword); r.Status == http.StatusCreated {
		t.Fatal("the refused first password signs in")
	}

	// Alipay proves the person again; the first password is taken.
	if r := viaAlipay(t, b, "reauth", alipayCertified); r.Status != http.StatusSeeOther {
		t.Fatalf("reauth through Alipay: %d %q", r.Status, r.Location())
	}
	outbox := srv.OutboxLen(t)
	if r := b.SendJSON(http.MethodPut, "/api/v1/me/password", set); r.Status != http.StatusNoContent {
		t.Fatalf("first password on a fresh session: %d %s", r.Status, r.Body)
	}
	if !hasPassword(t, b) {
		t.Error("after the first password GET /api/v1/me says there is none")
	}
	if srv.OutboxLen(t) <= outbox || !strings.Contains(srv.Outbox(t)[0].Text, "已设置登录密码") {
		t.Error("the owner was not told that the account now has a password")
	}
	if n := passwordChanges(t, b); n != 1 {
		t.Errorf("history has %d password changes, want 1", n)
	}
	srv.Browser(t).MustLogin("ali_first", apptest.GoodPassword)

	// From now on the current password is asked for, as for anyone.
	if r := b.SendJSON(http.MethodPut, "/api/v1/me/password", map[string]any{"password": "Another#Password9", "password_confirm": "Another#Password9"}); r.Status != http.StatusBadRequest {
		t.Errorf("second password without the first: %d %s", r.Status, r.Body)
	}
}

// TestFirstPasswordRightAfterQuickRegistration: the session of a fresh
// quick registration is recent enough.
func TestFirstPasswordRightAfterQuickRegistration(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	quickRegister(t, srv, b, alipayCertified, "ali_fresh", "13612340002", "")
	srv.Clock.Advance(time.Minute)
	r := b.SendJSON(http.MethodPut, "/api/v1/me/password", map[string]any{"password": apptest.GoodPassword, "password_confirm": apptest.GoodPassword})
	if r.Status != http.StatusNoContent {
		t.Fatalf("first password: %d %s", r.Status, r.Body)
	}
	// Absent sign_out_others means true, as for a change.
	if signedInAs(t, b) == "" {
		t.Error("setting the first password signed this browser out")
	}
	srv.Browser(t).MustLogin("ali_fresh", apptest.GoodPassword)
}

// TestPasswordChangeStillNeedsTheCurrentOne: an account with a password
// keeps today's rules, however fresh its session.
func TestPasswordChangeStillNeedsTheCurrentOne(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	b.MustRegister(apptest.Zhang)
	b.MustLogin(apptest.Zhang.Login, apptest.Zhang.Password)
	if !hasPassword(t, b) {
		t.Fatal("an account with a password says it has none")
	}
	const next = "Another#Password9"
	tests := []struct {
		name    string
		current string
		status  int
		code    string
	}{
		{"no current password", "", http.StatusBadRequest, "invalid_fields"},
		{"wrong current password", "Wrong#Password1", http.StatusUnauthorized, "login_failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]any{"password": next, "password_confirm": next}
			if tt.current != "" {
				body["current_password"] = tt.current
			}
			r := b.SendJSON(http.MethodPut, "/api/v1/me/password", body)
			if r.Status != tt.status || r.ErrCode(t) != tt.code {
				t.Fatalf("%d %s, want %d %s", r.Status, r.Body, tt.status, tt.code)
			}
			if !strings.Contains(string(r.Body), "current_password") {
				t.Errorf("the answer does not point at the current password: %s", r.Body)
			}
		})
	}
	if r := srv.Browser(t).Login(apptest.Zhang.Login, next); r.Status == http.StatusCreated {
		t.Error("a refused change took effect")
	}
	srv.Browser(t).MustLogin(apptest.Zhang.Login, apptest.Zhang.Password)
}

// busyHashes makes any queue for a password hash too long: one worker,
// hashes of a few hundred milliseconds, and no wait allowed.
func busyHashes(c *config.Config) {
	c.HashWorkers, c.Argon2Time, c.HashMaxWait = 1, uint(accounttest.SlowParams.Time), time.Nanosecond
}

// TestQuickRegistrationAndFirstPasswordWhileBusy: the registration after
// an Alipay sign-in, with a password, and the first password of an
// account made without one are told "busy" in a burst beyond what the
// cores hash; the pending identity and the SMS code stay, and both go
// through once the burst is over.
func TestQuickRegistrationAndFirstPasswordWhileBusy(t *testing.T) {
	srv := apptest.Start(t, busyHashes)
	srv.Browser(t).MustRegister(apptest.Zhang) // one hash: its time is known
	b := srv.Browser(t)
	if r := viaAlipay(t, b, "signin", alipayCertified); r.Location() != "/upstream/continue" {
		t.Fatalf("callback of a new identity: %d %q", r.Status, r.Location())
	}
	const phone = "13612340009"
	register := map[string]any{"login_name": "ali_busy", "password": apptest.GoodPassword, "password_confirm": apptest.GoodPassword,
		"phone": phone, "sms_code": b.SendCode(phone), "agreed": true}
	stop := accounttest.Burst(t, srv.App.Hasher, 50)
	if r := b.PostJSON("/api/v1/upstream/pending/register", register); r.Status != http.StatusServiceUnavailable || r.ErrCode(t) != "busy" {
		t.Fatalf("quick registration in the burst: %d %s, want 503 busy", r.Status, r.Body)
	}
	stop()
	if r := b.PostJSON("/api/v1/upstream/pending/register", register); r.Status != http.StatusCreated {
		t.Fatalf("quick registration after the burst, same code: %d %s", r.Status, r.Body)
	}

	nopw := srv.Browser(t)
	quickRegister(t, srv, nopw, alipayUncertified, "ali_nopw", "13612340010", "")
	first := map[string]any{"password": apptest.GoodPassword, "password_confirm": apptest.GoodPassword}
	stop = accounttest.Burst(t, srv.App.Hasher, 50)
	if r := nopw.SendJSON(http.MethodPut, "/api/v1/me/password", first); r.Status != http.StatusServiceUnavailable || r.ErrCode(t) != "busy" {
		t.Fatalf("first password in the burst: %d %s, want 503 busy", r.Status, r.Body)
	}
	stop()
	if r := nopw.SendJSON(http.MethodPut, "/api/v1/me/password", first); r.Status != http.StatusNoContent {
		t.Fatalf("first password after the burst: %d %s", r.Status, r.Body)
	}
	srv.Browser(t).MustLogin("ali_nopw", apptest.GoodPassword)
}
