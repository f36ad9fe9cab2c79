// Package oidcup is the upstream provider for any OpenID provider a
// citizen may sign in with: the national government service platform, a
// provincial app, an enterprise IdP. unid is the relying party here; the
// protocol plumbing is go-oidc and x/oauth2, as for every relying party in
// unid's own tests.
//
// # Flow
//
//	AuthURL ──discovery (first use; cached)──▶ authorization endpoint
//	        ?response_type=code&client_id&redirect_uri&scope&state
//	        &code_challenge=S256(Auth.Verifier)&nonce=Auth.Nonce
//	   │
//	   ▼  the person signs in and consents at the provider
//	callback ?code&state  (or ?error=access_denied: upstream_cancelled)
//	   │
//	Exchange ──token endpoint (code + verifier, client secret)──▶ ID token
//	   │        verified by go-oidc: signature (the provider's JWKS),
//	   │        issuer, audience = client id, expiry; then nonce and sub
//	   ▼
//	userinfo (when discovered, and not Auth.OnlyID): claims kept only for
//	the ID token's sub ──▶ upstream.Identity
//
// Discovery is lazy: a provider that is down when unid starts does not
// stop unid; its sign-in button answers upstream_unavailable until the
// provider answers discovery, which is tried again at each use until it
// succeeds once.
//
// # Errors
//
//	what happened                                         problem code
//	no code in the callback, or error=access_denied        upstream_cancelled
//	token endpoint says invalid_grant (used, expired code) upstream_code_invalid
//	network error, timeout, 5xx, server_error,
//	temporarily_unavailable, discovery failing             upstream_unavailable
//	no ID token, one that does not verify, wrong nonce,
//	no sub, userinfo of another sub, a malformed answer     upstream_unverified
//	any other OAuth error (invalid_client, invalid_scope…) upstream_refused
//
// What went wrong is logged with the provider's id and the OAuth error
// code; codes, tokens and claims are never logged.
package oidcup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"unid/internal/account"
	"unid/internal/config"
	"unid/internal/problem"
	"unid/internal/upstream"
)

// DefaultTimeout bounds each request to the provider when New is given no
// client.
const DefaultTimeout = 10 * time.Second

// Provider is one configured OpenID provider.
type Provider struct {
	u      config.Upstream
	client *http.Client
	log    *slog.Logger

	mu        sync.Mutex
	op        *oidc.Provider // discovered; nil until discovery succeeds
	discovery *discovery     // the attempt under way, if any
}

var _ upstream.Provider = (*Provider)(nil)

// New returns the provider of u. Every request to it (discovery, keys,
// token, userinfo) goes through client; nil means a client with
// DefaultTimeout. Nothing is fetched until the first use.
func New(u config.Upstream, client *http.Client, log *slog.Logger) *Provider {
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Provider{u: u, client: client, log: log.With("upstream", u.ID)}
}

// Info shows the provider as configured; its App is the issuer, so that
// identities of another issuer configured under the same id never match.
func (p *Provider) Info() upstream.Info {
	return upstream.Info{ID: p.u.ID, Kind: upstream.KindOIDC, Name: p.u.Name, Icon: p.u.Icon, App: p.u.Issuer}
}

// AuthURL is the provider's authorization endpoint with a's state, nonce
// and the S256 challenge of a's verifier.
func (p *Provider) AuthURL(ctx context.Context, a upstream.Auth) (string, error) {
	op, err := p.discover(ctx)
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(a.Verifier), oidc.Nonce(a.Nonce)}
	if !a.FreshSince.IsZero() {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("max_age", "0"))
	}
	return p.oauth(op, a).AuthCodeURL(a.State, opts...), nil
}

// freshSkew is how far the provider's clock may be behind unid's when
// auth_time is held against Auth.FreshSince.
const freshSkew = time.Minute

