package emailcode

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"unid/internal/notify"
	"unid/internal/otp"
	"unid/internal/problem"
	"unid/internal/ratelimit"
	"unid/internal/store"
)

// Keyed is a keyed hash of parts under a purpose label, such as
// (*account.Protector).MAC; it must encode parts unambiguously.
type Keyed = otp.Keyed

// Mailer sends a templated mail in the language of ctx; *notify.Mailer is
// one.
type Mailer interface {
	Mail(ctx context.Context, to, template string, params map[string]string) error
}

// The codes one account may have mailed, to whatever addresses.
const (
	AccountPerHour = 5
	AccountPerDay  = 10
)

// Defaults for Options fields left zero.
const (
	DefaultTTL         = 5 * time.Minute
	DefaultMaxAttempts = 5
)

// Limits caps how many codes are sent. A zero field takes its default (1,
// 5, 10, 30); a negative one switches that limit off.
type Limits struct {
	PerAddressMinute int64 // codes per email address per minute, all purposes together
	PerAddressHour   int64
	PerAddressDay    int64
	PerIPHour        int64 // codes per client address (IPv6: per /64) per hour
}

// Options configure a Service; zero fields take the defaults.
type Options struct {
	TTL         time.Duration
	MaxAttempts int
	Limits      Limits
}

// Service sends and checks email codes.
type Service struct {
	codes  *otp.Codes
	lim    *ratelimit.Limiter
	mailer Mailer
	mac    Keyed
	now    func() time.Time
	o      Options
}

// Sent describes a code that went out.
type Sent struct {
	ExpiresAt   time.Time
	ResendAfter time.Duration // how long until another code may be sent; 0 if now
}

// New returns a Service keeping codes in ch, counting sends in lim and
// mailing through mailer.
func New(ch store.Challenges, lim *ratelimit.Limiter, mailer Mailer, mac Keyed, now func() time.Time, o Options) *Service {
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	def := func(v *int64, d int64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Limits.PerAddressMinute, 1)
	def(&o.Limits.PerAddressHour, 5)
	def(&o.Limits.PerAddressDay, 10)
	def(&o.Limits.PerIPHour, 30)
	return &Service{
		codes: otp.New(store.ChallengeEmail, ch, mac, now, o.TTL, o.MaxAttempts),
		lim:   lim, mailer: mailer, mac: mac, now: now, o: o,
	}
}

