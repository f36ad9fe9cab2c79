package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"unid/internal/claims"
	registry "unid/internal/client"
	"unid/internal/i18n"
	"unid/internal/problem"
	"unid/internal/session"
	"unid/internal/store"
)

// Limits on what a browser may send to the authorize and logout endpoints.
// Nothing legitimate comes near them; a request over them is refused with
// a page, before anything is stored or echoed back.
const (
	maxQueryBytes = 8 << 10  // the whole query string
	maxFormBytes  = 16 << 10 // the whole body of a protocol POST
	maxStateBytes = 1024     // state: an RP's opaque value
	maxNonceBytes = 512
	maxScopeBytes = 1024
	maxURIBytes   = 2048
	maxIDBytes    = 128 // client ids, request ids, login hints
)

// Page error codes (messages page.sso_error.<code>).
const (
	pageRequestInvalid  = "request_invalid"
	pageRequestTooLarge = "request_too_large"
	pageUnknownClient   = "unknown_client"
	pageRedirectURI     = "redirect_uri"
	pageRequestExpired  = "request_expired"
	pageLogoutInvalid   = "logout_invalid"
	pageUnavailable     = "unavailable"
)

// oidc error codes that zitadel/oidc has no constructor for.
const (
	errConsentRequired        = "consent_required"
	errUnmetAuthn             = "unmet_authentication_requirements"
	errRequestURINotSupported = "request_uri_not_supported"
)

// errClientDisabled is the answer to a disabled client's authorization
// request (RFC 6749 section 4.1.2.1: the client may not ask for a code
// now).
func errClientDisabled() *oidc.Error {
	return oidc.ErrUnauthorizedClient().WithDescription("the client is disabled")
}

func callbackPath(id string) string { return "/oidc/authorize/callback?id=" + url.QueryEscape(id) }

// upgradePath is the real-name upgrade page, which offers a way back to
// next once the user has level, the level needed.
func upgradePath(next, lang string, level int) string {
	p := "/settings/realname?next=" + url.QueryEscape(next) + "&level=" + strconv.Itoa(level)
	if lang != "" {
		p += "&lang=" + url.QueryEscape(lang)
	}
	return p
}

// authorize starts a sign-in: it checks the client and its redirect URI
// (showing a page when either is wrong: an error is never sent to an
// address the client did not register), validates the rest (errors from
// here go back to the client) and goes on with resume, which stores the
// request.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	r = r.WithContext(op.ContextWithIssuer(r.Context(), p.issuer))
	if len(r.URL.RawQuery) > maxQueryBytes {
		p.d.Pages.SSOError(w, r, http.StatusRequestURITooLong, pageRequestTooLarge)
		return
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	}
	req, err := op.ParseAuthorizeRequest(r, p.op.Decoder())
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			p.d.Pages.SSOError(w, r, http.StatusRequestEntityTooLarge, pageRequestTooLarge)
			return
		}
		p.d.Pages.SSOError(w, r, http.StatusBadRequest, pageRequestInvalid)
		return
	}
	if tooLarge(req) {
		p.d.Pages.SSOError(w, r, http.StatusBadRequest, pageRequestTooLarge)
		return
	}
	c, ok := p.pageClient(w, r, req.ClientID)
	if !ok {
		return
	}
	// Exactly as registered: no extra path, query or port. The registry
	// allowed each registered URI (https, http on loopback, an app's own
	// scheme for public clients), so nothing else needs judging here.
	if req.RedirectURI == "" || !slices.Contains(c.c.RedirectURIs, req.RedirectURI) {
		p.d.Pages.SSOError(w, r, http.StatusBadRequest, pageRedirectURI)
		return
	}
	// A disabled client is told so at its registered address.
	if registry.CheckActive(c.c) != nil {
		op.AuthRequestError(w, r, req, errClientDisabled(), p.op)
		return
	}

	// zitadel's AuthRequest has no request_uri field: without this check a
	// request_uri would be ignored, not refused (OpenID Connect Core
	// 3.1.2.6; discovery says it is not supported).
	if r.Form.Has("request_uri") {
		op.AuthRequestError(w, r, req, &oidc.Error{ErrorType: errRequestURINotSupported}, p.op)
		return
	}
	params, err := p.validateAuthRequest(r.Context(), req, c)
	if err != nil {
		op.AuthRequestError(w, r, req, err, p.op)
		return
	}
	// Stored when a page must come back to it (p.redirect) or when it is
	// answered with a code (p.approve): a signed-in user's request is
	// stored once, approved, with its code; one answered with an error at
	// once is not stored.
	now := p.now()
	a := store.AuthRequest{
		ID: newID(), ClientID: c.c.ID, Status: store.AuthRequestPending,
		CreatedAt: now, ExpiresAt: now.Add(p.o.AuthRequestTTL),
	}
	p.resume(w, r, &authRequest{AuthRequest: a, params: params, unsaved: true}, c)
}

