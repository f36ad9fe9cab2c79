package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"unid/internal/account"
	"unid/internal/account/accounttest"
	"unid/internal/app/apptest"
	"unid/internal/config"
	"unid/internal/session"
	"unid/internal/store"
)

// li is a second citizen, for "another user's data".
var li = apptest.Person{Login: "li_si", Password: "Jinan#Spring2031", Phone: "13900000004"}

func patchJSON(b *apptest.Browser, path string, v any) apptest.Response {
	b.T.Helper()
	data, _ := json.Marshal(v)
	return b.Do(http.MethodPatch, path, "application/json", bytes.NewReader(data))
}

func wantStatus(t *testing.T, what string, r apptest.Response, status int, code string) {
	t.Helper()
	if r.Status != status || (code != "" && r.ErrCode(t) != code) {
		t.Errorf("%s: %d %s, want %d %s", what, r.Status, r.Body, status, code)
	}
}

func user(t *testing.T, srv *apptest.Server, id string) store.User {
	t.Helper()
	u, err := srv.App.Store.GetUser(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestReauthenticate(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	id := b.MustRegister(zhang)

	// Just signed in: the sensitive endpoints are open; 5 minutes later
	// they ask for the password.
	if r := b.Get("/api/v1/me/revealed"); r.Status != http.StatusOK {
		t.Fatalf("reveal right after sign-in: %d %s", r.Status, r.Body)
	}
	srv.Clock.Advance(5*time.Minute + time.Second)
	wantStatus(t, "reveal after 5 minutes", b.Get("/api/v1/me/revealed"), http.StatusUnauthorized, "reauthentication_required")

	// A wrong password answers like a wrong password at sign-in.
	wrong := b.PostJSON("/api/v1/sessions/current/reauth", map[string]any{"password": "Wrong#Password1"})
	login := srv.Browser(t).Login(zhang.Login, "Wrong#Password1")
	if wrong.Status != login.Status || wrong.ErrCode(t) != "login_failed" || !bytes.Equal(wrong.Body, login.Body) {
		t.Errorf("wrong password: %d %s; at sign-in: %d %s", wrong.Status, wrong.Body, login.Status, login.Body)
	}
	wantStatus(t, "empty password", b.PostJSON("/api/v1/sessions/current/reauth", map[string]any{"password": ""}), http.StatusBadRequest, "password_required")
	wantStatus(t, "still closed", b.Get("/api/v1/me/revealed"), http.StatusUnauthorized, "reauthentication_required")

	r := b.PostJSON("/api/v1/sessions/current/reauth", map[string]any{"password": zhang.Password})
	if r.Status != http.StatusOK {
		t.Fatalf("reauth: %d %s", r.Status, r.Body)
	}
	r = b.Get("/api/v1/me/revealed")
	if r.Status != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("reveal after reauth: %d %s", r.Status, r.Body)
	}
	if m := r.JSON(t); m["phone"] != zhang.Phone || m["id_number"] != zhang.IDNumber {
		t.Errorf("revealed %v", m)
	}
	if strings.Contains(srv.Logs.String(), zhang.IDNumber) || strings.Contains(srv.Logs.String(), zhang.Phone) {
		t.Error("the revealed values were logged")
	}
	if n := countEvents(t, srv, session.ActionReauthenticated, id); n != 1 {
		t.Errorf("%d session.reauthenticated events, want 1", n)
	}
	if n := countEvents(t, srv, account.ActionPIIRevealed, id); n != 2 {
		t.Errorf("%d pii_revealed events, want 2", n)
	}

	// Not signed in: neither endpoint answers anything else.
	anon := srv.Browser(t)
	wantStatus(t, "reauth without a session", anon.PostJSON("/api/v1/sessions/current/reauth", map[string]any{"password": zhang.Password}), http.StatusUnauthorized, "not_signed_in")
	wantStatus(t, "reveal without a session", anon.Get("/api/v1/me/revealed"), http.StatusUnauthorized, "not_signed_in")
}

// TestReauthenticateCountsTowardTheLock: re-authentication gives a stolen
// session no more guesses than the login page.
func TestReauthenticateCountsTowardTheLock(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	b.MustRegister(zhang)
	for range 5 {
		wantStatus(t, "wrong password", b.PostJSON("/api/v1/sessions/current/reauth", map[string]any{"password": "Wrong#Password1"}), http.StatusUnauthorized, "login_failed")
	}
	// Locked: the right password is refused alike, here and at sign-in.
	wantStatus(t, "right password while locked", b.PostJSON("/api/v1/sessions/current/reauth", map[string]any{"password": zhang.Password}), http.StatusUnauthorized, "login_failed")
	wantStatus(t, "sign-in while locked", srv.Browser(t).Login(zhang.Login, zhang.Password), http.StatusUnauthorized, "login_failed")
}

// TestReauthenticateWhileTheHashQueueIsFull: a re-authentication, a
// password change or the setting of security questions that would wait
// too long for a hash is told "busy", and the wrong passwords count toward
// no lock.
func TestReauthenticateWhileTheHashQueueIsFull(t *testing.T) {
	srv := apptest.Start(t, busyConfig)
	b := srv.Browser(t)
	b.MustRegister(zhang)
	stop := accounttest.Burst(t, srv.App.Hasher, 50)
	for range 6 {
		wantStatus(t, "wrong password in the burst", b.PostJSON("/api/v1/sessions/current/reauth", map[string]any{"password": "Wrong#Password1"}), http.StatusServiceUnavailable, "busy")
	}
	wantStatus(t, "password change in the burst", b.SendJSON(http.MethodPut, "/api/v1/me/password", map[string]any{"current_password": "Wrong#Password1", "password": "Fresh#Password2", "password_confirm": "Fresh#Password2"}), http.StatusServiceUnavailable, "busy")
	wantStatus(t, "security questions set in the burst", setQuestions(b, zhangQuestions, zhangAnswers), http.StatusServiceUnavailable, "busy")
	stop()
	if r := b.PostJSON("/api/v1/sessions/current/reauth", map[string]any{"password": zhang.Password}); r.Status != http.StatusOK {
		t.Fatalf("re-authentication after the burst: %d %s", r.Status, r.Body)
	}
}

func countEvents(t *testing.T, srv *apptest.Server, action, actor string) int {
	t.Helper()
	events, err := srv.App.Store.ListAudit(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Action == action && e.Actor == actor {
			n++
		}
	}
	return n
}

func TestUpdateProfileAPI(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	id := b.MustRegister(zhang)
	other := srv.Browser(t)
	otherID := other.MustRegister(li)

	r := patchJSON(b, "/api/v1/me", map[string]any{"nickname": "小张", "work_unit": "山东省大数据局"})
	if r.Status != http.StatusOK {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	if m := b.Get("/api/v1/me").JSON(t); m["nickname"] != "小张" || m["work_unit"] != "山东省大数据局" || m["phone"] != "138****5678" {
		t.Errorf("me = %v", m)
	}
	before := user(t, srv, id)
	for _, tt := range []struct {
		name string
		body map[string]any
		code string
	}{
		{"too long", map[string]any{"nickname": strings.Repeat("张", 21)}, "nickname_too_long"},
		{"control character", map[string]any{"work_unit": "a\x01b"}, "invalid_characters"},
		{"not a string", map[string]any{"nickname": 5}, "wrong_type"},
		{"unknown field", map[string]any{"nickname": "x", "phone": "13700000001"}, "unknown_field"},
	} {
		r := patchJSON(b, "/api/v1/me", tt.body)
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), tt.code) {
			t.Errorf("%s: %d %s, want 400 %s", tt.name, r.Status, r.Body, tt.code)
		}
	}
	if after := user(t, srv, id); after.UpdatedAt != before.UpdatedAt || !bytes.Equal(after.Nickname.Cipher, before.Nickname.Cipher) {
		t.Error("refused updates changed the account")
	}
	if m := other.Get("/api/v1/me").JSON(t); m["id"] != otherID || m["nickname"] != nil {
		t.Errorf("another user sees %v", m)
	}
	wantStatus(t, "not signed in", patchJSON(srv.Browser(t), "/api/v1/me", map[string]any{"nickname": "x"}), http.StatusUnauthorized, "not_signed_in")
}

