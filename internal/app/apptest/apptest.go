// Package apptest starts a whole unid on a real loopback listener for tests:
// dev mode, a fresh SQLite database (or PostgreSQL), and a clock the test
// moves by hand.
package apptest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"unid/internal/app"
	"unid/internal/config"
	"unid/internal/store/postgres/pgtest"
	"unid/internal/testenv"
)

// Clock is a settable clock shared by every part of the server.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Server is a running unid.
type Server struct {
	URL   string
	App   *app.App
	Clock *Clock
	Logs  *Logs // everything the server logged, at debug level
}

// Logs collects log output.
type Logs struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything logged so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Start runs unid for the test. edit may change the configuration first.
func Start(t testing.TB, edit func(*config.Config)) *Server {
	t.Helper()
	cfg, err := config.Parse("test", []string{"--dev", "--data", t.TempDir()}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.LogLevel = "warn"
	// The issuer of tokens is the address the test talks to.
	srv := httptest.NewUnstartedServer(nil)
	cfg.PublicURL = "http://" + srv.Listener.Addr().String()
	cfg.Addr = srv.Listener.Addr().String()
	if edit != nil {
		edit(&cfg)
	}
	clock := &Clock{now: time.Now().UTC().Truncate(time.Millisecond)}
	logs := &Logs{}
	var w io.Writer = logs
	if testing.Verbose() {
		w = io.MultiWriter(logs, testWriter{t})
	}
	logger := app.NewLogger(w, "debug", "text")
	a, err := app.New(context.Background(), cfg, logger, clock.Now)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	srv.Config.Handler = a.Handler
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		a.Close()
		if t.Failed() && !testing.Verbose() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return &Server{URL: srv.URL, App: a, Clock: clock, Logs: logs}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Client returns an HTTP client with its own cookie jar: one browser.
func (s *Server) Client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// CaptchaAnswer reads a captcha's answer from the dev route.
func (s *Server) CaptchaAnswer(t testing.TB, id string) string {
	t.Helper()
	var v struct{ Answer string }
	s.getJSON(t, "/dev/captchas/"+id, &v)
	return v.Answer
}

// LastCode returns the code of the newest SMS sent to phone, from the dev
// outbox.
func (s *Server) LastCode(t testing.TB, phone string) string {
	t.Helper()
	code, ok := s.lastCode(t, phone)
	if !ok {
		t.Fatalf("no SMS to %s in the outbox", phone)
	}
	return code
}

// WaitCode is LastCode for a code that a page sends on its own time: it
// looks for up to 10 seconds.
func (s *Server) WaitCode(t testing.TB, phone string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if code, ok := s.lastCode(t, phone); ok {
			return code
		}
	}
	t.Fatalf("no SMS code reached %s within 10 s", phone)
	return ""
}

func (s *Server) lastCode(t testing.TB, phone string) (string, bool) {
	t.Helper()
	var v struct {
		Messages []struct {
			To     string
			Params map[string]string
		}
	}
	s.getJSON(t, "/dev/outbox.json", &v)
	for _, m := range v.Messages { // newest first
		if m.To == phone {
			return m.Params["code"], true
		}
	}
	return "", false
}

// OutboxLen is the number of messages sent so far.
func (s *Server) OutboxLen(t testing.TB) int {
	t.Helper()
	var v struct{ Messages []json.RawMessage }
	s.getJSON(t, "/dev/outbox.json", &v)
	return len(v.Messages)
}

func (s *Server) getJSON(t testing.TB, path string, v any) {
	t.Helper()
	res, err := http.Get(s.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// Backend is a database unid can run on in tests.
type Backend struct {
	Name string
	// Use points the configuration at a fresh database of this backend.
	Use func(t testing.TB, c *config.Config)
}

// Backends are SQLite (a fresh file) and PostgreSQL (a fresh database on
// UNID_TEST_POSTGRES_URL; skipped without it unless UNID_REQUIRE_ALL=1).
var Backends = []Backend{
	{Name: "sqlite", Use: func(testing.TB, *config.Config) {}},
	{Name: "postgres", Use: func(t testing.TB, c *config.Config) { c.DatabaseURL.Value = pgtest.NewDatabase(t) }},
}

// PostgresRedis is the production shape: PostgreSQL, with counters and
// challenges in Redis.
var PostgresRedis = Backend{Name: "postgres+redis", Use: func(t testing.TB, c *config.Config) {
	c.DatabaseURL.Value = pgtest.NewDatabase(t)
	c.RedisURL.Value = testenv.RedisURL(t)
}}

// ForEachBackend runs f as a subtest on every backend.
func ForEachBackend(t *testing.T, f func(t *testing.T, start func(edit func(*config.Config)) *Server)) {
	ForBackends(t, Backends, f)
}

// ForBackends runs f as a subtest on each of backends.
func ForBackends(t *testing.T, backends []Backend, f func(t *testing.T, start func(edit func(*config.Config)) *Server)) {
	for _, be := range backends {
		t.Run(be.Name, func(t *testing.T) {
			f(t, func(edit func(*config.Config)) *Server {
				return Start(t, func(c *config.Config) {
					be.Use(t, c)
					if edit != nil {
						edit(c)
					}
				})
			})
		})
	}
}

// OutboxMessage is a text message as the dev outbox lists it.
type OutboxMessage struct {
	To     string
	Text   string
	Params map[string]string
}

// Outbox returns the messages sent so far, newest first.
func (s *Server) Outbox(t testing.TB) []OutboxMessage {
	t.Helper()
	var v struct{ Messages []OutboxMessage }
	s.getJSON(t, "/dev/outbox.json", &v)
	return v.Messages
}
