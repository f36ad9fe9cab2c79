package otp

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"unid/internal/problem"
	"unid/internal/store"
)

// Keyed is a keyed hash (HMAC) of parts under a purpose label, such as
// (*account.Protector).MAC. It must encode parts unambiguously (for example
// length-prefixed), so that different part lists never collide.
type Keyed func(purpose string, parts ...[]byte) []byte

// Length is the number of digits of a code.
const Length = 6

// Codes issues and checks the codes of one kind.
type Codes struct {
	kind        string
	ch          store.Challenges
	mac         Keyed
	now         func() time.Time
	ttl         time.Duration
	maxAttempts int

	pending sync.WaitGroup // codes Deliver is still handing over
}

// New returns the Codes of kind ("sms" or "email"), kept in ch, valid for
// ttl and answering maxAttempts checks. kind names the store.Challenge kind,
// the labels of the keyed hashes ("<kind>-id", "<kind>-code",
// "<kind>-subject"), the form field ("<kind>_code") and the prefix of every
// message code, so that each kind keeps its own.
func New(kind string, ch store.Challenges, mac Keyed, now func() time.Time, ttl time.Duration, maxAttempts int) *Codes {
	return &Codes{kind: kind, ch: ch, mac: mac, now: now, ttl: ttl, maxAttempts: maxAttempts}
}

// Issue stores a new code bound to bind, replacing any earlier one with the
// same binding, and returns it with its challenge. subject is what the code
// was sent to (a phone, an address or a recovery key); only its keyed hash
// is stored. now is the time the caller counted the send at.
func (c *Codes) Issue(ctx context.Context, now time.Time, subject string, bind ...string) (store.Challenge, string, error) {
	code, err := NewCode()
	if err != nil {
		return store.Challenge{}, "", problem.Wrap(fmt.Errorf("otp: random code: %w", err))
	}
	ch := store.Challenge{
		Kind:      c.kind,
		ID:        c.id(bind),
		Secret:    c.secret(bind, code),
		Subject:   c.mac(c.kind+"-subject", []byte(subject)),
		CreatedAt: now,
		ExpiresAt: now.Add(c.ttl),
	}
	if err := c.ch.PutChallenge(ctx, ch); err != nil {
		return store.Challenge{}, "", problem.Wrap(fmt.Errorf("otp: put %s code: %w", c.kind, err))
	}
	return ch, code, nil
}

// Undelivered withdraws ch, whose code could not be handed over, and
// returns err as a problem: a code that may never have arrived must not stay
// usable. It withdraws even when ctx is what failed. The answer is err
// itself if it already says the service is unavailable, <kind>_unavailable
// otherwise.
func (c *Codes) Undelivered(ctx context.Context, ch store.Challenge, err error) error {
	if derr := c.ch.DeleteChallenge(context.WithoutCancel(ctx), ch.Kind, ch.ID); derr != nil && !errors.Is(derr, store.ErrNotFound) {
		err = errors.Join(err, fmt.Errorf("otp: withdraw %s code: %w", c.kind, derr))
	}
	var p *problem.Problem
	if errors.As(err, &p) && p.Kind == problem.Unavailable {
		return err
	}
	return &problem.Problem{Kind: problem.Unavailable, Code: c.kind + "_unavailable", Err: err}
}

// Deliver runs send in the background, beyond the end of ctx, so that a
// blind send answers as fast for a real recipient as for none. If send
// fails, the code's secret is replaced by one nobody knows (unless a newer
// code has replaced it): every answer is then "wrong", as for a stand-in
// code with no recipient, rather than "expired", which would tell a
// stranger that a real recipient was there. The user asks for another.
func (c *Codes) Deliver(ctx context.Context, ch store.Challenge, send func(context.Context) error) {
	ctx = context.WithoutCancel(ctx)
	c.pending.Go(func() {
		if err := send(ctx); err != nil {
			var nobody [32]byte
			rand.Read(nobody[:])
			_, _ = c.ch.UpdateChallenge(ctx, ch.Kind, ch.ID, func(cur store.Challenge) (store.Challenge, error) {
				if !hmac.Equal(cur.Secret, ch.Secret) {
					return cur, errReplaced
				}
				cur.Secret = c.mac(c.kind+"-undelivered", nobody[:])
				return cur, nil
			})
		}
	})
}

// errReplaced: a newer code took the challenge's place; leave it.
var errReplaced = errors.New("otp: replaced by a newer code")

// Wait returns when everything Deliver started has been handed over.
func (c *Codes) Wait() { c.pending.Wait() }

