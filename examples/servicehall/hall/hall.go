// Package hall is a tiny government service system — an "online service
// hall" (网上办事大厅) — that signs its users in through unid with OpenID
// Connect, the way a real service system would. It is both the runnable demo
// (examples/servicehall) and the relying party of unid's single-sign-on
// browser test.
//
// The flow, all through client libraries unid did not write (go-oidc and
// golang.org/x/oauth2):
//
//	GET  /                     the claims of the signed-in user, or a sign-in button
//	GET  /login                discovery (once) → authorization request with
//	                           PKCE S256, random state and nonce kept server-side
//	                           under a short-lived HttpOnly cookie
//	GET  /callback             state check → code exchange with the PKCE verifier →
//	                           ID token verified (signature, iss, aud, exp, nonce) →
//	                           userinfo (same sub) → local session
//	POST /logout               drop the local session → unid's end_session_endpoint
//	                           with id_token_hint and post_logout_redirect_uri
//	POST /backchannel-logout   a logout token signed by unid (iss, aud, events,
//	                           sid or sub, no nonce) drops the local sessions of
//	                           that unid session
//	POST /apply, /advance      a case of the signed-in user, and its messages,
//	                           written to unid's records API with the hall's own
//	                           client-credentials token (records.go)
//
// Sessions live in memory. Cookie names carry a hash of BaseURL, because
// browsers share cookies between ports of one host and two halls often run on
// 127.0.0.1 side by side.
package hall

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Config is what a service system knows about itself and about unid.
type Config struct {
	Issuer       string   // unid's URL, e.g. http://127.0.0.1:8080
	ClientID     string   // the client_id unid registered this system under
	ClientSecret string   // its secret (a confidential client)
	BaseURL      string   // this system's own URL, e.g. http://127.0.0.1:8081
	Title        string   // shown on every page; default 网上办事大厅
	Scopes       []string // default openid profile phone

	HTTPClient *http.Client     // talks to unid; default: 10 s timeout
	Logger     *slog.Logger     // default: discard
	Now        func() time.Time // default: time.Now
}

// DefaultScopes are asked for when Config.Scopes is empty.
var DefaultScopes = []string{oidc.ScopeOpenID, "profile", "phone"}

const (
	flowTTL       = 10 * time.Minute // an unfinished sign-in
	sessionTTL    = 8 * time.Hour    // a local session, at most
	maxEntries    = 10000            // pending sign-ins or sessions kept in memory
	maxLogoutBody = 64 << 10
	// clockSkew is how far a logout token's exp may lie in the past.
	clockSkew = 2 * time.Minute
	// backchannelEvent is the event a logout token must carry.
	backchannelEvent = "http://schemas.openid.net/event/backchannel-logout"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Hall is one running service hall.
type Hall struct {
	cfg    Config
	secure bool
	cookie string // name prefix unique to BaseURL
	tmpl   *template.Template
	next   http.Handler // the routes behind cross-origin protection

	discoverMu sync.Mutex
	rp         *relyingParty // nil until discovery succeeded

	mu       sync.Mutex
	pending  map[string]pending  // by flow cookie
	sessions map[string]*session // by session cookie

	records recordsClient // the records it keeps in unid
}

// relyingParty is what discovery yields.
type relyingParty struct {
	provider   *oidc.Provider
	oauth      oauth2.Config
	idTokens   *oidc.IDTokenVerifier
	logouts    *oidc.IDTokenVerifier
	endSession string // "" when unid does not offer RP-initiated logout
}

// pending is a sign-in between /login and /callback.
type pending struct {
	state, nonce, verifier string
	expires                time.Time
}

// session is a signed-in user of this hall.
type session struct {
	subject string
	sid     string // unid's session id from the ID token: back-channel logout names it
	idToken string // raw, for id_token_hint
	claims  []claim
	expires time.Time
}

// New checks cfg and returns the hall's handler. Discovery happens at the
// first sign-in, so the hall may start before unid does; until unid answers,
// signing in shows an error page that says so.
func New(cfg Config) (*Hall, error) {
	var errs []error
	var err error
	if cfg.Issuer, err = checkURL("issuer", cfg.Issuer); err != nil {
		errs = append(errs, err)
	}
	if cfg.BaseURL, err = checkURL("base URL", cfg.BaseURL); err != nil {
		errs = append(errs, err)
	}
	if strings.TrimSpace(cfg.ClientID) == "" {
		errs = append(errs, errors.New("hall: client id is missing: register this system in unid (`unid client create`) and pass its client_id"))
	}
	if cfg.ClientSecret == "" {
		errs = append(errs, errors.New("hall: client secret is missing: it is shown once by `unid client create`"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.Title == "" {
		cfg.Title = "网上办事大厅"
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = DefaultScopes
	}
	if !slices.Contains(cfg.Scopes, oidc.ScopeOpenID) {
		cfg.Scopes = append([]string{oidc.ScopeOpenID}, cfg.Scopes...)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	tmpl, err := template.New("").Funcs(template.FuncMap{"title": func() string { return cfg.Title }}).ParseFS(assets, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("hall: templates: %w", err)
	}
	sum := sha256.Sum256([]byte(cfg.BaseURL))
	h := &Hall{
		cfg:      cfg,
		secure:   strings.HasPrefix(cfg.BaseURL, "https://"),
		cookie:   "hall_" + hex.EncodeToString(sum[:4]),
		tmpl:     tmpl,
		pending:  map[string]pending{},
		sessions: map[string]*session{},
		records:  recordsClient{apps: map[string]*application{}},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.home)
	mux.HandleFunc("GET /login", h.login)
	mux.HandleFunc("GET /callback", h.callback)
	mux.HandleFunc("POST /logout", h.logout)
	mux.HandleFunc("POST /backchannel-logout", h.backchannelLogout)
	mux.HandleFunc("POST /apply", h.apply)
	mux.HandleFunc("POST /advance", h.advance)
	mux.Handle("GET /static/", http.FileServerFS(assets))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, failure{status: http.StatusNotFound, zh: "没有这个页面。", en: "There is no such page."})
	})
	// Forms posted from other sites are refused; unid's back-channel call
	// comes from a server, without browser headers, and passes.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, failure{status: http.StatusForbidden, zh: "拒绝了来自其他网站的请求。", en: "A request from another site was refused."})
	}))
	h.next = cop.Handler(mux)
	return h, nil
}

