package oidc

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"unid/internal/audit"
	"unid/internal/claims"
	"unid/internal/sso/acting"
	"unid/internal/store"
)

// usedCodeRetention is how long an exchanged code is remembered, so that a
// replay of it is recognised (and its grant revoked) rather than answered
// as merely unknown.
const usedCodeRetention = time.Hour

// token is the token endpoint: authorization_code, refresh_token and
// client_credentials.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	cors(w)
	r = r.WithContext(op.ContextWithIssuer(r.Context(), p.issuer))
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.tokenError(w, r, oidc.ErrInvalidRequest().WithDescription("the form cannot be read"))
		return
	}
	switch grant := r.PostForm.Get("grant_type"); grant {
	case string(oidc.GrantTypeCode):
		p.exchangeCode(w, r)
	case string(oidc.GrantTypeRefreshToken):
		p.exchangeRefreshToken(w, r)
	case string(oidc.GrantTypeClientCredentials):
		p.exchangeClientCredentials(w, r)
	case "":
		p.tokenError(w, r, oidc.ErrInvalidRequest().WithDescription("grant_type is missing"))
	default:
		p.tokenError(w, r, oidc.ErrUnsupportedGrantType())
	}
}

// tokenError answers an error of the token, introspection or revocation
// endpoint (RFC 6749 section 5.2). Faults of unid are logged and answered
// as server_error without details.
func (p *Provider) tokenError(w http.ResponseWriter, r *http.Request, err error) {
	var e *oidc.Error
	if !errors.As(err, &e) {
		e = oidc.ErrServerError().WithParent(err)
	}
	status := http.StatusBadRequest
	switch e.ErrorType {
	case oidc.InvalidClient:
		status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Basic realm="unid"`)
	case oidc.ServerError:
		status = http.StatusInternalServerError
		p.log.ErrorContext(r.Context(), "token endpoint failed", "err", errText(e.Parent))
		e = oidc.ErrServerError()
	}
	writeJSON(w, status, e)
}

// exchangeCode redeems an authorization code. op checks the code's
// client, redirect URI, PKCE verifier and client authentication; the code
// is then consumed in one transaction with the grant and its first refresh
// token stored, so of two concurrent exchanges one wins and the other is a
// replay, and a replay that finds the code used finds its grant too, to
// revoke the tokens issued from it.
func (p *Provider) exchangeCode(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	req, err := op.ParseAccessTokenRequest(r, p.op.Decoder())
	if err != nil {
		p.tokenError(w, r, err)
		return
	}
	if req.Code == "" {
		p.tokenError(w, r, oidc.ErrInvalidRequest().WithDescription("code is missing"))
		return
	}
	authReq, opc, err := op.ValidateAccessTokenRequest(ctx, req, p.op)
	if err != nil {
		p.tokenError(w, r, err)
		return
	}
	ar, c := authReq.(*authRequest), opc.(*client)
	u, ok := p.tokenUser(w, r, ar.UserID)
	if !ok {
		return
	}
	switch stands, err := p.signInStands(ctx, ar, c); {
	case err != nil:
		p.tokenError(w, r, err)
		return
	case !stands:
		p.tokenError(w, r, oidc.ErrInvalidGrant().WithDescription("invalid code"))
		return
	}

	now := p.now()
	scopes := claims.Grant(ar.params.Scopes, c.c, u.RealnameLevel)
	life := p.o.AccessTokenTTL
	if slices.Contains(scopes, claims.ScopeOfflineAccess) {
		life += p.o.RefreshMaxTTL
	}
	g := store.Grant{
		ID: newID(), ClientID: c.c.ID, UserID: u.ID, SID: ar.SID, Scopes: scopes, AuthTime: ar.AuthTime, AMR: ar.AMR,
		CreatedAt: now, ExpiresAt: now.Add(life), ActingUSCC: ar.params.ActingUSCC,
	}
	// The membership is read again: one revoked since the sign-in is not
	// released, and a client that requires a role gets no tokens.
	m, err := acting.Live(ctx, p.d.Enterprises, u.ID, g.ActingUSCC)
	if err != nil {
		p.tokenError(w, r, err)
		return
	}
	if !acting.MeetsRole(c.c, m) {
		p.enterpriseRefused(ctx, r, u.ID, c.c, "code")
		p.tokenError(w, r, oidc.ErrInvalidGrant().WithDescription(roleDescription, c.c.MinEnterpriseRole))
		return
	}
	t, err := p.prepareTokens(g, u, c, scopes, ar.params.Nonce, acting.Released(m), slices.Contains(scopes, claims.ScopeOfflineAccess))
	if err != nil {
		p.tokenError(w, r, err)
		return
	}
	var replayed *store.AuthRequest // the request as found used, with the grant it gave
	_, err = p.d.Store.RedeemCode(ctx, ar.AuthRequest, g, t.refreshRow, func(a store.AuthRequest) (store.AuthRequest, error) {
		replayed = nil // fn may run again, on the request as stored: its last run counts
		if !a.CodeUsedAt.IsZero() {
			replayed = &a
			return a, errInvalidCode
		}
		// Denied since it was read (an identity switch, a password
		// change): the code gives nothing.
		if !now.Before(a.ExpiresAt) || a.Status != store.AuthRequestApproved {
			return a, errInvalidCode
		}
		a.CodeUsedAt, a.GrantID, a.ExpiresAt = now, g.ID, now.Add(usedCodeRetention)
		return a, nil
	})
	if replayed != nil {
		p.codeReplayed(ctx, *replayed)
	}
	// ErrNotFound: the request, or the user or client of the grant, is
	// gone since it was read.
	if errors.Is(err, errInvalidCode) || errors.Is(err, store.ErrNotFound) {
		p.tokenError(w, r, oidc.ErrInvalidGrant().WithDescription("invalid code"))
		return
	}
	if err != nil {
		p.tokenError(w, r, err)
		return
	}
	resp, err := p.signTokens(ctx, t)
	if err != nil {
		// The grant was never given out; it must not become usable.
		if err := p.d.Store.RevokeGrant(context.WithoutCancel(ctx), g.ID, p.now()); err != nil && !errors.Is(err, store.ErrNotFound) {
			p.log.ErrorContext(ctx, "revoke the grant of a failed code exchange", "client_id", c.c.ID, "err", err)
		}
		p.tokenError(w, r, err)
		return
	}
	p.recordIssued(ctx, r, u.ID, oidc.GrantTypeCode, c.c.ID)
	writeJSON(w, http.StatusOK, resp)
}

// signInStands reports whether the sign-in behind a code still stands:
// its session has not been ended and acts for whom it acted for at the
// approval, and the user's consent, where the approval rested on one,
// still covers what was approved.
// What revokes a user's grants (a password change, an operator's sign-out,
// a switch of the identity a session acts as, a withdrawn consent)
// changes the session or the consent first and then denies the approved
// codes: an approval that ran between the two is caught here, before the
// redemption, and one that ran before them is denied, or its grant revoked
// if it is being redeemed (docs/design-notes.md, "A code is worth
// something only while its sign-in stands").
func (p *Provider) signInStands(ctx context.Context, ar *authRequest, c *client) (bool, error) {
	ok, err := p.d.Sessions.Stands(ctx, ar.UserID, ar.SID, ar.params.SessionActing)
	if err != nil || !ok || c.c.FirstParty && !ar.params.PromptConsent {
		return ok, err
	}
	have, err := p.d.Store.GetConsent(ctx, ar.UserID, c.c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil && covers(have.Scopes, ar.params.Scopes), err
}

// exchangeRefreshToken rotates a refresh token: the presented one is used
// up and a new one issued with new access and ID tokens. A used token
// presented again revokes its grant (opStorage.TokenRequestByRefreshToken,
// or the rotation's compare-and-swap for a concurrent replay).
func (p *Provider) exchangeRefreshToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	req, err := op.ParseRefreshTokenRequest(r, p.op.Decoder())
	if err != nil {
		p.tokenError(w, r, err)
		return
	}
	// op answers a client assertion here with a plain error (a 500 for
	// unid); at the code exchange it says invalid_client. Say it here too:
	// unid's clients authenticate with their secret, or not at all.
	if req.ClientAssertionType == oidc.ClientAssertionTypeJWTAssertion {
		p.tokenError(w, r, oidc.ErrInvalidClient().WithDescription("auth_method private_key_jwt not supported"))
		return
	}
	opReq, opc, err := op.ValidateRefreshTokenRequest(ctx, req, p.op)
	if err != nil {
		if errors.Is(err, errInvalidRefresh) {
			err = oidc.ErrInvalidGrant().WithDescription("invalid refresh token")
		}
		p.tokenError(w, r, err)
		return
	}
	rr, c := opReq.(*refreshRequest), opc.(*client)
	u, ok := p.tokenUser(w, r, rr.grant.UserID)
	if !ok {
		return
	}
	// A client's minimum real-name level holds for every token, not only
	// at sign-in: a user who fell below it (a binding removed, an appeal
	// that moved their ID number away) gets no new tokens for it.
	if need := claims.Required(c.c, 0); !claims.Satisfies(u.RealnameLevel, need) {
		p.refreshRefused(ctx, r, rr.grant, "level_below_minimum",
			audit.Detail{"level": strconv.Itoa(u.RealnameLevel), "required": strconv.Itoa(need)})
		p.tokenError(w, r, oidc.ErrInvalidGrant().WithDescription("the user's real-name level is below the client's minimum"))
		return
	}
	// The enterprise the grant acts for is read again: a revoked role is
	// released no more, and a client that requires one refuses the refresh.
	m, err := acting.Live(ctx, p.d.Enterprises, u.ID, rr.grant.ActingUSCC)
	if err != nil {
		p.tokenError(w, r, err)
		return
	}
	if !acting.MeetsRole(c.c, m) {
		p.refreshRefused(ctx, r, rr.grant, "enterprise_role_gone", audit.Detail{"required": c.c.MinEnterpriseRole})
		p.tokenError(w, r, oidc.ErrInvalidGrant().WithDescription(roleDescription, c.c.MinEnterpriseRole))
		return
	}
	scopes := claims.Grant(rr.scopes, c.c, u.RealnameLevel)
	t, err := p.prepareTokens(rr.grant, u, c, scopes, "", acting.Released(m), true)
	if err != nil {
		p.tokenError(w, r, err)
		return
	}
	err = p.d.Store.RotateRefreshToken(ctx, rr.token.TokenHash, *t.refreshRow)
	if errors.Is(err, store.ErrConflict) {
		p.refreshReplayed(ctx, rr.grant)
	}
	// ErrNotFound: the token or its grant is gone since it was read.
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		err = oidc.ErrInvalidGrant().WithDescription("invalid refresh token")
	}
	if err != nil {
		p.tokenError(w, r, err)
		return
	}
	resp, err := p.signTokens(ctx, t)
	if err != nil {
		p.tokenError(w, r, err)
		return
	}
	p.recordIssued(ctx, r, u.ID, oidc.GrantTypeRefreshToken, c.c.ID)
	writeJSON(w, http.StatusOK, resp)
}

// exchangeClientCredentials issues an access token to a confidential
// client for itself: sub is the client, aud is unid, and the scopes are
// those the client is registered for (none about users).
func (p *Provider) exchangeClientCredentials(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	req, err := op.ParseClientCredentialsRequest(r, p.op.Decoder())
	if err != nil {
		p.tokenError(w, r, err)
		return
	}
	opReq, opc, err := op.ValidateClientCredentialsRequest(ctx, req, p.op)
	if err != nil {
		p.tokenError(w, r, err)
		return
	}
	cr, c := opReq.(*ccRequest), opc.(*client)
	now := p.now()
	exp := now.Add(p.o.AccessTokenTTL)
	claims := &oidc.AccessTokenClaims{
		TokenClaims: oidc.TokenClaims{
			Issuer: p.issuer, Subject: c.c.ID, Audience: []string{p.issuer},
			Expiration: oidc.FromTime(exp), IssuedAt: oidc.FromTime(now), ClientID: c.c.ID, JWTID: newID(),
		},
		Scopes: cr.scopes,
	}
	access, _, err := p.keys.sign(ctx, typAccessToken, claims)
	if err != nil {
		p.tokenError(w, r, err)
		return
	}
	p.recordClientToken(ctx, r, c.c.ID)
	writeJSON(w, http.StatusOK, &oidc.AccessTokenResponse{
		AccessToken: access, TokenType: oidc.BearerToken, ExpiresIn: uint64(p.o.AccessTokenTTL / time.Second), Scope: cr.scopes,
	})
}

// userTokens is what a user's grant is issued, worked out before anything
// is stored: the ID token's claims, and the refresh token with the row that
// stores it (nil for none).
type userTokens struct {
	g          store.Grant
	u          store.User
	c          *client
	scopes     []string
	nonce      string
	acr        string
	extra      map[string]any
	refresh    string
	refreshRow *store.RefreshToken
	now        time.Time
}

// prepareTokens works out the tokens of a grant; withRefresh makes a new
// refresh token (the family's first, or the successor of a rotated one),
// which expires with the refresh lifetime but never past the grant's
// absolute limit.
func (p *Provider) prepareTokens(g store.Grant, u store.User, c *client, scopes []string, nonce string, ent *claims.Enterprise, withRefresh bool) (*userTokens, error) {
	t := &userTokens{g: g, u: u, c: c, scopes: scopes, nonce: nonce, now: p.now()}
	var err error
	if t.acr, t.extra, err = idTokenClaims(u, c.c, scopes, ent); err != nil {
		return nil, err
	}
	if withRefresh {
		t.refresh = newSecret()
		exp := t.now.Add(p.o.RefreshTTL) // sliding, but never past the grant's absolute limit
		if limit := g.CreatedAt.Add(p.o.RefreshMaxTTL); limit.Before(exp) {
			exp = limit
		}
		t.refreshRow = &store.RefreshToken{TokenHash: hashToken(t.refresh), GrantID: g.ID, CreatedAt: t.now, ExpiresAt: exp}
	}
	return t, nil
}

// signTokens signs the access token, whose jti names the grant, and the ID
// token when the scopes have openid; the refresh token must be stored by
// then.
func (p *Provider) signTokens(ctx context.Context, t *userTokens) (*oidc.AccessTokenResponse, error) {
	g, u, c, now := t.g, t.u, t.c, t.now
	resp := &oidc.AccessTokenResponse{TokenType: oidc.BearerToken, ExpiresIn: uint64(p.o.AccessTokenTTL / time.Second), Scope: t.scopes, RefreshToken: t.refresh}
	access := &oidc.AccessTokenClaims{
		TokenClaims: oidc.TokenClaims{
			Issuer: p.issuer, Subject: u.ID, Audience: []string{c.c.ID},
			Expiration: oidc.FromTime(now.Add(p.o.AccessTokenTTL)), IssuedAt: oidc.FromTime(now),
			AuthTime: oidc.FromTime(g.AuthTime), AuthenticationContextClassReference: t.acr,
			ClientID: c.c.ID, JWTID: g.ID + "." + newID(),
		},
		Scopes: t.scopes,
	}
	var alg = algorithms[p.o.Algorithm]
	var err error
	if resp.AccessToken, alg, err = p.keys.sign(ctx, typAccessToken, access); err != nil {
		return nil, err
	}
	if !slices.Contains(t.scopes, claims.ScopeOpenID) {
		return resp, nil
	}
	id := &oidc.IDTokenClaims{
		TokenClaims: oidc.TokenClaims{
			Issuer: p.issuer, Subject: u.ID, Audience: []string{c.c.ID},
			Expiration: oidc.FromTime(now.Add(p.o.IDTokenTTL)), IssuedAt: oidc.FromTime(now),
			AuthTime: oidc.FromTime(g.AuthTime), Nonce: t.nonce, AuthenticationContextClassReference: t.acr,
			AuthenticationMethodsReferences: claims.AMR(g.AMR), AuthorizedParty: c.c.ID,
		},
		SessionID: g.SID,
		Claims:    t.extra,
	}
	if id.AccessTokenHash, err = oidc.ClaimHash(resp.AccessToken, alg); err != nil {
		return nil, err
	}
	if resp.IDToken, _, err = p.keys.sign(ctx, typIDToken, id); err != nil {
		return nil, err
	}
	return resp, nil
}

// tokenUser returns the user a token request is for, or answers the
// request: invalid_grant for a user who may no longer sign in.
func (p *Provider) tokenUser(w http.ResponseWriter, r *http.Request, id string) (store.User, bool) {
	u, ok, err := p.activeUser(r.Context(), id)
	if err != nil {
		p.tokenError(w, r, err)
		return store.User{}, false
	}
	if !ok {
		p.tokenError(w, r, oidc.ErrInvalidGrant().WithDescription("the user cannot sign in"))
	}
	return u, ok
}

// activeUser returns the user id if it exists and may sign in.
func (p *Provider) activeUser(ctx context.Context, id string) (store.User, bool, error) {
	u, err := p.d.Store.GetUser(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, false, nil
	}
	if err != nil {
		return store.User{}, false, err
	}
	return u, u.Status == store.UserActive, nil
}

// codeReplayed revokes the grant made from a code that is presented again
// (RFC 6749 section 4.1.2): whoever has the code now, the tokens issued
// from it are no longer trusted.
func (p *Provider) codeReplayed(ctx context.Context, a store.AuthRequest) {
	ctx = context.WithoutCancel(ctx) // a replayer who hangs up does not keep the tokens
	if a.GrantID != "" {
		if err := p.d.Store.RevokeGrant(ctx, a.GrantID, p.now()); err != nil && !errors.Is(err, store.ErrNotFound) {
			p.log.ErrorContext(ctx, "revoke the grant of a replayed code", "client_id", a.ClientID, "err", err)
		}
	}
	p.record(ctx, nil, audit.Entry{Actor: audit.User(a.UserID), Action: ActionCodeReuse, Result: "grant_revoked",
		Detail: audit.Detail{"client_id": a.ClientID}})
}

// refreshReplayed revokes the grant of a used refresh token presented
// again: every refresh token of the family, the rotated one too, and every
// access token of the grant stop working.
func (p *Provider) refreshReplayed(ctx context.Context, g store.Grant) {
	ctx = context.WithoutCancel(ctx)
	if err := p.d.Store.RevokeGrant(ctx, g.ID, p.now()); err != nil && !errors.Is(err, store.ErrNotFound) {
		p.log.ErrorContext(ctx, "revoke the grant of a replayed refresh token", "client_id", g.ClientID, "err", err)
	}
	p.record(ctx, nil, audit.Entry{Actor: audit.User(g.UserID), Action: ActionRefreshReuse, Result: "family_revoked",
		Detail: audit.Detail{"client_id": g.ClientID}})
}

// refreshRefused revokes a grant whose user no longer meets what its
// client requires (result: level_below_minimum, enterprise_role_gone),
// and audits it with detail.
func (p *Provider) refreshRefused(ctx context.Context, r *http.Request, g store.Grant, result string, detail audit.Detail) {
	if err := p.d.Store.RevokeGrant(ctx, g.ID, p.now()); err != nil && !errors.Is(err, store.ErrNotFound) {
		p.log.ErrorContext(ctx, "revoke a refused grant", "client_id", g.ClientID, "reason", result, "err", err)
	}
	detail["client_id"] = g.ClientID
	p.record(ctx, r, audit.Entry{Actor: audit.User(g.UserID), Action: ActionRefreshRefused, Result: result, Detail: detail})
}

// recordClientToken audits client-credentials issuance. Machines ask for
// tokens far more often than people sign in, and one hash-chained event per
// token would make the audit chain the limit of the endpoint (it cut
// issuance to a quarter here), so each client gets one event per
// ClientAuditWindow on each instance: the first token of a window is
// recorded, and the next event says how many tokens were issued after it
// without their own event.
func (p *Provider) recordClientToken(ctx context.Context, r *http.Request, clientID string) {
	detail := audit.Detail{"grant_type": string(oidc.GrantTypeClientCredentials), "client_id": clientID}
	if p.o.ClientAuditWindow > 0 {
		now := p.d.Now()
		p.ccMu.Lock()
		w, seen := p.ccSeen[clientID]
		if seen && now.Sub(w.since) < p.o.ClientAuditWindow {
			w.unrecorded++
			p.ccSeen[clientID] = w
			p.ccMu.Unlock()
			return
		}
		p.ccSeen[clientID] = ccWindow{since: now}
		p.ccMu.Unlock()
		if w.unrecorded > 0 {
			detail["unrecorded_since_last"] = strconv.Itoa(w.unrecorded)
		}
	}
	p.record(ctx, r, audit.Entry{Actor: audit.ClientActor(clientID), Action: ActionTokenIssued, Result: audit.ResultOK, Detail: detail, Client: clientID})
}

// ccWindow counts a client's tokens since its last audit event.
type ccWindow struct {
	since      time.Time
	unrecorded int
}

// recordIssued audits tokens issued to clientID for the user userID.
func (p *Provider) recordIssued(ctx context.Context, r *http.Request, userID string, grant oidc.GrantType, clientID string) {
	p.record(ctx, r, audit.Entry{Actor: audit.User(userID), Action: ActionTokenIssued, Result: audit.ResultOK,
		Detail: audit.Detail{"grant_type": string(grant), "client_id": clientID}, Client: clientID})
}

// errText is an error for the log: its message, or "" for none.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