// Errors returned from inside UpdateChallenge.
var (
	errExpired  = errors.New("otp: expired")
	errAttempts = errors.New("otp: attempts used up")
)

// Check counts an attempt at code for bind and compares it, leaving a right
// code in place for Use.
func (c *Codes) Check(ctx context.Context, code string, bind ...string) error {
	code, err := c.normalize(code)
	if err != nil {
		return err
	}
	id := c.id(bind)
	now := c.now()

	// Count the attempt before comparing, inside the store's transaction,
	// so that concurrent guesses share the attempt budget.
	ch, err := c.ch.UpdateChallenge(ctx, c.kind, id, func(ch store.Challenge) (store.Challenge, error) {
		if !ch.Valid(now) {
			return ch, errExpired
		}
		if ch.Attempts >= c.maxAttempts {
			return ch, errAttempts
		}
		ch.Attempts++
		return ch, nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return c.expired()
	case errors.Is(err, errExpired):
		c.withdraw(ctx, id)
		return c.expired()
	case errors.Is(err, errAttempts):
		// Not withdrawn: see the package doc.
		return problem.New(problem.Gone, c.kind+"_code_attempts")
	case err != nil:
		return problem.Wrap(fmt.Errorf("otp: count %s attempt: %w", c.kind, err))
	}
	if !hmac.Equal(ch.Secret, c.secret(bind, code)) {
		return problem.Field(c.kind+"_code", c.kind+"_code_wrong")
	}
	return nil
}

// Use takes the code for bind that Check has just found right: exactly one
// caller wins. It counts no attempt, so it must only follow Check.
func (c *Codes) Use(ctx context.Context, code string, bind ...string) error {
	code, err := c.normalize(code)
	if err != nil {
		return err
	}
	taken, err := c.ch.TakeChallenge(ctx, c.kind, c.id(bind))
	if errors.Is(err, store.ErrNotFound) {
		return c.expired() // another request used the code first
	}
	if err != nil {
		return problem.Wrap(fmt.Errorf("otp: take %s code: %w", c.kind, err))
	}
	if !hmac.Equal(taken.Secret, c.secret(bind, code)) {
		// A new code replaced this one between the check and the take: put
		// the new one back and let the user enter it.
		if err := c.ch.PutChallenge(ctx, taken); err != nil {
			return problem.Wrap(fmt.Errorf("otp: restore %s code: %w", c.kind, err))
		}
		return c.expired()
	}
	return nil
}

func (c *Codes) id(bind []string) string {
	return hex.EncodeToString(c.mac(c.kind+"-id", parts(bind)...))
}

func (c *Codes) secret(bind []string, code string) []byte {
	return c.mac(c.kind+"-code", append(parts(bind), []byte(code))...)
}

func parts(ss []string) [][]byte {
	p := make([][]byte, len(ss), len(ss)+1)
	for i, s := range ss {
		p[i] = []byte(s)
	}
	return p
}

// withdraw deletes a challenge that can no longer be answered. Failing to
// is harmless: it cannot be answered anyway, and expiry cleans it up.
func (c *Codes) withdraw(ctx context.Context, id string) {
	_ = c.ch.DeleteChallenge(context.WithoutCancel(ctx), c.kind, id)
}

func (c *Codes) expired() error { return problem.New(problem.Gone, c.kind+"_code_expired") }

// normalize trims white space and turns full-width digits into ASCII, then
// requires exactly Length ASCII digits.
func (c *Codes) normalize(code string) (string, error) {
	code = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return -1
		case r >= '０' && r <= '９':
			return '0' + (r - '０')
		}
		return r
	}, code)
	field := c.kind + "_code"
	if code == "" {
		return "", problem.Field(field, field+"_required")
	}
	if len(code) != Length {
		return "", problem.Field(field, field+"_format")
	}
	for i := range len(code) {
		if code[i] < '0' || code[i] > '9' {
			return "", problem.Field(field, field+"_format")
		}
	}
	return code, nil
}

// NewCode returns Length uniform random digits from crypto/rand. Samples at
// or above the largest multiple of 10⁶ that fits in 32 bits are drawn
// again, so that the remainder has no modulo bias.
func NewCode() (string, error) {
	const codes = 1_000_000 // 10^Length
	const bound = (1 << 32) / codes * codes
	var b [4]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		if n := binary.BigEndian.Uint32(b[:]); n < bound {
			return fmt.Sprintf("%06d", n%codes), nil
		}
	}
}

// Minutes is the TTL as a message states it, rounded up to whole minutes.
func (c *Codes) Minutes() string {
	return strconv.FormatInt(int64((c.ttl+time.Minute-1)/time.Minute), 10)
}
