package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"unid/internal/audit"
	"unid/internal/claims"
	registry "unid/internal/client"
	"unid/internal/problem"
	"unid/internal/sso/acting"
	"unid/internal/store"
)

// verifyAccessToken checks that raw is an access token unid issued and that
// it is still good: signature by a published key, typ at+jwt, issuer,
// expiry by unid's clock, not revoked, and its grant (for a user's token)
// neither revoked nor gone. Any failure of the token itself is
// errBadToken; other errors are faults of unid.
func (p *Provider) verifyAccessToken(ctx context.Context, raw string) (*oidc.AccessTokenClaims, error) {
	payload, err := p.keys.verify(ctx, raw, typAccessToken)
	if err != nil {
		return nil, err
	}
	var c oidc.AccessTokenClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errBadToken
	}
	if c.Issuer != p.issuer || c.JWTID == "" || c.ClientID == "" || c.Subject == "" ||
		!p.d.Now().Before(c.Expiration.AsTime()) {
		return nil, errBadToken
	}
	revoked, err := p.d.Store.AccessTokenRevoked(ctx, c.JWTID)
	if err != nil {
		return nil, err
	}
	if revoked {
		return nil, errBadToken
	}
	if grantID, _, ok := strings.Cut(c.JWTID, "."); ok {
		g, err := p.d.Store.GetGrant(ctx, grantID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errBadToken
		}
		if err != nil {
			return nil, err
		}
		if !g.RevokedAt.IsZero() || g.ClientID != c.ClientID || g.UserID != c.Subject {
			return nil, errBadToken
		}
	}
	return &c, nil
}

// AccessToken is what a resource server of unid (the records API) learns
// from an access token unid issued.
type AccessToken struct {
	ClientID string   // the client it was issued to
	Subject  string   // the user, or the client itself for client credentials
	Scopes   []string // those the client is still registered for
	User     bool     // issued for a user (authorization code, refresh), not to the client for itself
	Expiry   time.Time
	Sites    []string // the client's registered redirect URIs (CAS: service patterns): where its pages are
}

// ErrInvalidToken is VerifyAccessToken's answer to a token that is not a
// live access token of unid (RFC 6750 invalid_token).
var ErrInvalidToken = errBadToken

// VerifyAccessToken checks raw as userinfo does: a live access token of
// unid, of a client that still exists and, for a user's token, of a user
// who may still sign in. Its scopes are cut to those the client is
// registered for now. Any failure of the token is ErrInvalidToken; other
// errors are faults of unid.
func (p *Provider) VerifyAccessToken(ctx context.Context, raw string) (AccessToken, error) {
	if raw == "" || len(raw) > 8192 {
		return AccessToken{}, ErrInvalidToken
	}
	at, err := p.verifyAccessToken(ctx, raw)
	if err != nil {
		return AccessToken{}, err
	}
	c, err := p.d.Registry.Get(ctx, at.ClientID)
	if err == nil {
		err = registry.CheckActive(c) // a disabled client's tokens are refused
	}
	if problem.As(err).Kind == problem.NotFound {
		return AccessToken{}, ErrInvalidToken
	}
	if err != nil {
		return AccessToken{}, err
	}
	t := AccessToken{ClientID: at.ClientID, Subject: at.Subject, User: userToken(at), Expiry: at.Expiration.AsTime(), Sites: c.RedirectURIs}
	if t.User {
		_, ok, err := p.activeUser(ctx, at.Subject)
		if err != nil {
			return AccessToken{}, err
		}
		if !ok {
			return AccessToken{}, ErrInvalidToken
		}
		t.Scopes = claims.Requested(at.Scopes, c)
	} else {
		t.Scopes = claims.ForClient(at.Scopes, c)
		if len(at.Scopes) == 0 {
			t.Scopes = nil // a token issued with no scope carries none
		}
	}
	return t, nil
}

// userToken reports whether an access token was issued for a user (its jti
// names a grant) rather than to a client for itself.
func userToken(c *oidc.AccessTokenClaims) bool { return strings.Contains(c.JWTID, ".") }

// verifyIDTokenHint checks that raw is an ID token unid issued, expired or
// not (a hint may be old).
func (p *Provider) verifyIDTokenHint(ctx context.Context, raw string) (*oidc.IDTokenClaims, error) {
	payload, err := p.keys.verify(ctx, raw, typIDToken)
	if err != nil {
		return nil, err
	}
	var c oidc.IDTokenClaims
	if err := json.Unmarshal(payload, &c); err != nil || c.Issuer != p.issuer || c.Subject == "" {
		return nil, errBadToken
	}
	return &c, nil
}