// ServeHTTP serves the hall.
func (h *Hall) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	h.next.ServeHTTP(w, r)
}

// checkURL accepts an absolute http(s) URL without query or fragment and
// returns it without a trailing slash.
func checkURL(what, raw string) (string, error) {
	raw = strings.TrimRight(strings.TrimSpace(raw), "/")
	u, err := url.Parse(raw)
	if raw == "" {
		return "", fmt.Errorf("hall: %s is missing", what)
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("hall: %s %q must be an absolute http:// or https:// URL without query or fragment", what, raw)
	}
	return raw, nil
}

// discover fetches unid's discovery document once; a failure is retried at
// the next request.
func (h *Hall) discover(ctx context.Context) (*relyingParty, error) {
	h.discoverMu.Lock()
	defer h.discoverMu.Unlock()
	if h.rp != nil {
		return h.rp, nil
	}
	provider, err := oidc.NewProvider(h.clientContext(ctx), h.cfg.Issuer)
	if err != nil {
		return nil, err
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := provider.Claims(&extra); err != nil {
		return nil, err
	}
	h.rp = &relyingParty{
		provider: provider,
		oauth: oauth2.Config{
			ClientID: h.cfg.ClientID, ClientSecret: h.cfg.ClientSecret,
			Endpoint: provider.Endpoint(), RedirectURL: h.cfg.BaseURL + "/callback",
			Scopes: h.cfg.Scopes,
		},
		idTokens: provider.Verifier(&oidc.Config{ClientID: h.cfg.ClientID, Now: h.cfg.Now}),
		// The expiry of logout tokens is checked by backchannelLogout, with
		// some leeway for clocks that differ.
		logouts:    provider.Verifier(&oidc.Config{ClientID: h.cfg.ClientID, SkipExpiryCheck: true}),
		endSession: extra.EndSession,
	}
	h.cfg.Logger.InfoContext(ctx, "discovered unid", "issuer", h.cfg.Issuer, "end_session_endpoint", extra.EndSession)
	return h.rp, nil
}

func (h *Hall) clientContext(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, h.cfg.HTTPClient)
}

// randomToken is 256 bits for state, nonce, and cookie values.
func randomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (h *Hall) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	c := &http.Cookie{
		Name: h.cookie + name, Value: value, Path: "/", HttpOnly: true, Secure: h.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(maxAge.Seconds()),
	}
	if maxAge <= 0 {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

func (h *Hall) cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(h.cookie + name)
	if err != nil {
		return ""
	}
	return c.Value
}

// currentSession returns the signed-in user's session, or nil.
func (h *Hall) currentSession(r *http.Request) *session {
	id := h.cookieValue(r, "_session")
	if id == "" {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sessions[id]
	if s == nil || !h.cfg.Now().Before(s.expires) {
		delete(h.sessions, id)
		return nil
	}
	return s
}

// prune drops expired entries and, past maxEntries, the ones closest to
// expiry. Called with mu held.
func prune[V any](m map[string]V, now time.Time, expires func(V) time.Time) {
	for k, v := range m {
		if !now.Before(expires(v)) {
			delete(m, k)
		}
	}
	for len(m) >= maxEntries {
		var oldest string
		for k, v := range m {
			if oldest == "" || expires(v).Before(expires(m[oldest])) {
				oldest = k
			}
		}
		delete(m, oldest)
	}
}

// Sessions is the number of signed-in local sessions, for tests.
func (h *Hall) Sessions() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sessions)
}
