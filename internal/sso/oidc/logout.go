package oidc

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"unid/internal/audit"
	"unid/internal/httpx"
	"unid/internal/problem"
	"unid/internal/session"
	"unid/internal/store"
)

// Back-channel logout (OpenID Connect Back-Channel Logout 1.0).
const (
	backchannelEvent = "http://schemas.openid.net/event/backchannel-logout"
	logoutTokenTTL   = 2 * time.Minute
	// backchannelBudget is the longest a logout waits for the clients to
	// be told: every client is told at once, each POST has
	// Options.BackchannelTimeout, and one failed POST is tried again if
	// the budget allows.
	backchannelBudget = 5 * time.Second
)

// endSession is RP-initiated logout. It ends the browser's unid session
// (which tells every client of the session over the back channel) and
// returns to the client's post_logout_redirect_uri when that is registered
// for the client exactly, with state; otherwise to unid's home page.
func (p *Provider) endSession(w http.ResponseWriter, r *http.Request) {
	r = r.WithContext(op.ContextWithIssuer(r.Context(), p.issuer))
	ctx := r.Context()
	if len(r.URL.RawQuery) > maxQueryBytes {
		p.d.Pages.SSOError(w, r, http.StatusRequestURITooLong, pageRequestTooLarge)
		return
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	}
	req, err := op.ParseEndSessionRequest(r, p.op.Decoder())
	if err != nil || len(req.State) > maxStateBytes || len(req.PostLogoutRedirectURI) > maxURIBytes ||
		len(req.ClientID) > maxIDBytes || len(req.IdTokenHint) > maxTokenBytes {
		p.d.Pages.SSOError(w, r, http.StatusBadRequest, pageLogoutInvalid)
		return
	}
	var hint *oidc.IDTokenClaims
	clientID := req.ClientID
	if req.IdTokenHint != "" {
		if hint, err = p.verifyIDTokenHint(ctx, req.IdTokenHint); err != nil {
			p.d.Pages.SSOError(w, r, http.StatusBadRequest, pageLogoutInvalid)
			return
		}
		azp := hint.AuthorizedParty
		if azp == "" && len(hint.Audience) > 0 {
			azp = hint.Audience[0]
		}
		if clientID != "" && clientID != azp {
			p.d.Pages.SSOError(w, r, http.StatusBadRequest, pageLogoutInvalid)
			return
		}
		clientID = azp
	}
	redirect := "/"
	if req.PostLogoutRedirectURI != "" {
		if clientID == "" {
			p.d.Pages.SSOError(w, r, http.StatusBadRequest, pageLogoutInvalid)
			return
		}
		c, err := p.oidcClient(ctx, clientID)
		if err != nil || !slices.Contains(c.c.PostLogoutRedirectURIs, req.PostLogoutRedirectURI) {
			p.d.Pages.SSOError(w, r, http.StatusBadRequest, pageLogoutInvalid)
			return
		}
		u, err := url.Parse(req.PostLogoutRedirectURI)
		if err != nil {
			p.d.Pages.SSOError(w, r, http.StatusBadRequest, pageLogoutInvalid)
			return
		}
		if req.State != "" {
			q := u.Query()
			q.Set("state", req.State)
			u.RawQuery = q.Encode()
		}
		redirect = u.String()
	}

	s, ok, err := p.d.Sessions.Current(ctx, r)
	if err != nil {
		p.log.ErrorContext(ctx, "end session", "err", err)
		p.d.Pages.SSOError(w, r, http.StatusServiceUnavailable, pageUnavailable)
		return
	}
	// Without an ID token hint nothing shows that a client of this user
	// sent the request: a page of any site could have navigated here or
	// posted a form here (a site of the same registrable domain even gets
	// the SameSite=Lax cookie along). The user confirms by posting the
	// form back from unid's own page.
	if ok && hint == nil && (r.Method == http.MethodGet || !httpx.SameOrigin(r)) {
		w.Header().Set("Cache-Control", "no-store")
		p.d.Pages.LogoutConfirm(w, r, LogoutConfirmPage{ClientID: clientID, PostLogoutRedirectURI: req.PostLogoutRedirectURI, State: req.State})
		return
	}
	// A hint for another user than the browser's does not sign the browser
	// out: the request was not about this session.
	if ok && (hint == nil || hint.Subject == s.UserID) {
		how := session.Logout{Via: session.ViaOIDC, ClientID: clientID, Client: httpx.Client(r, p.o.TrustProxy)}
		if err := p.d.Sessions.End(ctx, w, r, how); err != nil {
			p.log.ErrorContext(ctx, "end session", "err", err)
			p.d.Pages.SSOError(w, r, http.StatusServiceUnavailable, pageUnavailable)
			return
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, redirect, http.StatusSeeOther)
}

// backchannelLogout is the session manager's hook: it tells every OpenID
// Connect client the ended session signed in to, all at once, and returns
// within backchannelBudget whatever the clients do. The session is gone by
// now, so a browser that leaves (cancelling its request) must not keep the
// clients from being told.
func (p *Provider) backchannelLogout(ctx context.Context, s store.Session) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), backchannelBudget)
	defer cancel()
	records, err := p.d.Store.ListSessionClients(ctx, s.SID)
	if err != nil {
		p.log.ErrorContext(ctx, "back-channel logout: list clients", "err", err)
		return
	}
	var wg sync.WaitGroup
	seen := map[string]bool{}
	for _, sc := range records {
		if sc.Protocol != "oidc" || seen[sc.ClientID] {
			continue
		}
		seen[sc.ClientID] = true
		wg.Go(func() { p.notifyLogout(ctx, sc.ClientID, s) })
	}
	wg.Wait()
}

