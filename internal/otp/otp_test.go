package otp_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"unid/internal/otp"
	"unid/internal/problem"
	"unid/internal/store"
	"unid/internal/store/postgres/pgtest"
	"unid/internal/store/sqlite/sqlitetest"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func mac(purpose string, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, []byte("test key"))
	h.Write([]byte(purpose))
	for _, p := range parts {
		binary.Write(h, binary.BigEndian, uint32(len(p)))
		h.Write(p)
	}
	return h.Sum(nil)
}

// backends are the stores the mechanics must work on alike; PostgreSQL is
// skipped without UNID_TEST_POSTGRES_URL (fails with UNID_REQUIRE_ALL=1).
var backends = []struct {
	name string
	open func(t *testing.T) store.Challenges
}{
	{"sqlite", func(t *testing.T) store.Challenges { return sqlitetest.New(t) }},
	{"postgres", func(t *testing.T) store.Challenges { return pgtest.New(t) }},
}

func wantProblem(t *testing.T, err error, code string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("error %v, want none", err)
		}
		return
	}
	if p := problem.As(err); err == nil || p.Code != code {
		t.Fatalf("error %v, want %s", err, code)
	}
}

func wrong(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

// TestCodes runs the life of a code on every backend: the services'
// own tests cover the same rules through their APIs on SQLite.
func TestCodes(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, c *otp.Codes, issue func() string, now *time.Time) error
		want string
	}{
		{"right", func(t *testing.T, c *otp.Codes, issue func() string, _ *time.Time) error {
			code := issue()
			wantProblem(t, c.Check(ctx, code, "login", "13800138000"), "")
			return c.Use(ctx, code, "login", "13800138000")
		}, ""},
		{"wrong", func(t *testing.T, c *otp.Codes, issue func() string, _ *time.Time) error {
			return c.Check(ctx, wrong(issue()), "login", "13800138000")
		}, "sms_code_wrong"},
		{"bad format", func(t *testing.T, c *otp.Codes, issue func() string, _ *time.Time) error {
			issue()
			return c.Check(ctx, "12 3", "login", "13800138000")
		}, "sms_code_format"},
		{"other binding", func(t *testing.T, c *otp.Codes, issue func() string, _ *time.Time) error {
			return c.Check(ctx, issue(), "recover", "13800138000")
		}, "sms_code_expired"},
		{"expired", func(t *testing.T, c *otp.Codes, issue func() string, now *time.Time) error {
			code := issue()
			*now = now.Add(5 * time.Minute)
			return c.Check(ctx, code, "login", "13800138000")
		}, "sms_code_expired"},
		{"used once", func(t *testing.T, c *otp.Codes, issue func() string, _ *time.Time) error {
			code := issue()
			wantProblem(t, c.Check(ctx, code, "login", "13800138000"), "")
			wantProblem(t, c.Use(ctx, code, "login", "13800138000"), "")
			return c.Use(ctx, code, "login", "13800138000")
		}, "sms_code_expired"},
		{"attempts used up, a right check still usable", func(t *testing.T, c *otp.Codes, issue func() string, _ *time.Time) error {
			code := issue()
			for range 2 {
				wantProblem(t, c.Check(ctx, wrong(code), "login", "13800138000"), "sms_code_wrong")
			}
			wantProblem(t, c.Check(ctx, code, "login", "13800138000"), "")
			wantProblem(t, c.Check(ctx, code, "login", "13800138000"), "sms_code_attempts")
			return c.Use(ctx, code, "login", "13800138000")
		}, ""},
		{"replaced between check and use", func(t *testing.T, c *otp.Codes, issue func() string, _ *time.Time) error {
			old := issue()
			wantProblem(t, c.Check(ctx, old, "login", "13800138000"), "")
			fresh := issue()
			for fresh == old { // one chance in a million: draw again
				fresh = issue()
			}
			wantProblem(t, c.Use(ctx, old, "login", "13800138000"), "sms_code_expired")
			wantProblem(t, c.Check(ctx, fresh, "login", "13800138000"), "")
			return c.Use(ctx, fresh, "login", "13800138000")
		}, ""},
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					ch := be.open(t)
					now := t0
					c := otp.New(store.ChallengeSMS, ch, mac, func() time.Time { return now }, 5*time.Minute, 3)
					issue := func() string {
						_, code, err := c.Issue(ctx, now, "13800138000", "login", "13800138000")
						if err != nil {
							t.Fatal(err)
						}
						return code
					}
					wantProblem(t, tt.run(t, c, issue, &now), tt.want)
				})
			}
		})
	}
}

// TestKindsAreSeparate: an SMS code does not answer an email check with
// the same binding, and each kind answers with its own message codes.
func TestKindsAreSeparate(t *testing.T) {
	ctx := context.Background()
	ch := sqlitetest.New(t)
	now := func() time.Time { return t0 }
	sms := otp.New(store.ChallengeSMS, ch, mac, now, 5*time.Minute, 5)
	email := otp.New(store.ChallengeEmail, ch, mac, now, 5*time.Minute, 5)
	_, code, err := sms.Issue(ctx, t0, "k", "recover", "k")
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, email.Check(ctx, code, "recover", "k"), "email_code_expired")
	wantProblem(t, email.Check(ctx, "", "recover", "k"), "email_code_required")
	wantProblem(t, sms.Check(ctx, code, "recover", "k"), "")
}

// TestUndelivered: a code whose message failed cannot be used, and the
// answer says the channel is unavailable.
func TestUndelivered(t *testing.T) {
	ctx := context.Background()
	ch := sqlitetest.New(t)
	c := otp.New(store.ChallengeEmail, ch, mac, func() time.Time { return t0 }, 5*time.Minute, 5)
	sc, code, err := c.Issue(ctx, t0, "a@example.com", "bind", "u1", "a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	err = c.Undelivered(ctx, sc, errors.New("smtp: refused"))
	if p := problem.As(err); p.Kind != problem.Unavailable || p.Code != "email_unavailable" {
		t.Fatalf("error %v, want email_unavailable", err)
	}
	wantProblem(t, c.Check(ctx, code, "bind", "u1", "a@example.com"), "email_code_expired")
}

// TestDeliverFails: a failed background delivery withdraws its code, but
// not a newer one that replaced it meanwhile.
func TestDeliverFails(t *testing.T) {
	ctx := context.Background()
	ch := sqlitetest.New(t)
	c := otp.New(store.ChallengeSMS, ch, mac, func() time.Time { return t0 }, 5*time.Minute, 5)
	first, code, err := c.Issue(ctx, t0, "k", "recover", "k")
	if err != nil {
		t.Fatal(err)
	}
	c.Deliver(ctx, first, func(context.Context) error { return errors.New("gateway down") })
	c.Wait()
	// An undelivered code answers "wrong", as a stand-in code with no
	// recipient does: "expired" would tell that a real recipient was there.
	wantProblem(t, c.Check(ctx, code, "recover", "k"), "sms_code_wrong")

	stale, _, err := c.Issue(ctx, t0, "k", "recover", "k")
	if err != nil {
		t.Fatal(err)
	}
	_, fresh, err := c.Issue(ctx, t0, "k", "recover", "k")
	if err != nil {
		t.Fatal(err)
	}
	c.Deliver(ctx, stale, func(context.Context) error { return errors.New("gateway down") })
	c.Wait()
	wantProblem(t, c.Check(ctx, fresh, "recover", "k"), "")
}
