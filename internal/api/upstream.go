package api

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"unid/internal/flow"
	"unid/internal/flow/login"
	"unid/internal/httpx"
	"unid/internal/problem"
	"unid/internal/session"
	"unid/internal/store"
	"unid/internal/upstream"
)

// upstreamRoutes are sign-in through identity providers outside unid
// (Alipay, OpenID providers): the browser endpoints that go to a provider
// and come back, the register-or-bind step of a new identity, and the
// person's list of links.
func (a *API) upstreamRoutes() []httpx.Route {
	if a.Upstream == nil {
		return nil
	}
	return []httpx.Route{
		{Pattern: "GET /api/v1/upstreams", Handler: a.listUpstreams},
		{Pattern: "GET /upstream/{id}/start", Handler: a.startUpstream},
		{Pattern: "GET /upstream/{id}/callback", Handler: a.upstreamCallback},
		{Pattern: "GET /api/v1/upstream/pending", Handler: a.upstreamPending},
		{Pattern: "POST /api/v1/upstream/pending/register", Handler: a.upstreamRegister},
		{Pattern: "POST /api/v1/upstream/pending/bind", Handler: a.upstreamBind},
		{Pattern: "GET /api/v1/me/links", Handler: a.Guard.SignedIn(a.listLinks)},
		{Pattern: "DELETE /api/v1/me/links/{provider}", Handler: a.Guard.Recent(ReauthWindow, a.unlink)},
	}
}

// upstreamCookie is the cookie that binds a flow to the browser that
// started it (upstream.BrowserToken).
func (a *API) upstreamCookie() string {
	if a.SecureCookies {
		return "__Host-unid_upstream"
	}
	return "unid_upstream"
}

func (a *API) setUpstreamCookie(w http.ResponseWriter, value string, expires time.Time) {
	c := &http.Cookie{Name: a.upstreamCookie(), Value: value, Path: "/", HttpOnly: true,
		Secure: a.SecureCookies, SameSite: http.SameSiteLaxMode, Expires: expires}
	if value == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

func (a *API) browserToken(r *http.Request) upstream.BrowserToken {
	c, err := r.Cookie(a.upstreamCookie())
	if err != nil || len(c.Value) > 256 {
		return ""
	}
	return upstream.BrowserToken(c.Value)
}

type upstreamInfo struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	Name string `json:"name"`
	Icon string `json:"icon,omitempty"`
}

func infoOf(i upstream.Info) upstreamInfo {
	return upstreamInfo{ID: i.ID, Kind: i.Kind, Name: i.Name, Icon: i.Icon}
}

func infosOf(list []upstream.Info) []upstreamInfo {
	out := make([]upstreamInfo, 0, len(list))
	for _, i := range list {
		out = append(out, infoOf(i))
	}
	return out
}

func (a *API) listUpstreams(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, infosOf(a.Upstream.Providers()))
}

// startUpstream sends the browser to the provider (GET
// /upstream/{id}/start?purpose=&next=).
func (a *API) startUpstream(w http.ResponseWriter, r *http.Request) {
	id, q := r.PathValue("id"), r.URL.Query()
	purpose := q.Get("purpose")
	if purpose == "" {
		purpose = upstream.PurposeSignIn
	}
	var userID string
	if purpose == upstream.PurposeBind || purpose == upstream.PurposeReauth {
		// A way in added, or a sign-in renewed, only at the person's own
		// request: never because another site sent the browser here.
		if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
			http.Redirect(w, r, upstreamErrorPage(purpose, "reauthentication_required"), http.StatusSeeOther)
			return
		}
		s, u, ok, err := a.Sessions.SignedIn(r.Context(), r)
		if err != nil {
			a.Fail(w, r, problem.Wrap(err))
			return
		}
		if !ok {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		// A new way into the account outlives a password change: only a
		// person who proved themselves lately may add one, as for the
		// other sensitive changes.
		if purpose == upstream.PurposeBind && a.Now().Sub(s.AuthTime) > ReauthWindow {
			http.Redirect(w, r, upstreamErrorPage(purpose, "reauthentication_required"), http.StatusSeeOther)
			return
		}
		userID = u.ID
	}
	started, err := a.Upstream.Start(r.Context(), id, purpose, httpx.SafeNext(q.Get("next")), userID, a.client(r))
	if err != nil {
		if problem.As(err).Kind == problem.NotFound {
			a.NotFound(w, r)
			return
		}
		http.Redirect(w, r, upstreamErrorPage(purpose, problem.As(err).Code), http.StatusSeeOther)
		return
	}
	a.setUpstreamCookie(w, string(started.Browser), started.ExpiresAt)
	http.Redirect(w, r, started.RedirectURL, http.StatusSeeOther)
}

// upstreamErrorPage is the page that shows code for a flow of purpose.
func upstreamErrorPage(purpose, code string) string {
	switch purpose {
	case upstream.PurposeRecover:
		return "/recover?upstream_error=" + url.QueryEscape(code)
	case upstream.PurposeBind, upstream.PurposeReauth:
		return "/settings/links?error=" + url.QueryEscape(code)
	}
	return "/login?upstream_error=" + url.QueryEscape(code)
}