func TestChangePassword(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	id := b.MustRegister(zhang)
	elsewhere := srv.Browser(t)
	elsewhere.MustLogin(zhang.Login, zhang.Password)
	const newPassword = "Taishan#Sunrise2031"

	before := user(t, srv, id)
	sent := srv.OutboxLen(t)
	for _, tt := range []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"wrong current password", map[string]any{"current_password": "Wrong#Password1", "password": newPassword, "password_confirm": newPassword}, http.StatusUnauthorized, "login_failed"},
		{"weak new password", map[string]any{"current_password": zhang.Password, "password": "password", "password_confirm": "password"}, http.StatusBadRequest, "invalid_fields"},
		{"mismatched confirmation", map[string]any{"current_password": zhang.Password, "password": newPassword, "password_confirm": newPassword + "x"}, http.StatusBadRequest, "invalid_fields"},
		{"the same password", map[string]any{"current_password": zhang.Password, "password": zhang.Password, "password_confirm": zhang.Password}, http.StatusBadRequest, "invalid_fields"},
		{"no current password", map[string]any{"password": newPassword, "password_confirm": newPassword}, http.StatusBadRequest, "invalid_fields"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantStatus(t, tt.name, b.SendJSON(http.MethodPut, "/api/v1/me/password", tt.body), tt.status, tt.code)
			if user(t, srv, id).PasswordHash != before.PasswordHash {
				t.Fatal("the password changed")
			}
			if r := elsewhere.Get("/api/v1/me"); r.Status != http.StatusOK {
				t.Errorf("the other session ended: %d", r.Status)
			}
		})
	}
	if r := b.SendJSON(http.MethodPut, "/api/v1/me/password", map[string]any{"current_password": "Wrong#Password1", "password": newPassword, "password_confirm": newPassword}); !strings.Contains(string(r.Body), `"current_password"`) {
		t.Errorf("a wrong current password does not mark the field: %s", r.Body)
	}
	if srv.OutboxLen(t) != sent {
		t.Error("a refused change sent a text")
	}

	// Default: the other sessions end, this one stays.
	if r := b.SendJSON(http.MethodPut, "/api/v1/me/password", map[string]any{"current_password": zhang.Password, "password": newPassword, "password_confirm": newPassword}); r.Status != http.StatusNoContent {
		t.Fatalf("change: %d %s", r.Status, r.Body)
	}
	if r := b.Get("/api/v1/me"); r.Status != http.StatusOK {
		t.Errorf("this browser was signed out: %d", r.Status)
	}
	wantStatus(t, "the other browser", elsewhere.Get("/api/v1/me"), http.StatusUnauthorized, "not_signed_in")
	if m := srv.Outbox(t)[0]; m.To != zhang.Phone || !strings.Contains(m.Text, "其他已登录的设备均已退出") {
		t.Errorf("notice: %+v", m)
	}
	wantStatus(t, "the old password", srv.Browser(t).Login(zhang.Login, zhang.Password), http.StatusUnauthorized, "login_failed")
	srv.Browser(t).MustLogin(zhang.Login, newPassword)

	// Off: only the password changes.
	elsewhere.MustLogin(zhang.Login, newPassword)
	const third = "Qingdao#Harbour2032"
	if r := b.SendJSON(http.MethodPut, "/api/v1/me/password", map[string]any{"current_password": newPassword, "password": third, "password_confirm": third, "sign_out_others": false}); r.Status != http.StatusNoContent {
		t.Fatalf("change keeping others: %d %s", r.Status, r.Body)
	}
	if r := elsewhere.Get("/api/v1/me"); r.Status != http.StatusOK {
		t.Errorf("sign_out_others false ended the other session: %d", r.Status)
	}
	if m := srv.Outbox(t)[0]; m.To != zhang.Phone || strings.Contains(m.Text, "均已退出") {
		t.Errorf("notice: %+v", m)
	}
}

