package emailcode

import (
	"context"
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"unid/internal/notify"
	"unid/internal/problem"
	"unid/internal/ratelimit"
	"unid/internal/smscode"
	"unid/internal/store"
)

// Keyed is a keyed hash of parts under a purpose label, such as
// (*account.Protector).MAC; it must encode parts unambiguously.
type Keyed func(purpose string, parts ...[]byte) []byte

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
	ch     store.Challenges
	lim    *ratelimit.Limiter
	mailer Mailer
	mac    Keyed
	now    func() time.Time
	o      Options

	pending sync.WaitGroup // mails SendBlind is still handing over
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
	return &Service{ch: ch, lim: lim, mailer: mailer, mac: mac, now: now, o: o}
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

	code, err := smscode.NewCode()
	if err != nil {
		return Sent{}, problem.Wrap(fmt.Errorf("emailcode: random code: %w", err))
	}
	c := store.Challenge{
		Kind:      store.ChallengeEmail,
		ID:        s.challengeID(purpose, account, email),
		Secret:    s.secret(purpose, account, email, code),
		Subject:   s.mac("email-subject", []byte(email)),
		CreatedAt: now,
		ExpiresAt: now.Add(s.o.TTL),
	}
	if err := s.ch.PutChallenge(ctx, c); err != nil {
		return Sent{}, problem.Wrap(fmt.Errorf("emailcode: put: %w", err))
	}
	err = s.mailer.Mail(ctx, email, notify.TemplateEmailCode, map[string]string{"code": code, "minutes": minutes(s.o.TTL)})
	if err != nil {
		// A code whose mail may never have arrived must not stay usable.
		if derr := s.ch.DeleteChallenge(context.WithoutCancel(ctx), c.Kind, c.ID); derr != nil && !errors.Is(derr, store.ErrNotFound) {
			err = errors.Join(err, fmt.Errorf("emailcode: withdraw: %w", derr))
		}
		var p *problem.Problem
		if errors.As(err, &p) && p.Kind == problem.Unavailable {
			return Sent{}, err
		}
		return Sent{}, &problem.Problem{Kind: problem.Unavailable, Code: "email_unavailable", Err: err}
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
	code, err := smscode.NewCode()
	if err != nil {
		return Sent{}, problem.Wrap(fmt.Errorf("emailcode: random code: %w", err))
	}
	c := store.Challenge{
		Kind: store.ChallengeEmail, ID: s.challengeID(purpose, "", key), Secret: s.secret(purpose, "", key, code),
		Subject: s.mac("email-subject", []byte(key)), CreatedAt: now, ExpiresAt: now.Add(s.o.TTL),
	}
	if err := s.ch.PutChallenge(ctx, c); err != nil {
		return Sent{}, problem.Wrap(fmt.Errorf("emailcode: put: %w", err))
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
	ctx = context.WithoutCancel(ctx)
	s.pending.Go(func() {
		if err := s.mailer.Mail(ctx, email, notify.TemplateEmailCode, map[string]string{"code": code, "minutes": minutes(s.o.TTL)}); err != nil {
			if cur, gerr := s.ch.GetChallenge(ctx, c.Kind, c.ID); gerr == nil && hmac.Equal(cur.Secret, c.Secret) {
				s.withdraw(ctx, c.ID)
			}
		}
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
func (s *Service) Wait() { s.pending.Wait() }

var (
	errExpired  = errors.New("emailcode: expired")
	errAttempts = errors.New("emailcode: attempts used up")
)

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
	code, err := normalize(code)
	if err != nil {
		return err
	}
	id := s.challengeID(purpose, account, email)
	now := s.now()
	c, err := s.ch.UpdateChallenge(ctx, store.ChallengeEmail, id, func(c store.Challenge) (store.Challenge, error) {
		if !c.Valid(now) {
			return c, errExpired
		}
		if c.Attempts >= s.o.MaxAttempts {
			return c, errAttempts
		}
		c.Attempts++
		return c, nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return expired()
	case errors.Is(err, errExpired):
		s.withdraw(ctx, id)
		return expired()
	case errors.Is(err, errAttempts):
		s.withdraw(ctx, id)
		return problem.New(problem.Gone, "email_code_attempts")
	case err != nil:
		return problem.Wrap(fmt.Errorf("emailcode: count attempt: %w", err))
	}
	if !hmac.Equal(c.Secret, s.secret(purpose, account, email, code)) {
		if c.Attempts >= s.o.MaxAttempts {
			s.withdraw(ctx, id)
		}
		return problem.Field("email_code", "email_code_wrong")
	}
	return nil
}

// Use takes the code that Check has just found right: exactly one caller
// wins. It counts no attempt, so it must only follow Check.
func (s *Service) Use(ctx context.Context, purpose, account, email, code string) error {
	code, err := normalize(code)
	if err != nil {
		return err
	}
	taken, err := s.ch.TakeChallenge(ctx, store.ChallengeEmail, s.challengeID(purpose, account, email))
	if errors.Is(err, store.ErrNotFound) {
		return expired()
	}
	if err != nil {
		return problem.Wrap(fmt.Errorf("emailcode: take: %w", err))
	}
	if !hmac.Equal(taken.Secret, s.secret(purpose, account, email, code)) {
		// A new code replaced the one checked: put it back for its owner.
		if err := s.ch.PutChallenge(ctx, taken); err != nil {
			return problem.Wrap(fmt.Errorf("emailcode: restore: %w", err))
		}
		return expired()
	}
	return nil
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

func (s *Service) challengeID(purpose, account, email string) string {
	return hex.EncodeToString(s.mac("email-id", []byte(purpose), []byte(account), []byte(email)))
}

func (s *Service) secret(purpose, account, email, code string) []byte {
	return s.mac("email-code", []byte(purpose), []byte(account), []byte(email), []byte(code))
}

func (s *Service) withdraw(ctx context.Context, id string) {
	_ = s.ch.DeleteChallenge(context.WithoutCancel(ctx), store.ChallengeEmail, id)
}

func expired() error { return problem.New(problem.Gone, "email_code_expired") }

// normalize trims white space and turns full-width digits into ASCII, then
// requires exactly smscode.CodeLength ASCII digits.
func normalize(code string) (string, error) {
	code = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return -1
		case r >= '０' && r <= '９':
			return '0' + (r - '０')
		}
		return r
	}, code)
	if code == "" {
		return "", problem.Field("email_code", "email_code_required")
	}
	if len(code) != smscode.CodeLength {
		return "", problem.Field("email_code", "email_code_format")
	}
	for i := range len(code) {
		if code[i] < '0' || code[i] > '9' {
			return "", problem.Field("email_code", "email_code_format")
		}
	}
	return code, nil
}

// minutes is the TTL as the mail states it, rounded up to whole minutes.
func minutes(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Minute-1)/time.Minute), 10)
}