// upstreamCallback is where the provider sends the browser back.
func (a *API) upstreamCallback(w http.ResponseWriter, r *http.Request) {
	c := a.client(r)
	cur, signed, err := a.Sessions.Current(r.Context(), r)
	if err != nil {
		a.Fail(w, r, problem.Wrap(err))
		return
	}
	var signedIn string
	if signed {
		signedIn = cur.UserID
	}
	out, err := a.Upstream.Callback(r.Context(), r.PathValue("id"), r.URL.Query(), a.browserToken(r), signedIn, c)
	if err != nil {
		pr := problem.As(err)
		if pr.Kind == problem.NotFound {
			a.NotFound(w, r)
			return
		}
		if pr.Kind == problem.Internal {
			a.Fail(w, r, err)
			return
		}
		// A callback of another flow, or one replayed, leaves this
		// browser's own flow (a registration waiting, say) as it is.
		if pr.Code != upstream.CodeStateMismatch && pr.Code != flow.CodeExpired {
			a.setUpstreamCookie(w, "", time.Time{})
		}
		http.Redirect(w, r, upstreamErrorPage(out.Purpose, pr.Code), http.StatusSeeOther)
		return
	}
	next := out.Next
	if next == "" {
		next = "/me"
	}
	switch out.Result {
	case upstream.SignedIn:
		a.setUpstreamCookie(w, "", time.Time{})
		if !a.signInVerified(w, r, out.User, out.AMR) {
			return
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	case upstream.Pending:
		http.Redirect(w, r, "/upstream/continue", http.StatusSeeOther) // the cookie goes on
	case upstream.Recover:
		a.setUpstreamCookie(w, "", time.Time{})
		// In the fragment: it reaches the page's script, not a server log
		// or a Referer.
		http.Redirect(w, r, "/recover#flow="+url.QueryEscape(out.RecoveryID), http.StatusSeeOther)
	case upstream.Unlinked:
		a.setUpstreamCookie(w, "", time.Time{})
		http.Redirect(w, r, "/recover?upstream=unlinked", http.StatusSeeOther)
	case upstream.Bound:
		a.setUpstreamCookie(w, "", time.Time{})
		if out.Next != "" { // e.g. back to 实名认证, which asked for the link
			http.Redirect(w, r, out.Next, http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, "/settings/links?bound="+url.QueryEscape(r.PathValue("id")), http.StatusSeeOther)
	case upstream.Reauthed:
		a.setUpstreamCookie(w, "", time.Time{})
		// Callback refused a re-authentication of anyone but cur's user.
		if _, err := a.Sessions.Reauthenticate(r.Context(), cur, out.AMR, c); err != nil {
			a.Fail(w, r, problem.Wrap(err))
			return
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	}
}

// signInVerified starts a session for u, whose credentials amr were just
// checked; on failure it answers and returns false.
func (a *API) signInVerified(w http.ResponseWriter, r *http.Request, u store.User, amr []string) bool {
	c := a.client(r)
	if _, err := a.Sessions.SignInVerified(r.Context(), w, r, u, amr, c.IP, c.UserAgent); err != nil {
		if errors.Is(err, session.ErrCredentialsChanged) {
			err = &problem.Problem{Kind: problem.Unauthorized, Code: "login_failed"} // as if the password were wrong: it is now
		}
		a.Fail(w, r, problem.As(err))
		return false
	}
	return true
}

type pendingResponse struct {
	Provider  string `json:"provider"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Nickname  string `json:"nickname"`
	LoginName string `json:"login_name"`
	Certified bool   `json:"certified"`
	Next      string `json:"next,omitempty"`
}

func (a *API) upstreamPending(w http.ResponseWriter, r *http.Request) {
	p, err := a.Upstream.Pending(r.Context(), a.browserToken(r))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, pendingResponse{Provider: p.Provider.ID, Kind: p.Provider.Kind, Name: p.Provider.Name,
		Nickname: p.Nickname, LoginName: p.LoginName, Certified: p.Certified, Next: p.Next})
}

// upstreamRegister is the registration form (decodeRegistration), for an
// account linked to the pending identity; the password may be empty.
func (a *API) upstreamRegister(w http.ResponseWriter, r *http.Request) {
	req, ok := a.decodeRegistration(w, r)
	if !ok {
		return
	}
	u, amr, err := a.Upstream.Register(r.Context(), a.browserToken(r), req, a.client(r))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	a.finishPending(w, r, u, amr)
}

func (a *API) upstreamBind(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := a.Decode(w, r, &req); err != nil {
		a.Fail(w, r, err)
		return
	}
	u, amr, err := a.Upstream.Bind(r.Context(), a.browserToken(r), login.Request(req), a.client(r))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	a.finishPending(w, r, u, amr)
}

// finishPending signs in the account a register-or-bind step ended in.
func (a *API) finishPending(w http.ResponseWriter, r *http.Request, u store.User, amr []string) {
	a.setUpstreamCookie(w, "", time.Time{})
	a.signInAs(w, r, u, amr, http.StatusCreated)
}

type linkResponse struct {
	Provider   string    `json:"provider"`
	Kind       string    `json:"kind"`
	Name       string    `json:"name"`
	Nickname   string    `json:"nickname"`
	Certified  bool      `json:"certified"`
	LinkedAt   time.Time `json:"linked_at"`
	LastUsedAt time.Time `json:"last_used_at"`
}

type linksResponse struct {
	Links       []linkResponse `json:"links"`
	Available   []upstreamInfo `json:"available"`
	HasPassword bool           `json:"has_password"`
}

func (a *API) listLinks(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	links, available, err := a.Upstream.Links(r.Context(), s.User.ID)
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	out := linksResponse{Links: []linkResponse{}, Available: infosOf(available), HasPassword: s.User.PasswordHash != ""}
	for _, l := range links {
		out.Links = append(out.Links, linkResponse{Provider: l.Provider.ID, Kind: l.Provider.Kind, Name: l.Provider.Name,
			Nickname: l.Nickname, Certified: l.Certified, LinkedAt: l.LinkedAt, LastUsedAt: l.LastUsedAt})
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (a *API) unlink(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	if err := a.Upstream.Unlink(r.Context(), s.User.ID, r.PathValue("provider"), a.client(r)); err != nil {
		a.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
