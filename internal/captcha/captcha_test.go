package captcha_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	_ "image/png"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"unid/internal/captcha"
	"unid/internal/problem"
	"unid/internal/store"
	"unid/internal/store/sqlite"
	"unid/internal/store/sqlite/sqlitetest"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newService(t *testing.T) (*captcha.Service, *sqlite.Store, *clock) {
	t.Helper()
	st := sqlitetest.New(t)
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	return captcha.New(st, clk.now, captcha.Options{}), st, clk
}

// wantProblem fails unless err is a *problem.Problem of kind and code.
func wantProblem(t *testing.T, err error, kind problem.Kind, code string) {
	t.Helper()
	var p *problem.Problem
	if !errors.As(err, &p) {
		t.Fatalf("error %v, want problem %s", err, code)
	}
	if p.Kind != kind || p.Code != code {
		t.Fatalf("problem kind %d code %q, want kind %d code %q", p.Kind, p.Code, kind, code)
	}
}

func TestCreateAndDraw(t *testing.T) {
	ctx := context.Background()
	s, st, clk := newService(t)
	c, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ID) != 27 || strings.ContainsAny(c.ID, "+/=") {
		t.Errorf("id %q is not 20 bytes of unpadded base64url", c.ID)
	}
	if want := clk.now().Add(5 * time.Minute); !c.ExpiresAt.Equal(want) {
		t.Errorf("expires %v, want %v", c.ExpiresAt, want)
	}
	stored, err := st.GetChallenge(ctx, store.ChallengeCaptcha, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.Secret) != captcha.DefaultLength {
		t.Errorf("stored %d digits, want %d", len(stored.Secret), captcha.DefaultLength)
	}

	var png bytes.Buffer
	if err := s.WriteImage(ctx, &png, c.ID); err != nil {
		t.Fatal(err)
	}
	img, format, err := image.Decode(&png)
	if err != nil {
		t.Fatalf("image does not decode: %v", err)
	}
	if format != "png" || img.Bounds().Dx() != captcha.DefaultWidth || img.Bounds().Dy() != captcha.DefaultHeight {
		t.Errorf("image %s %v, want png %dx%d", format, img.Bounds(), captcha.DefaultWidth, captcha.DefaultHeight)
	}

	for _, lang := range []string{"zh", "en", "zh-CN", "en-US", ""} {
		var wav bytes.Buffer
		if err := s.WriteAudio(ctx, &wav, c.ID, lang); err != nil {
			t.Fatalf("audio %q: %v", lang, err)
		}
		if !bytes.HasPrefix(wav.Bytes(), []byte("RIFF")) || !bytes.Equal(wav.Bytes()[8:12], []byte("WAVE")) {
			t.Errorf("audio %q is not a WAV file", lang)
		}
	}

	// Drawing does not use the captcha up.
	ans, err := s.Answer(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(ctx, c.ID, ans); err != nil {
		t.Errorf("verify after drawing: %v", err)
	}
}

func TestDrawUnknown(t *testing.T) {
	ctx := context.Background()
	s, _, clk := newService(t)
	c, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	used, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(ctx, used.ID, "000000x"); err == nil {
		t.Fatal("verify of a wrong answer passed")
	}
	tests := []struct {
		name    string
		id      string
		advance time.Duration
	}{
		{"unknown id", "AAAAAAAAAAAAAAAAAAAAAAAAAAA", 0},
		{"empty id", "", 0},
		{"very long id", strings.Repeat("A", 1000), 0},
		{"used id", used.ID, 0},
		{"expired", c.ID, 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.advance(tt.advance)
			var buf bytes.Buffer
			wantProblem(t, s.WriteImage(ctx, &buf, tt.id), problem.NotFound, "captcha_not_found")
			wantProblem(t, s.WriteAudio(ctx, &buf, tt.id, "zh"), problem.NotFound, "captcha_not_found")
			_, err := s.Answer(ctx, tt.id)
			wantProblem(t, err, problem.NotFound, "captcha_not_found")
			if buf.Len() != 0 {
				t.Errorf("%d bytes written for a missing captcha", buf.Len())
			}
		})
	}
}

