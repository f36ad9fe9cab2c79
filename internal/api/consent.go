package api

import (
	"context"
	"net/http"
	"time"

	"unid/internal/flow"
	"unid/internal/httpx"
	"unid/internal/problem"
	"unid/internal/store"
)

// Consents is what the consent endpoints ask of the OpenID provider, which
// owns the authorization requests a consent answers; *oidc.Provider
// implements it.
type Consents interface {
	// AnswerConsent records the user's Allow or Deny of a pending
	// authorization request and returns where the browser goes next.
	AnswerConsent(ctx context.Context, s store.Session, u store.User, requestID string, allow bool, c flow.Client) (redirectTo string, err error)
	// ListConsents returns the user's consents with each client's name.
	ListConsents(ctx context.Context, userID string) ([]store.Consent, map[string]string, error)
	// RevokeConsent withdraws a consent and the client's grants for the user.
	RevokeConsent(ctx context.Context, userID, clientID string, c flow.Client) error
}

type consentAnswer struct {
	RequestID string `json:"request_id"`
	Allow     bool   `json:"allow"`
}

type consentAnswered struct {
	RedirectTo string `json:"redirect_to"` // where the page goes next: back into the flow
}

type consentJSON struct {
	ClientID   string    `json:"client_id"`
	ClientName string    `json:"client_name"`
	Scopes     []string  `json:"scopes"`
	GrantedAt  time.Time `json:"granted_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// maxConsentBody bounds the consent answer, a request id and a boolean.
const maxConsentBody = 1 << 10

// answerConsent takes the consent page's Allow or Deny; either way the page
// then follows redirect_to, and the provider sends the browser back to the
// service system.
func (a *API) answerConsent(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	var req consentAnswer
	if err := httpx.DecodeLimit(w, r, &req, maxConsentBody); err != nil {
		a.Fail(w, r, err)
		return
	}
	if req.RequestID == "" {
		a.Fail(w, r, problem.Field("request_id", "consent_request_expired"))
		return
	}
	to, err := a.Consents.AnswerConsent(r.Context(), s.Session, s.User, req.RequestID, req.Allow, a.client(r))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, consentAnswered{RedirectTo: to})
}

// listConsents lists the service systems the user has authorised.
func (a *API) listConsents(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	list, names, err := a.Consents.ListConsents(r.Context(), s.User.ID)
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	out := make([]consentJSON, 0, len(list))
	for _, c := range list {
		scopes := c.Scopes
		if scopes == nil {
			scopes = []string{}
		}
		out = append(out, consentJSON{ClientID: c.ClientID, ClientName: names[c.ClientID], Scopes: scopes, GrantedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt})
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"consents": out})
}

// revokeConsent withdraws the user's consent for a client: its refresh
// tokens stop working at once, its access tokens are reported inactive.
func (a *API) revokeConsent(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	if err := a.Consents.RevokeConsent(r.Context(), s.User.ID, r.PathValue("client_id"), a.client(r)); err != nil {
		a.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
