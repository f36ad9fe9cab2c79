package oidc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/claims"
	"unid/internal/httpx"
	"unid/internal/session"
	"unid/internal/store"
)

// Registry is the part of the client registry the provider uses;
// *client.Registry implements it.
type Registry interface {
	// Get returns a client, or a problem with Kind NotFound.
	Get(ctx context.Context, id string) (store.Client, error)
	// Authenticate checks a confidential client's secret; a wrong secret
	// or unknown client is a problem with Kind Unauthorized.
	Authenticate(ctx context.Context, id, secret string) (store.Client, error)
}

// Sessions is the browser session; *session.Manager implements it.
type Sessions interface {
	Current(ctx context.Context, r *http.Request) (store.Session, bool, error)
	SignedIn(ctx context.Context, r *http.Request) (store.Session, store.User, bool, error)
	// Stands reports whether a sign-in through the user's session sid
	// still stands: not ended, and acting for acting.
	Stands(ctx context.Context, userID, sid, acting string) (bool, error)
	End(ctx context.Context, w http.ResponseWriter, r *http.Request, how session.Logout) error
	OnEnd(h session.Hook)
}

// Pages renders the pages the provider shows; the app adapts the web
// package's single sign-on pages to it.
type Pages interface {
	Consent(w http.ResponseWriter, r *http.Request, d ConsentPage)
	SSOError(w http.ResponseWriter, r *http.Request, status int, code string)
	LogoutConfirm(w http.ResponseWriter, r *http.Request, d LogoutConfirmPage)
}

// ConsentPage is what the consent page shows: which service system asks,
// for which account, to know what (scope names).
type ConsentPage struct {
	RequestID  string // the authorization request the answer is for
	ClientID   string
	ClientName string
	LoginName  string
	Scopes     []string
}

// LogoutConfirmPage is a logout request that did not prove which client
// sent it (no id_token_hint): the user confirms it by posting the form
// back.
type LogoutConfirmPage struct {
	ClientID, PostLogoutRedirectURI, State string
}

// Store is what the provider keeps; store.Store implements it.
type Store interface {
	store.OAuth
	store.SessionClients
	GetUser(ctx context.Context, id string) (store.User, error)
}

// Deps are the services the provider is built on.
type Deps struct {
	Store     Store
	Registry  Registry
	Sessions  Sessions
	Protector *account.Protector // opens claims, seals signing keys, derives the code key
	Audit     *audit.Log
	Logger    *slog.Logger
	Pages     Pages
	Now       func() time.Time
	// Enterprises answers whom a user may act for (scope enterprise, a
	// client's minimum enterprise role); nil: nobody acts for any.
	Enterprises Enterprises
}

// Options configure the provider. Zero durations take the defaults.
type Options struct {
	// Issuer is the URL service systems know unid by (--public-url, or
	// http://<addr>). http:// is accepted only for loopback hosts.
	Issuer string
	// Dev is development mode, where an http:// issuer on loopback is
	// expected; outside it such an issuer works (for clients on the same
	// machine) but is logged as a warning.
	Dev bool
	// TrustProxy takes the client address for the audit log from
	// X-Forwarded-For.
	TrustProxy bool
	// Algorithm signs every token: "ES256" (default) or "RS256". A change
	// takes effect at start-up by rotating to a key of the new algorithm.
	Algorithm string

	CodeTTL        time.Duration // authorization code; default 60 s
	AccessTokenTTL time.Duration // default 10 min
	IDTokenTTL     time.Duration // default 10 min
	RefreshTTL     time.Duration // sliding: each refresh token lives this long; default 30 days
	RefreshMaxTTL  time.Duration // absolute: no refresh token outlives its grant by more; default 90 days
	AuthRequestTTL time.Duration // time to sign in and consent; default 30 min
	KeyRefresh     time.Duration // how often keys are reloaded from the store; default 30 s

	// ClientAuditWindow: client-credentials tokens are audited once per
	// client per window (with a count of the others); default 1 min,
	// negative to audit every token.
	ClientAuditWindow time.Duration

	// BackchannelTimeout bounds one back-channel logout POST; default 2 s.
	BackchannelTimeout time.Duration
	// HTTPClient sends back-channel logouts; nil uses one that never
	// follows redirects.
	HTTPClient *http.Client
}

// Defaults of Options.
const (
	DefaultCodeTTL            = 60 * time.Second
	DefaultAccessTokenTTL     = 10 * time.Minute
	DefaultIDTokenTTL         = 10 * time.Minute
	DefaultRefreshTTL         = 30 * 24 * time.Hour
	DefaultRefreshMaxTTL      = 90 * 24 * time.Hour
	DefaultAuthRequestTTL     = 30 * time.Minute
	DefaultKeyRefresh         = 30 * time.Second
	DefaultBackchannelTimeout = 2 * time.Second
	DefaultClientAuditWindow  = time.Minute
	DefaultAlgorithm          = "ES256"
)

