package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"unid/internal/problem"
)

// scenarioNames are the scenarios in the order they run.
func scenarioNames() []string {
	names := make([]string, len(scenarios))
	for i, s := range scenarios {
		names[i] = s.name
	}
	return names
}

// A scenario is what the workers repeat for the duration. prepare runs
// before the clock starts and returns one iteration: the requests of one
// worker's turn, recorded in the rows named by rows; it returns false when
// what was prepared is used up.
type scenario struct {
	name    string
	rows    []string
	prepare func(ctx context.Context, t *tool) (iteration, error)
	// phases, instead of prepare, times each row on its own, one after
	// the other: iteration i records row i only, and a phase ends at the
	// duration or when its iteration returns false (it has used up what
	// the phase before made).
	phases func(ctx context.Context, t *tool) ([]iteration, error)
}

type iteration func(ctx context.Context, worker int, rec []*recorder) bool

func scenarioByName(name string) scenario {
	for _, s := range scenarios {
		if s.name == name {
			return s
		}
	}
	panic("load: no scenario " + name)
}

var scenarios = []scenario{
	{name: "signin", rows: []string{"signin", "signin/busy"}, prepare: prepareSignIn},
	{name: "client_credentials", rows: []string{"client_credentials"}, prepare: prepareClientCredentials},
	{name: "discovery", rows: []string{"discovery"}, prepare: prepareDiscovery},
	{name: "authcode", rows: []string{"authcode/authorize", "authcode/exchange", "authcode/refresh"}, phases: prepareAuthCode},
	{name: "cas", rows: []string{"cas/login", "cas/validate"}, prepare: prepareCAS},
	{name: "sms", rows: []string{"sms"}, prepare: prepareSMS},
	{name: "records", rows: []string{"records"}, prepare: prepareRecords},
}

// timed sends one request and records it: check says what is wrong with
// an answer ("" when it is right).
func timed(rec *recorder, send func() (response, error), check func(response) string) (response, bool) {
	start := time.Now()
	r, err := send()
	return r, judge(rec, time.Since(start), r, err, check)
}

// judge records an answer (or its transport failure, err) that took took.
func judge(rec *recorder, took time.Duration, r response, err error, check func(response) string) bool {
	if err != nil {
		rec.record(took, transportFailure(err))
		return false
	}
	f := check(r)
	rec.record(took, f)
	return f == ""
}

// busy reports whether r is the server's "busy": more sign-ins at once
// than it hashes within --hash-max-wait. Nothing of the request was
// spent, its captcha included.
func busy(r response) bool {
	return r.status == http.StatusServiceUnavailable && r.code() == problem.CodeBusy
}

// holdOff waits the Retry-After of r and up to a second more, as the
// login page does, and reports whether to go on: not when ctx ends, nor
// when the wait would pass stop (the scenario's end; zero: none), which it
// then waits for, so that the worker does not take up another request.
func holdOff(ctx context.Context, stop time.Time, r response) bool {
	d := retryDelay(r) + mrand.N(time.Second)
	goOn := true
	if !stop.IsZero() && time.Now().Add(d).After(stop) {
		d, goOn = time.Until(stop), false
	}
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return goOn
	}
}

// retryDelay is the Retry-After of r in seconds, 1 to 3600 (1 when it
// is missing or not a number of seconds).
func retryDelay(r response) time.Duration {
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil {
		secs = 1
	}
	return time.Duration(min(max(secs, 1), 3600)) * time.Second
}

// stopKey is the context key of the time a scenario ends, which runFor
// gives its workers.
type stopKey struct{}

// untilAdmitted sends a request with send and records its answer in rec;
// while the answer is busy, it records that in busyRec and sends it again
// (the same request: nothing of it was spent) after the Retry-After,
// unless ctx ends or the scenario would be over first.
func untilAdmitted(ctx context.Context, send func() (response, error), check func(response) string, rec, busyRec *recorder) {
	stop, _ := ctx.Value(stopKey{}).(time.Time)
	for {
		start := time.Now()
		r, err := send()
		took := time.Since(start)
		if err != nil || !busy(r) {
			judge(rec, took, r, err, check)
			return
		}
		busyRec.record(took, "")
		if !holdOff(ctx, stop, r) {
			return
		}
	}
}

// status checks for the status want.
func status(want int) func(response) string {
	return func(r response) string {
		if r.status != want {
			return failure(r, "")
		}
		return ""
	}
}

