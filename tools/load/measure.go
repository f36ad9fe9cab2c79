package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"unid/internal/account"
	"unid/internal/app"
	"unid/internal/sso/oidc"
)

// response is an answer, read to the end.
type response struct {
	status int
	header http.Header
	body   []byte
}

// cookies are the cookies the answer sets, read only where the tool needs
// them: the generator's own work is part of what every row measures.
func (r response) cookies() []*http.Cookie {
	return (&http.Response{Header: r.header}).Cookies()
}

// code is the problem code of an error answer: error.code of the JSON
// API, error of OAuth, "" otherwise.
func (r response) code() string {
	var v struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(r.body, &v) != nil || len(v.Error) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(v.Error, &s) == nil {
		return s
	}
	var p struct{ Code string }
	json.Unmarshal(v.Error, &p)
	return p.Code
}

// do sends one request to the server; edit may add headers.
func (t *tool) do(ctx context.Context, method, path string, body io.Reader, edit func(*http.Request)) (response, error) {
	req, err := http.NewRequestWithContext(ctx, method, t.o.url+path, body)
	if err != nil {
		return response{}, err
	}
	if edit != nil {
		edit(req)
	}
	return t.hc.do(req)
}

// limits are what this machine can do at most, measured in-process on
// every CPU before the scenarios.
type limits struct {
	CPUs         int     `json:"cpus"`
	Argon2       string  `json:"argon2"`         // the parameters, m=…,t=…,p=…
	Argon2PerSec float64 `json:"argon2_per_sec"` // verifications
	SignAlg      string  `json:"sign_alg"`
	SignPerSec   float64 `json:"sign_per_sec"` // access tokens signed
}

// measureLimits measures the argon2id verification rate at the server's
// parameters and the signing rate with the algorithm of the server's
// published keys, each for d on GOMAXPROCS goroutines.
func (t *tool) measureLimits(ctx context.Context) (limits, error) {
	d := t.o.limitTime
	l := limits{CPUs: runtime.GOMAXPROCS(0)}
	p := app.HashParams(t.cfg)
	if err := p.Validate(); err != nil {
		return l, err
	}
	h := account.NewHasher(p, t.cfg.HashWorkers)
	hp := h.Params()
	l.Argon2 = fmt.Sprintf("m=%d,t=%d,p=%d", hp.Memory, hp.Time, hp.Threads)
	const password = "Load#limit-2026"
	encoded, err := h.Hash(ctx, password)
	if err != nil {
		return l, err
	}
	logf(t.stderr, "measuring argon2id (%s) verifications for %v on %d CPUs", l.Argon2, d, l.CPUs)
	if l.Argon2PerSec, err = rate(d, func() error {
		ok, _, err := h.Verify(ctx, password, encoded)
		if err == nil && !ok {
			err = fmt.Errorf("the password does not verify")
		}
		return err
	}); err != nil {
		return l, fmt.Errorf("measuring argon2id: %w", err)
	}
	if l.SignAlg, err = t.signingAlg(ctx); err != nil {
		return l, err
	}
	sign, err := oidc.SampleSigner(l.SignAlg)
	if err != nil {
		return l, err
	}
	logf(t.stderr, "measuring %s signatures for %v", l.SignAlg, d)
	if l.SignPerSec, err = rate(d, sign); err != nil {
		return l, fmt.Errorf("measuring %s signatures: %w", l.SignAlg, err)
	}
	return l, nil
}

// signingAlg is the algorithm of the server's signing keys, read from its
// JWKS; when it publishes keys of both kinds (a change of algorithm under
// way), the configured one.
func (t *tool) signingAlg(ctx context.Context) (string, error) {
	r, err := t.do(ctx, "GET", "/oidc/keys", nil, nil)
	if err != nil {
		return "", err
	}
	var jwks struct{ Keys []struct{ Alg string } }
	if r.status != http.StatusOK || json.Unmarshal(r.body, &jwks) != nil || len(jwks.Keys) == 0 {
		return "", fmt.Errorf("/oidc/keys: %d, no keys", r.status)
	}
	var algs []string
	for _, k := range jwks.Keys {
		if !slices.Contains(algs, k.Alg) {
			algs = append(algs, k.Alg)
		}
	}
	if len(algs) > 1 && slices.Contains(algs, t.cfg.OIDCSigningAlg) {
		return t.cfg.OIDCSigningAlg, nil
	}
	return algs[0], nil
}

// rate calls f from GOMAXPROCS goroutines for d, after an untimed
// quarter of d, and returns the calls per second, or the first error.
func rate(d time.Duration, f func() error) (float64, error) {
	// An untimed quarter first: a fresh process's first hashes fault in
	// memory its heap has not used yet, which a serving instance has.
	if _, err := count(d/4, f); err != nil {
		return 0, err
	}
	start := time.Now()
	n, err := count(d, f)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, fmt.Errorf("no call finished in %v", d)
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// count calls f on every CPU for d, and says how many calls returned, or
// the first error.
func count(d time.Duration, f func() error) (int64, error) {
	var n atomic.Int64
	var first atomic.Pointer[error]
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for time.Now().Before(stop) && first.Load() == nil {
				if err := f(); err != nil {
					first.CompareAndSwap(nil, &err)
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	if err := first.Load(); err != nil {
		return 0, *err
	}
	return n.Load(), nil
}

// recorder collects the requests of one row of a scenario.
type recorder struct {
	name  string
	n     atomic.Int64
	fails atomic.Int64
	mu    sync.Mutex
	lat   []time.Duration
	errs  map[string]int
}

// record notes one request: failure is "" for a success, or what went
// wrong ("429 captcha_rate_limited").
func (r *recorder) record(took time.Duration, failure string) {
	r.n.Add(1)
	if failure != "" {
		r.fails.Add(1)
	}
	r.mu.Lock()
	r.lat = append(r.lat, took)
	if failure != "" {
		r.errs[failure]++
	}
	r.mu.Unlock()
}

// failure describes a wrong answer: its status and problem code.
func failure(r response, what string) string {
	s := strconv.Itoa(r.status)
	if c := r.code(); c != "" {
		s += " " + c
	}
	if what != "" {
		s += " " + what
	}
	return s
}

// transportFailure describes a request that got no answer.
func transportFailure(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return "no answer: " + msg
}

// percentile returns the p-th percentile of sorted latencies in ms.
func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := min(int(float64(len(sorted))*p), len(sorted)-1)
	return float64(sorted[i]) / float64(time.Millisecond)
}
