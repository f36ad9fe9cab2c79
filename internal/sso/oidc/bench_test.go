package oidc_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"unid/internal/client"
	sso "unid/internal/sso/oidc"
)

// The endpoint benchmarks run a fixed number of requests from 32
// goroutines over keep-alive connections through the real HTTP stack
// (loopback listener, net/http client and server), and report requests per
// second and the 50th and 99th percentile latency. Run them once each:
//
//	go test ./internal/sso/oidc -run '^$' -bench Endpoint -benchtime 1x
var (
	benchRequests    = flag.Int("oidc.requests", 20000, "requests per endpoint benchmark (cheap endpoints)")
	benchIssuances   = flag.Int("oidc.issuances", 4000, "requests per token-issuing benchmark")
	benchConcurrency = flag.Int("oidc.concurrency", 32, "concurrent clients in the endpoint benchmarks")
)

// load sends n requests made by mk from the configured number of
// goroutines and reports req/s, p50-ms and p99-ms.
func load(b *testing.B, n int, want int, mk func(i int) *http.Request) {
	b.Helper()
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, MaxConnsPerHost: 0, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	reqs := make([]*http.Request, n)
	for i := range reqs {
		reqs[i] = mk(i)
	}
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	b.StartTimer()
	start := time.Now()
	for range *benchConcurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				res, err := c.Do(reqs[i])
				if err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != want {
						err = fmt.Errorf("status %d", res.StatusCode)
					}
				}
				lat[i] = time.Since(t0)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if failed.Load() > 0 {
		b.Fatalf("%d of %d requests failed; first: %v", failed.Load(), n, firstErr.Load())
	}
	slices.Sort(lat)
	b.ReportMetric(float64(n)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(lat[n/2])/1e6, "p50-ms")
	b.ReportMetric(float64(lat[n*99/100])/1e6, "p99-ms")
	b.ReportMetric(0, "ns/op") // a batch, not one operation
}

func get(u string, header ...string) func(int) *http.Request {
	return func(int) *http.Request {
		r, _ := http.NewRequest("GET", u, nil)
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		return r
	}
}

func post(u, id, secret string, body func(i int) url.Values) func(int) *http.Request {
	return func(i int) *http.Request {
		r, _ := http.NewRequest("POST", u, strings.NewReader(body(i).Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth(id, secret)
		return r
	}
}

// benchEnv is a unid with a signed-in user and a confidential client.
type benchEnv struct {
	*env
	hall *rp
	b    *browser
	tok  *oauth2.Token
}

func newBenchEnv(b *testing.B) *benchEnv {
	e := newEnv(b, envOptions{})
	e.addUser(zhang)
	hall := e.newRP(client.Spec{ID: "hall", FirstParty: true, Scopes: []string{"openid", "profile", "phone", "offline_access", "unid.admin"}})
	br := e.browser(&zhang)
	tok, _ := hall.signIn(br, "", oauth2.SetAuthURLParam("scope", "openid profile phone offline_access"))
	return &benchEnv{env: e, hall: hall, b: br, tok: tok}
}

// codes makes n authorization codes for one PKCE verifier.
func (be *benchEnv) codes(n int, scope string) ([]string, string) {
	verifier := oauth2.GenerateVerifier()
	out := make([]string, n)
	for i := range out {
		u := be.hall.cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("scope", scope))
		r := be.b.do("GET", u, "", nil)
		loc, err := url.Parse(r.header.Get("Location"))
		if err != nil || loc.Query().Get("code") == "" {
			be.t.Fatalf("authorize: %d %q", r.status, r.header.Get("Location"))
		}
		out[i] = loc.Query().Get("code")
	}
	return out, verifier
}

func BenchmarkEndpoint(b *testing.B) {
	be := newBenchEnv(b)
	token := be.URL + "/oidc/token"
	b.Run("discovery", func(b *testing.B) {
		b.StopTimer()
		for range b.N {
			load(b, *benchRequests, 200, get(be.URL+"/.well-known/openid-configuration"))
		}
	})
	b.Run("jwks", func(b *testing.B) {
		b.StopTimer()
		for range b.N {
			load(b, *benchRequests, 200, get(be.URL+"/oidc/keys"))
		}
	})
	b.Run("client_credentials", func(b *testing.B) {
		b.StopTimer()
		for range b.N {
			load(b, *benchIssuances, 200, post(token, "hall", be.hall.secret, func(int) url.Values {
				return url.Values{"grant_type": {"client_credentials"}}
			}))
		}
	})
	b.Run("authorization_code", func(b *testing.B) {
		b.StopTimer()
		for range b.N {
			codes, verifier := be.codes(*benchIssuances, "openid profile")
			load(b, len(codes), 200, post(token, "hall", be.hall.secret, func(i int) url.Values {
				return url.Values{"grant_type": {"authorization_code"}, "code": {codes[i]}, "redirect_uri": {rpCallback}, "code_verifier": {verifier}}
			}))
		}
	})
	b.Run("refresh_token", func(b *testing.B) {
		b.StopTimer()
		for range b.N {
			codes, verifier := be.codes(*benchIssuances, "openid offline_access")
			refresh := make([]string, len(codes))
			for i, code := range codes {
				tok, err := be.hall.cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
				if err != nil {
					b.Fatal(err)
				}
				refresh[i] = tok.RefreshToken
			}
			load(b, len(refresh), 200, post(token, "hall", be.hall.secret, func(i int) url.Values {
				return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh[i]}}
			}))
		}
	})
	b.Run("userinfo", func(b *testing.B) {
		b.StopTimer()
		for range b.N {
			load(b, *benchRequests, 200, get(be.URL+"/oidc/userinfo", "Authorization", "Bearer "+be.tok.AccessToken))
		}
	})
	b.Run("introspection", func(b *testing.B) {
		b.StopTimer()
		for range b.N {
			load(b, *benchRequests, 200, post(be.URL+"/oidc/introspect", "hall", be.hall.secret, func(int) url.Values {
				return url.Values{"token": {be.tok.AccessToken}}
			}))
		}
	})
}

// BenchmarkEndpointRS256 is client-credentials issuance and the code
// exchange with RS256 signing, to compare with the ES256 default.
func BenchmarkEndpointRS256(b *testing.B) {
	be := newBenchEnv(b)
	opts := be.opts
	opts.Algorithm = "RS256"
	rs, err := sso.New(context.Background(), be.deps, opts)
	if err != nil {
		b.Fatal(err)
	}
	be.clock.Advance(2 * sso.DefaultKeyRefresh) // the RS256 key is published: it signs
	mux := http.NewServeMux()
	for _, r := range rs.Routes() {
		mux.Handle(r.Pattern, r.Handler)
	}
	srv := &http.Server{Handler: mux}
	ln := listen(b)
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	token := "http://" + ln.Addr().String() + "/oidc/token"
	b.Run("client_credentials", func(b *testing.B) {
		b.StopTimer()
		for range b.N {
			load(b, *benchIssuances/2, 200, post(token, "hall", be.hall.secret, func(int) url.Values {
				return url.Values{"grant_type": {"client_credentials"}}
			}))
		}
	})
	b.Run("authorization_code", func(b *testing.B) {
		b.StopTimer()
		for range b.N {
			codes, verifier := be.codes(*benchIssuances/2, "openid profile")
			load(b, len(codes), 200, post(token, "hall", be.hall.secret, func(i int) url.Values {
				return url.Values{"grant_type": {"authorization_code"}, "code": {codes[i]}, "redirect_uri": {rpCallback}, "code_verifier": {verifier}}
			}))
		}
	})
}

func listen(b *testing.B) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	return ln
}
