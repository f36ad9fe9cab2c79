package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"unid/internal/claims"
	registry "unid/internal/client"
	"unid/internal/problem"
	"unid/internal/store"
)

// This file adapts unid to zitadel's op package: op.Client over
// store.Client, op.AuthRequest over store.AuthRequest, and op.Storage for
// the op functions the handlers call (client authentication, code and
// refresh-token lookup, client-credentials requests). The endpoints are
// unid's own (docs/design-notes.md, "OpenID Connect endpoints"): tokens,
// keys, userinfo, introspection, revocation and logout never go through
// op's handlers, so the op.Storage methods only those handlers call are
// never reached. Each of them fails loudly, naming itself, so that a
// library upgrade that starts calling one is noticed at once rather than
// working on a silent zero value.

// client is a registered OpenID Connect client as op sees it.
type client struct {
	c   store.Client
	dev bool
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string                    { return c.c.ID }
func (c *client) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.c.PostLogoutRedirectURIs }
func (c *client) confidential() bool               { return c.c.Type == store.ClientOIDCConfidential }

// ApplicationType is web for confidential clients and user agent for
// public ones. op's redirect-URI policy is not used: the authorize handler
// matches the registered URIs exactly.
func (c *client) ApplicationType() op.ApplicationType {
	if c.confidential() {
		return op.ApplicationTypeWeb
	}
	return op.ApplicationTypeUserAgent
}

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.confidential() {
		return oidc.AuthMethodBasic // client_secret_post is accepted too
	}
	return oidc.AuthMethodNone
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

func (c *client) GrantTypes() []oidc.GrantType {
	if c.confidential() {
		return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials}
	}
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}

// LoginURL is where op would send the browser after storing a request;
// unid's own authorize handler goes there itself.
func (c *client) LoginURL(id string) string           { return callbackPath(id) }
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (c *client) IDTokenLifetime() time.Duration      { return DefaultIDTokenTTL }

func (c *client) DevMode() bool { return c.dev }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) IsScopeAllowed(scope string) bool     { return slices.Contains(c.c.Scopes, scope) }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *client) ClockSkew() time.Duration             { return 0 }

// errNotOIDC is a client that exists but is a CAS service.
var errNotOIDC = errors.New("oidc: not an OpenID Connect client")

// oidcClient returns the registered OpenID Connect client id. An unknown
// id, or a CAS service, is a problem of Kind NotFound.
func (p *Provider) oidcClient(ctx context.Context, id string) (*client, error) {
	c, err := p.d.Registry.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.Type != store.ClientOIDCConfidential && c.Type != store.ClientOIDCPublic {
		return nil, &problem.Problem{Kind: problem.NotFound, Code: "client_not_found", Err: errNotOIDC}
	}
	return &client{c: c, dev: p.o.Dev}, nil
}