// prepareSignIn makes enough captchas for the run: the sign-in rate
// cannot beat the argon2id limit by much, so three times as many as the
// limit allows (the limit, measured on a busy machine, may come out low).
// A sign-in the server answers "busy" (more workers than it hashes for
// within --hash-max-wait) is recorded in the row signin/busy, not as an
// error, and tried again with the same captcha after its Retry-After.
func prepareSignIn(ctx context.Context, t *tool) (iteration, error) {
	n := int(max(3*t.limits.Argon2PerSec, 50)*t.o.duration.Seconds()) + 2*t.o.concurrency
	pool, err := t.prepareCaptchas(ctx, n)
	if err != nil {
		return nil, err
	}
	var seq atomic.Int64
	return func(ctx context.Context, w int, rec []*recorder) bool {
		c, ok := <-pool
		if !ok {
			return false
		}
		// A worker keeps to its citizen: the server refuses attempts on
		// one account from one address beyond --lockout-threshold at once
		// (they count before the password is checked).
		a := t.accounts[w%len(t.accounts)]
		identifier := a.login
		if seq.Add(1)%2 == 0 {
			identifier = a.phone
		}
		untilAdmitted(ctx, func() (response, error) {
			return t.postJSON(ctx, "/api/v1/sessions", signInBody(a, identifier, c))
		}, status(http.StatusCreated), rec[0], rec[1])
		return true
	}, nil
}

// prepareCaptchas makes n captchas, taking at most the duration of a
// scenario.
func (t *tool) prepareCaptchas(ctx context.Context, n int) (chan captcha, error) {
	start := time.Now()
	pool, err := t.captchas(ctx, n, t.o.duration)
	if err != nil {
		return nil, err
	}
	logf(t.stderr, "prepared %d captchas in %.1fs", len(pool), time.Since(start).Seconds())
	return pool, nil
}

func prepareClientCredentials(ctx context.Context, t *tool) (iteration, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	return func(ctx context.Context, _ int, rec []*recorder) bool {
		timed(rec[0], func() (response, error) { return t.token(ctx, form) }, hasToken("access_token"))
		return true
	}, nil
}

// hasToken checks for a 200 with a token named field. It looks for the
// field's text instead of decoding the answer: the generator's own work
// is part of what each row measures, and unid writes compact JSON.
func hasToken(field string) func(response) string {
	want := []byte(`"` + field + `":"`)
	return func(r response) string {
		if r.status != http.StatusOK {
			return failure(r, "")
		}
		if !bytes.Contains(r.body, want) {
			return failure(r, "without "+field)
		}
		return ""
	}
}

func prepareDiscovery(ctx context.Context, t *tool) (iteration, error) {
	return func(ctx context.Context, _ int, rec []*recorder) bool {
		timed(rec[0], func() (response, error) {
			return t.do(ctx, "GET", "/.well-known/openid-configuration", nil, nil)
		}, status(http.StatusOK))
		return true
	}, nil
}

// prepareAuthCode runs the flow in three timed phases, each on what the
// one before made, so that each row is the rate of its own step with the
// whole machine: authorizations for the signed-in citizen (each worker
// with its PKCE verifier) until the duration is over or maxCodePhase, so
// that no code outlives the server's 60 s; then the exchange of every
// code; then a refresh with every refresh token.
func prepareAuthCode(ctx context.Context, t *tool) ([]iteration, error) {
	vs := make([]verifier, t.o.concurrency)
	for i := range vs {
		vs[i] = newVerifier()
	}
	type code struct {
		code   string
		worker int
	}
	var mu sync.Mutex
	var codes []code
	var refresh []string
	authorize := func(ctx context.Context, w int, rec []*recorder) bool {
		var c string
		timed(rec[0], func() (response, error) {
			var r response
			var err error
			c, r, err = t.authorize(ctx, vs[w])
			return r, err
		}, func(r response) string {
			if c == "" {
				return failure(r, "no code")
			}
			return ""
		})
		if c != "" {
			mu.Lock()
			codes = append(codes, code{c, w})
			mu.Unlock()
		}
		return true
	}
	exchange := func(ctx context.Context, _ int, rec []*recorder) bool {
		c, ok := pop(&mu, &codes)
		if !ok {
			return false
		}
		r, ok := timed(rec[0], func() (response, error) {
			return t.token(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {c.code}, "redirect_uri": {redirectURI}, "code_verifier": {vs[c.worker].verifier}})
		}, hasToken("refresh_token"))
		if ok {
			var tok struct {
				RefreshToken string `json:"refresh_token"`
			}
			json.Unmarshal(r.body, &tok)
			mu.Lock()
			refresh = append(refresh, tok.RefreshToken)
			mu.Unlock()
		}
		return true
	}
	refreshOne := func(ctx context.Context, _ int, rec []*recorder) bool {
		rt, ok := pop(&mu, &refresh)
		if !ok {
			return false
		}
		timed(rec[0], func() (response, error) {
			return t.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
		}, hasToken("access_token"))
		return true
	}
	return []iteration{authorize, exchange, refreshOne}, nil
}

