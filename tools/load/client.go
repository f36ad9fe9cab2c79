package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"syscall"
	"time"
)

// httpClient sends each request and reads its answer on the calling
// worker's goroutine, over a kept-alive HTTP/1.1 connection from a free
// list. net/http's Transport hands every request to a connection's write
// goroutine and its answer back from a read goroutine: three goroutine
// wake-ups a request, which on two shared cores cost the generator more
// than the server's own HTTP work and so lowered every row's rate. The
// request is still written by http.Request.Write and the answer read by
// http.ReadResponse; only the goroutines between are gone. Like the
// Transport it asks for gzip and unpacks it, so that the server does the
// same work as for a browser, and it follows no redirect.
type httpClient struct {
	addr    string      // host:port to dial
	tls     *tls.Config // for an https URL, else nil
	timeout time.Duration

	mu   sync.Mutex
	free []*clientConn
}

type clientConn struct {
	nc net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

func newHTTPClient(base string, timeout time.Duration) (*httpClient, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	c := &httpClient{addr: u.Host, timeout: timeout}
	switch u.Scheme {
	case "http":
		if u.Port() == "" {
			c.addr = net.JoinHostPort(u.Hostname(), "80")
		}
	case "https":
		if u.Port() == "" {
			c.addr = net.JoinHostPort(u.Hostname(), "443")
		}
		c.tls = &tls.Config{ServerName: u.Hostname(), NextProtos: []string{"http/1.1"}}
	default:
		return nil, fmt.Errorf("-url %q: want http:// or https://", base)
	}
	return c, nil
}

// do sends req and reads its answer to the end. A kept-alive connection
// the server closed while it was idle fails before any answer; the
// request is then sent once more on a new connection, as the Transport
// does.
func (c *httpClient) do(req *http.Request) (response, error) {
	req.Header.Set("Accept-Encoding", "gzip")
	for {
		cc, reused, err := c.conn(req.Context())
		if err != nil {
			return response{}, err
		}
		r, err := cc.roundTrip(req, c.timeout)
		if err == nil {
			if r.keep {
				c.put(cc)
			} else {
				cc.nc.Close()
			}
			return r.response, nil
		}
		cc.nc.Close()
		if !reused || !errors.Is(err, errNoAnswer) || req.Context().Err() != nil {
			return response{}, err
		}
		if req.GetBody != nil {
			if req.Body, err = req.GetBody(); err != nil {
				return response{}, err
			}
		}
	}
}

// errNoAnswer is a connection that ended before the answer began.
var errNoAnswer = errors.New("connection closed before the answer")

func (c *httpClient) conn(ctx context.Context) (*clientConn, bool, error) {
	c.mu.Lock()
	if n := len(c.free); n > 0 {
		cc := c.free[n-1]
		c.free = c.free[:n-1]
		c.mu.Unlock()
		return cc, true, nil
	}
	c.mu.Unlock()
	d := net.Dialer{Timeout: c.timeout}
	nc, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, false, err
	}
	if c.tls != nil {
		tc := tls.Client(nc, c.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, false, err
		}
		nc = tc
	}
	return &clientConn{nc: nc, br: bufio.NewReader(nc), bw: bufio.NewWriter(nc)}, false, nil
}

func (c *httpClient) put(cc *clientConn) {
	c.mu.Lock()
	c.free = append(c.free, cc)
	c.mu.Unlock()
}

// closeIdle closes the kept-alive connections.
func (c *httpClient) closeIdle() {
	c.mu.Lock()
	free := c.free
	c.free = nil
	c.mu.Unlock()
	for _, cc := range free {
		cc.nc.Close()
	}
}

type answer struct {
	response
	keep bool // the connection may carry the next request
}

func (cc *clientConn) roundTrip(req *http.Request, timeout time.Duration) (answer, error) {
	deadline := time.Now().Add(timeout)
	if d, ok := req.Context().Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	cc.nc.SetDeadline(deadline)
	// An interrupted run ends the request at once, as the Transport does.
	stop := context.AfterFunc(req.Context(), func() { cc.nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	err := req.Write(cc.bw)
	if err == nil {
		err = cc.bw.Flush()
	}
	if err == nil {
		_, err = cc.br.Peek(1)
	}
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
			return answer{}, fmt.Errorf("%w: %w", errNoAnswer, err)
		}
		return answer{}, err
	}
	res, err := http.ReadResponse(cc.br, req)
	if err != nil {
		return answer{}, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return answer{}, err
	}
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return answer{}, err
		}
		if body, err = io.ReadAll(zr); err != nil {
			return answer{}, err
		}
	}
	return answer{response{status: res.StatusCode, header: res.Header, body: body}, !res.Close}, nil
}