// Exchange redeems the callback's code with a's verifier, verifies the ID
// token and its nonce, reads userinfo, and returns the identity.
func (p *Provider) Exchange(ctx context.Context, a upstream.Auth, callback url.Values) (upstream.Identity, error) {
	if e, code := callback.Get("error"), callback.Get("code"); e != "" || code == "" {
		return upstream.Identity{}, p.authorizationError(ctx, e, callback.Get("error_description"))
	}
	op, err := p.discover(ctx)
	if err != nil {
		return upstream.Identity{}, err
	}
	ctx = oidc.ClientContext(ctx, p.client)
	tok, err := p.oauth(op, a).Exchange(ctx, callback.Get("code"), oauth2.VerifierOption(a.Verifier))
	if err != nil {
		return upstream.Identity{}, p.tokenError(ctx, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return upstream.Identity{}, p.unverified(ctx, errors.New("oidcup: token answer without an ID token"))
	}
	// Expiry is judged by the real clock, as the provider's own clock
	// stamped the token.
	idt, err := op.Verifier(&oidc.Config{ClientID: p.u.ClientID}).Verify(ctx, raw)
	if err != nil {
		return upstream.Identity{}, p.unverified(ctx, fmt.Errorf("oidcup: ID token: %w", err))
	}
	if a.Nonce == "" || idt.Nonce != a.Nonce {
		return upstream.Identity{}, p.unverified(ctx, errors.New("oidcup: ID token: nonce does not match the authorization request's"))
	}
	if idt.Subject == "" {
		return upstream.Identity{}, p.unverified(ctx, errors.New("oidcup: ID token without sub"))
	}
	var c claimSet
	if err := idt.Claims(&c); err != nil {
		return upstream.Identity{}, p.unverified(ctx, fmt.Errorf("oidcup: ID token claims: %w", err))
	}
	if !a.FreshSince.IsZero() && time.Unix(c.AuthTime, 0).Before(a.FreshSince.Add(-freshSkew)) {
		return upstream.Identity{}, p.unverified(ctx, errors.New("oidcup: ID token: auth_time is older than the request, the person did not sign in again"))
	}
	if !a.OnlyID && op.UserInfoEndpoint() != "" {
		if err := p.userinfo(ctx, op, tok, idt.Subject, &c); err != nil {
			return upstream.Identity{}, err
		}
	}
	c.Sub = idt.Subject
	return p.identity(c), nil
}

// discover returns the provider's metadata, fetched at the first use. A
// failure is not kept: the next use tries again. Uses that come while a
// discovery is under way wait for it instead of queueing their own, so
// that an issuer that does not answer costs each sign-in one timeout at
// most.
func (p *Provider) discover(ctx context.Context) (*oidc.Provider, error) {
	p.mu.Lock()
	if p.op != nil {
		op := p.op
		p.mu.Unlock()
		return op, nil
	}
	d := p.discovery
	if d == nil {
		d = &discovery{done: make(chan struct{})}
		p.discovery = d
		go p.runDiscovery(context.WithoutCancel(ctx), d)
	}
	p.mu.Unlock()
	select {
	case <-d.done:
	case <-ctx.Done():
		return nil, &problem.Problem{Kind: problem.Unavailable, Code: upstream.CodeUnavailable, Err: fmt.Errorf("oidcup: discovery of %s: %w", p.u.Issuer, ctx.Err())}
	}
	if d.err != nil {
		return nil, &problem.Problem{Kind: problem.Unavailable, Code: upstream.CodeUnavailable, Err: d.err}
	}
	return d.op, nil
}

// discovery is one attempt at fetching the provider's metadata.
type discovery struct {
	done chan struct{} // closed when op or err is set
	op   *oidc.Provider
	err  error
}

// runDiscovery makes attempt d. It runs apart from the request that
// started it, bounded by the client's timeout, since others may wait for it.
func (p *Provider) runDiscovery(ctx context.Context, d *discovery) {
	op, err := oidc.NewProvider(oidc.ClientContext(ctx, p.client), p.u.Issuer)
	if err != nil {
		p.log.WarnContext(ctx, "upstream discovery failed", "issuer", p.u.Issuer, "error", err)
		err = fmt.Errorf("oidcup: discovery of %s: %w", p.u.Issuer, err)
	}
	p.mu.Lock()
	if err == nil {
		p.op = op
	}
	p.discovery = nil
	p.mu.Unlock()
	d.op, d.err = op, err
	close(d.done)
}

// oauth is the OAuth client configuration of one authorization run.
func (p *Provider) oauth(op *oidc.Provider, a upstream.Auth) *oauth2.Config {
	scopes := []string{oidc.ScopeOpenID}
	if !a.OnlyID {
		for _, s := range p.u.Scopes {
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	}
	return &oauth2.Config{
		ClientID: p.u.ClientID, ClientSecret: p.u.ClientSecret.Value,
		Endpoint: op.Endpoint(), RedirectURL: a.RedirectURI, Scopes: scopes,
	}
}

// userinfo reads the userinfo endpoint into c; claims about another
// subject than the ID token's are refused (OpenID Connect Core 5.3.2).
func (p *Provider) userinfo(ctx context.Context, op *oidc.Provider, tok *oauth2.Token, sub string, c *claimSet) error {
	ui, err := op.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return p.userinfoError(ctx, err)
	}
	if ui.Subject != sub {
		return p.unverified(ctx, errors.New("oidcup: userinfo is about another subject than the ID token"))
	}
	if err := ui.Claims(c); err != nil {
		return p.unverified(ctx, fmt.Errorf("oidcup: userinfo claims: %w", err))
	}
	return nil
}

// claimSet is what unid takes from the ID token and userinfo.
type claimSet struct {
	Sub               string `json:"sub"`
	PreferredUsername string `json:"preferred_username"`
	Nickname          string `json:"nickname"`
	Name              string `json:"name"`
	Picture           string `json:"picture"`
	PhoneNumber       string `json:"phone_number"`
	AuthTime          int64  `json:"auth_time"` // of the ID token
}

// identity maps claims to an identity. The phone number is kept only as
// a mainland mobile number, the only kind an account holds; it stays a
// hint until its owner proves it by SMS code.
func (p *Provider) identity(c claimSet) upstream.Identity {
	id := upstream.Identity{
		Provider: p.u.ID, App: p.u.Issuer, Subject: c.Sub,
		LoginName: c.PreferredUsername, Nickname: c.Nickname,
	}
	if id.Nickname == "" {
		id.Nickname = c.Name
	}
	if u, err := url.Parse(c.Picture); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		id.Avatar = c.Picture
	}
	if c.PhoneNumber != "" {
		if phone, err := account.NormalizePhone(c.PhoneNumber); err == nil {
			id.Phone = phone
		}
	}
	return id
}

