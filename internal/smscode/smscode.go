package smscode

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
	"unid/internal/account"
	"unid/internal/audit"

	"unid/internal/notify"
	"unid/internal/otp"
	"unid/internal/problem"
	"unid/internal/ratelimit"
	"unid/internal/store"
)

// Keyed is a keyed hash (HMAC) of parts under a purpose label, such as
// (*account.Protector).MAC. It must encode parts unambiguously (for example
// length-prefixed), so that different part lists never collide.
type Keyed = otp.Keyed

// CodeLength is the number of digits of a code.
const CodeLength = otp.Length

// Defaults for Options fields left zero.
const (
	DefaultTTL         = 5 * time.Minute
	DefaultMaxAttempts = 5
)

// Limits caps how many codes are sent. A zero field takes its default (1, 5,
// 10, 30, 5,000, 50,000); a negative one switches that limit off.
type Limits struct {
	PerPhoneMinute int64 // codes per phone per minute, all purposes together
	PerPhoneHour   int64
	PerPhoneDay    int64
	PerIPHour      int64 // codes per client address (IPv6: per /64) per hour
	// GlobalHour and GlobalDay cap the codes the whole platform sends, the
	// budget that stops SMS pumping (texts to premium numbers paid for by
	// the platform) from rotating addresses that no per-address limit
	// catches.
	GlobalHour int64
	GlobalDay  int64
}

// Options configure a Service; zero fields take the defaults.
type Options struct {
	TTL         time.Duration // how long a code can be used
	MaxAttempts int           // checks a code answers before it is refused
	Limits      Limits
	// BudgetReached, if set, is told once per window ("hour" or "day")
	// that the platform's SMS budget is used up, for the audit log.
	BudgetReached func(ctx context.Context, window string, limit int64)
	// Audit records the codes SendFor sends; nil: they are not audited.
	Audit *audit.Log
}

// Service sends and checks SMS codes.
type Service struct {
	codes  *otp.Codes
	lim    *ratelimit.Limiter
	sender notify.SMSSender
	mac    Keyed
	now    func() time.Time
	o      Options
}

// SendFor is Send on behalf of by (the person asking, anonymous at
// registration): the send and its result are audited as sms.sent, with
// the phone masked and the purpose, whichever flow asked.
func (s *Service) SendFor(ctx context.Context, purpose, phone string, by audit.Origin) (Sent, error) {
	sent, err := s.Send(ctx, purpose, phone, by.IP)
	if s.o.Audit != nil {
		result := audit.ResultOK
		if err != nil {
			result = problem.As(err).Code
		}
		e := by.Entry(audit.ActionSMSSent, result)
		e.Subject, e.Detail = account.MaskPhone(phone), audit.Detail{"purpose": purpose}
		s.o.Audit.Append(ctx, e)
	}
	return sent, err
}

// Sent describes a code that went out.
type Sent struct {
	ExpiresAt   time.Time
	ResendAfter time.Duration // how long until another code may be sent; 0 if now
}

// New returns a Service keeping codes in ch, counting sends in lim and
// sending through sender.
func New(ch store.Challenges, lim *ratelimit.Limiter, sender notify.SMSSender, mac Keyed, now func() time.Time, o Options) *Service {
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
	def(&o.Limits.PerPhoneMinute, 1)
	def(&o.Limits.PerPhoneHour, 5)
	def(&o.Limits.PerPhoneDay, 10)
	def(&o.Limits.PerIPHour, 30)
	def(&o.Limits.GlobalHour, 5000)
	def(&o.Limits.GlobalDay, 50000)
	return &Service{
		codes: otp.New(store.ChallengeSMS, ch, mac, now, o.TTL, o.MaxAttempts),
		lim:   lim, sender: sender, mac: mac, now: now, o: o,
	}
}

// Send texts a new code for purpose to phone (already normalised), replacing
// any earlier code for the same purpose and phone. ip is the client's
// address, for the per-IP limit.
func (s *Service) Send(ctx context.Context, purpose, phone, ip string) (Sent, error) {
	return s.send(ctx, purpose, phone, phone, ip, false)
}