// TestChangePasswordWrongCurrentCountsTowardTheLock: the current password
// is a password guess like any other.
func TestChangePasswordWrongCurrentCountsTowardTheLock(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	b.MustRegister(zhang)
	body := map[string]any{"current_password": "Wrong#Password1", "password": "Taishan#Sunrise2031", "password_confirm": "Taishan#Sunrise2031"}
	for range 5 {
		wantStatus(t, "wrong current password", b.SendJSON(http.MethodPut, "/api/v1/me/password", body), http.StatusUnauthorized, "login_failed")
	}
	body["current_password"] = zhang.Password
	wantStatus(t, "right current password while locked", b.SendJSON(http.MethodPut, "/api/v1/me/password", body), http.StatusUnauthorized, "login_failed")
	wantStatus(t, "sign-in while locked", srv.Browser(t).Login(zhang.Login, zhang.Password), http.StatusUnauthorized, "login_failed")
}

// sendPhoneCode asks for a change_phone code to phone and returns the
// answer.
func sendPhoneCode(b *apptest.Browser, phone string) apptest.Response {
	b.T.Helper()
	id, answer := b.Captcha()
	return b.PostJSON("/api/v1/me/phone/sms-codes", map[string]any{"phone": phone, "captcha_id": id, "captcha_answer": answer})
}

