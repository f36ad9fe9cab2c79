package captcha

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	dcaptcha "github.com/dchest/captcha"

	"unid/internal/problem"
	"unid/internal/store"
)

// Defaults for Options fields left zero.
const (
	DefaultTTL    = 5 * time.Minute
	DefaultLength = 6
	DefaultWidth  = dcaptcha.StdWidth  // 240
	DefaultHeight = dcaptcha.StdHeight // 80
)

// validID reports whether id could have been made by Create (27 base64url
// characters), so that anything else is answered without a query.
func validID(id string) bool {
	if len(id) != 27 {
		return false
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Options configure a Service; zero fields take the defaults above.
type Options struct {
	TTL           time.Duration // how long a captcha can be answered
	Length        int           // number of digits
	Width, Height int           // image size in pixels
	// Recent is how many of the newest captchas Recent lists, for the dev
	// pages; 0 (production) remembers none.
	Recent int
}

// Service creates, draws and checks captchas kept in store.Challenges.
type Service struct {
	ch  store.Challenges
	now func() time.Time
	o   Options

	mu     sync.Mutex
	recent []Captcha // newest last, at most o.Recent
}

// Captcha is a created captcha: the page shows the image of ID and posts ID
// back with the answer.
type Captcha struct {
	ID        string
	ExpiresAt time.Time
}

// New returns a Service keeping its captchas in ch.
func New(ch store.Challenges, now func() time.Time, o Options) *Service {
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.Length <= 0 {
		o.Length = DefaultLength
	}
	if o.Width <= 0 {
		o.Width = DefaultWidth
	}
	if o.Height <= 0 {
		o.Height = DefaultHeight
	}
	return &Service{ch: ch, now: now, o: o}
}

// Create makes a new captcha with fresh random digits.
func (s *Service) Create(ctx context.Context) (Captcha, error) {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Captcha{}, problem.Wrap(fmt.Errorf("captcha: random id: %w", err))
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	c := store.Challenge{
		Kind:      store.ChallengeCaptcha,
		ID:        base64.RawURLEncoding.EncodeToString(b[:]),
		Secret:    dcaptcha.RandomDigits(s.o.Length),
		CreatedAt: now,
		ExpiresAt: now.Add(s.o.TTL),
	}
	if err := s.ch.PutChallenge(ctx, c); err != nil {
		return Captcha{}, problem.Wrap(fmt.Errorf("captcha: put: %w", err))
	}
	made := Captcha{ID: c.ID, ExpiresAt: c.ExpiresAt}
	if s.o.Recent > 0 {
		s.mu.Lock()
		s.recent = append(s.recent, made)
		if len(s.recent) > s.o.Recent {
			s.recent = s.recent[len(s.recent)-s.o.Recent:]
		}
		s.mu.Unlock()
	}
	return made, nil
}

// Answered is a captcha with its answer, as the dev pages show it.
type Answered struct {
	Captcha
	Answer string
}

// Recent lists the newest captchas this instance created that can still be
// answered, newest first, with their answers (see Options.Recent). Like
// Answer, only dev mode may show it.
func (s *Service) Recent(ctx context.Context) ([]Answered, error) {
	s.mu.Lock()
	made := slices.Clone(s.recent)
	s.mu.Unlock()
	var out []Answered
	for _, c := range slices.Backward(made) {
		answer, err := s.Answer(ctx, c.ID)
		if err != nil {
			if problem.As(err).Kind == problem.NotFound {
				continue // used up or expired
			}
			return nil, err
		}
		out = append(out, Answered{Captcha: c, Answer: answer})
	}
	return out, nil
}

// WriteImage writes the PNG picture of captcha id to w.
func (s *Service) WriteImage(ctx context.Context, w io.Writer, id string) (err error) {
	digits, err := s.digits(ctx, id)
	if err != nil {
		return err
	}
	// dchest/captcha panics when the digits do not fit the image size;
	// that is a configuration fault, reported instead of crashing a request.
	defer func() {
		if r := recover(); r != nil {
			err = problem.Wrap(fmt.Errorf("captcha: draw %dx%d with %d digits: %v", s.o.Width, s.o.Height, len(digits), r))
		}
	}()
	img := dcaptcha.NewImage(id, digits, s.o.Width, s.o.Height)
	if _, err := img.WriteTo(w); err != nil {
		return fmt.Errorf("captcha: write image: %w", err)
	}
	return nil
}

// WriteAudio writes captcha id as spoken digits in a WAV file to w. lang is a
// language tag: those starting with "en" get English, all others Chinese.
func (s *Service) WriteAudio(ctx context.Context, w io.Writer, id, lang string) error {
	digits, err := s.digits(ctx, id)
	if err != nil {
		return err
	}
	l := "zh"
	if strings.HasPrefix(strings.ToLower(lang), "en") {
		l = "en"
	}
	var buf bytes.Buffer
	if _, err := dcaptcha.NewAudio(id, digits, l).WriteTo(&buf); err != nil {
		return fmt.Errorf("captcha: encode audio: %w", err)
	}
	if _, err := buf.WriteTo(w); err != nil {
		return fmt.Errorf("captcha: write audio: %w", err)
	}
	return nil
}

// Answer returns the digits of captcha id without using it up. Only the
// dev-mode route may call it.
func (s *Service) Answer(ctx context.Context, id string) (string, error) {
	digits, err := s.digits(ctx, id)
	if err != nil {
		return "", err
	}
	return digitString(digits), nil
}

// Verify checks answer against captcha id and uses the captcha up, whatever
// the outcome.
func (s *Service) Verify(ctx context.Context, id, answer string) error {
	answer = normalize(answer)
	if id == "" || answer == "" {
		return problem.Field("captcha_answer", "captcha_required")
	}
	if !validID(id) {
		return errExpired()
	}
	c, err := s.ch.TakeChallenge(ctx, store.ChallengeCaptcha, id)
	if errors.Is(err, store.ErrNotFound) {
		return errExpired()
	}
	if err != nil {
		return problem.Wrap(fmt.Errorf("captcha: take: %w", err))
	}
	if !c.Valid(s.now()) {
		return errExpired()
	}
	if subtle.ConstantTimeCompare([]byte(digitString(c.Secret)), []byte(answer)) != 1 {
		return problem.Field("captcha_answer", "captcha_wrong")
	}
	return nil
}

// digits returns the answer of a live captcha, or a NotFound problem.
func (s *Service) digits(ctx context.Context, id string) ([]byte, error) {
	if !validID(id) {
		return nil, errNotFound()
	}
	c, err := s.ch.GetChallenge(ctx, store.ChallengeCaptcha, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound()
	}
	if err != nil {
		return nil, problem.Wrap(fmt.Errorf("captcha: get: %w", err))
	}
	if !c.Valid(s.now()) {
		return nil, errNotFound()
	}
	return c.Secret, nil
}

func errExpired() error {
	return &problem.Problem{
		Kind:   problem.Gone,
		Code:   "captcha_expired",
		Fields: map[string]string{"captcha_answer": "captcha_expired"},
	}
}

func errNotFound() error { return problem.New(problem.NotFound, "captcha_not_found") }

// digitString turns digits 0–9 as bytes into ASCII "0"–"9".
func digitString(d []byte) string {
	b := make([]byte, len(d))
	for i, n := range d {
		b[i] = '0' + n
	}
	return string(b)
}

// normalize removes all white space (also the ideographic space U+3000) and
// turns full-width digits ０–９ into ASCII ones.
func normalize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return -1
		case r >= '０' && r <= '９':
			return '0' + (r - '０')
		}
		return r
	}, s)
}
