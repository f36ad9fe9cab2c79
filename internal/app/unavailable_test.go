package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"unid/internal/app"
	"unid/internal/app/apptest"
	"unid/internal/config"
	"unid/internal/store/postgres/pgtest"
	"unid/internal/testenv"
)

// cutter is a loopback TCP proxy in front of a backend that the test can
// cut, as a network fault or a crashed server would: open connections
// break and new ones are refused.
type cutter struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	cut    bool
}

func newCutter(t *testing.T, target string) *cutter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{ln: ln, target: target}
	t.Cleanup(c.Cut)
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			c.mu.Lock()
			if c.cut {
				c.mu.Unlock()
				in.Close()
				out.Close()
				return
			}
			c.conns = append(c.conns, in, out)
			c.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
	return c
}

func (c *cutter) Addr() string { return c.ln.Addr().String() }

// Cut breaks every connection and refuses new ones.
func (c *cutter) Cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cut = true
	c.ln.Close()
	for _, conn := range c.conns {
		conn.Close()
	}
}

// TestBackendDown: while the database or Redis cannot be reached, /readyz
// names it and every request answers 503 with Retry-After and "try again",
// never 500.
func TestBackendDown(t *testing.T) {
	for _, down := range []string{"database", "redis"} {
		t.Run(down, func(t *testing.T) {
			dbURL, err := url.Parse(pgtest.NewDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			redisURL, err := url.Parse(testenv.RedisURL(t))
			if err != nil {
				t.Fatal(err)
			}
			db, rd := newCutter(t, dbURL.Host), newCutter(t, redisURL.Host)
			dbURL.Host, redisURL.Host = db.Addr(), rd.Addr()
			srv := apptest.Start(t, func(c *config.Config) {
				c.DatabaseURL.Value, c.RedisURL.Value = dbURL.String(), redisURL.String()
			})
			res, body := get(t, srv.URL+"/readyz")
			if res.StatusCode != http.StatusOK || body != "ready\ndatabase: ok\nredis: ok\n" {
				t.Fatalf("readyz before the fault: %d %q", res.StatusCode, body)
			}
			// A captcha answered before the fault, for a sign-in after it.
			res, err = http.Post(srv.URL+"/api/v1/captchas", "application/json", nil)
			if err != nil {
				t.Fatal(err)
			}
			var captcha struct{ ID string }
			json.NewDecoder(res.Body).Decode(&captcha)
			res.Body.Close()
			answer := srv.CaptchaAnswer(t, captcha.ID)
			map[string]*cutter{"database": db, "redis": rd}[down].Cut()

			res, body = get(t, srv.URL+"/readyz")
			if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || !strings.Contains(body, down+": unreachable") {
				t.Errorf("readyz with %s down: %d Retry-After %q %q", down, res.StatusCode, res.Header.Get("Retry-After"), body)
			}
			// The captcha's picture needs only the captcha, which is in
			// Redis when there is one.
			res, _ = get(t, srv.URL+"/api/v1/captchas/"+captcha.ID+"/image")
			if want := map[string]int{"database": http.StatusOK, "redis": http.StatusServiceUnavailable}[down]; res.StatusCode != want {
				t.Errorf("captcha picture with %s down: %d, want %d", down, res.StatusCode, want)
			}
			// A sign-in needs the counters and the captcha (Redis) and the
			// account (database): either fault stops it.
			form, _ := json.Marshal(map[string]string{"identifier": "13800138000", "password": "Pa55word!x",
				"captcha_id": captcha.ID, "captcha_answer": answer})
			res, err = http.Post(srv.URL+"/api/v1/sessions", "application/json", strings.NewReader(string(form)))
			if err != nil {
				t.Fatal(err)
			}
			var e struct {
				Error struct{ Code, Message string }
			}
			json.NewDecoder(res.Body).Decode(&e)
			res.Body.Close()
			if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != "5" || e.Error.Code != "unavailable" || e.Error.Message == "" {
				t.Errorf("sign-in with %s down: %d Retry-After %q %+v", down, res.StatusCode, res.Header.Get("Retry-After"), e)
			}
			// A CAS login looks up its service system in the database.
			if down == "database" {
				res, body = get(t, srv.URL+"/cas/login?service="+url.QueryEscape("https://hall.example/"))
				if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != "5" {
					t.Errorf("CAS login with the database down: %d Retry-After %q %q", res.StatusCode, res.Header.Get("Retry-After"), body)
				}
			}
		})
	}
}

func get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// TestBadRedisURLHidesThePassword: a Redis URL that cannot be parsed is
// refused at start without printing the password it holds.
func TestBadRedisURLHidesThePassword(t *testing.T) {
	cfg, err := config.Parse("test", []string{"--dev", "--data", t.TempDir()}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.RedisURL.Value = "redis://:s3cret-pw@127.0.0.1:notaport/0"
	a, err := app.New(context.Background(), cfg, app.NewLogger(io.Discard, "error", "text"), time.Now)
	if err == nil {
		a.Close()
		t.Fatal("a malformed Redis URL was accepted")
	}
	if strings.Contains(err.Error(), "s3cret-pw") || !strings.Contains(err.Error(), "--redis-url") {
		t.Errorf("error %q: want it to name --redis-url and not the password", err)
	}
}
