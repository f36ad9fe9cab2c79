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
	"strings"
	"sync"
	"syscall"
	"time"
)

// httpClient sends each request and reads its answer on the calling
// worker's goroutine, over a kept-alive HTTP/1.1 connection from a free
// list. net/http's Transport hands every request to a connection's write
// goroutine and its answer back from a read goroutine: three goroutine
// wake-ups a request, which on two shared cores cost the generator as
// much as the server's own HTTP work and so lowered every row's rate. The
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
	nc        net.Conn
	br        *bufio.Reader
	bw        *bufio.Writer
	idleSince time.Time
}

// maxIdle is how long a connection may wait on the free list. A server
// closes idle connections after a while (unid after two minutes, nginx's
// keepalive_timeout after 75 s); a request must not meet a connection
// the server has just closed, because one that is not safe to send twice
// is then lost.
const maxIdle = 30 * time.Second

func newHTTPClient(base string, timeout time.Duration) (*httpClient, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("-url: %w", err)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("-url %q: no host", base)
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

// do sends req and reads its answer to the end; req is used up (do sets
// its Accept-Encoding). A kept-alive connection can still end before the
// answer begins (the server closed it as the request went out); a GET or
// HEAD without a body, which the server may see twice, is then sent once
// more on a new connection. Any other request fails, since the server may
// have carried it out: stricter than the Transport, which also sends
// again a request of which it wrote nothing, and OPTIONS, TRACE and
// requests with an Idempotency-Key or a body it can rewind.
func (c *httpClient) do(req *http.Request) (response, error) {
	ctx := req.Context()
	gz := req.Header.Get("Accept-Encoding") == "" && req.Method != http.MethodHead
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	again := (req.Method == http.MethodGet || req.Method == http.MethodHead) &&
		(req.Body == nil || req.Body == http.NoBody)
	reuse := true
	for {
		cc, reused, err := c.conn(ctx, reuse)
		if err == nil && ctx.Err() != nil { // the run is over: send nothing
			c.put(cc)
			err = errNotSent
		}
		if err != nil {
			return response{}, ended(ctx, err)
		}
		r, err := cc.roundTrip(req, c.timeout, gz)
		if err == nil {
			if r.keep {
				c.put(cc)
			} else {
				cc.nc.Close()
			}
			return r.response, nil
		}
		cc.nc.Close()
		if !again || !reused || !errors.Is(err, errNoAnswer) || ctx.Err() != nil {
			return response{}, ended(ctx, err)
		}
		reuse = false
	}
}

// ended says a request that the run's end or the caller's deadline cut
// off was cut off, rather than the i/o timeout that stopped it. A dial
// can fail on the context's deadline just before the context itself
// ends; then it ends at once, and the caller, which asks ctx.Err(), must
// see that it has.
func ended(ctx context.Context, err error) error {
	if d, ok := ctx.Deadline(); ok && ctx.Err() == nil && !time.Now().Before(d) {
		<-ctx.Done()
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%v: %w", err, context.Cause(ctx))
	}
	return err
}

var (
	errNoAnswer = errors.New("connection closed before the answer")
	errNotSent  = errors.New("not sent") // the request's context had ended
)

// conn takes a connection from the free list, if reuse allows and one
// has not waited there too long, or dials a new one; reused says which.
func (c *httpClient) conn(ctx context.Context, reuse bool) (*clientConn, bool, error) {
	for reuse {
		c.mu.Lock()
		n := len(c.free)
		if n == 0 {
			c.mu.Unlock()
			break
		}
		cc := c.free[n-1]
		c.free = c.free[:n-1]
		c.mu.Unlock()
		if time.Since(cc.idleSince) < maxIdle {
			return cc, true, nil
		}
		cc.nc.Close()
	}
	d := net.Dialer{Timeout: c.timeout}
	nc, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, false, err
	}
	if c.tls != nil {
		nc.SetDeadline(time.Now().Add(c.timeout))
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
	cc.idleSince = time.Now()
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

// roundTrip sends req on cc and reads its answer, unpacking gzip if gz
// (the client asked for it).
func (cc *clientConn) roundTrip(req *http.Request, timeout time.Duration, gz bool) (answer, error) {
	cc.nc.SetDeadline(time.Now().Add(timeout))
	// The request's context ending (the run interrupted, or a deadline of
	// the caller's) ends the request at once, as with the Transport. It is
	// not made the connection's deadline: the error must come after the
	// context's, so that the caller sees why.
	stop := context.AfterFunc(req.Context(), func() { cc.nc.SetDeadline(time.Unix(1, 0)) })
	err := req.Write(cc.bw)
	if err == nil {
		err = cc.bw.Flush()
	}
	if err == nil {
		_, err = cc.br.Peek(1)
	}
	if err != nil {
		stop()
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
			return answer{}, fmt.Errorf("%w: %w", errNoAnswer, err)
		}
		return answer{}, err
	}
	a, err := readAnswer(cc.br, req, gz)
	// A connection whose deadline the interruption may yet move, or with
	// bytes beyond the answer, carries nothing more.
	if !stop() || cc.br.Buffered() > 0 {
		a.keep = false
	}
	return a, err
}

// readAnswer reads the final answer to req, past up to five
// informational ones, to its end, unpacked if gz.
func readAnswer(br *bufio.Reader, req *http.Request, gz bool) (answer, error) {
	res, err := http.ReadResponse(br, req)
	for n := 0; err == nil && informational(res.StatusCode); n++ {
		if n == 5 {
			return answer{}, errors.New("more than five informational answers")
		}
		res, err = http.ReadResponse(br, req)
	}
	if err != nil {
		return answer{}, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return answer{}, err
	}
	if gz && len(body) > 0 && strings.EqualFold(res.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return answer{}, err
		}
		if body, err = io.ReadAll(zr); err != nil {
			return answer{}, err
		}
		res.Header.Del("Content-Encoding")
		res.Header.Del("Content-Length")
	}
	// After 101 Switching Protocols the connection is no longer HTTP's.
	keep := !res.Close && res.StatusCode >= 200
	return answer{response{status: res.StatusCode, header: res.Header, body: body}, keep}, nil
}

// informational reports a 1xx answer that a final one follows.
func informational(status int) bool {
	return status >= 100 && status < 200 && status != http.StatusSwitchingProtocols
}
