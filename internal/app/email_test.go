package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"unid/internal/account"
	"unid/internal/app/apptest"
	"unid/internal/config"
	"unid/internal/notify/smtptest"
)

var li = apptest.Person{Login: "li_si", Password: apptest.GoodPassword, Phone: "13900001111"}

// bindEmail asks for a code for email, reads it from the dev outbox and
// binds the address with it; it returns the bind answer.
func bindEmail(t *testing.T, srv *apptest.Server, b *apptest.Browser, email string) apptest.Response {
	t.Helper()
	if r := b.PostJSON("/api/v1/me/email/code", map[string]any{"email": email}); r.Status != http.StatusAccepted {
		t.Fatalf("send email code: %d %s", r.Status, r.Body)
	}
	return b.SendJSON(http.MethodPut, "/api/v1/me/email", map[string]any{"email": email, "email_code": srv.LastCode(t, email)})
}

func storedEmail(t *testing.T, srv *apptest.Server, login string) string {
	t.Helper()
	u, err := srv.App.Store.GetUserByLoginName(context.Background(), login)
	if err != nil {
		t.Fatal(err)
	}
	if u.Email.Empty() {
		return ""
	}
	return string(u.Email.Index) // the blind index: compared for equality only
}

func TestEmailSection(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, start func(func(*config.Config)) *apptest.Server) {
		srv := start(nil)
		b := srv.Browser(t)
		b.MustRegister(apptest.Zhang)

		// Bind: the mail carries the code and nothing else about anyone.
		r := bindEmail(t, srv, b, "zhang@example.com")
		if r.Status != http.StatusOK || r.JSON(t)["email"] != account.MaskEmail("zhang@example.com") {
			t.Fatalf("bind: %d %s", r.Status, r.Body)
		}
		if me := b.Get("/api/v1/me"); !strings.Contains(string(me.Body), account.MaskEmail("zhang@example.com")) {
			t.Errorf("profile after binding: %s", me.Body)
		}
		out := srv.Outbox(t)
		for _, m := range out {
			if m.To == "zhang@example.com" && (strings.Contains(m.Text, "zhang_san") || strings.Contains(m.Text, apptest.Zhang.Phone) || strings.Contains(m.Text, "张三")) {
				t.Errorf("code mail names the account: %q", m.Text)
			}
		}

		// Bad input changes nothing.
		before := storedEmail(t, srv, "zhang_san")
		for _, tt := range []struct {
			name, path string
			method     string
			body       map[string]any
			status     int
			code       string
		}{
			{"bad address", "/api/v1/me/email/code", http.MethodPost, map[string]any{"email": "zhang@"}, 400, "email_format"},
			{"empty address", "/api/v1/me/email/code", http.MethodPost, map[string]any{"email": ""}, 400, "email_required"},
			{"own address", "/api/v1/me/email/code", http.MethodPost, map[string]any{"email": "zhang@example.com"}, 400, "email_unchanged"},
			{"unknown field", "/api/v1/me/email/code", http.MethodPost, map[string]any{"email": "a@example.com", "x": 1}, 400, ""},
			{"no code sent", "/api/v1/me/email", http.MethodPut, map[string]any{"email": "never@example.com", "email_code": "123456"}, 410, "email_code_expired"},
			{"code format", "/api/v1/me/email", http.MethodPut, map[string]any{"email": "never@example.com", "email_code": "12"}, 400, "email_code_format"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				data, _ := json.Marshal(tt.body)
				r := b.Do(tt.method, tt.path, "application/json", bytes.NewReader(data))
				if r.Status != tt.status || (tt.code != "" && r.ErrCode(t) != tt.code) {
					t.Errorf("%d %s, want %d %s", r.Status, r.Body, tt.status, tt.code)
				}
			})
		}
		// A wrong code, then the right one for a different address.
		if r := b.PostJSON("/api/v1/me/email/code", map[string]any{"email": "zhang.new@example.com"}); r.Status != http.StatusAccepted {
			t.Fatalf("send: %d %s", r.Status, r.Body)
		}
		code := srv.LastCode(t, "zhang.new@example.com")
		wrong := "000000"
		if code == wrong {
			wrong = "000001"
		}
		if r := b.SendJSON(http.MethodPut, "/api/v1/me/email", map[string]any{"email": "zhang.new@example.com", "email_code": wrong}); r.Status != 400 || r.ErrCode(t) != "email_code_wrong" {
			t.Errorf("wrong code: %d %s", r.Status, r.Body)
		}
		if r := b.SendJSON(http.MethodPut, "/api/v1/me/email", map[string]any{"email": "other@example.com", "email_code": code}); r.Status != 410 {
			t.Errorf("code of another address: %d %s", r.Status, r.Body)
		}
		if storedEmail(t, srv, "zhang_san") != before {
			t.Fatal("bad input changed the email")
		}

		// Change: the old address is told.
		if r := b.SendJSON(http.MethodPut, "/api/v1/me/email", map[string]any{"email": "zhang.new@example.com", "email_code": code}); r.Status != http.StatusOK {
			t.Fatalf("change: %d %s", r.Status, r.Body)
		}
		if old := srv.Outbox(t)[0]; old.To != "zhang@example.com" || !strings.Contains(old.Text, account.MaskEmail("zhang.new@example.com")) {
			t.Errorf("old address not told: %+v", old)
		}
		if r := b.SendJSON(http.MethodPut, "/api/v1/me/email", map[string]any{"email": "zhang.new@example.com", "email_code": code}); r.Status != 400 || r.ErrCode(t) != "email_unchanged" {
			t.Errorf("reused code: %d %s", r.Status, r.Body)
		}

		// A taken address: asking for a code answers as for a free one;
		// only the holder of the code learns it is taken.
		lb := srv.Browser(t)
		lb.MustRegister(li)
		srv.Clock.Advance(2 * 60e9)
		taken := lb.PostJSON("/api/v1/me/email/code", map[string]any{"email": "zhang.new@example.com"})
		free := lb.PostJSON("/api/v1/me/email/code", map[string]any{"email": "li.free@example.com"})
		if taken.Status != free.Status || string(taken.Body) != string(free.Body) {
			t.Errorf("taken %d %s, free %d %s: want the same answer", taken.Status, taken.Body, free.Status, free.Body)
		}
		r = lb.SendJSON(http.MethodPut, "/api/v1/me/email", map[string]any{"email": "zhang.new@example.com", "email_code": srv.LastCode(t, "zhang.new@example.com")})
		if r.Status != http.StatusConflict || r.ErrCode(t) != "email_taken" {
			t.Errorf("taken address: %d %s", r.Status, r.Body)
		}
		if storedEmail(t, srv, "li_si") != "" {
			t.Error("the taken address was bound")
		}

		// Zhang's code cannot bind his address to Li's account.
		srv.Clock.Advance(2 * 60e9)
		if r := b.PostJSON("/api/v1/me/email/code", map[string]any{"email": "shared@example.com"}); r.Status != http.StatusAccepted {
			t.Fatal(r.Status)
		}
		if r := lb.SendJSON(http.MethodPut, "/api/v1/me/email", map[string]any{"email": "shared@example.com", "email_code": srv.LastCode(t, "shared@example.com")}); r.Status != 410 {
			t.Errorf("another account's code: %d %s", r.Status, r.Body)
		}

		// Not signed in.
		if r := srv.Browser(t).PostJSON("/api/v1/me/email/code", map[string]any{"email": "x@example.com"}); r.Status != http.StatusUnauthorized {
			t.Errorf("anonymous: %d", r.Status)
		}
	})
}