// authorizationError is the answer to a callback without a code.
func (p *Provider) authorizationError(ctx context.Context, code, description string) error {
	switch code {
	case "", "access_denied":
		p.log.InfoContext(ctx, "upstream authorization not given", "oauth_error", code)
		return problem.New(problem.Invalid, upstream.CodeCancelled)
	case "server_error", "temporarily_unavailable":
		return p.fail(ctx, upstream.CodeUnavailable, fmt.Errorf("oidcup: authorization endpoint: %s %q", code, description), "oauth_error", code)
	}
	return p.fail(ctx, upstream.CodeRefused, fmt.Errorf("oidcup: authorization endpoint: %s %q", code, description), "oauth_error", code)
}

// tokenError classifies a failed code redemption. The error kept is
// rebuilt from the answer's status and OAuth error: the raw one may quote
// the answer's body.
func (p *Provider) tokenError(ctx context.Context, err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		if transient(err) {
			return p.fail(ctx, upstream.CodeUnavailable, fmt.Errorf("oidcup: token endpoint: %w", err))
		}
		// Reached, but the answer was not a token answer.
		return p.unverified(ctx, fmt.Errorf("oidcup: token endpoint: %w", err))
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	cause := fmt.Errorf("oidcup: token endpoint: HTTP %d", status)
	if re.ErrorCode != "" {
		cause = fmt.Errorf("%w: %s %q", cause, re.ErrorCode, re.ErrorDescription)
	}
	switch {
	case re.ErrorCode == "invalid_grant":
		p.log.InfoContext(ctx, "upstream refused the code", "oauth_error", re.ErrorCode, "description", re.ErrorDescription)
		return &problem.Problem{Kind: problem.Gone, Code: upstream.CodeExpired, Err: cause}
	case status >= 500 || re.ErrorCode == "temporarily_unavailable" || re.ErrorCode == "server_error":
		return p.fail(ctx, upstream.CodeUnavailable, cause, "status", status, "oauth_error", re.ErrorCode)
	}
	return p.fail(ctx, upstream.CodeRefused, cause, "status", status, "oauth_error", re.ErrorCode)
}

// userinfoError classifies a failed userinfo request. go-oidc reports a
// status other than 200 as "<status line>: <body>".
func (p *Provider) userinfoError(ctx context.Context, err error) error {
	if transient(err) {
		return p.fail(ctx, upstream.CodeUnavailable, fmt.Errorf("oidcup: userinfo: %w", err))
	}
	msg := err.Error()
	if len(msg) > 4 && msg[3] == ' ' {
		if status, convErr := strconv.Atoi(msg[:3]); convErr == nil {
			cause := fmt.Errorf("oidcup: userinfo: HTTP %d", status)
			if status >= 500 {
				return p.fail(ctx, upstream.CodeUnavailable, cause, "status", status)
			}
			return p.fail(ctx, upstream.CodeRefused, cause, "status", status)
		}
	}
	return p.unverified(ctx, fmt.Errorf("oidcup: userinfo: %w", err))
}

// transient reports whether err is the network's: the provider could not
// be reached or did not answer in time.
func transient(err error) bool {
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue) || errors.Is(err, context.DeadlineExceeded)
}

func (p *Provider) unverified(ctx context.Context, err error) error {
	return p.fail(ctx, upstream.CodeUnverified, err)
}

// fail logs err and returns it as the problem code (problem.Unavailable:
// each is the provider's or its configuration's matter, not the user's).
func (p *Provider) fail(ctx context.Context, code string, err error, attrs ...any) error {
	p.log.WarnContext(ctx, "upstream sign-in failed", append([]any{"code", code, "error", err}, attrs...)...)
	return &problem.Problem{Kind: problem.Unavailable, Code: code, Err: err}
}