// bearerError answers a userinfo request with a bad or insufficient token
// (RFC 6750 section 3).
func bearerError(w http.ResponseWriter, status int, code string) {
	v := `Bearer realm="unid"`
	if code != "" {
		v += `, error="` + code + `"`
	}
	w.Header().Set("WWW-Authenticate", v)
	writeJSON(w, status, map[string]string{"error": code})
}

// userinfo answers the claims that the access token's scopes release.
func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	cors(w)
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	raw, err := op.ParseUserinfoRequest(r, p.op.Decoder())
	if err != nil || raw == "" {
		bearerError(w, http.StatusUnauthorized, "")
		return
	}
	at, err := p.verifyAccessToken(ctx, raw)
	if errors.Is(err, errBadToken) {
		bearerError(w, http.StatusUnauthorized, "invalid_token")
		return
	}
	if err != nil {
		p.log.ErrorContext(ctx, "userinfo", "err", err)
		writeJSON(w, http.StatusInternalServerError, oidc.ErrServerError())
		return
	}
	if !userToken(at) || !slices.Contains(at.Scopes, claims.ScopeOpenID) {
		bearerError(w, http.StatusForbidden, "insufficient_scope")
		return
	}
	u, ok, err := p.activeUser(ctx, at.Subject)
	if err == nil && !ok {
		bearerError(w, http.StatusUnauthorized, "invalid_token")
		return
	}
	var c store.Client
	if err == nil {
		c, err = p.d.Registry.Get(ctx, at.ClientID)
		if err == nil {
			err = registry.CheckActive(c)
		}
		if problem.As(err).Kind == problem.NotFound {
			bearerError(w, http.StatusUnauthorized, "invalid_token")
			return
		}
	}
	var info *oidc.UserInfo
	var ent *claims.Enterprise
	if err == nil && slices.Contains(at.Scopes, claims.ScopeEnterprise) {
		ent, err = p.tokenEnterprise(ctx, at)
	}
	if err == nil {
		// Scopes the client is no longer registered for are released no more.
		info, err = p.userInfo(u, c, at.Scopes, ent)
	}
	if err != nil {
		p.log.ErrorContext(ctx, "userinfo", "err", err)
		writeJSON(w, http.StatusInternalServerError, oidc.ErrServerError())
		return
	}
	writeJSON(w, http.StatusOK, info)
}

// clientCredentials reads a client's credentials from HTTP Basic (with
// RFC 6749's form encoding) or from the form; sending both is refused.
func clientCredentials(r *http.Request) (id, secret string, err error) {
	id, secret, basic := r.BasicAuth()
	if !basic {
		return r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"), nil
	}
	if r.PostForm.Has("client_secret") {
		return "", "", oidc.ErrInvalidRequest().WithDescription("client authentication must use one method")
	}
	if id, err = url.QueryUnescape(id); err != nil {
		return "", "", oidc.ErrInvalidClient()
	}
	if secret, err = url.QueryUnescape(secret); err != nil {
		return "", "", oidc.ErrInvalidClient()
	}
	return id, secret, nil
}

// authenticate returns the client of r: a confidential client must show
// its secret; a public client (allowed only when public is true) names
// itself.
func (p *Provider) authenticate(ctx context.Context, r *http.Request, public bool) (store.Client, error) {
	id, secret, err := clientCredentials(r)
	if err != nil {
		return store.Client{}, err
	}
	if secret == "" && public {
		c, err := p.d.Registry.Get(ctx, id)
		if err == nil && c.Type == store.ClientOIDCPublic && registry.CheckActive(c) == nil {
			return c, nil
		}
		if err != nil && problem.As(err).Kind != problem.NotFound {
			return store.Client{}, oidc.ErrServerError().WithParent(err)
		}
		return store.Client{}, oidc.ErrInvalidClient()
	}
	c, err := p.d.Registry.Authenticate(ctx, id, secret)
	if err != nil {
		if problem.As(err).Kind == problem.Unauthorized {
			return store.Client{}, oidc.ErrInvalidClient()
		}
		return store.Client{}, oidc.ErrServerError().WithParent(err)
	}
	return c, nil
}

