package api

import (
	"net/http"

	"unid/internal/enterprise"
	"unid/internal/httpx"
	"unid/internal/problem"
	"unid/internal/session"
	"unid/internal/sso/acting"
)

// Enterprises is what the API asks of the enterprise space to switch the
// identity a session acts as, as single sign-on asks it.
type Enterprises = acting.Enterprises

// maxActingBody bounds the switch request: one credit code.
const maxActingBody = 1 << 10

// actingRoutes are the identity the browser session acts as in single
// sign-on (法人账号切换): the person or one of their enterprises. The
// identity page of a sign-in and the personal space's switch both use them.
func (a *API) actingRoutes() []httpx.Route {
	return []httpx.Route{
		{Pattern: "GET /api/v1/sessions/current/acting", Handler: a.Guard.SignedIn(a.getActing)},
		{Pattern: "POST /api/v1/sessions/current/acting", Handler: a.Guard.SignedIn(a.setActing)},
	}
}

// actingJSON is whom the session acts as: Acting nil for the person.
type actingJSON struct {
	Acting     *enterprise.Membership  `json:"acting"`
	Chosen     bool                    `json:"chosen"`               // the user chose it in this session
	Identities []enterprise.Membership `json:"identities,omitempty"` // GET: the enterprises the user may act for, default first
}

// getActing answers whom the session acts as and whom it could.
func (a *API) getActing(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	ctx := r.Context()
	uscc, chosen := session.Acting(s.Session)
	out := actingJSON{Chosen: chosen, Identities: []enterprise.Membership{}}
	if a.Enterprises != nil {
		ms, err := a.Enterprises.Memberships(ctx, s.User.ID)
		if err != nil {
			a.Fail(w, r, problem.Wrap(err))
			return
		}
		out.Identities = ms
		for i := range ms {
			if ms[i].USCC == uscc {
				out.Acting = &ms[i]
			}
		}
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// actingRequest names the enterprise to act for; "" is the person.
type actingRequest struct {
	USCC string `json:"uscc"`
}

// setActing makes the session act as the person or as one of the user's
// live enterprises. Switching from another chosen identity signs the old
// one out of the service systems (back-channel and CAS single logout) and
// keeps the browser signed in. An enterprise the user does not act for
// answers 404 enterprise_not_member, exactly as an unknown one.
func (a *API) setActing(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	ctx := r.Context()
	var req actingRequest
	if err := httpx.DecodeLimit(w, r, &req, maxActingBody); err != nil {
		a.Fail(w, r, err)
		return
	}
	var acting *enterprise.Membership
	if req.USCC != "" {
		uscc, err := enterprise.ParseUSCC(req.USCC)
		if err != nil {
			a.Fail(w, r, err)
			return
		}
		if a.Enterprises == nil {
			a.Fail(w, r, problem.New(problem.NotFound, "enterprise_not_member"))
			return
		}
		m, err := a.Enterprises.Acting(ctx, s.User.ID, uscc)
		if err != nil {
			a.Fail(w, r, err)
			return
		}
		acting = &m
		req.USCC = uscc
	}
	if _, err := a.Sessions.SetActing(ctx, s.Session, req.USCC, a.client(r)); err != nil {
		a.Fail(w, r, problem.Wrap(err))
		return
	}
	httpx.WriteJSON(w, http.StatusOK, actingJSON{Acting: acting, Chosen: true})
}