// notifyLogout POSTs a logout token to the client's back-channel logout
// URI, once more if the first try fails for a reason a retry can help
// (network, 5xx) and the budget allows.
func (p *Provider) notifyLogout(ctx context.Context, clientID string, s store.Session) {
	c, err := p.d.Registry.Get(ctx, clientID)
	switch {
	case err != nil && problem.As(err).Kind == problem.NotFound, err == nil && c.BackchannelLogoutURI == "":
		return // deleted meanwhile, or it does not take back-channel logouts
	case err != nil:
		p.log.ErrorContext(ctx, "back-channel logout: client registry", "client_id", clientID, "err", err)
		p.recordLogout(ctx, clientID, s, "registry")
		return
	}
	now := p.now()
	claims := &oidc.LogoutTokenClaims{
		Issuer: p.issuer, Subject: s.UserID, Audience: []string{clientID},
		IssuedAt: oidc.FromTime(now), Expiration: oidc.FromTime(now.Add(logoutTokenTTL)), JWTID: newID(),
		Events: map[string]any{backchannelEvent: struct{}{}}, SessionID: s.SID,
	}
	token, _, err := p.keys.sign(ctx, typLogoutToken, claims)
	if err != nil {
		p.log.ErrorContext(ctx, "back-channel logout: sign", "client_id", clientID, "err", err)
		p.recordLogout(ctx, clientID, s, "sign")
		return
	}
	reason := ""
	for attempt := range 2 {
		if attempt > 0 {
			if deadline, ok := ctx.Deadline(); !ok || time.Until(deadline) < p.o.BackchannelTimeout/2 {
				break
			}
		}
		var retry bool
		reason, retry = p.postLogout(ctx, c.BackchannelLogoutURI, token)
		if reason == "" || !retry {
			break
		}
	}
	if reason != "" {
		// The client id only: the reason is a status or a class of network
		// failure, never a token.
		p.log.WarnContext(ctx, "back-channel logout failed", "client_id", clientID, "reason", reason)
	}
	p.recordLogout(ctx, clientID, s, reason)
}

// recordLogout audits the back-channel logout of a client: ok, or failed
// for reason. The actor is the user whose session ended, the sid ties it to
// that session.logout event. Not on ctx: when the budget ran out, ctx is
// done, and the failure is just what the audit log must keep.
func (p *Provider) recordLogout(ctx context.Context, clientID string, s store.Session, reason string) {
	e := audit.Entry{Actor: audit.User(s.UserID), Action: ActionBackchannelLogout, Result: audit.ResultOK,
		Detail: audit.Detail{"client_id": clientID, "sid": s.SID}}
	if reason != "" {
		e.Result, e.Detail["reason"] = audit.ResultFailed, reason
	}
	p.d.Audit.Append(context.WithoutCancel(ctx), e)
}

// postLogout makes one POST. It returns "" on success, else a short reason
// and whether trying again may help.
func (p *Provider) postLogout(ctx context.Context, uri, token string) (reason string, retry bool) {
	ctx, cancel := context.WithTimeout(ctx, p.o.BackchannelTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uri,
		strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
	if err != nil {
		return "bad_uri", false
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := p.http.Do(req)
	if err != nil {
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
			return "timeout", true
		}
		return "network", true
	}
	res.Body.Close()
	switch {
	case res.StatusCode == http.StatusOK || res.StatusCode == http.StatusNoContent:
		return "", false
	case res.StatusCode >= 500:
		return "status_" + strconv.Itoa(res.StatusCode), true
	}
	return "status_" + strconv.Itoa(res.StatusCode), false
}