// activeClient is oidcClient for a client that may sign users in and use
// its tokens: a disabled one is a problem of Kind NotFound too
// (registry.CheckActive).
func (p *Provider) activeClient(ctx context.Context, id string) (*client, error) {
	c, err := p.oidcClient(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := registry.CheckActive(c.c); err != nil {
		return nil, err
	}
	return c, nil
}

// clientError turns a registry error into what op expects: a server_error
// for a fault of unid, invalid_client for an unknown or unauthenticated
// client. op passes some of these on unwrapped (the refresh grant's client
// lookup), so the error must already be the answer.
func clientError(err error) error {
	if err == nil {
		return nil
	}
	switch problem.As(err).Kind {
	case problem.NotFound, problem.Unauthorized, problem.Invalid:
		return oidc.ErrInvalidClient().WithParent(err)
	}
	return oidc.ErrServerError().WithParent(err)
}

// authParams are the validated parameters of an authorization request,
// kept in store.AuthRequest.Params.
type authParams struct {
	Scopes              []string `json:"scopes"`
	ResponseType        string   `json:"response_type"`
	ResponseMode        string   `json:"response_mode,omitempty"`
	RedirectURI         string   `json:"redirect_uri"`
	State               string   `json:"state,omitempty"`
	Nonce               string   `json:"nonce,omitempty"`
	PromptNone          bool     `json:"prompt_none,omitempty"`
	PromptLogin         bool     `json:"prompt_login,omitempty"`
	PromptConsent       bool     `json:"prompt_consent,omitempty"`
	MaxAge              *uint    `json:"max_age,omitempty"`
	MinLevel            int      `json:"min_level,omitempty"` // from acr_values; 0 when none
	HintSubject         string   `json:"hint_sub,omitempty"`  // sub of a valid id_token_hint
	Lang                string   `json:"lang,omitempty"`      // from ui_locales
	CodeChallenge       string   `json:"code_challenge,omitempty"`
	CodeChallengeMethod string   `json:"code_challenge_method,omitempty"`
	SelectAccount       bool     `json:"select_account,omitempty"` // prompt=select_account: choose whom to act for again
	ActingUSCC          string   `json:"acting_uscc,omitempty"`    // set at approval: the enterprise the sign-in acts for
	// SessionActing is set at approval: whom the approving session acted
	// for then (session.Acting), which the exchange wants unchanged.
	SessionActing string `json:"session_acting,omitempty"`
}

// authRequest is a request as op sees it.
type authRequest struct {
	store.AuthRequest
	params  authParams
	unsaved bool // made by this authorize request and not stored yet
}

var _ op.AuthRequest = (*authRequest)(nil)

func decodeAuthRequest(a store.AuthRequest) (*authRequest, error) {
	ar := &authRequest{AuthRequest: a}
	if err := json.Unmarshal(a.Params, &ar.params); err != nil {
		return nil, fmt.Errorf("oidc: auth request %s: %w", a.ID, err)
	}
	return ar, nil
}

func (a *authRequest) GetID() string          { return a.ID }
func (a *authRequest) GetACR() string         { return "" }
func (a *authRequest) GetAMR() []string       { return claims.AMR(a.AMR) }
func (a *authRequest) GetAudience() []string  { return []string{a.ClientID} }
func (a *authRequest) GetAuthTime() time.Time { return a.AuthTime }
func (a *authRequest) GetClientID() string    { return a.ClientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.params.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.params.CodeChallenge, Method: oidc.CodeChallengeMethod(a.params.CodeChallengeMethod)}
}
func (a *authRequest) GetNonce() string       { return a.params.Nonce }
func (a *authRequest) GetRedirectURI() string { return a.params.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType {
	return oidc.ResponseType(a.params.ResponseType)
}
func (a *authRequest) GetResponseMode() oidc.ResponseMode {
	return oidc.ResponseMode(a.params.ResponseMode)
}
func (a *authRequest) GetScopes() []string { return a.params.Scopes }
func (a *authRequest) GetState() string    { return a.params.State }
func (a *authRequest) GetSubject() string  { return a.UserID }
func (a *authRequest) Done() bool          { return a.Status == store.AuthRequestApproved }

// refreshRequest is a valid refresh token with its grant, as op sees it.
type refreshRequest struct {
	grant  store.Grant
	token  store.RefreshToken
	scopes []string
}

var _ op.RefreshTokenRequest = (*refreshRequest)(nil)

func (r *refreshRequest) GetAMR() []string                 { return claims.AMR(r.grant.AMR) }
func (r *refreshRequest) GetAudience() []string            { return []string{r.grant.ClientID} }
func (r *refreshRequest) GetAuthTime() time.Time           { return r.grant.AuthTime }
func (r *refreshRequest) GetClientID() string              { return r.grant.ClientID }
func (r *refreshRequest) GetScopes() []string              { return r.scopes }
func (r *refreshRequest) GetSubject() string               { return r.grant.UserID }
func (r *refreshRequest) SetCurrentScopes(scopes []string) { r.scopes = scopes }

// ccRequest is a client-credentials request as op sees it.
type ccRequest struct {
	clientID string
	scopes   []string
}

func (r *ccRequest) GetSubject() string    { return r.clientID }
func (r *ccRequest) GetAudience() []string { return nil }
func (r *ccRequest) GetScopes() []string   { return r.scopes }

// opStorage is op.Storage over the Provider.
type opStorage struct{ p *Provider }

var (
	_ op.Storage                  = (*opStorage)(nil)
	_ op.ClientCredentialsStorage = (*opStorage)(nil)
)

// errNotReached is the error of every op.Storage method that unid's
// handlers never reach; notReached wraps it with the method's name.
var errNotReached = errors.New("not reached: unid serves this itself, not through zitadel's op handlers")

// notReached logs, at error level, that op called a method of op.Storage
// that unid does not serve through op, and returns the error saying so.
func (s *opStorage) notReached(ctx context.Context, method string) error {
	err := fmt.Errorf("oidc: op.Storage.%s: %w", method, errNotReached)
	s.p.log.ErrorContext(ctx, "zitadel/oidc called an op.Storage method unid does not serve", "method", method)
	return err
}

func (s *opStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.p.activeClient(ctx, id)
	if err != nil {
		return nil, clientError(err)
	}
	return c, nil
}

func (s *opStorage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	_, err := s.p.d.Registry.Authenticate(ctx, id, secret)
	return clientError(err)
}

func (s *opStorage) ClientCredentials(ctx context.Context, id, secret string) (op.Client, error) {
	c, err := s.p.d.Registry.Authenticate(ctx, id, secret)
	if err != nil {
		return nil, clientError(err)
	}
	return &client{c: c, dev: s.p.o.Dev}, nil
}

func (s *opStorage) ClientCredentialsTokenRequest(ctx context.Context, id string, scopes []string) (op.TokenRequest, error) {
	c, err := s.p.d.Registry.Get(ctx, id)
	if err != nil {
		return nil, clientError(err)
	}
	return &ccRequest{clientID: id, scopes: claims.ForClient(scopes, c)}, nil
}

// AuthRequestByCode finds the request of a code. A code used before is a
// replay: the grant made from it is revoked, with every token issued from
// it.
func (s *opStorage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	if code == "" || len(code) > 512 {
		return nil, errInvalidCode
	}
	a, err := s.p.d.Store.GetAuthRequestByCode(ctx, hashToken(code))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errInvalidCode
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if !a.CodeUsedAt.IsZero() {
		s.p.codeReplayed(ctx, a)
		return nil, errInvalidCode
	}
	if !s.p.d.Now().Before(a.ExpiresAt) || a.Status != store.AuthRequestApproved {
		return nil, errInvalidCode
	}
	ar, err := decodeAuthRequest(a)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return ar, nil
}

var errInvalidCode = errors.New("oidc: code is unknown, used or expired")

// errAnswered is a request that already has its code, or was denied.
var errAnswered = errors.New("oidc: the authorization request was answered already")

// TokenRequestByRefreshToken finds the grant of a refresh token. A used
// token is a replay: its grant (the whole family) is revoked.
func (s *opStorage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	g, rt, ok, err := s.p.refreshToken(ctx, token)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if !ok {
		return nil, errInvalidRefresh
	}
	if !rt.UsedAt.IsZero() {
		s.p.refreshReplayed(ctx, g)
		return nil, errInvalidRefresh
	}
	if !s.p.refreshLive(g, rt) {
		return nil, errInvalidRefresh
	}
	return &refreshRequest{grant: g, token: rt, scopes: g.Scopes}, nil
}

var errInvalidRefresh = errors.New("oidc: refresh token is unknown, used, expired or revoked")

// The rest of op.Storage: reached only through op's own handlers (its
// authorize callback, code responses, token creation, discovery, keys, userinfo,
// introspection, revocation, end-session and probes), which unid does not
// mount, and through private_key_jwt and the JWT-profile grant, which the
// op.Config leaves off. TestStorageNotReached lists them.

func (s *opStorage) AuthRequestByID(ctx context.Context, _ string) (op.AuthRequest, error) {
	return nil, s.notReached(ctx, "AuthRequestByID")
}
func (s *opStorage) SaveAuthCode(ctx context.Context, _, _ string) error {
	return s.notReached(ctx, "SaveAuthCode")
}
func (s *opStorage) CreateAuthRequest(ctx context.Context, _ *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	return nil, s.notReached(ctx, "CreateAuthRequest")
}
func (s *opStorage) DeleteAuthRequest(ctx context.Context, _ string) error {
	return s.notReached(ctx, "DeleteAuthRequest")
}
func (s *opStorage) CreateAccessToken(ctx context.Context, _ op.TokenRequest) (string, time.Time, error) {
	return "", time.Time{}, s.notReached(ctx, "CreateAccessToken")
}
func (s *opStorage) CreateAccessAndRefreshTokens(ctx context.Context, _ op.TokenRequest, _ string) (string, string, time.Time, error) {
	return "", "", time.Time{}, s.notReached(ctx, "CreateAccessAndRefreshTokens")
}
func (s *opStorage) TerminateSession(ctx context.Context, _, _ string) error {
	return s.notReached(ctx, "TerminateSession")
}
func (s *opStorage) RevokeToken(ctx context.Context, _, _, _ string) *oidc.Error {
	return oidc.ErrServerError().WithParent(s.notReached(ctx, "RevokeToken"))
}
func (s *opStorage) GetRefreshTokenInfo(ctx context.Context, _, _ string) (string, string, error) {
	return "", "", s.notReached(ctx, "GetRefreshTokenInfo")
}
func (s *opStorage) SetUserinfoFromScopes(ctx context.Context, _ *oidc.UserInfo, _, _ string, _ []string) error {
	return s.notReached(ctx, "SetUserinfoFromScopes")
}
func (s *opStorage) SetUserinfoFromToken(ctx context.Context, _ *oidc.UserInfo, _, _, _ string) error {
	return s.notReached(ctx, "SetUserinfoFromToken")
}
func (s *opStorage) SetIntrospectionFromToken(ctx context.Context, _ *oidc.IntrospectionResponse, _, _, _ string) error {
	return s.notReached(ctx, "SetIntrospectionFromToken")
}
func (s *opStorage) GetPrivateClaimsFromScopes(ctx context.Context, _, _ string, _ []string) (map[string]any, error) {
	return nil, s.notReached(ctx, "GetPrivateClaimsFromScopes")
}
func (s *opStorage) GetKeyByIDAndClientID(ctx context.Context, _, _ string) (*jose.JSONWebKey, error) {
	return nil, s.notReached(ctx, "GetKeyByIDAndClientID")
}
func (s *opStorage) ValidateJWTProfileScopes(ctx context.Context, _ string, _ []string) ([]string, error) {
	return nil, s.notReached(ctx, "ValidateJWTProfileScopes")
}
func (s *opStorage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	return nil, s.notReached(ctx, "SigningKey")
}
func (s *opStorage) SignatureAlgorithms(ctx context.Context) ([]jose.SignatureAlgorithm, error) {
	return nil, s.notReached(ctx, "SignatureAlgorithms")
}
func (s *opStorage) KeySet(ctx context.Context) ([]op.Key, error) {
	return nil, s.notReached(ctx, "KeySet")
}
func (s *opStorage) Health(ctx context.Context) error {
	return s.notReached(ctx, "Health")
}
