package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestClientKeepsConnectionsAndSendsAgainWhenTheServerClosedOne: the
// requests of a run share kept-alive connections; a GET sent on a
// connection the server closed while it was idle is sent again on a new
// one instead of failing the row, and an answer with Connection: close
// closes its connection.
func TestClientKeepsConnectionsAndSendsAgainWhenTheServerClosedOne(t *testing.T) {
	srv, conns := countingServer(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("last") != "" {
			w.Header().Set("Connection", "close")
		}
		io.WriteString(w, "got "+r.URL.Query().Get("n"))
	})
	c := clientOf(t, srv, 10*time.Second)
	send := func(method, query string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+"/x?n=1&"+query, nil)
		r, err := c.do(req)
		if err != nil || r.status != 200 || string(r.body) != "got 1" {
			t.Fatalf("%s ?%s: %d %q, %v", method, query, r.status, r.body, err)
		}
	}
	get := func(query string) { t.Helper(); send("GET", query) }
	for range 3 {
		get("")
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("three requests one after another used %d connections, want 1", n)
	}
	srv.CloseClientConnections()
	get("")
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d connections, want a second after the first was closed", n)
	}
	get("last=1")
	send("POST", "") // on the closed connection it would fail
	if n := conns.Load(); n != 3 {
		t.Fatalf("%d connections, want a third after Connection: close", n)
	}
}

// TestClientSendsAFormOnce: a POST whose connection ends before its
// answer fails instead of being sent again, since the server may have
// carried it out (a code exchanged, an SMS sent).
func TestClientSendsAFormOnce(t *testing.T) {
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" {
			return
		}
		r.ParseForm()
		posts.Add(1)
		nc, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		nc.Close() // carried out, never answered
	}))
	c := clientOf(t, srv, 10*time.Second)
	req, _ := http.NewRequest("GET", srv.URL+"/", nil)
	if _, err := c.do(req); err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest("POST", srv.URL+"/token", strings.NewReader("grant_type=authorization_code&code=abc"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, err := c.do(req); err == nil {
		t.Fatal("a POST the server never answered succeeded")
	}
	if n := posts.Load(); n != 1 {
		t.Fatalf("the server got the POST %d times, want once", n)
	}
}

// TestClientUnpacksGzipAndFollowsNoRedirect: the tool asks for gzip as a
// browser does and reads the page unpacked, and it sees a redirect itself
// (it reads codes and tickets from them).
func TestClientUnpacksGzipAndFollowsNoRedirect(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			http.Redirect(w, r, "/cb?code=abc", http.StatusSeeOther)
			return
		}
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			io.WriteString(w, "plain")
			return
		}
		gzipped(w, "<p>统一身份认证</p>")
	}))
	c := clientOf(t, srv, 10*time.Second)
	req, _ := http.NewRequest("GET", srv.URL+"/page", nil)
	r, err := c.do(req)
	if err != nil || string(r.body) != "<p>统一身份认证</p>" || r.header.Get("Content-Encoding") != "" {
		t.Fatalf("page: %q %v, %v", r.body, r.header, err)
	}
	req, _ = http.NewRequest("POST", srv.URL+"/login", strings.NewReader("x=1"))
	r, err = c.do(req)
	if err != nil || r.status != http.StatusSeeOther || r.header.Get("Location") != "/cb?code=abc" {
		t.Fatalf("redirect: %d %v, %v", r.status, r.header, err)
	}
}

// TestClientOverTLS: an https URL, as with unid behind a proxy that
// terminates TLS.
func TestClientOverTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	c := clientOf(t, srv, 10*time.Second)
	req, _ := http.NewRequest("GET", srv.URL+"/", nil)
	if _, err := c.do(req); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a certificate no root vouches for: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	c.tls = c.tls.Clone() // a config once used may not be changed
	c.tls.RootCAs = roots
	if r, err := c.do(req); err != nil || string(r.body) != "HTTP/1.1" {
		t.Fatalf("over TLS: %q, %v", r.body, err)
	}
	// The certificate is not for localhost.
	other := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	o, err := newHTTPClient(other, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer o.closeIdle()
	o.tls.RootCAs = roots
	req, _ = http.NewRequest("GET", other+"/", nil)
	if _, err := o.do(req); !errors.As(err, new(x509.HostnameError)) {
		t.Fatalf("a certificate for another name: %v", err)
	}
}