func (o *Options) setDefaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&o.CodeTTL, DefaultCodeTTL)
	set(&o.AccessTokenTTL, DefaultAccessTokenTTL)
	set(&o.IDTokenTTL, DefaultIDTokenTTL)
	set(&o.RefreshTTL, DefaultRefreshTTL)
	set(&o.RefreshMaxTTL, DefaultRefreshMaxTTL)
	set(&o.AuthRequestTTL, DefaultAuthRequestTTL)
	set(&o.KeyRefresh, DefaultKeyRefresh)
	set(&o.BackchannelTimeout, DefaultBackchannelTimeout)
	if o.ClientAuditWindow == 0 {
		o.ClientAuditWindow = DefaultClientAuditWindow
	}
	if o.Algorithm == "" {
		o.Algorithm = DefaultAlgorithm
	}
	if o.RefreshTTL > o.RefreshMaxTTL {
		o.RefreshTTL = o.RefreshMaxTTL
	}
}

// Provider is the OpenID Provider. Build it with New; mount Routes.
type Provider struct {
	d         Deps
	o         Options
	issuer    string
	log       *slog.Logger
	op        *op.Provider
	keys      *keyRing
	http      *http.Client
	discovery []byte   // the discovery document, encoded once
	keysCache []string // the JWKS's Cache-Control

	ccMu   sync.Mutex
	ccSeen map[string]ccWindow // client-credentials audit windows by client
}