// SendBlind is Send for a flow whose answers must not tell whether anybody
// was texted (password recovery). The code is bound to key, which Check
// and Use then take in place of a phone, and the send limits count on key
// as they do on a phone. When phone is "" no text goes out, but a code
// nobody knows is stored all the same, so that every later answer is the
// one of a wrong code. A text is handed to the sender in the background,
// so that the answer takes no longer for a real phone than for none; a
// text that fails withdraws its code, and the user asks for another.
func (s *Service) SendBlind(ctx context.Context, purpose, key, phone, ip string) (Sent, error) {
	if key == "" {
		return Sent{}, problem.Wrap(errors.New("smscode: blind send without key"))
	}
	return s.send(ctx, purpose, key, phone, ip, true)
}

// Wait returns when every text SendBlind started has been handed over.
// unid waits for it before it exits.
func (s *Service) Wait() { s.codes.Wait() }

func (s *Service) send(ctx context.Context, purpose, key, phone, ip string, blind bool) (Sent, error) {
	if purpose == "" {
		return Sent{}, problem.Wrap(errors.New("smscode: send without purpose"))
	}
	if key == "" {
		return Sent{}, problem.Field("phone", "phone_required")
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	if err := s.withinBudget(ctx, now); err != nil {
		return Sent{}, err
	}
	rules := s.rules(key, ip)
	wait, err := s.lim.Allow(ctx, now, append(rules, s.budget()...)...)
	if err != nil {
		return Sent{}, problem.Wrap(fmt.Errorf("smscode: rate limit: %w", err))
	}
	if wait > 0 {
		if err := s.withinBudget(ctx, now); err != nil {
			return Sent{}, err // a concurrent send took the last of the budget
		}
		return Sent{}, &problem.Problem{Kind: problem.TooMany, Code: "sms_rate_limited", RetryAfter: wait}
	}

	c, code, err := s.codes.Issue(ctx, now, key, purpose, key)
	if err != nil {
		return Sent{}, err
	}
	sent := Sent{ExpiresAt: c.ExpiresAt}
	for _, r := range rules {
		w, err := s.lim.Exceeded(ctx, now, r)
		if err != nil {
			// The code is out; not knowing the resend delay is no reason
			// to report failure.
			continue
		}
		sent.ResendAfter = max(sent.ResendAfter, w)
	}
	m := notify.SMS{
		Phone:    phone,
		Template: notify.TemplateSMSCode,
		Params:   map[string]string{"code": code, "minutes": s.codes.Minutes()},
	}
	switch {
	case blind && phone == "":
		return sent, nil
	case blind:
		s.codes.Deliver(ctx, c, func(ctx context.Context) error { return s.sender.SendSMS(ctx, m) })
		return sent, nil
	}
	if err := s.sender.SendSMS(ctx, m); err != nil {
		return Sent{}, s.codes.Undelivered(ctx, c, err)
	}
	return sent, nil
}

// Verify checks code for purpose and phone. A right code is used up; a
// wrong one counts an attempt.
func (s *Service) Verify(ctx context.Context, purpose, phone, code string) error {
	if err := s.Check(ctx, purpose, phone, code); err != nil {
		return err
	}
	return s.Use(ctx, purpose, phone, code)
}

// Check counts an attempt at code for purpose and phone and compares it,
// as Verify does, but leaves a right code in place, so that a flow can
// answer about the rest of the request (a login name already taken) only
// to the holder of the phone and let them correct it with the same code.
// Use then takes it.
func (s *Service) Check(ctx context.Context, purpose, phone, code string) error {
	return s.codes.Check(ctx, code, purpose, phone)
}

// Use takes the code that Check has just found right: exactly one caller
// wins. It counts no attempt, so it must only follow Check.
func (s *Service) Use(ctx context.Context, purpose, phone, code string) error {
	return s.codes.Use(ctx, code, purpose, phone)
}

// rules are the send limits for phone and ip; keys hold keyed hashes only.
func (s *Service) rules(phone, ip string) []ratelimit.Rule {
	p := hex.EncodeToString(s.mac("sms-rate", []byte(phone)))
	a := hex.EncodeToString(s.mac("sms-ip", []byte(ratelimit.Address(ip))))
	l := s.o.Limits
	return []ratelimit.Rule{
		{Key: "sms:phone:m:" + p, Limit: l.PerPhoneMinute, Window: time.Minute},
		{Key: "sms:phone:h:" + p, Limit: l.PerPhoneHour, Window: time.Hour},
		{Key: "sms:phone:d:" + p, Limit: l.PerPhoneDay, Window: 24 * time.Hour},
		{Key: "sms:ip:h:" + a, Limit: l.PerIPHour, Window: time.Hour},
	}
}

// NoticesPerPhoneDay bounds the notices (not codes: "your password was
// changed", "your account is locked") one phone receives a day, so that
// nobody can use unid to flood a phone by triggering them.
const NoticesPerPhoneDay = 5

// ErrNoticeDropped is returned by SendSMS for a notice that a limit kept
// back: the change it reports has happened all the same.
var ErrNoticeDropped = errors.New("smscode: notice not sent: limit reached")

// SendSMS sends a notice that carries no code, within the platform's SMS
// budget (the same as codes: every text costs the platform) and at most
// NoticesPerPhoneDay to one phone. Over either limit the notice is dropped
// with ErrNoticeDropped. It makes the Service a notify.SMSSender for the
// services that tell an account's owner of a change.
func (s *Service) SendSMS(ctx context.Context, m notify.SMS) error {
	if m.Template == notify.TemplateSMSCode {
		return errors.New("smscode: codes go through Send")
	}
	if s.sender == nil {
		return errors.New("smscode: no SMS sender is configured")
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	if err := s.withinBudget(ctx, now); err != nil {
		return fmt.Errorf("%w (%v)", ErrNoticeDropped, problem.As(err).Code)
	}
	p := hex.EncodeToString(s.mac("sms-rate", []byte(m.Phone)))
	rules := append([]ratelimit.Rule{{Key: "sms:notice:d:" + p, Limit: NoticesPerPhoneDay, Window: 24 * time.Hour}}, s.budget()...)
	wait, err := s.lim.Allow(ctx, now, rules...)
	if err != nil {
		return fmt.Errorf("smscode: notice limit: %w", err)
	}
	if wait > 0 {
		return ErrNoticeDropped
	}
	return s.sender.SendSMS(ctx, m)
}

// budget is the platform-wide limit of codes sent, counted after the
// per-phone and per-address rules so that a refused request does not use it.
func (s *Service) budget() []ratelimit.Rule {
	l := s.o.Limits
	return []ratelimit.Rule{
		{Key: "sms:all:h", Limit: l.GlobalHour, Window: time.Hour},
		{Key: "sms:all:d", Limit: l.GlobalDay, Window: 24 * time.Hour},
	}
}

// withinBudget refuses with sms_budget_exhausted while the platform's
// budget is used up, and reports the first refusal of each window.
func (s *Service) withinBudget(ctx context.Context, now time.Time) error {
	for _, r := range s.budget() {
		wait, err := s.lim.Exceeded(ctx, now, r)
		if err != nil {
			return problem.Wrap(fmt.Errorf("smscode: budget: %w", err))
		}
		if wait <= 0 {
			continue
		}
		window := "hour"
		if r.Window > time.Hour {
			window = "day"
		}
		if s.o.BudgetReached != nil {
			// One report per exhausted window: the first refusal opens a
			// marker counter that lives as long as the refusal does.
			if n, _, err := s.lim.Hit(ctx, now, ratelimit.Rule{Key: r.Key + ":reported", Limit: 1, Window: wait}); err == nil && n == 1 {
				s.o.BudgetReached(ctx, window, r.Limit)
			}
		}
		return &problem.Problem{Kind: problem.TooMany, Code: "sms_budget_exhausted", RetryAfter: wait}
	}
	return nil
}

// NewCode returns CodeLength uniform random digits from crypto/rand, for
// every kind of code unid sends (email codes too).
func NewCode() (string, error) { return otp.NewCode() }