func TestChangePhone(t *testing.T) {
	srv := apptest.Start(t, func(c *config.Config) { c.SMSPerPhoneMinute = -1 })
	b := srv.Browser(t)
	id := b.MustRegister(zhang)
	other := srv.Browser(t)
	other.MustRegister(li)
	const newPhone = "13700000001"
	change := func(phone, code string) apptest.Response {
		return b.SendJSON(http.MethodPut, "/api/v1/me/phone", map[string]any{"phone": phone, "sms_code": code})
	}
	unchanged := func(what string) {
		t.Helper()
		if u, _, _ := srv.App.Accounts.Find(context.Background(), zhang.Phone); u.ID != id {
			t.Errorf("%s: the account lost its number", what)
		}
	}

	// Without a recent password: 401, and then it works after reauth.
	srv.Clock.Advance(6 * time.Minute)
	wantStatus(t, "send without reauth", sendPhoneCode(b, newPhone), http.StatusUnauthorized, "reauthentication_required")
	wantStatus(t, "change without reauth", change(newPhone, "123456"), http.StatusUnauthorized, "reauthentication_required")
	if r := b.PostJSON("/api/v1/sessions/current/reauth", map[string]any{"password": zhang.Password}); r.Status != http.StatusOK {
		t.Fatalf("reauth: %d %s", r.Status, r.Body)
	}

	// A captcha is needed, and the current number is no new number.
	wantStatus(t, "no captcha", b.PostJSON("/api/v1/me/phone/sms-codes", map[string]any{"phone": newPhone}), http.StatusBadRequest, "invalid_fields")
	wantStatus(t, "own number", sendPhoneCode(b, zhang.Phone), http.StatusBadRequest, "phone_unchanged")

	// A registration code is not a phone-change code.
	regCode := srv.Browser(t).SendCode(newPhone)
	wantStatus(t, "code of another purpose", change(newPhone, regCode), http.StatusGone, "sms_code_expired")

	// A taken number: the code goes out as to any number; only its holder
	// learns the number is taken, and nothing changes.
	if r := sendPhoneCode(b, li.Phone); r.Status != http.StatusAccepted {
		t.Fatalf("send to a taken number: %d %s", r.Status, r.Body)
	}
	wantStatus(t, "taken number, wrong code", change(li.Phone, "000000"), http.StatusBadRequest, "sms_code_wrong")
	wantStatus(t, "taken number, right code", change(li.Phone, srv.LastCode(t, li.Phone)), http.StatusConflict, "phone_registered")
	unchanged("taken number")

	// Expired code.
	if r := sendPhoneCode(b, newPhone); r.Status != http.StatusAccepted {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	code := srv.LastCode(t, newPhone)
	srv.Clock.Advance(5*time.Minute + time.Second)
	b.PostJSON("/api/v1/sessions/current/reauth", map[string]any{"password": zhang.Password})
	wantStatus(t, "expired code", change(newPhone, code), http.StatusGone, "sms_code_expired")
	unchanged("expired code")

	// The right code changes the number; it cannot be used again.
	if r := sendPhoneCode(b, newPhone); r.Status != http.StatusAccepted {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	code = srv.LastCode(t, newPhone)
	r := change(newPhone, code)
	if r.Status != http.StatusOK || r.JSON(t)["phone"] != "137****0001" {
		t.Fatalf("change: %d %s", r.Status, r.Body)
	}
	if u, ok, _ := srv.App.Accounts.Find(context.Background(), newPhone); !ok || u.ID != id {
		t.Error("the new number does not find the account")
	}
	var notice *apptest.OutboxMessage
	for _, m := range srv.Outbox(t) {
		if m.To == zhang.Phone {
			notice = &m
			break
		}
	}
	if notice == nil || !strings.Contains(notice.Text, "改绑") || strings.Contains(notice.Text, "1370") {
		t.Errorf("notice to the old number: %+v", notice)
	}
	wantStatus(t, "reused code", change("13700000002", code), http.StatusGone, "sms_code_expired")
	if n := countEvents(t, srv, account.ActionPhoneChanged, id); n != 1 {
		t.Errorf("%d phone_changed events, want 1", n)
	}
	// The other account kept its number.
	if m := other.Get("/api/v1/me").JSON(t); m["phone"] != "139****0004" {
		t.Errorf("the other account: %v", m)
	}
}