func TestVerify(t *testing.T) {
	// The answer is transformed from the true digits by each case's func.
	fullWidth := func(a string) string {
		return strings.Map(func(r rune) rune { return r - '0' + '０' }, a)
	}
	wrong := func(a string) string {
		b := []byte(a)
		b[0] = '0' + (b[0]-'0'+1)%10
		return string(b)
	}
	tests := []struct {
		name     string
		answer   func(digits string) string
		id       func(id string) string
		advance  time.Duration
		wantKind problem.Kind
		wantCode string // "" for success
	}{
		{name: "right", answer: func(a string) string { return a }},
		{name: "spaces around and inside", answer: func(a string) string { return " " + a[:3] + " " + a[3:] + "\t" }},
		{name: "full-width digits", answer: fullWidth},
		{name: "full-width with ideographic space", answer: func(a string) string { return fullWidth(a[:2]) + "\u3000" + a[2:] }},
		{name: "right just before expiry", answer: func(a string) string { return a }, advance: 5*time.Minute - time.Millisecond},
		{name: "wrong digit", answer: wrong, wantKind: problem.Invalid, wantCode: "captcha_wrong"},
		{name: "too short", answer: func(a string) string { return a[1:] }, wantKind: problem.Invalid, wantCode: "captcha_wrong"},
		{name: "too long", answer: func(a string) string { return a + "1" }, wantKind: problem.Invalid, wantCode: "captcha_wrong"},
		{name: "letters", answer: func(string) string { return "abcdef" }, wantKind: problem.Invalid, wantCode: "captcha_wrong"},
		{name: "empty answer", answer: func(string) string { return "" }, wantKind: problem.Invalid, wantCode: "captcha_required"},
		{name: "blank answer", answer: func(string) string { return " \u3000 " }, wantKind: problem.Invalid, wantCode: "captcha_required"},
		{name: "empty id", answer: func(a string) string { return a }, id: func(string) string { return "" }, wantKind: problem.Invalid, wantCode: "captcha_required"},
		{name: "unknown id", answer: func(a string) string { return a }, id: func(string) string { return "nope" }, wantKind: problem.Gone, wantCode: "captcha_expired"},
		{name: "expired", answer: func(a string) string { return a }, advance: 5 * time.Minute, wantKind: problem.Gone, wantCode: "captcha_expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, _, clk := newService(t)
			c, err := s.Create(ctx)
			if err != nil {
				t.Fatal(err)
			}
			digits, err := s.Answer(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			id := c.ID
			if tt.id != nil {
				id = tt.id(id)
			}
			clk.advance(tt.advance)
			err = s.Verify(ctx, id, tt.answer(digits))
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("verify: %v", err)
				}
			} else {
				wantProblem(t, err, tt.wantKind, tt.wantCode)
				var p *problem.Problem
				errors.As(err, &p)
				if p.Fields["captcha_answer"] != tt.wantCode {
					t.Errorf("fields %v, want captcha_answer: %s", p.Fields, tt.wantCode)
				}
				if strings.Contains(err.Error(), digits) {
					t.Errorf("error %q contains the answer", err)
				}
			}
			if tt.wantCode == "captcha_required" || id != c.ID {
				// A form missing its answer is not a guess, and a guess at
				// another id is not one at this captcha: it stays usable.
				if err := s.Verify(ctx, c.ID, digits); err != nil {
					t.Errorf("verify afterwards: %v", err)
				}
				return
			}
			// Whatever happened, the captcha is used up now: even the right
			// answer fails.
			wantProblem(t, s.Verify(ctx, c.ID, digits), problem.Gone, "captcha_expired")
		})
	}
}

func TestSharedBetweenInstances(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "unid.db")
	open := func() *sqlite.Store { return sqlitetest.Open(t, path) }
	now := func() time.Time { return time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) }
	a := captcha.New(open(), now, captcha.Options{Length: 5})
	b := captcha.New(open(), now, captcha.Options{Length: 5})

	c, err := a.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var png bytes.Buffer
	if err := b.WriteImage(ctx, &png, c.ID); err != nil {
		t.Fatalf("instance b cannot draw a's captcha: %v", err)
	}
	digits, err := b.Answer(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(digits) != 5 {
		t.Errorf("answer %d digits, want 5", len(digits))
	}
	if err := b.Verify(ctx, c.ID, digits); err != nil {
		t.Fatalf("instance b cannot verify a's captcha: %v", err)
	}
	wantProblem(t, a.Verify(ctx, c.ID, digits), problem.Gone, "captcha_expired")
}

func TestImageTooSmall(t *testing.T) {
	ctx := context.Background()
	_, st, clk := newService(t)
	s := captcha.New(st, clk.now, captcha.Options{Width: 240, Height: 10})
	c, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, s.WriteImage(ctx, &bytes.Buffer{}, c.ID), problem.Internal, "internal")
}

func TestRecent(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.New(t)
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	dev := captcha.New(st, clk.now, captcha.Options{Recent: 2})
	var ids []string
	for range 3 {
		c, err := dev.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	list := func() string {
		got, err := dev.Recent(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, a := range got {
			want, _ := dev.Answer(ctx, a.ID)
			if a.Answer != want || len(a.Answer) != captcha.DefaultLength {
				t.Errorf("%s: answer %q, want %q", a.ID, a.Answer, want)
			}
			s = append(s, a.ID)
		}
		return strings.Join(s, " ")
	}
	if got, want := list(), ids[2]+" "+ids[1]; got != want {
		t.Errorf("Recent = %s, want the newest two, newest first: %s", got, want)
	}
	_ = dev.Verify(ctx, ids[2], "wrong")
	if got := list(); got != ids[1] {
		t.Errorf("after the newest was used up: %s, want %s", got, ids[1])
	}
	clk.advance(captcha.DefaultTTL)
	if got := list(); got != "" {
		t.Errorf("expired captchas listed: %s", got)
	}

	prod := captcha.New(st, clk.now, captcha.Options{})
	if _, err := prod.Create(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := prod.Recent(ctx); err != nil || len(got) != 0 {
		t.Errorf("without Options.Recent, Recent = %v %v", got, err)
	}
}