// pop takes the last of l under mu; false when l is empty.
func pop[T any](mu *sync.Mutex, l *[]T) (T, bool) {
	mu.Lock()
	defer mu.Unlock()
	var v T
	if len(*l) == 0 {
		return v, false
	}
	v, *l = (*l)[len(*l)-1], (*l)[:len(*l)-1]
	return v, true
}

// maxCodePhase bounds the authorization phase, so that its first codes are
// still good (60 s) when the exchange phase reaches them.
const maxCodePhase = 20 * time.Second

// prepareCAS: a turn is a CAS sign-in of the signed-in citizen to the
// tool's service and the validation of its ticket.
func prepareCAS(ctx context.Context, t *tool) (iteration, error) {
	login := "/cas/login?" + url.Values{"service": {casService}}.Encode()
	return func(ctx context.Context, _ int, rec []*recorder) bool {
		var ticket string
		_, ok := timed(rec[0], func() (response, error) {
			return t.do(ctx, "GET", login, nil, t.session)
		}, func(r response) string {
			loc, err := url.Parse(r.header.Get("Location"))
			if r.status != http.StatusFound || err != nil || loc.Query().Get("ticket") == "" {
				return failure(r, "no ticket")
			}
			ticket = loc.Query().Get("ticket")
			return ""
		})
		if !ok {
			return true
		}
		validate := "/cas/p3/serviceValidate?" + url.Values{"service": {casService}, "ticket": {ticket}}.Encode()
		timed(rec[1], func() (response, error) {
			return t.do(ctx, "GET", validate, nil, nil)
		}, func(r response) string {
			if r.status != http.StatusOK || !strings.Contains(string(r.body), "cas:authenticationSuccess") {
				return failure(r, "no cas:authenticationSuccess")
			}
			return ""
		})
		return true
	}, nil
}

// prepareSMS makes captchas for as long as the run lasts (sending a code
// costs more than making a captcha); each turn asks for a registration
// code to a phone number of its own.
func prepareSMS(ctx context.Context, t *tool) (iteration, error) {
	pool, err := t.prepareCaptchas(ctx, 5000*int(max(t.o.duration.Seconds(), 1)))
	if err != nil {
		return nil, err
	}
	base, _ := rand.Int(rand.Reader, big.NewInt(1e9))
	var seq atomic.Int64
	return func(ctx context.Context, _ int, rec []*recorder) bool {
		c, ok := <-pool
		if !ok {
			return false
		}
		phone := fmt.Sprintf("19%09d", (base.Int64()+seq.Add(1))%1e9)
		timed(rec[0], func() (response, error) {
			return t.postJSON(ctx, "/api/v1/sms-codes", map[string]any{"phone": phone, "purpose": "register", "captcha_id": c.id, "captcha_answer": c.answer})
		}, status(http.StatusAccepted))
		return true
	}, nil
}

// prepareRecords: each turn writes a new case of the signed-in citizen
// as the tool's client, with a client-credentials token.
func prepareRecords(ctx context.Context, t *tool) (iteration, error) {
	run := strings.ToLower(rand.Text()[:6])
	body, _ := json.Marshal(map[string]string{"number": "JN-0001", "item_name": "营业执照变更登记", "item_code": "11370100MB2850001X",
		"department": "市场监管局", "status": "submitted", "updated_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
		"link": "http://127.0.0.1/load/cases/1"})
	auth := func(req *http.Request) {
		req.Header.Set("Authorization", "Bearer "+t.recordsToken)
		req.Header.Set("Content-Type", "application/json")
	}
	var seq atomic.Int64
	return func(ctx context.Context, _ int, rec []*recorder) bool {
		path := fmt.Sprintf("/api/records/v1/users/%s/cases/load-%s-%d", url.PathEscape(t.sub), run, seq.Add(1))
		timed(rec[0], func() (response, error) {
			return t.do(ctx, "PUT", path, bytes.NewReader(body), auth)
		}, func(r response) string {
			if r.status != http.StatusCreated && r.status != http.StatusOK {
				return failure(r, "")
			}
			return ""
		})
		return true
	}, nil
}

// randomPhone is a mobile number for a registered citizen (starting 18;
// the sms scenario's start 19).
func randomPhone() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1e9))
	return fmt.Sprintf("18%09d", n.Int64())
}