// TestEmailServerDown: with the mail server down, asking for a code says
// "try later" and no code is kept.
func TestEmailServerDown(t *testing.T) {
	port := smtptest.ClosedPort(t)
	srv := apptest.Start(t, func(c *config.Config) {
		c.SMTP.Host, c.SMTP.Port, c.SMTP.TLS, c.SMTP.From = "127.0.0.1", port, config.TLSNone, "noreply@example.gov.cn"
	})
	b := srv.Browser(t)
	b.MustRegister(apptest.Zhang)
	r := b.PostJSON("/api/v1/me/email/code", map[string]any{"email": "zhang@example.com"})
	if r.Status != http.StatusServiceUnavailable || r.ErrCode(t) != "email_unavailable" {
		t.Fatalf("server down: %d %s", r.Status, r.Body)
	}
	for _, m := range srv.Outbox(t) {
		if m.To == "zhang@example.com" {
			t.Error("a mail went to the dev outbox instead of the mail server")
		}
	}
	if r := b.SendJSON(http.MethodPut, "/api/v1/me/email", map[string]any{"email": "zhang@example.com", "email_code": "123456"}); r.Status != http.StatusGone {
		t.Errorf("a code is answerable after the failed mail: %d %s", r.Status, r.Body)
	}
}

// TestEmailNeedsARecentPassword: an email address recovers the password,
// so binding one asks for the password when it was entered more than five
// minutes ago — someone holding a stolen session cannot take the account.
func TestEmailNeedsARecentPassword(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	b.MustRegister(apptest.Zhang)
	srv.Clock.Advance(6 * time.Minute)
	for _, r := range []apptest.Response{
		b.PostJSON("/api/v1/me/email/code", map[string]any{"email": "zhang@example.com"}),
		b.SendJSON(http.MethodPut, "/api/v1/me/email", map[string]any{"email": "zhang@example.com", "email_code": "123456"}),
	} {
		if r.Status != http.StatusUnauthorized || r.ErrCode(t) != "reauthentication_required" {
			t.Fatalf("with an old sign-in: %d %s", r.Status, r.Body)
		}
	}
	if srv.OutboxLen(t) != 1 || storedEmail(t, srv, "zhang_san") != "" {
		t.Fatal("a code was mailed or an email bound without the password")
	}
	if r := b.PostJSON("/api/v1/sessions/current/reauth", map[string]any{"password": apptest.Zhang.Password}); r.Status/100 != 2 {
		t.Fatalf("reauth: %d %s", r.Status, r.Body)
	}
	if r := bindEmail(t, srv, b, "zhang@example.com"); r.Status != http.StatusOK {
		t.Fatalf("bind after re-entering the password: %d %s", r.Status, r.Body)
	}
}