// tooLarge reports whether a parameter is longer than any legitimate one.
func tooLarge(req *oidc.AuthRequest) bool {
	return len(req.State) > maxStateBytes || len(req.Nonce) > maxNonceBytes ||
		len(req.Scopes.String()) > maxScopeBytes || len(req.RedirectURI) > maxURIBytes ||
		len(req.ClientID) > maxIDBytes || len(req.LoginHint) > maxIDBytes ||
		len(req.IDTokenHint) > maxTokenBytes || len(req.ACRValues.String()) > maxScopeBytes ||
		len(req.CodeChallenge) > 128
}

// validateAuthRequest checks everything but the client and redirect URI,
// and returns what is kept of the request.
func (p *Provider) validateAuthRequest(ctx context.Context, req *oidc.AuthRequest, c *client) (authParams, error) {
	if req.RequestParam != "" {
		return authParams{}, oidc.ErrRequestNotSupported()
	}
	if err := op.ValidateAuthReqResponseType(c, req.ResponseType); err != nil {
		return authParams{}, err
	}
	switch req.ResponseMode {
	case "", oidc.ResponseModeQuery, oidc.ResponseModeFormPost:
	default:
		return authParams{}, oidc.ErrInvalidRequest().WithDescription("response_mode must be query or form_post")
	}
	maxAge, err := op.ValidateAuthReqPrompt(req.Prompt, req.MaxAge)
	if err != nil {
		return authParams{}, err
	}
	if !slices.Contains(req.Scopes, claims.ScopeOpenID) {
		return authParams{}, oidc.ErrInvalidScope().WithDescription("the openid scope is required")
	}
	params := authParams{
		Scopes:       claims.Requested(req.Scopes, c.c),
		ResponseType: string(req.ResponseType), ResponseMode: string(req.ResponseMode),
		RedirectURI: req.RedirectURI, State: req.State, Nonce: req.Nonce, MaxAge: maxAge,
		PromptNone:    slices.Contains(req.Prompt, oidc.PromptNone),
		PromptLogin:   slices.Contains(req.Prompt, oidc.PromptLogin),
		PromptConsent: slices.Contains(req.Prompt, oidc.PromptConsent),
		SelectAccount: slices.Contains(req.Prompt, oidc.PromptSelectAccount),
	}

	// PKCE: S256 only; required of public clients, optional for
	// confidential ones (which also authenticate at the token endpoint).
	switch {
	case req.CodeChallenge == "" && req.CodeChallengeMethod != "":
		return authParams{}, oidc.ErrInvalidRequest().WithDescription("code_challenge_method without code_challenge")
	case req.CodeChallenge == "" && !c.confidential():
		return authParams{}, oidc.ErrInvalidRequest().WithDescription("code_challenge (S256) is required")
	case req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256:
		return authParams{}, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	case req.CodeChallenge != "" && !validChallenge(req.CodeChallenge):
		return authParams{}, oidc.ErrInvalidRequest().WithDescription("code_challenge is not a S256 challenge")
	}
	params.CodeChallenge, params.CodeChallengeMethod = req.CodeChallenge, string(req.CodeChallengeMethod)

	params.MinLevel = claims.RequiredLevel(req.ACRValues)
	if req.IDTokenHint != "" {
		hint, err := p.verifyIDTokenHint(ctx, req.IDTokenHint)
		if err != nil {
			return authParams{}, oidc.ErrLoginRequired().WithDescription("id_token_hint is not valid")
		}
		params.HintSubject = hint.Subject
	}
	for _, tag := range req.UILocales {
		if l, ok := i18n.Parse(tag.String()); ok {
			params.Lang = string(l)
			break
		}
	}
	return params, nil
}