// runScenario prepares s, runs it for the duration from the workers with
// a progress line a second on stderr, and returns its rows.
func (t *tool) runScenario(ctx context.Context, s scenario) ([]row, error) {
	logf(t.stderr, "%s: preparing", s.name)
	recs := make([]*recorder, len(s.rows))
	for i, name := range s.rows {
		recs[i] = &recorder{name: name, errs: map[string]int{}}
	}
	if s.phases != nil {
		its, err := s.phases(ctx, t)
		if err != nil {
			return nil, err
		}
		rows := make([]row, 0, len(recs))
		for i, it := range its {
			d := t.o.duration
			if i == 0 {
				d = min(d, maxCodePhase)
			}
			ran, err := t.runFor(ctx, s.rows[i], d, it, recs[i:i+1])
			if err != nil {
				return nil, err
			}
			rows = append(rows, newRow(s.name, recs[i], ran))
		}
		return rows, nil
	}
	it, err := s.prepare(ctx, t)
	if err != nil {
		return nil, err
	}
	ran, err := t.runFor(ctx, s.name, t.o.duration, it, recs)
	if err != nil {
		return nil, err
	}
	rows := make([]row, 0, len(recs))
	for _, r := range recs {
		if strings.HasSuffix(r.name, "/busy") && r.n.Load() == 0 {
			continue // the server was never busy: no row
		}
		rw := newRow(s.name, r, ran)
		if ran.usedUp {
			rw.addNote("prepared captchas used up before the end")
		}
		rows = append(rows, rw)
	}
	return rows, nil
}

// timedRun is how a timed run of a scenario, or of a phase, went.
type timedRun struct {
	elapsed time.Duration
	usedUp  bool          // it ran out of what was prepared before its time
	cpu     time.Duration // the tool's own CPU time in it (0: not read)
	procs   int           // the tool's Go processors
}

// runFor runs it from the workers for d or until it returns false, with
// the progress line.
func (t *tool) runFor(ctx context.Context, name string, d time.Duration, it iteration, recs []*recorder) (timedRun, error) {
	var usedUp atomic.Bool
	cpu0, _ := processCPU()
	start := time.Now()
	stop := start.Add(d)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wctx := context.WithValue(ctx, stopKey{}, stop)
	for w := range t.o.concurrency {
		wg.Go(func() {
			for time.Now().Before(stop) && ctx.Err() == nil {
				if !it(wctx, w, recs) {
					if time.Now().Before(stop) {
						usedUp.Store(true)
					}
					return
				}
			}
		})
	}
	go func() { wg.Wait(); close(done) }()
	t.progress(name, start, recs, done)
	r := timedRun{elapsed: time.Since(start), usedUp: usedUp.Load(), procs: runtime.GOMAXPROCS(0)}
	if cpu1, ok := processCPU(); ok {
		r.cpu = cpu1 - cpu0
	}
	return r, ctx.Err()
}

// progress prints a line a second until done: the scenario, the time, the
// requests, the rate of the last second and the errors.
func (t *tool) progress(name string, start time.Time, recs []*recorder, done chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last int64
	lastAt := start
	for {
		select {
		case <-done:
			return
		case now := <-tick.C:
			var n, fails int64
			for _, r := range recs {
				n += r.n.Load()
				fails += r.fails.Load()
			}
			fmt.Fprintf(t.stderr, "load: %-18s %4.0fs %8d requests %8.0f req/s %5d errors\n",
				name, now.Sub(start).Seconds(), n, float64(n-last)/now.Sub(lastAt).Seconds(), fails)
			last, lastAt = n, now
		}
	}
}

// toolBound is the share of its processors above which the tool, not
// the server, may be what holds a row's rate down.
const toolBound = 0.9

// newRow sums up a recorder of a run.
func newRow(scenario string, r *recorder, ran timedRun) row {
	slices.Sort(r.lat)
	n := int64(len(r.lat))
	elapsed := ran.elapsed.Seconds()
	rw := row{Scenario: scenario, Name: r.name, Requests: n, Errors: r.fails.Load(), Seconds: elapsed,
		PerSec: float64(n) / elapsed, P50: percentile(r.lat, 0.50), P90: percentile(r.lat, 0.90), P99: percentile(r.lat, 0.99),
		ToolCores: ran.cpu.Seconds() / elapsed}
	if len(r.errs) > 0 {
		rw.ErrorsByCode = r.errs
	}
	if rw.ToolCores >= toolBound*float64(ran.procs) {
		rw.addNote(fmt.Sprintf("the tool used %.2f of its %d processors: the rate may be the tool's", rw.ToolCores, ran.procs))
	}
	return rw
}