// New builds the provider. It makes sure a signing key of the configured
// algorithm exists before it returns, so that no request ever waits for
// (or races to create) the first key, and registers back-channel logout
// with the session manager.
func New(ctx context.Context, d Deps, o Options) (*Provider, error) {
	o.setDefaults()
	if d.Store == nil || d.Registry == nil || d.Sessions == nil || d.Protector == nil || d.Audit == nil ||
		d.Pages == nil || d.Now == nil {
		return nil, errors.New("oidc: Deps are incomplete")
	}
	if _, ok := algorithms[o.Algorithm]; !ok {
		return nil, fmt.Errorf("oidc: signing algorithm %q is not supported (ES256 or RS256)", o.Algorithm)
	}
	issuer, insecure, err := checkIssuer(o.Issuer)
	if err != nil {
		return nil, err
	}
	p := &Provider{d: d, o: o, issuer: issuer, log: d.Logger, http: o.HTTPClient, ccSeen: map[string]ccWindow{},
		keysCache: keysCacheControl(o.KeyRefresh)}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.http == nil {
		p.http = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if insecure && !o.Dev {
		p.log.WarnContext(ctx, "the OpenID issuer uses http: only service systems on this machine can use it; set --public-url https://…", "issuer", issuer)
	}
	p.keys = newKeyRing(d.Store, d.Protector, d.Now, p.log, o.KeyRefresh, p.retention())
	if err := p.keys.init(ctx, o.Algorithm, p.recordKeyRotation); err != nil {
		return nil, err
	}

	// op's crypto, which nothing of unid's reaches (codes are random, access
	// tokens are JWTs), has a key of its own all the same, not a known one.
	var key [32]byte
	copy(key[:], d.Protector.MAC("oidc-crypto-key"))
	opts := []op.Option{}
	if insecure {
		opts = append(opts, op.WithAllowInsecure())
	}
	p.op, err = op.NewProvider(&op.Config{
		CryptoKey:                         key,
		CodeMethodS256:                    true,
		AuthMethodPost:                    true,
		GrantTypeRefreshToken:             true,
		BackChannelLogoutSupported:        true,
		BackChannelLogoutSessionSupported: true,
		SupportedScopes:                   claims.UserScopes(),
		SupportedUILocales:                []language.Tag{language.SimplifiedChinese, language.English},
	}, &opStorage{p: p}, op.StaticIssuer(issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	if p.discovery, err = p.discoveryDocument(); err != nil {
		return nil, err
	}
	d.Sessions.OnEnd(p.backchannelLogout)
	return p, nil
}

// checkIssuer accepts https:// issuers, and http:// ones on a loopback host
// (development, or a single machine), without query or fragment.
func checkIssuer(issuer string) (string, bool, error) {
	issuer = strings.TrimSuffix(issuer, "/")
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", false, fmt.Errorf("oidc: issuer %q must be an absolute URL without query, fragment or user", issuer)
	}
	switch u.Scheme {
	case "https":
		return issuer, false, nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			return issuer, true, nil
		}
	}
	return "", false, fmt.Errorf("oidc: issuer %q must use https (http only on a loopback address): set --public-url", issuer)
}

// Issuer returns the issuer URL.
func (p *Provider) Issuer() string { return p.issuer }

// Routes lists the provider's endpoints for the app's mux: the discovery
// document at the root and the protocol under /oidc/. Consent answers come
// through the JSON API, which calls AnswerConsent and the methods beside it.
func (p *Provider) Routes() []httpx.Route {
	return []httpx.Route{
		{Pattern: "GET /.well-known/openid-configuration", Handler: p.serveDiscovery},
		{Pattern: "GET /oidc/keys", Handler: p.serveKeys},
		{Pattern: "GET /oidc/authorize", Handler: p.authorize},
		{Pattern: "POST /oidc/authorize", Handler: p.authorize},
		{Pattern: "GET /oidc/authorize/callback", Handler: p.callback},
		{Pattern: "GET /oidc/authorize/cancel", Handler: getOnly(p.cancel)},
		{Pattern: "GET /oidc/consent", Handler: p.consentPage},
		{Pattern: "POST /oidc/token", Handler: p.token},
		{Pattern: "OPTIONS /oidc/token", Handler: preflight},
		{Pattern: "GET /oidc/userinfo", Handler: p.userinfo},
		{Pattern: "POST /oidc/userinfo", Handler: p.userinfo},
		{Pattern: "OPTIONS /oidc/userinfo", Handler: preflight},
		{Pattern: "POST /oidc/introspect", Handler: p.introspect},
		{Pattern: "POST /oidc/revoke", Handler: p.revoke},
		{Pattern: "OPTIONS /oidc/revoke", Handler: preflight},
		{Pattern: "GET /oidc/end_session", Handler: p.endSession},
		{Pattern: "POST /oidc/end_session", Handler: p.endSession},
	}
}

// CrossOriginBypass lists the routes that other sites may POST to: the
// token, introspection, revocation and userinfo endpoints authenticate by
// client secret or bearer token, never by cookie, and an authorization or
// logout request may be a form posted by a service system's page (the same
// requests are allowed as GET, and are guarded by their own checks). The
// app passes each to http.CrossOriginProtection.AddInsecureBypassPattern.
func (p *Provider) CrossOriginBypass() []string {
	return []string{
		"POST /oidc/token", "POST /oidc/introspect", "POST /oidc/revoke", "POST /oidc/userinfo",
		"POST /oidc/authorize", "POST /oidc/end_session",
	}
}

// Cleanup deletes expired authorization requests, grants, refresh tokens,
// revocation records, and signing keys no token can need any more. The
// app's janitor calls it.
func (p *Provider) Cleanup(ctx context.Context) error {
	now := p.d.Now()
	_, err1 := p.d.Store.DeleteExpiredOAuth(ctx, now)
	_, err2 := p.d.Store.DeleteSigningKeysRetiredBefore(ctx, now.Add(-p.keys.lead-p.retention()))
	return errors.Join(err1, err2)
}

// retention is how long a retired key stays published after it stopped
// signing: every token it signed has expired by then, including those
// another instance signed before it reloaded its keys.
func (p *Provider) retention() time.Duration {
	return max(p.o.AccessTokenTTL, p.o.IDTokenTTL, logoutTokenTTL) + p.o.KeyRefresh + time.Minute
}

// now is the provider's clock at the store's precision.
func (p *Provider) now() time.Time { return p.d.Now().UTC().Truncate(time.Millisecond) }

// caller is the address and user agent of r, for the audit log.
func (p *Provider) caller(r *http.Request) (ip, userAgent string) {
	return httpx.ClientIP(r, p.o.TrustProxy), r.UserAgent()
}

// record appends an audit event about r (which may be nil).
func (p *Provider) record(ctx context.Context, r *http.Request, e audit.Entry) {
	if r != nil {
		e.IP, e.UserAgent = p.caller(r)
	}
	p.d.Audit.Append(ctx, e)
}

// hashToken is how codes and refresh tokens are stored: SHA-256. They are
// random and long, so a fast unkeyed hash is enough to make the database
// useless for replaying them.
func hashToken(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// newSecret returns 256 random bits, URL-safe: a refresh token or an
// authorization code.
func newSecret() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// newID returns a random identifier of 130 bits.
func newID() string { return rand.Text() }

// writeJSON answers an OAuth endpoint with v, never cached (RFC 6749 5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Pragma", "no-cache")
	httpx.WriteJSON(w, status, v)
}

// getOnly refuses every method but GET for endpoints that change state on
// a GET the protocol requires: a HEAD from a link checker or a prefetch
// must not cancel a sign-in.
func getOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		h(w, r)
	}
}
