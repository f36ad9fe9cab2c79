package main

import (
	"compress/gzip"
	"context"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestClientKeepsConnectionsAndSendsAgainWhenTheServerClosedOne: the
// requests of a run share kept-alive connections, and a form posted on
// a connection the server closed while it was idle reaches the server
// whole on a new one instead of failing the row.
func TestClientKeepsConnectionsAndSendsAgainWhenTheServerClosedOne(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		io.WriteString(w, "got "+r.PostForm.Get("grant_type"))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := newHTTPClient(srv.URL, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.closeIdle()
	post := func() response {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r, err := c.do(req)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for range 3 {
		if r := post(); r.status != 200 || string(r.body) != "got client_credentials" {
			t.Fatalf("answer %d %q", r.status, r.body)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("three requests one after another used %d connections, want 1", n)
	}
	srv.CloseClientConnections()
	if r := post(); r.status != 200 || string(r.body) != "got client_credentials" {
		t.Fatalf("after the server closed the idle connection: %d %q", r.status, r.body)
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d connections, want a second after the first was closed", n)
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
	defer srv.Close()
	c, err := newHTTPClient(srv.URL, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.closeIdle()
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
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}))
	defer srv.Close()
	c, err := newHTTPClient(srv.URL, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.closeIdle()
	c.tls.RootCAs = x509.NewCertPool()
	c.tls.RootCAs.AddCert(srv.Certificate())
	req, _ := http.NewRequest("GET", srv.URL+"/", nil)
	if r, err := c.do(req); err != nil || string(r.body) != "HTTP/1.1" {
		t.Fatalf("over TLS: %q, %v", r.body, err)
	}
}

// TestClientStopsWhenTheRunIsInterrupted: a request the server is slow to
// answer ends with the run's context, and the URL is checked up front.
func TestClientStopsWhenTheRunIsInterrupted(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer srv.Close()
	defer close(release)
	c, err := newHTTPClient(srv.URL, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer c.closeIdle()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/slow", nil)
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	if _, err := c.do(req); err == nil {
		t.Fatal("an interrupted request succeeded")
	}
	if _, err := newHTTPClient("ftp://127.0.0.1:1", time.Minute); err == nil || !strings.Contains(err.Error(), "http://") {
		t.Fatalf("ftp URL: %v", err)
	}
}
