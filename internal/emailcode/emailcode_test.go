package emailcode_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"unid/internal/emailcode"
	"unid/internal/i18n"
	"unid/internal/notify"
	"unid/internal/notify/smtptest"
	"unid/internal/problem"
	"unid/internal/ratelimit"
	"unid/internal/store"
	"unid/internal/store/sqlite"
	"unid/internal/store/sqlite/sqlitetest"
)

const (
	addr    = "zs@example.com"
	user    = "user-a"
	purpose = "bind_email"
	ip      = "203.0.113.7"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func mac(purpose string, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, []byte("test key"))
	for _, p := range append([][]byte{[]byte(purpose)}, parts...) {
		binary.Write(h, binary.BigEndian, uint32(len(p)))
		h.Write(p)
	}
	return h.Sum(nil)
}

type env struct {
	svc    *emailcode.Service
	st     *sqlite.Store
	outbox *notify.Outbox
	clk    *clock
}

func newEnv(t *testing.T, sender notify.EmailSender) *env {
	t.Helper()
	st := sqlitetest.Open(t, filepath.Join(t.TempDir(), "unid.db"))
	e := &env{st: st, clk: &clock{t: t0}}
	if sender == nil {
		e.outbox = notify.NewOutbox(e.clk.now)
		sender = e.outbox
	}
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	m := notify.NewMailer(sender, cat, map[i18n.Lang]string{i18n.ZH: "统一身份认证平台"})
	e.svc = emailcode.New(st, ratelimit.New(st), m, mac, e.clk.now, emailcode.Options{})
	return e
}

func (e *env) send(t *testing.T, account, to string) string {
	t.Helper()
	if _, err := e.svc.Send(context.Background(), purpose, account, to, ip); err != nil {
		t.Fatalf("send: %v", err)
	}
	m, ok := e.outbox.Last(notify.ChannelEmail, to)
	if !ok {
		t.Fatalf("no mail to %s", to)
	}
	return m.Params["code"]
}

func wantProblem(t *testing.T, err error, kind problem.Kind, code string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("error %v, want none", err)
		}
		return
	}
	var p *problem.Problem
	if !errors.As(err, &p) || p.Kind != kind || p.Code != code {
		t.Fatalf("error %v, want %s", err, code)
	}
	if strings.Contains(err.Error(), addr) {
		t.Errorf("error %q names the address", err)
	}
}

func wrong(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, e *env, code string) error
		kind problem.Kind
		want string
	}{
		{"right", func(t *testing.T, e *env, code string) error { return e.svc.Verify(ctx, purpose, user, addr, code) }, 0, ""},
		{"right in full width with spaces", func(t *testing.T, e *env, code string) error {
			return e.svc.Verify(ctx, purpose, user, addr, " "+strings.Map(func(r rune) rune { return r - '0' + '０' }, code)+" ")
		}, 0, ""},
		{"wrong", func(t *testing.T, e *env, code string) error {
			return e.svc.Verify(ctx, purpose, user, addr, wrong(code))
		}, problem.Invalid, "email_code_wrong"},
		{"empty", func(t *testing.T, e *env, code string) error { return e.svc.Verify(ctx, purpose, user, addr, "") }, problem.Invalid, "email_code_required"},
		{"letters", func(t *testing.T, e *env, code string) error { return e.svc.Verify(ctx, purpose, user, addr, "12ab56") }, problem.Invalid, "email_code_format"},
		{"expired", func(t *testing.T, e *env, code string) error {
			e.clk.advance(emailcode.DefaultTTL)
			return e.svc.Verify(ctx, purpose, user, addr, code)
		}, problem.Gone, "email_code_expired"},
		{"reused", func(t *testing.T, e *env, code string) error {
			if err := e.svc.Verify(ctx, purpose, user, addr, code); err != nil {
				t.Fatal(err)
			}
			return e.svc.Verify(ctx, purpose, user, addr, code)
		}, problem.Gone, "email_code_expired"},
		{"other purpose", func(t *testing.T, e *env, code string) error { return e.svc.Verify(ctx, "recover", user, addr, code) }, problem.Gone, "email_code_expired"},
		{"other account", func(t *testing.T, e *env, code string) error { return e.svc.Verify(ctx, purpose, "user-b", addr, code) }, problem.Gone, "email_code_expired"},
		{"other address", func(t *testing.T, e *env, code string) error {
			return e.svc.Verify(ctx, purpose, user, "ls@example.com", code)
		}, problem.Gone, "email_code_expired"},
		{"replaced by a new code", func(t *testing.T, e *env, code string) error {
			e.clk.advance(time.Minute)
			if fresh := e.send(t, user, addr); fresh == code {
				return nil // one chance in a million: nothing to test
			}
			return e.svc.Verify(ctx, purpose, user, addr, code)
		}, problem.Invalid, "email_code_wrong"},
		{"attempts used up", func(t *testing.T, e *env, code string) error {
			for range emailcode.DefaultMaxAttempts {
				wantProblem(t, e.svc.Verify(ctx, purpose, user, addr, wrong(code)), problem.Invalid, "email_code_wrong")
			}
			// Used up, not withdrawn: the right code is refused as well,
			// and says why.
			return e.svc.Verify(ctx, purpose, user, addr, code)
		}, problem.Gone, "email_code_attempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			code := e.send(t, user, addr)
			wantProblem(t, tt.run(t, e, code), tt.kind, tt.want)
		})
	}
}