// Send mails a new code for (purpose, account) to email (already
// normalised), replacing any earlier one for the same three. ip is the
// client's address, for the per-IP limit.
func (s *Service) Send(ctx context.Context, purpose, account, email, ip string) (Sent, error) {
	if purpose == "" {
		return Sent{}, problem.Wrap(errors.New("emailcode: send without purpose"))
	}
	if email == "" {
		return Sent{}, problem.Field("email", "email_required")
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	rules := s.rules(email, ip)
	if account != "" {
		// One account mails codes to many addresses at most this often:
		// a session must not become a way to mail strangers.
		k := hex.EncodeToString(s.mac("email-account", []byte(account)))
		rules = append(rules,
			ratelimit.Rule{Key: "email:acct:h:" + k, Limit: AccountPerHour, Window: time.Hour},
			ratelimit.Rule{Key: "email:acct:d:" + k, Limit: AccountPerDay, Window: 24 * time.Hour})
	}
	wait, err := s.lim.Allow(ctx, now, rules...)
	if err != nil {
		return Sent{}, problem.Wrap(fmt.Errorf("emailcode: rate limit: %w", err))
	}
	if wait > 0 {
		return Sent{}, &problem.Problem{Kind: problem.TooMany, Code: "email_rate_limited", RetryAfter: wait}
	}

	c, code, err := s.codes.Issue(ctx, now, email, purpose, account, email)
	if err != nil {
		return Sent{}, err
	}
	err = s.mailer.Mail(ctx, email, notify.TemplateEmailCode, map[string]string{"code": code, "minutes": s.codes.Minutes()})
	if err != nil {
		return Sent{}, s.codes.Undelivered(ctx, c, err)
	}

	sent := Sent{ExpiresAt: c.ExpiresAt}
	for _, r := range rules {
		if w, err := s.lim.Exceeded(ctx, now, r); err == nil {
			sent.ResendAfter = max(sent.ResendAfter, w)
		}
	}
	return sent, nil
}

// SendBlind is Send for a flow whose answers must not tell whether anybody
// was mailed (password recovery): the code is bound to key, which
// CheckKey and UseKey then take, and the limits count on key. When email
// is "" no mail goes out, but a code nobody knows is stored all the same,
// so that every later answer is the one of a wrong code. The mail is
// handed over in the background, so the answer takes no longer for a real
// address than for none; a mail that fails withdraws its code.
func (s *Service) SendBlind(ctx context.Context, purpose, key, email, ip string) (Sent, error) {
	if purpose == "" || key == "" {
		return Sent{}, problem.Wrap(errors.New("emailcode: blind send without purpose or key"))
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	rules := s.rules(key, ip)
	wait, err := s.lim.Allow(ctx, now, rules...)
	if err != nil {
		return Sent{}, problem.Wrap(fmt.Errorf("emailcode: rate limit: %w", err))
	}
	if wait > 0 {
		return Sent{}, &problem.Problem{Kind: problem.TooMany, Code: "email_rate_limited", RetryAfter: wait}
	}
	c, code, err := s.codes.Issue(ctx, now, key, purpose, "", key)
	if err != nil {
		return Sent{}, err
	}
	sent := Sent{ExpiresAt: c.ExpiresAt}
	for _, r := range rules {
		if w, err := s.lim.Exceeded(ctx, now, r); err == nil {
			sent.ResendAfter = max(sent.ResendAfter, w)
		}
	}
	if email == "" {
		return sent, nil
	}
	s.codes.Deliver(ctx, c, func(ctx context.Context) error {
		return s.mailer.Mail(ctx, email, notify.TemplateEmailCode, map[string]string{"code": code, "minutes": s.codes.Minutes()})
	})
	return sent, nil
}

// CheckKey and UseKey are Check and Use for a code SendBlind bound to key.
func (s *Service) CheckKey(ctx context.Context, purpose, key, code string) error {
	return s.Check(ctx, purpose, "", key, code)
}

// UseKey takes a code that CheckKey found right.
func (s *Service) UseKey(ctx context.Context, purpose, key, code string) error {
	return s.Use(ctx, purpose, "", key, code)
}

// Wait returns when every mail SendBlind started has been handed over.
func (s *Service) Wait() { s.codes.Wait() }

// Verify checks code for (purpose, account, email); a right code is used
// up, a wrong one counts an attempt.
func (s *Service) Verify(ctx context.Context, purpose, account, email, code string) error {
	if err := s.Check(ctx, purpose, account, email, code); err != nil {
		return err
	}
	return s.Use(ctx, purpose, account, email, code)
}

// Check counts an attempt and compares, leaving a right code in place for
// Use.
func (s *Service) Check(ctx context.Context, purpose, account, email, code string) error {
	return s.codes.Check(ctx, code, purpose, account, email)
}

// Use takes the code that Check has just found right: exactly one caller
// wins. It counts no attempt, so it must only follow Check.
func (s *Service) Use(ctx context.Context, purpose, account, email, code string) error {
	return s.codes.Use(ctx, code, purpose, account, email)
}

// rules are the send limits for email and ip; keys hold keyed hashes only.
func (s *Service) rules(email, ip string) []ratelimit.Rule {
	e := hex.EncodeToString(s.mac("email-rate", []byte(email)))
	a := hex.EncodeToString(s.mac("email-ip", []byte(ratelimit.Address(ip))))
	l := s.o.Limits
	return []ratelimit.Rule{
		{Key: "email:addr:m:" + e, Limit: l.PerAddressMinute, Window: time.Minute},
		{Key: "email:addr:h:" + e, Limit: l.PerAddressHour, Window: time.Hour},
		{Key: "email:addr:d:" + e, Limit: l.PerAddressDay, Window: 24 * time.Hour},
		{Key: "email:ip:h:" + a, Limit: l.PerIPHour, Window: time.Hour},
	}
}
