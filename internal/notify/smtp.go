package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/mail"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTP encryption modes; the same words as the config's smtp.tls.
const (
	SMTPImplicitTLS = "implicit" // TLS from the first byte (port 465)
	SMTPStartTLS    = "starttls" // STARTTLS required: a server without it gets no mail
	SMTPNoTLS       = "none"     // plain text: loopback relays only
)

// DefaultSMTPTimeout is used when SMTPOptions has no timeout.
const DefaultSMTPTimeout = 10 * time.Second

// SMTPOptions configure an SMTPSender.
type SMTPOptions struct {
	Host     string
	Port     int
	TLS      string // SMTPImplicitTLS, SMTPStartTLS or SMTPNoTLS
	Username string // empty: no authentication
	Password string
	From     string        // "统一身份认证平台 <noreply@example.gov.cn>" or a bare address
	FromName string        // display name when From has none (the platform's name)
	Timeout  time.Duration // for the whole conversation with the server
	// TLSConfig, if set, replaces the default (the system's roots, server
	// name Host); tests trust their own certificate with it.
	TLSConfig *tls.Config
	Now       func() time.Time // the Date header
}

// SMTPSender sends each mail over its own connection to the configured
// server, with github.com/wneessen/go-mail. It never sends a mail twice: a
// failure after the server may have accepted the message (a broken
// connection during DATA) is reported, not retried, since a second attempt
// could put a second, different code in the inbox.
type SMTPSender struct {
	o    SMTPOptions
	from *mail.Address
}

// NewSMTPSender checks o and returns a sender.
func NewSMTPSender(o SMTPOptions) (*SMTPSender, error) {
	from, err := mail.ParseAddress(o.From)
	if err != nil {
		return nil, fmt.Errorf("notify: smtp from address: %w", err)
	}
	if from.Name == "" {
		from.Name = o.FromName
	}
	switch o.TLS {
	case SMTPImplicitTLS, SMTPStartTLS, SMTPNoTLS:
	default:
		return nil, fmt.Errorf("notify: smtp tls %q: want implicit, starttls or none", o.TLS)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultSMTPTimeout
	}
	if o.Now == nil {
		return nil, errors.New("notify: smtp sender needs a clock")
	}
	return &SMTPSender{o: o, from: from}, nil
}

func (s *SMTPSender) client() (*gomail.Client, error) {
	opts := []gomail.Option{gomail.WithPort(s.o.Port), gomail.WithTimeout(s.o.Timeout)}
	switch s.o.TLS {
	case SMTPImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case SMTPStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case SMTPNoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.o.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(s.o.TLSConfig))
	}
	if s.o.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if s.o.TLS == SMTPNoTLS {
			// Only on loopback (the config refuses a password sent in
			// clear elsewhere), where PLAIN is what a local relay offers.
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(s.o.Username), gomail.WithPassword(s.o.Password))
	}
	return gomail.NewClient(s.o.Host, opts...)
}

// SendEmail hands m to the server once. Every failure — no connection, TLS
// or authentication refused, a recipient or message refused — is an
// Unavailable problem "email_unavailable" whose error text holds neither
// the mail nor the server's answer to it.
func (s *SMTPSender) SendEmail(ctx context.Context, m Email) error {
	msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP))
	msg.FromMailAddress(s.from)
	if err := msg.To(m.To); err != nil {
		return unavailableEmail(errors.New("notify: smtp: recipient address refused"))
	}
	msg.Subject(m.Subject)
	msg.SetDateWithValue(s.o.Now())
	msg.SetMessageID()
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}

	c, err := s.client()
	if err != nil {
		return unavailableEmail(fmt.Errorf("notify: smtp client: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	conn, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return unavailableEmail(fmt.Errorf("notify: smtp connect: %w", err))
	}
	if err := c.SendWithSMTPClient(conn, msg); err != nil {
		_ = conn.Close()
		return unavailableEmail(fmt.Errorf("notify: smtp send: %s", sendReason(err)))
	}
	// The server took the mail; a failed QUIT does not undo that.
	_ = c.CloseWithSMTPClient(conn)
	return nil
}

// sendReason names what went wrong without the server's text, which may
// quote the recipient.
func sendReason(err error) string {
	var se *gomail.SendError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v (smtp code %d, temporary %v)", se.Reason, se.ErrorCode(), se.IsTemp())
	}
	return "failed"
}
