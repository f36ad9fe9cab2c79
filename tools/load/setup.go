package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"unid/internal/app"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/config"
	"unid/internal/records"
	"unid/internal/store"

	"golang.org/x/oauth2"
)

// Where the tool's clients send their users back to: nothing listens
// there, the tool reads the code or ticket from the redirect.
const (
	redirectURI = "http://127.0.0.1/load/callback"
	casService  = "http://127.0.0.1/load/cas"
)

// citizen is a person the tool registered.
type citizen struct {
	login, phone, password string
}

// tool is everything prepared before the scenarios.
type tool struct {
	o      options
	cfg    config.Config
	hc     *httpClient
	limits limits
	stderr io.Writer

	reg          *client.Registry
	closeReg     func()
	clientID     string // confidential OpenID Connect client
	basicAuth    string // the Authorization header of the client (RFC 6749 2.3.1), made once
	casID        string // CAS service
	accounts     []citizen
	cookies      []*http.Cookie // a signed-in session of accounts[0]
	sub          string         // accounts[0] as the client knows it
	recordsToken string         // client credentials with the records write scopes
}

// prepare checks the server, measures the limits while it is idle,
// registers the clients and citizens, and signs one citizen in.
func prepare(ctx context.Context, o options, cfg config.Config, stderr io.Writer) (_ *tool, err error) {
	hc, err := newHTTPClient(o.url, time.Minute)
	if err != nil {
		return nil, err
	}
	t := &tool{o: o, cfg: cfg, stderr: stderr, hc: hc}
	defer func() {
		if err != nil {
			t.cleanup(stderr) // t, not the nil the failed return gives
		}
	}()
	// The server must be up and in development mode (the /dev/ routes).
	if r, err := t.do(ctx, "GET", "/dev/outbox.json", nil, nil); err != nil {
		return nil, fmt.Errorf("no unid at %s: %w", o.url, err)
	} else if r.status != http.StatusOK {
		return nil, fmt.Errorf("%s/dev/outbox.json answers %d: start unid with --dev, and run the tool on the same machine", o.url, r.status)
	}
	if t.limits, err = t.measureLimits(ctx); err != nil {
		return nil, err
	}
	if err := t.registerClients(ctx); err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(o.scenarios, needsCitizens) {
		return t, nil
	}
	logf(stderr, "registering %d citizens", o.accounts)
	for range o.accounts {
		a, err := t.register(ctx)
		if err != nil {
			return nil, err
		}
		t.accounts = append(t.accounts, a)
	}
	if err := t.signInOnce(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

// needsCitizens: the scenarios that sign citizens in, or write records
// for one. The others run without registering anybody, so that they need
// no raised SMS limits.
func needsCitizens(scenario string) bool {
	switch scenario {
	case "client_credentials", "discovery", "sms":
		return false
	}
	return true
}

// registerClients registers a first-party confidential client and a CAS
// service with fresh IDs in the server's database, and checks that the
// server sees them. The database must be at this program's schema: the
// tool never migrates one.
func (t *tool) registerClients(ctx context.Context) error {
	// The key file must be the server's: the tool does not create one.
	cfg := t.cfg
	cfg.Dev = false
	reg, closeReg, err := app.OpenRegistry(ctx, cfg, t.stderr, false)
	if err != nil {
		return fmt.Errorf("the server's database (give the tool the server's --config, --data or --database-url): %w", err)
	}
	t.reg, t.closeReg = reg, closeReg
	id := "load-" + strings.ToLower(rand.Text()[:10])
	scopes := []string{"openid", "profile", "phone", "offline_access"}
	for _, plural := range []string{"cases", "messages"} {
		k, _ := records.ByPlural(plural)
		scopes = append(scopes, k.WriteScope())
	}
	by := audit.Origin{Actor: audit.Operator("load-tool")}
	_, secret, err := reg.Create(ctx, client.Spec{ID: id, Name: "负载测试 " + id, Type: store.ClientOIDCConfidential,
		RedirectURIs: []string{redirectURI}, Scopes: scopes, FirstParty: true}, by)
	if err != nil {
		return fmt.Errorf("register client %s: %w", id, err)
	}
	t.clientID = id
	t.basicAuth = "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
	if _, _, err := reg.Create(ctx, client.Spec{ID: id + "-cas", Name: "负载测试 CAS " + id, Type: store.ClientCAS,
		RedirectURIs: []string{casService}}, by); err != nil {
		return fmt.Errorf("register CAS service %s-cas: %w", id, err)
	}
	t.casID = id + "-cas"
	logf(t.stderr, "registered clients %s and %s", t.clientID, t.casID)
	r, err := t.token(ctx, url.Values{"grant_type": {"client_credentials"}})
	if err != nil {
		return err
	}
	if r.status != http.StatusOK {
		return fmt.Errorf("the server does not accept the client registered in %s (%d %s): give the tool the server's --config, --data or --database-url", where(t.cfg), r.status, r.code())
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(r.body, &tok); err != nil || tok.AccessToken == "" {
		return fmt.Errorf("client credentials: no access token in %q", r.body)
	}
	t.recordsToken = tok.AccessToken
	return nil
}

func where(cfg config.Config) string {
	if cfg.DatabaseURL.Value != "" {
		return "the --database-url database"
	}
	return cfg.DataDir
}

// cleanup deletes the tool's clients, so that nothing of a run stays
// registered, and closes its connections.
func (t *tool) cleanup(stderr io.Writer) {
	t.hc.closeIdle()
	if t.reg == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	by := audit.Origin{Actor: audit.Operator("load-tool")}
	for _, id := range []string{t.clientID, t.casID} {
		if id == "" {
			continue
		}
		if err := t.reg.Delete(ctx, id, by); err != nil {
			fmt.Fprintf(stderr, "load: delete client %s: %v\n", id, err)
		}
	}
	t.closeReg()
	t.reg = nil
}

// register makes a citizen through the public API, as the registration
// page does: captcha, SMS code (read from the dev outbox), the form.
func (t *tool) register(ctx context.Context) (citizen, error) {
	tag := strings.ToLower(rand.Text()[:8])
	a := citizen{login: "load_" + tag, phone: randomPhone(), password: "Load#" + tag + "7q"}
	c, err := t.captcha(ctx)
	if err != nil {
		return a, err
	}
	r, err := t.postJSON(ctx, "/api/v1/sms-codes", map[string]any{"phone": a.phone, "purpose": "register", "captcha_id": c.id, "captcha_answer": c.answer})
	if err != nil {
		return a, err
	}
	if r.status != http.StatusAccepted {
		return a, fmt.Errorf("registration code: %d %s%s", r.status, r.code(), hint(r.code()))
	}
	code, err := t.lastCode(ctx, a.phone)
	if err != nil {
		return a, err
	}
	r, err = t.postJSON(ctx, "/api/v1/users", map[string]any{"login_name": a.login, "password": a.password, "password_confirm": a.password,
		"phone": a.phone, "sms_code": code, "agreed": true})
	if err != nil {
		return a, err
	}
	if r.status != http.StatusCreated {
		return a, fmt.Errorf("register %s: %d %s", a.login, r.status, r.code())
	}
	return a, nil
}

// signInOnce signs the first citizen in, keeps the session for the single
// sign-on scenarios, and signs them in to the tool's client once, so that
// the records API takes records for them.
func (t *tool) signInOnce(ctx context.Context) error {
	a := t.accounts[0]
	c, err := t.captcha(ctx)
	if err != nil {
		return err
	}
	r, err := t.postJSON(ctx, "/api/v1/sessions", signInBody(a, a.login, c))
	if err != nil {
		return err
	}
	if r.status != http.StatusCreated {
		return fmt.Errorf("sign in %s: %d %s%s", a.login, r.status, r.code(), hint(r.code()))
	}
	t.cookies = r.cookies()
	v := newVerifier()
	code, r, err := t.authorize(ctx, v)
	if err != nil {
		return err
	}
	if code == "" {
		return fmt.Errorf("authorize: %d %s %q", r.status, r.code(), r.header.Get("Location"))
	}
	r, err = t.token(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {v.verifier}})
	if err != nil {
		return err
	}
	var tok struct {
		IDToken string `json:"id_token"`
	}
	if r.status != http.StatusOK || json.Unmarshal(r.body, &tok) != nil || tok.IDToken == "" {
		return fmt.Errorf("code exchange: %d %s", r.status, r.code())
	}
	if t.sub, err = subject(tok.IDToken); err != nil {
		return err
	}
	return nil
}

// subject reads sub from an ID token the server just issued; its
// signature is not the tool's to check.
func subject(idToken string) (string, error) {
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 {
		return "", errors.New("ID token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", fmt.Errorf("ID token: %w", err)
	}
	var c struct{ Sub string }
	if err := json.Unmarshal(payload, &c); err != nil || c.Sub == "" {
		return "", fmt.Errorf("ID token without sub (a payload of %d bytes)", len(payload))
	}
	return c.Sub, nil
}

func signInBody(a citizen, identifier string, c captcha) map[string]any {
	return map[string]any{"identifier": identifier, "password": a.password, "captcha_id": c.id, "captcha_answer": c.answer}
}

// captcha is an image captcha with its answer.
type captcha struct{ id, answer string }

// captcha makes one captcha and reads its answer from the dev route.
func (t *tool) captcha(ctx context.Context) (captcha, error) {
	r, err := t.postJSON(ctx, "/api/v1/captchas", map[string]any{})
	if err != nil {
		return captcha{}, err
	}
	var c struct{ ID, Answer string }
	if r.status != http.StatusCreated || json.Unmarshal(r.body, &c) != nil {
		return captcha{}, fmt.Errorf("captcha: %d %s%s", r.status, r.code(), hint(r.code()))
	}
	if r, err = t.do(ctx, "GET", "/dev/captchas/"+c.ID, nil, nil); err != nil {
		return captcha{}, err
	}
	if r.status != http.StatusOK || json.Unmarshal(r.body, &c) != nil {
		return captcha{}, fmt.Errorf("captcha answer: %d %s", r.status, r.code())
	}
	return captcha{c.ID, c.Answer}, nil
}

// captchas prepares up to n captchas from the workers, for at most max
// time, and returns them in a closed channel: a scenario's worker stops
// when it is empty.
func (t *tool) captchas(ctx context.Context, n int, max time.Duration) (chan captcha, error) {
	out := make(chan captcha, n)
	ctx, cancel := context.WithTimeout(ctx, max)
	defer cancel()
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	jobs := make(chan struct{}, n)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	for range t.o.concurrency {
		wg.Go(func() {
			for range jobs {
				c, err := t.captcha(ctx)
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					cancel()
					return
				}
				out <- c
			}
		})
	}
	wg.Wait()
	close(out)
	if first != nil {
		return nil, first
	}
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil, err
	}
	return out, nil
}

// lastCode reads the newest code sent to phone from the dev outbox.
func (t *tool) lastCode(ctx context.Context, phone string) (string, error) {
	r, err := t.do(ctx, "GET", "/dev/outbox.json", nil, nil)
	if err != nil {
		return "", err
	}
	var v struct {
		Messages []struct {
			To     string
			Params map[string]string
		}
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		return "", fmt.Errorf("dev outbox: %w", err)
	}
	for _, m := range v.Messages { // newest first
		if m.To == phone {
			return m.Params["code"], nil
		}
	}
	return "", fmt.Errorf("no SMS to %s in the dev outbox", phone)
}

// verifier is a PKCE verifier with its S256 challenge.
type verifier struct{ verifier, challenge string }

func newVerifier() verifier {
	v := oauth2.GenerateVerifier()
	return verifier{v, oauth2.S256ChallengeFromVerifier(v)}
}

// authorize asks for a code with the signed-in session and returns it
// ("" when the answer is not a redirect with a code).
func (t *tool) authorize(ctx context.Context, v verifier) (string, response, error) {
	q := url.Values{"response_type": {"code"}, "client_id": {t.clientID}, "redirect_uri": {redirectURI},
		"scope": {"openid profile offline_access"}, "state": {"load"}, "nonce": {"load"},
		"code_challenge": {v.challenge}, "code_challenge_method": {"S256"}}
	r, err := t.do(ctx, "GET", "/oidc/authorize?"+q.Encode(), nil, t.session)
	if err != nil {
		return "", r, err
	}
	loc, err := url.Parse(r.header.Get("Location"))
	if r.status != http.StatusFound || err != nil {
		return "", r, nil
	}
	return loc.Query().Get("code"), r, nil
}

// session sends the signed-in session's cookies with req.
func (t *tool) session(req *http.Request) {
	for _, c := range t.cookies {
		req.AddCookie(c)
	}
}

// token posts form to the token endpoint as the tool's client.
func (t *tool) token(ctx context.Context, form url.Values) (response, error) {
	return t.do(ctx, "POST", "/oidc/token", strings.NewReader(form.Encode()), func(req *http.Request) {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", t.basicAuth)
	})
}

func (t *tool) postJSON(ctx context.Context, path string, v any) (response, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return response{}, err
	}
	return t.do(ctx, "POST", path, bytes.NewReader(data), func(req *http.Request) {
		req.Header.Set("Content-Type", "application/json")
	})
}

// hint says what lifts a limit the tool ran into, by problem code.
func hint(code string) string {
	return map[string]string{
		"captcha_rate_limited": " (start unid with --captcha-per-ip-minute 0)",
		"sms_rate_limited":     " (start unid with higher --sms-per-ip-hour, --sms-global-hour and --sms-global-day)",
		"sms_budget_exhausted": " (start unid with higher --sms-global-hour and --sms-global-day)",
		"login_rate_limited":   " (start unid with --login-ip-success-limit 0)",
		"login_failed":         " (more sign-ins at once per citizen than --lockout-threshold allows? raise -accounts)",
		"busy":                 " (the server has more password hashes queued than it does within --hash-max-wait: let it finish, or start unid with --hash-max-wait 0)",
	}[code]
}

func logf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "load: "+format+"\n", args...)
}
