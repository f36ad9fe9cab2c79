package notify_test

import (
	"context"
	"crypto/tls"
	"errors"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"

	"unid/internal/i18n"
	"unid/internal/notify"
	"unid/internal/notify/smtptest"
	"unid/internal/problem"
)

func mailer(t *testing.T, sender notify.EmailSender) *notify.Mailer {
	t.Helper()
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	return notify.NewMailer(sender, cat, map[i18n.Lang]string{i18n.ZH: "山东省统一身份认证平台", i18n.EN: "Shandong Identity"})
}

func smtpSender(t *testing.T, srv *smtptest.Server, tlsMode, user, password string) *notify.SMTPSender {
	t.Helper()
	o := notify.SMTPOptions{
		Host: srv.Host, Port: srv.Port, TLS: tlsMode, Username: user, Password: password,
		From: "noreply@example.gov.cn", FromName: "山东省统一身份认证平台", Timeout: 5 * time.Second, Now: fixedNow,
	}
	if srv.RootCAs != nil {
		o.TLSConfig = &tls.Config{RootCAs: srv.RootCAs, ServerName: srv.Host, MinVersion: tls.VersionTLS12}
	}
	s, err := notify.NewSMTPSender(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSMTPSend(t *testing.T) {
	tests := []struct {
		name      string
		tls       string
		users     map[string]string
		user, pw  string
		encrypted bool
	}{
		{"plain relay on loopback", "none", nil, "", "", false},
		{"starttls", "starttls", nil, "", "", true},
		{"starttls with auth plain", "starttls", map[string]string{"unid": "s3cret"}, "unid", "s3cret", true},
		{"implicit tls with auth plain", "implicit", map[string]string{"unid": "s3cret"}, "unid", "s3cret", true},
		{"plain relay with auth", "none", map[string]string{"unid": "s3cret"}, "unid", "s3cret", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t, smtptest.Options{TLS: tt.tls, Users: tt.users})
			m := mailer(t, smtpSender(t, srv, tt.tls, tt.user, tt.pw))
			ctx := i18n.NewContext(context.Background(), i18n.ZH)
			if err := m.Mail(ctx, "zs@example.com", notify.TemplateEmailCode, map[string]string{"code": "428571", "minutes": "5"}); err != nil {
				t.Fatalf("send: %v", err)
			}
			mails := srv.Mails()
			if len(mails) != 1 {
				t.Fatalf("%d mails received, want 1", len(mails))
			}
			got := mails[0]
			if got.TLS != tt.encrypted || got.User != tt.user {
				t.Errorf("tls %v user %q, want %v %q", got.TLS, got.User, tt.encrypted, tt.user)
			}
			if got.From != "noreply@example.gov.cn" || len(got.To) != 1 || got.To[0] != "zs@example.com" {
				t.Errorf("envelope from %q to %v", got.From, got.To)
			}
			checkCodeMail(t, got.Data, "428571", "山东省统一身份认证平台", "验证码")
		})
	}
}

// checkCodeMail parses a received message and checks what its reader sees.
func checkCodeMail(t *testing.T, data, code, platform, word string) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatalf("not a mail: %v\n%s", err, data)
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || !strings.Contains(subject, platform) || !strings.Contains(subject, word) {
		t.Errorf("subject %q (%v), want the platform %q and %q", subject, err, platform, word)
	}
	from, err := msg.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Address != "noreply@example.gov.cn" || from[0].Name != platform {
		t.Errorf("From %v (%v)", from, err)
	}
	if to := msg.Header.Get("To"); !strings.Contains(to, "zs@example.com") || strings.Contains(to, ",") {
		t.Errorf("To %q, want only the recipient", to)
	}
	if d, err := msg.Header.Date(); err != nil || !d.Equal(fixedNow()) {
		t.Errorf("Date %v (%v), want the injected clock", d, err)
	}
	if !strings.Contains(msg.Header.Get("Content-Type"), "multipart/alternative") {
		t.Errorf("Content-Type %q, want text and HTML alternatives", msg.Header.Get("Content-Type"))
	}
	// Quoted-printable keeps ASCII digits readable in the raw message; the
	// code appears in the text part and the HTML part.
	if n := strings.Count(data, code); n != 2 {
		t.Errorf("code appears %d times, want 2 (text and HTML)", n)
	}
	for _, part := range []string{"text/plain", "text/html"} {
		if !strings.Contains(data, "Content-Type: "+part) {
			t.Errorf("no %s part", part)
		}
	}
}