// slowClient starts a server that answers no request until the test
// ends, and returns a client of it with an hour's timeout, its URL, and
// a channel that tells when a request has reached it.
func slowClient(t *testing.T) (c *httpClient, url string, arrived chan struct{}) {
	release := make(chan struct{})
	arrived = make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-release
	}))
	c = clientOf(t, srv, time.Hour)
	t.Cleanup(func() { close(release) }) // runs before the server's close, which waits for the handlers
	return c, srv.URL, arrived
}

// countingServer starts a server of h that counts the connections made
// to it.
func countingServer(h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	conns := new(atomic.Int32)
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	return srv, conns
}

// gzipped answers text packed with gzip.
func gzipped(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Encoding", "gzip")
	zw := gzip.NewWriter(w)
	io.WriteString(zw, text)
	zw.Close()
}

// clientOf returns a client of srv, both closed when the test ends.
func clientOf(t *testing.T, srv *httptest.Server, timeout time.Duration) *httpClient {
	t.Helper()
	t.Cleanup(srv.Close)
	c, err := newHTTPClient(srv.URL, timeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.closeIdle)
	return c
}

// TestClientStopsWhenTheRunIsInterrupted: a request the server is slow to
// answer ends with the run's context, and says so.
func TestClientStopsWhenTheRunIsInterrupted(t *testing.T) {
	c, url, arrived := slowClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/slow", nil)
	go func() { <-arrived; cancel() }()
	done := make(chan error, 1)
	go func() { _, err := c.do(req); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("an interrupted request: %v, want context.Canceled", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("an interrupted request went on waiting for its answer")
	}
}

// TestClientSendsNothingOnceTheRunIsOver: with a kept-alive connection at
// hand, a request whose run has ended is not sent.
func TestClientSendsNothingOnceTheRunIsOver(t *testing.T) {
	var got atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) }))
	c := clientOf(t, srv, 10*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/", nil)
	if _, err := c.do(req); err != nil {
		t.Fatal(err)
	}
	cancel()
	req, _ = http.NewRequestWithContext(ctx, "POST", srv.URL+"/api/v1/sms-codes", strings.NewReader("{}"))
	if _, err := c.do(req); !errors.Is(err, context.Canceled) {
		t.Fatalf("a request of a run already over: %v", err)
	}
	if n := got.Load(); n != 1 || len(c.free) != 1 {
		t.Fatalf("the server got %d requests, want only the one before the end; %d kept-alive connections, want the one untouched", n, len(c.free))
	}
}

// TestClientURL: the tool says at once what is wrong with -url.
func TestClientURL(t *testing.T) {
	for _, u := range []string{"ftp://127.0.0.1:1", "http://", "127.0.0.1:8080"} {
		if _, err := newHTTPClient(u, time.Minute); err == nil || !strings.Contains(err.Error(), "-url") {
			t.Errorf("%s: %v", u, err)
		}
	}
}

// TestClientReadsPastInformationalAnswersAndDropsStrayBytes: a 103 before
// the answer is passed over; a connection with bytes after the answer, or
// switched to another protocol, is not used again, so that no request
// reads another's answer; and more than five informational answers are
// an error, as with the Transport.
func TestClientReadsPastInformationalAnswersAndDropsStrayBytes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns atomic.Int32
	const early = "HTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload\r\n\r\n"
	const ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	answers := map[string]string{
		"/early":   early + ok,
		"/stray":   ok + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray",
		"/upgrade": "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
		"/many":    strings.Repeat(early, 6) + ok,
	}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer nc.Close()
				br := bufio.NewReader(nc)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					io.WriteString(nc, answers[req.URL.Path])
				}
			}()
		}
	}()
	c, err := newHTTPClient("http://"+ln.Addr().String(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.closeIdle()
	get := func(path string) (response, error) {
		req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+path, nil)
		return c.do(req)
	}
	for _, path := range []string{"/early", "/early", "/stray", "/early", "/upgrade", "/early"} {
		r, err := get(path)
		want := 200
		if path == "/upgrade" {
			want = 101
		}
		if err != nil || r.status != want || (want == 200 && string(r.body) != "ok") {
			t.Fatalf("GET %s: %d %q, %v", path, r.status, r.body, err)
		}
	}
	if n := conns.Load(); n != 3 {
		t.Fatalf("%d connections, want 3: a new one after the stray answer and after the upgrade", n)
	}
	if _, err := get("/many"); err == nil || !strings.Contains(err.Error(), "informational") {
		t.Fatalf("six informational answers: %v", err)
	}
}

