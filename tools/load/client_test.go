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
	"testing"
	"time"
)

// TestClientKeepsConnectionsAndSendsAgainWhenTheServerClosedOne: the
// requests of a run share kept-alive connections; a GET sent on a
// connection the server closed while it was idle is sent again on a new
// one instead of failing the row, and an answer with Connection: close
// closes its connection.
func TestClientKeepsConnectionsAndSendsAgainWhenTheServerClosedOne(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("last") != "" {
			w.Header().Set("Connection", "close")
		}
		io.WriteString(w, "got "+r.URL.Query().Get("n"))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
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
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		io.WriteString(zw, "<p>统一身份认证</p>")
		zw.Close()
	}))
	c := clientOf(t, srv, 10*time.Second)
	req, _ := http.NewRequest("GET", srv.URL+"/page", nil)
	r, err := c.do(req)
	if err != nil || string(r.body) != "<p>统一身份认证</p>" {
		t.Fatalf("page: %q, %v", r.body, err)
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
	c.tls.RootCAs = x509.NewCertPool()
	c.tls.RootCAs.AddCert(srv.Certificate())
	if r, err := c.do(req); err != nil || string(r.body) != "HTTP/1.1" {
		t.Fatalf("over TLS: %q, %v", r.body, err)
	}
}

// slowClient starts a server that answers no request until the test
// ends, and returns a client of it with an hour's timeout, and its URL.
func slowClient(t *testing.T) (*httpClient, string) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	c := clientOf(t, srv, time.Hour)
	t.Cleanup(func() { close(release) }) // runs before the server's close, which waits for the handlers
	return c, srv.URL
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
	c, url := slowClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/slow", nil)
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	if _, err := c.do(req); !errors.Is(err, context.Canceled) {
		t.Fatalf("an interrupted request: %v, want context.Canceled", err)
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
// the answer is passed over, and a connection with bytes after the answer
// is not used again, so that no request reads another's answer.
func TestClientReadsPastInformationalAnswersAndDropsStrayBytes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				br := bufio.NewReader(nc)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					answer := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
					if req.URL.Path == "/early" {
						answer = "HTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload\r\n\r\n" + answer
					} else {
						answer += "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray"
					}
					io.WriteString(nc, answer)
				}
			}()
		}
	}()
	c, err := newHTTPClient("http://"+ln.Addr().String(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.closeIdle()
	for _, path := range []string{"/early", "/early", "/stray", "/early"} {
		req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+path, nil)
		if r, err := c.do(req); err != nil || r.status != 200 || string(r.body) != "ok" {
			t.Fatalf("GET %s: %d %q, %v", path, r.status, r.body, err)
		}
	}
}

// TestClientRequestPastItsDeadline: a request whose context has a
// deadline fails with the context's error once it passes, as the
// captchas prepared for a limited time rely on to stop without failing.
func TestClientRequestPastItsDeadline(t *testing.T) {
	c, url := slowClient(t)
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