// validChallenge reports whether s looks like BASE64URL(SHA-256(verifier)).
func validChallenge(s string) bool {
	if len(s) != 43 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// callback is where the login and consent pages send the browser back to:
// it goes on with the stored request.
func (p *Provider) callback(w http.ResponseWriter, r *http.Request) {
	r = r.WithContext(op.ContextWithIssuer(r.Context(), p.issuer))
	ar, c, ok := p.loadRequest(w, r, r.URL.Query().Get("id"))
	if !ok {
		return
	}
	// Removed while the user signed in (an operator shutting out a
	// compromised address): nothing more goes there, not even an error.
	if !slices.Contains(c.c.RedirectURIs, ar.params.RedirectURI) {
		p.d.Pages.SSOError(w, r, http.StatusBadRequest, pageRedirectURI)
		return
	}
	if registry.CheckActive(c.c) != nil { // disabled while the user signed in
		op.AuthRequestError(w, r, ar, errClientDisabled(), p.op)
		return
	}
	if ar.Status == store.AuthRequestDenied {
		op.AuthRequestError(w, r, ar, oidc.ErrAccessDenied().WithDescription("the user denied the request"), p.op)
		return
	}
	p.resume(w, r, ar, c)
}

// loadRequest finds a live request that has no code yet, or shows a page
// saying why there is none.
func (p *Provider) loadRequest(w http.ResponseWriter, r *http.Request, id string) (*authRequest, *client, bool) {
	ctx := r.Context()
	if id == "" || len(id) > maxIDBytes {
		p.d.Pages.SSOError(w, r, http.StatusBadRequest, pageRequestInvalid)
		return nil, nil, false
	}
	a, err := p.d.Store.GetAuthRequest(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && (!p.d.Now().Before(a.ExpiresAt) || a.CodeHash != nil) {
		p.d.Pages.SSOError(w, r, http.StatusGone, pageRequestExpired)
		return nil, nil, false
	}
	if err != nil {
		p.log.ErrorContext(ctx, "load auth request", "err", err)
		p.d.Pages.SSOError(w, r, http.StatusServiceUnavailable, pageUnavailable)
		return nil, nil, false
	}
	ar, err := decodeAuthRequest(a)
	if err != nil {
		p.log.ErrorContext(ctx, "load auth request", "err", err)
		p.d.Pages.SSOError(w, r, http.StatusServiceUnavailable, pageUnavailable)
		return nil, nil, false
	}
	c, ok := p.pageClient(w, r, a.ClientID)
	if !ok {
		return nil, nil, false
	}
	return ar, c, true
}

// pageClient returns the OpenID Connect client id of a browser request, or
// shows a page: the client is not registered (any more), or the registry
// cannot answer.
func (p *Provider) pageClient(w http.ResponseWriter, r *http.Request, id string) (*client, bool) {
	c, err := p.oidcClient(r.Context(), id)
	if err == nil {
		return c, true
	}
	if problem.As(err).Kind == problem.NotFound {
		p.d.Pages.SSOError(w, r, http.StatusBadRequest, pageUnknownClient)
		return nil, false
	}
	p.log.ErrorContext(r.Context(), "authorize: client registry", "err", err)
	p.d.Pages.SSOError(w, r, http.StatusServiceUnavailable, pageUnavailable)
	return nil, false
}

// resume decides what a stored request needs next: a (fresh) sign-in, the
// consent page, an error, or its code.
func (p *Provider) resume(w http.ResponseWriter, r *http.Request, ar *authRequest, c *client) {
	ctx := r.Context()
	s, u, signedIn, err := p.d.Sessions.SignedIn(ctx, r)
	if err != nil {
		p.serverError(w, r, ar, err)
		return
	}
	params := ar.params
	if !signedIn || params.HintSubject != "" && params.HintSubject != u.ID || p.needsFreshLogin(s, ar) {
		if params.PromptNone {
			op.AuthRequestError(w, r, ar, oidc.ErrLoginRequired(), p.op)
			return
		}
		login := "/login?next=" + url.QueryEscape(callbackPath(ar.ID))
		if params.Lang != "" {
			login += "&lang=" + url.QueryEscape(params.Lang)
		}
		p.redirect(w, r, ar, login)
		return
	}
	// Step-up: the level acr_values ask for, or the client's registered
	// minimum. The upgrade page sends the user back to the callback once
	// the level is reached, and the request goes on from here.
	if required := claims.Required(c.c, params.MinLevel); !claims.Satisfies(u.RealnameLevel, required) {
		if params.PromptNone {
			op.AuthRequestError(w, r, ar, &oidc.Error{ErrorType: errUnmetAuthn,
				Description: "the user's real-name level is below the level the client requires"}, p.op)
			return
		}
		p.redirect(w, r, ar, upgradePath(callbackPath(ar.ID), params.Lang, required))
		return
	}
	scopes := claims.Grant(params.Scopes, c.c, u.RealnameLevel)
	// Whom the sign-in acts for: the identity page when the session has
	// no choice yet, then the client's minimum enterprise role.
	acting, ok := p.actingFor(w, r, ar, c, s, scopes)
	if !ok {
		return
	}
	ar.params.ActingUSCC = acting
	consented := ar.Status == store.AuthRequestApproved && ar.UserID == u.ID // on the consent page, for this request
	if !consented && (params.PromptConsent || !c.c.FirstParty) {
		need := params.PromptConsent
		if !need {
			have, err := p.d.Store.GetConsent(ctx, u.ID, c.c.ID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				p.serverError(w, r, ar, err)
				return
			}
			need = err != nil || !covers(have.Scopes, scopes)
		}
		if need {
			if params.PromptNone {
				op.AuthRequestError(w, r, ar, &oidc.Error{ErrorType: errConsentRequired}, p.op)
				return
			}
			p.redirect(w, r, ar, "/oidc/consent?id="+url.QueryEscape(ar.ID))
			return
		}
	}
	code := newSecret()
	if err := p.approve(ctx, ar, s, u, scopes, code); err != nil {
		p.serverError(w, r, ar, err)
		return
	}
	err = p.d.Store.AddSessionClient(ctx, store.SessionClient{
		SID: s.SID, ClientID: c.c.ID, Protocol: "oidc", UserID: u.ID, Acting: acting, CreatedAt: p.now(),
	})
	if err != nil {
		p.serverError(w, r, ar, err)
		return
	}
	p.sendCode(w, r, ar, code)
}

// redirect sends the browser to a page that comes back to the callback
// with the request's id, storing the request first if it is not yet.
func (p *Provider) redirect(w http.ResponseWriter, r *http.Request, ar *authRequest, to string) {
	if ar.unsaved {
		if err := p.save(r.Context(), ar, ar.AuthRequest); err != nil {
			p.serverError(w, r, ar, err)
			return
		}
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// save stores a as the request ar, with ar's parameters.
func (p *Provider) save(ctx context.Context, ar *authRequest, a store.AuthRequest) error {
	enc, err := json.Marshal(ar.params)
	if err != nil {
		return err
	}
	a.Params = enc
	if err := p.d.Store.CreateAuthRequest(ctx, a); err != nil {
		return err
	}
	ar.AuthRequest, ar.unsaved = a, false
	return nil
}

// sendCode answers the client at its redirect URI with the code, in the
// query or by form post (OAuth 2.0 Form Post Response Mode), through op's
// encoders as op.AuthResponse would; op.AuthResponse itself would make a
// code of its own and store it in an update of its own.
func (p *Provider) sendCode(w http.ResponseWriter, r *http.Request, ar *authRequest, code string) {
	// The code is in the answer: kept by no cache, sent in no Referer,
	// and the form post page shown in no frame.
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	resp := &op.CodeResponseType{Code: code, State: ar.params.State}
	if ar.GetResponseMode() == oidc.ResponseModeFormPost {
		if err := op.AuthResponseFormPost(w, ar.GetRedirectURI(), resp, p.op.Encoder()); err != nil {
			p.serverError(w, r, ar, err)
		}
		return
	}
	to, err := op.AuthResponseURL(ar.GetRedirectURI(), ar.GetResponseType(), ar.GetResponseMode(), resp, p.op.Encoder())
	if err != nil {
		p.serverError(w, r, ar, err)
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

// needsFreshLogin reports whether the request wants credentials presented
// after it was made (prompt=login, or a session older than max_age).
func (p *Provider) needsFreshLogin(s store.Session, ar *authRequest) bool {
	m := ar.params.MaxAge
	if m == nil || !s.AuthTime.Before(ar.CreatedAt) {
		return false
	}
	return p.d.Now().Sub(s.AuthTime) > time.Duration(*m)*time.Second
}

// approve records who approved the request, with which session and
// scopes, in one write with the hash of its code when code is not empty
// (the consent page approves a request that gets its code at the
// callback).
func (p *Provider) approve(ctx context.Context, ar *authRequest, s store.Session, u store.User, scopes []string, code string) error {
	ar.params.Scopes = scopes
	ar.params.SessionActing, _ = session.Acting(s)
	approved := func(a store.AuthRequest) store.AuthRequest {
		a.Status, a.UserID, a.SID, a.AuthTime, a.AMR = store.AuthRequestApproved, u.ID, s.SID, s.AuthTime, s.AMR
		if code != "" {
			a.CodeHash, a.ExpiresAt = hashToken(code), p.now().Add(p.o.CodeTTL)
		}
		return a
	}
	if ar.unsaved {
		return p.save(ctx, ar, approved(ar.AuthRequest))
	}
	enc, err := json.Marshal(ar.params)
	if err != nil {
		return err
	}
	_, err = p.d.Store.UpdateAuthRequest(ctx, ar.ID, func(a store.AuthRequest) (store.AuthRequest, error) {
		if a.Status == store.AuthRequestDenied || a.CodeHash != nil || !p.d.Now().Before(a.ExpiresAt) {
			return a, errAnswered
		}
		a = approved(a)
		a.Params = enc
		return a, nil
	})
	return err
}

// serverError logs a fault of unid and tells the client "server_error"
// without details.
func (p *Provider) serverError(w http.ResponseWriter, r *http.Request, req op.ErrAuthRequest, err error) {
	p.log.ErrorContext(r.Context(), "authorization request failed", "err", err)
	op.AuthRequestError(w, r, req, oidc.ErrServerError(), p.op)
}

// consentPage shows the client's name and what it asks for, with Allow
// and Deny; the page posts the answer to /api/v1/consents.
func (p *Provider) consentPage(w http.ResponseWriter, r *http.Request) {
	ar, c, ok := p.loadRequest(w, r, r.URL.Query().Get("id"))
	if !ok {
		return
	}
	_, u, signedIn, err := p.d.Sessions.SignedIn(r.Context(), r)
	if err != nil || !signedIn || ar.Status != store.AuthRequestPending {
		// The callback knows what comes next (sign-in, an error, the code).
		http.Redirect(w, r, callbackPath(ar.ID), http.StatusSeeOther)
		return
	}
	p.d.Pages.Consent(w, r, ConsentPage{
		RequestID: ar.ID, ClientID: c.c.ID, ClientName: c.c.Name, LoginName: u.LoginName,
		Scopes: claims.Grant(ar.params.Scopes, c.c, u.RealnameLevel),
	})
}

// cancelPath is where the login page's "back to <client>" link goes.
func cancelPath(id string) string { return "/oidc/authorize/cancel?id=" + url.QueryEscape(id) }

// cancel is the login page's way back to the client without signing in:
// it denies the pending request, and the callback answers the client with
// access_denied at its redirect URI. A request that was answered already is
// left as it is; the callback then says what comes of it.
func (p *Provider) cancel(w http.ResponseWriter, r *http.Request) {
	ar, _, ok := p.loadRequest(w, r, r.URL.Query().Get("id"))
	if !ok {
		return
	}
	_, err := p.d.Store.UpdateAuthRequest(r.Context(), ar.ID, func(a store.AuthRequest) (store.AuthRequest, error) {
		if a.Status != store.AuthRequestPending || a.CodeHash != nil {
			return a, errAnswered
		}
		a.Status = store.AuthRequestDenied
		return a, nil
	})
	if err != nil && !errors.Is(err, errAnswered) {
		p.log.ErrorContext(r.Context(), "cancel auth request", "err", err)
		p.d.Pages.SSOError(w, r, http.StatusServiceUnavailable, pageUnavailable)
		return
	}
	http.Redirect(w, r, callbackPath(ar.ID), http.StatusSeeOther)
}

// PendingSignIn tells the login page which client a sign-in is for: next
// is the page's ?next=, which is callbackPath of a pending authorization
// request when the client sent the user there. It returns the client's
// name and the address that takes the user back to the client without
// signing in (the client then receives access_denied), or false when next
// is no live pending request.
func (p *Provider) PendingSignIn(ctx context.Context, next string) (clientName, backURL string, ok bool) {
	u, err := url.Parse(next)
	if err != nil || u.Path != "/oidc/authorize/callback" {
		return "", "", false
	}
	id := u.Query().Get("id")
	if id == "" || len(id) > maxIDBytes {
		return "", "", false
	}
	a, err := p.d.Store.GetAuthRequest(ctx, id)
	if err != nil || !p.d.Now().Before(a.ExpiresAt) || a.Status != store.AuthRequestPending || a.CodeHash != nil {
		return "", "", false
	}
	c, err := p.oidcClient(ctx, a.ClientID)
	if err != nil {
		return "", "", false
	}
	return c.c.Name, cancelPath(a.ID), true
}