// TestClientRequestPastItsDeadline: a request whose context has a
// deadline fails with the context's error once it passes, as the
// captchas prepared for a limited time rely on to stop without failing.
func TestClientRequestPastItsDeadline(t *testing.T) {
	c, url, _ := slowClient(t)
	for i := range 200 {
		// Deadlines from 50 µs, which can pass while dialing, to 1 ms.
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%20+1)*time.Microsecond*50)
		req, _ := http.NewRequestWithContext(ctx, "GET", url+"/slow", nil)
		_, err := c.do(req)
		if !errors.Is(err, context.DeadlineExceeded) || ctx.Err() == nil {
			t.Fatalf("past the deadline: %v (context: %v)", err, ctx.Err())
		}
		cancel()
	}
}

// TestClientWhenTheServerIsGone: a GET whose kept-alive connection the
// server closed, and which cannot reach the server again, fails with the
// dial's error (the tool reports it and cleans up).
func TestClientWhenTheServerIsGone(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	c := clientOf(t, srv, 10*time.Second)
	req, _ := http.NewRequest("GET", srv.URL+"/", nil)
	if _, err := c.do(req); err != nil {
		t.Fatal(err)
	}
	srv.Listener.Close()
	srv.CloseClientConnections()
	if _, err := c.do(req); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("the server gone: %v, want the dial's refusal", err)
	}
}

// TestClientDoesNotReuseALongIdleConnection: a connection that waited
// longer than maxIdle is closed, not risked with a form.
func TestClientDoesNotReuseALongIdleConnection(t *testing.T) {
	srv, conns := countingServer(func(http.ResponseWriter, *http.Request) {})
	c := clientOf(t, srv, 10*time.Second)
	post := func() {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/", strings.NewReader("a=1"))
		if _, err := c.do(req); err != nil {
			t.Fatal(err)
		}
	}
	post()
	post()
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections for two posts in a row, want 1", n)
	}
	c.free[0].idleSince = time.Now().Add(-maxIdle)
	post()
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d connections after one idled %v, want 2", n, maxIdle)
	}
}

// TestClientAsksForGzipOnlyWhereItMay: not for HEAD, whose answer has no
// body, and not over what the caller asked for; what the caller asked
// for it does not unpack.
func TestClientAsksForGzipOnlyWhereItMay(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Asked", r.Header.Get("Accept-Encoding"))
		if r.Header.Get("Accept-Encoding") == "gzip" {
			gzipped(w, "packed")
		}
	}))
	c := clientOf(t, srv, 10*time.Second)
	req, _ := http.NewRequest("HEAD", srv.URL+"/", nil)
	if r, err := c.do(req); err != nil || r.header.Get("X-Asked") != "" {
		t.Fatalf("HEAD asked for %q, %v", r.header.Get("X-Asked"), err)
	}
	req, _ = http.NewRequest("GET", srv.URL+"/", nil)
	req.Header.Set("Accept-Encoding", "br")
	if r, err := c.do(req); err != nil || r.header.Get("X-Asked") != "br" {
		t.Fatalf("the caller's own br: %q, %v", r.header.Get("X-Asked"), err)
	}
	req, _ = http.NewRequest("GET", srv.URL+"/", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	r, err := c.do(req)
	if err != nil || r.header.Get("Content-Encoding") != "gzip" || string(r.body) == "packed" {
		t.Fatalf("the caller's own gzip: %q %v, %v", r.body, r.header, err)
	}
}