// tokenRequest reads an introspection or revocation request: the client,
// authenticated (a public one only when public is true), and the token it
// asks about. It answers the request itself when either is missing.
func (p *Provider) tokenRequest(w http.ResponseWriter, r *http.Request, public bool) (store.Client, string, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.tokenError(w, r, oidc.ErrInvalidRequest().WithDescription("the form cannot be read"))
		return store.Client{}, "", false
	}
	c, err := p.authenticate(r.Context(), r, public)
	if err != nil {
		p.tokenError(w, r, err)
		return store.Client{}, "", false
	}
	token := r.PostForm.Get("token")
	if token == "" {
		p.tokenError(w, r, oidc.ErrInvalidRequest().WithDescription("token is missing"))
		return store.Client{}, "", false
	}
	return c, token, true
}

// introspect is RFC 7662 for authenticated confidential clients. A token
// is active only if unid issued it, it is live, and it was issued to the
// asking client (or names it as audience): others' tokens are "foreign"
// and inactive, so that one service system cannot learn about another's
// users.
func (p *Provider) introspect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, token, ok := p.tokenRequest(w, r, false)
	if !ok {
		return
	}
	resp := &oidc.IntrospectionResponse{}
	var grant *store.Grant // of a refresh token; an access token names its own
	at, err := p.verifyAccessToken(ctx, token)
	switch {
	case err == nil && (at.ClientID == c.ID || slices.Contains(at.Audience, c.ID)):
		resp = &oidc.IntrospectionResponse{
			Active: true, Scope: at.Scopes, ClientID: at.ClientID, TokenType: oidc.BearerToken,
			Expiration: at.Expiration, IssuedAt: at.IssuedAt, AuthTime: at.AuthTime, Subject: at.Subject,
			Audience: at.Audience, Issuer: at.Issuer, JWTID: at.JWTID,
		}
	case err == nil, errors.Is(err, errBadToken):
		g, rt, ok, err := p.refreshToken(ctx, token)
		if err != nil {
			p.tokenError(w, r, err)
			return
		}
		if ok && p.refreshLive(g, rt) && g.ClientID == c.ID {
			grant = &g
			resp = &oidc.IntrospectionResponse{
				Active: true, Scope: g.Scopes, ClientID: g.ClientID, TokenType: "refresh_token",
				Expiration: oidc.FromTime(rt.ExpiresAt), IssuedAt: oidc.FromTime(rt.CreatedAt),
				AuthTime: oidc.FromTime(g.AuthTime), Subject: g.UserID, Issuer: p.issuer,
			}
		}
	default:
		p.tokenError(w, r, err)
		return
	}
	// A token of an account that can no longer sign in (disabled,
	// closed, gone) is inactive, whatever the grant's revocation says.
	// A user's token also says the user's real-name level now (acr and
	// realname_level, as claims releases them for the ID token): a level
	// lowered since the token was issued is not overstated.
	if resp.Active && resp.Subject != c.ID {
		u, ok, err := p.activeUser(ctx, resp.Subject)
		if err != nil {
			p.tokenError(w, r, err)
			return
		}
		var ent *claims.Enterprise
		if ok {
			// A client that requires an enterprise role gets no live
			// token for a user who no longer holds it.
			if ok, ent, err = p.tokenActing(ctx, c, resp.ClientID, grant, at, slices.Contains(resp.Scope, claims.ScopeEnterprise)); err != nil {
				p.tokenError(w, r, err)
				return
			}
		}
		if !ok {
			resp = &oidc.IntrospectionResponse{}
		} else {
			acr, extra, err := idTokenClaims(u, c, resp.Scope, ent)
			if err != nil {
				p.tokenError(w, r, err)
				return
			}
			extra[claims.ClaimACR] = acr
			resp.Claims = extra
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

// refreshToken finds a refresh token and its grant, used, expired or
// revoked or not; ok is false when there is no such token.
func (p *Provider) refreshToken(ctx context.Context, token string) (store.Grant, store.RefreshToken, bool, error) {
	if token == "" || len(token) > 512 { // unid's are 43 characters
		return store.Grant{}, store.RefreshToken{}, false, nil
	}
	rt, err := p.d.Store.GetRefreshToken(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return store.Grant{}, store.RefreshToken{}, false, nil
	}
	if err != nil {
		return store.Grant{}, store.RefreshToken{}, false, err
	}
	g, err := p.d.Store.GetGrant(ctx, rt.GrantID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Grant{}, store.RefreshToken{}, false, nil
	}
	if err != nil {
		return store.Grant{}, store.RefreshToken{}, false, err
	}
	return g, rt, true, nil
}

// refreshLive reports whether a refresh token can still be exchanged:
// unused, unexpired, and its grant neither revoked nor past its absolute
// limit.
func (p *Provider) refreshLive(g store.Grant, rt store.RefreshToken) bool {
	now := p.d.Now()
	return rt.UsedAt.IsZero() && now.Before(rt.ExpiresAt) && g.RevokedAt.IsZero() &&
		now.Before(g.CreatedAt.Add(p.o.RefreshMaxTTL))
}

// revoke is RFC 7009. A refresh token revokes its whole grant (the family
// and the grant's access tokens); an access token is listed as revoked
// until it expires. Only the client a token was issued to can revoke it;
// whatever the token, the answer is 200. The client is the actor of the
// event; the user whose token it was, if any, is its detail's user_id.
func (p *Provider) revoke(w http.ResponseWriter, r *http.Request) {
	cors(w)
	ctx := r.Context()
	c, token, ok := p.tokenRequest(w, r, true)
	if !ok {
		return
	}
	var owner, what string
	g, _, ok, err := p.refreshToken(ctx, token)
	if err != nil {
		p.tokenError(w, r, err)
		return
	}
	if ok && g.ClientID == c.ID {
		if err := p.d.Store.RevokeGrant(ctx, g.ID, p.now()); err != nil {
			p.tokenError(w, r, err)
			return
		}
		owner, what = g.UserID, "refresh_token"
	}
	if what == "" {
		at, err := p.verifyAccessToken(ctx, token)
		if err != nil && !errors.Is(err, errBadToken) {
			p.tokenError(w, r, err)
			return
		}
		if err == nil && at.ClientID == c.ID {
			if err := p.d.Store.RevokeAccessToken(ctx, at.JWTID, at.Expiration.AsTime()); err != nil {
				p.tokenError(w, r, err)
				return
			}
			owner, what = at.Subject, "access_token"
		}
	}
	if what != "" {
		detail := audit.Detail{"token_type": what, "client_id": c.ID}
		if owner != c.ID { // not the client's own client-credentials token
			detail["user_id"] = owner
		}
		p.record(ctx, r, audit.Entry{Actor: audit.ClientActor(c.ID), Action: ActionTokenRevoked, Result: audit.ResultOK, Detail: detail})
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// cors lets browser-based clients (single-page apps with PKCE) call the
// token, userinfo and revocation endpoints. No credentials (cookies) are
// involved, so any origin may.
func cors(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "WWW-Authenticate")
}

// preflight answers a CORS preflight of those endpoints.
func preflight(w http.ResponseWriter, r *http.Request) {
	cors(w)
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// tokenActing reports whether the user of a token still holds the
// enterprise role the token's client requires (true when it requires
// none) and, when released, the enterprise claim of the identity the
// token acts for now; the grant and the membership are read once for
// both. asking is the client that introspects, usually the token's own,
// whose record is then not read again. g is the grant of a refresh token;
// an access token names its own.
func (p *Provider) tokenActing(ctx context.Context, asking store.Client, clientID string, g *store.Grant, at *oidc.AccessTokenClaims, released bool) (bool, *claims.Enterprise, error) {
	tc := asking
	if clientID != asking.ID {
		oc, err := p.activeClient(ctx, clientID)
		if err != nil {
			if problem.As(err).Kind == problem.NotFound {
				return false, nil, nil // the client is gone or disabled: its tokens are too
			}
			return false, nil, err
		}
		tc = oc.c
	}
	if tc.MinEnterpriseRole == "" && !released {
		return true, nil, nil
	}
	if g == nil {
		ag, err := p.accessGrant(ctx, at)
		if errors.Is(err, store.ErrNotFound) {
			return tc.MinEnterpriseRole == "", nil, nil
		}
		if err != nil {
			return false, nil, err
		}
		g = &ag
	}
	m, err := acting.Live(ctx, p.d.Enterprises, g.UserID, g.ActingUSCC)
	if err != nil {
		return false, nil, err
	}
	var ent *claims.Enterprise
	if released {
		ent = acting.Released(m)
	}
	return acting.MeetsRole(tc, m), ent, nil
}

// tokenEnterprise is the enterprise claim of a user's access token now:
// the membership its grant acts for, re-read; nil when the grant is gone.
func (p *Provider) tokenEnterprise(ctx context.Context, at *oidc.AccessTokenClaims) (*claims.Enterprise, error) {
	g, err := p.accessGrant(ctx, at)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m, err := acting.Live(ctx, p.d.Enterprises, g.UserID, g.ActingUSCC)
	return acting.Released(m), err
}