func TestSMTPFailures(t *testing.T) {
	ctx := context.Background()
	refusing := smtptest.Start(t, smtptest.Options{TLS: "none", Refuse: map[string]bool{"gone@example.com": true}})
	plainOnly := smtptest.Start(t, smtptest.Options{TLS: "none"})
	authed := smtptest.Start(t, smtptest.Options{TLS: "starttls", Users: map[string]string{"unid": "s3cret"}})
	down := &smtptest.Server{Host: "127.0.0.1", Port: smtptest.ClosedPort(t)}
	tests := []struct {
		name   string
		sender *notify.SMTPSender
		srv    *smtptest.Server
		to     string
	}{
		{"server down", smtpSender(t, down, "none", "", ""), nil, "zs@example.com"},
		{"recipient refused", smtpSender(t, refusing, "none", "", ""), refusing, "gone@example.com"},
		{"starttls required, server has none", smtpSender(t, plainOnly, "starttls", "", ""), plainOnly, "zs@example.com"},
		{"wrong password", smtpSender(t, authed, "starttls", "unid", "wrong"), authed, "zs@example.com"},
		{"implicit tls against a plain server", smtpSender(t, plainOnly, "implicit", "", ""), plainOnly, "zs@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mailer(t, tt.sender)
			err := m.Mail(ctx, tt.to, notify.TemplateEmailCode, map[string]string{"code": "428571", "minutes": "5"})
			var p *problem.Problem
			if !errors.As(err, &p) || p.Kind != problem.Unavailable || p.Code != "email_unavailable" {
				t.Fatalf("error %v, want Unavailable email_unavailable", err)
			}
			for _, secret := range []string{"428571", tt.to, "wrong"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q holds %q", err, secret)
				}
			}
			if tt.srv != nil && len(tt.srv.Mails()) != 0 {
				t.Errorf("the server took %d mails", len(tt.srv.Mails()))
			}
		})
	}
}

func TestNoMailer(t *testing.T) {
	var m *notify.Mailer
	err := m.Mail(context.Background(), "zs@example.com", notify.TemplateEmailCode, nil)
	if p := problem.As(err); p.Code != "email_unavailable" {
		t.Errorf("nil mailer: %v, want email_unavailable", err)
	}
}

func TestMailLanguageAndOutbox(t *testing.T) {
	o := notify.NewOutbox(fixedNow)
	m := mailer(t, o)
	params := map[string]string{"email": "n***@example.com"}
	for _, tt := range []struct {
		lang     i18n.Lang
		platform string
		word     string
	}{
		{i18n.ZH, "山东省统一身份认证平台", "邮箱已更换"},
		{i18n.EN, "Shandong Identity", "email address was changed"},
	} {
		ctx := i18n.NewContext(context.Background(), tt.lang)
		if err := m.Mail(ctx, "old@example.com", notify.TemplateEmailChanged, params); err != nil {
			t.Fatal(err)
		}
		got, ok := o.Last(notify.ChannelEmail, "old@example.com")
		if !ok {
			t.Fatal("no email in the outbox")
		}
		if !strings.Contains(got.Subject, tt.platform) || !strings.Contains(got.Subject, tt.word) {
			t.Errorf("%s: subject %q", tt.lang, got.Subject)
		}
		if !strings.Contains(got.Text, "n***@example.com") || !strings.Contains(got.HTML, "n***@example.com") {
			t.Errorf("%s: the new address (masked) is not in the text %q or HTML %q", tt.lang, got.Text, got.HTML)
		}
		if !strings.Contains(got.HTML, `lang="`+string(tt.lang)+`"`) {
			t.Errorf("%s: HTML not marked with its language: %s", tt.lang, got.HTML)
		}
	}
	// The HTML part escapes what it is given.
	e, err := m.Render(i18n.EN, "x@example.com", notify.TemplateEmailChanged, map[string]string{"email": "<b>x</b>"})
	if err != nil || strings.Contains(e.HTML, "<b>x</b>") || !strings.Contains(e.HTML, "&lt;b&gt;x&lt;/b&gt;") {
		t.Errorf("HTML not escaped (%v): %s", err, e.HTML)
	}
	if _, err := m.Render(i18n.EN, "x@example.com", "no_such_template", nil); err == nil {
		t.Error("an unknown template rendered")
	}
}