func TestMailedCode(t *testing.T) {
	e := newEnv(t, nil)
	code := e.send(t, user, addr)
	m, _ := e.outbox.Last(notify.ChannelEmail, addr)
	if len(code) != 6 || !strings.Contains(m.Text, code) || !strings.Contains(m.HTML, code) || !strings.Contains(m.Subject, "统一身份认证平台") {
		t.Errorf("mail %+v", m)
	}
	if len(e.outbox.List()) != 1 {
		t.Errorf("%d messages, want the one mail", len(e.outbox.List()))
	}
	// Only a keyed hash is stored, under the email kind.
	c, err := e.st.GetChallenge(context.Background(), store.ChallengeEmail, hexID(purpose, user, addr))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(c.Secret), code) || strings.Contains(string(c.Subject), addr) || !c.ExpiresAt.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("stored challenge %+v", c)
	}
}

func hexID(parts ...string) string {
	b := make([][]byte, len(parts))
	for i, p := range parts {
		b[i] = []byte(p)
	}
	const hexdigits = "0123456789abcdef"
	sum := mac("email-id", b...)
	out := make([]byte, 0, 2*len(sum))
	for _, x := range sum {
		out = append(out, hexdigits[x>>4], hexdigits[x&15])
	}
	return string(out)
}

func TestLimits(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	e.send(t, user, addr)
	// A second code within the minute is refused, for any account or purpose.
	_, err := e.svc.Send(ctx, "recover", "user-b", addr, "198.51.100.1")
	wantProblem(t, err, problem.TooMany, "email_rate_limited")
	if n := len(e.outbox.List()); n != 1 {
		t.Fatalf("%d mails sent, want 1", n)
	}
	// Five an hour per address.
	for i := 1; i < 5; i++ {
		e.clk.advance(time.Minute)
		e.send(t, user, addr)
	}
	e.clk.advance(time.Minute)
	_, err = e.svc.Send(ctx, purpose, user, addr, ip)
	wantProblem(t, err, problem.TooMany, "email_rate_limited")

	// Thirty an hour per client address, over many addresses.
	e2 := newEnv(t, nil)
	for i := range 30 {
		if _, err := e2.svc.Send(ctx, purpose, "user-"+strconv.Itoa(i), "u"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@example.com", ip); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	_, err = e2.svc.Send(ctx, purpose, "user-30", "last@example.com", ip)
	wantProblem(t, err, problem.TooMany, "email_rate_limited")
	_, err = e2.svc.Send(ctx, purpose, "user-30", "last@example.com", "198.51.100.1")
	wantProblem(t, err, 0, "")

	// One account, many addresses and client addresses: five an hour.
	e3 := newEnv(t, nil)
	for i := range emailcode.AccountPerHour {
		if _, err := e3.svc.Send(ctx, purpose, user, "v"+strconv.Itoa(i)+"@example.com", "198.51.100."+strconv.Itoa(i)); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	_, err = e3.svc.Send(ctx, purpose, user, "stranger@example.com", "203.0.113.99")
	wantProblem(t, err, problem.TooMany, "email_rate_limited")
}

// TestMailServerFails: a server down or refusing the recipient gives
// email_unavailable, and no code is left that could be answered.
func TestMailServerFails(t *testing.T) {
	ctx := context.Background()
	refusing := smtptest.Start(t, smtptest.Options{Refuse: map[string]bool{addr: true}})
	for _, tt := range []struct {
		name string
		port int
	}{
		{"server down", smtptest.ClosedPort(t)},
		{"recipient refused", refusing.Port},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := notify.NewSMTPSender(notify.SMTPOptions{Host: "127.0.0.1", Port: tt.port, TLS: notify.SMTPNoTLS, From: "noreply@example.gov.cn", Timeout: 5 * time.Second, Now: time.Now})
			if err != nil {
				t.Fatal(err)
			}
			e := newEnv(t, s)
			_, err = e.svc.Send(ctx, purpose, user, addr, ip)
			wantProblem(t, err, problem.Unavailable, "email_unavailable")
			if _, err := e.st.GetChallenge(ctx, store.ChallengeEmail, hexID(purpose, user, addr)); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("challenge after a failed mail: %v, want none", err)
			}
			if len(refusing.Mails()) != 0 {
				t.Error("the refusing server took a mail")
			}
		})
	}
}
