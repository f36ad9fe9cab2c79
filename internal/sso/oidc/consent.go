package oidc

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"unid/internal/audit"
	"unid/internal/claims"
	"unid/internal/problem"
	"unid/internal/store"
)

// The consent API: the consent page posts the user's answer, and the
// personal space lists and revokes consents. Answers use the JSON API's
// error shape (Deps.Fail).

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

// submitConsent records Allow (the consent, and the request approved) or
// Deny (the request denied); either way the page then follows redirect_to,
// and the callback sends the browser back to the client.
func (p *Provider) submitConsent(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var req consentAnswer
	if err := decodeJSON(w, r, &req); err != nil {
		p.d.Fail(w, r, err)
		return
	}
	s, u, ok := p.apiUser(w, r)
	if !ok {
		return
	}
	if req.RequestID == "" || len(req.RequestID) > maxIDBytes {
		p.d.Fail(w, r, problem.Field("request_id", "consent_request_expired"))
		return
	}
	a, err := p.d.Store.GetAuthRequest(ctx, req.RequestID)
	if errors.Is(err, store.ErrNotFound) || err == nil && (!p.d.Now().Before(a.ExpiresAt) || a.Status != store.AuthRequestPending) {
		p.d.Fail(w, r, problem.New(problem.Gone, "consent_request_expired"))
		return
	}
	if err != nil {
		p.d.Fail(w, r, problem.Wrap(err))
		return
	}
	ar, err := decodeAuthRequest(a)
	if err != nil {
		p.d.Fail(w, r, problem.Wrap(err))
		return
	}
	c, err := p.oidcClient(ctx, a.ClientID)
	if err != nil {
		if problem.As(err).Kind == problem.NotFound {
			err = problem.New(problem.Gone, "consent_request_expired") // the client is gone
		}
		p.d.Fail(w, r, err)
		return
	}
	now := p.now()
	scopes := claims.Grant(ar.params.Scopes, c.c, u.RealnameLevel)
	event := audit.Event{Actor: u.ID, Action: ActionConsentDenied, Result: audit.ResultOK, Detail: "client_id=" + c.c.ID}
	if req.Allow {
		have, err := p.d.Store.GetConsent(ctx, u.ID, c.c.ID)
		if errors.Is(err, store.ErrNotFound) {
			have, err = store.Consent{UserID: u.ID, ClientID: c.c.ID, CreatedAt: now}, nil
		}
		if err != nil {
			p.d.Fail(w, r, problem.Wrap(err))
			return
		}
		have.Scopes, have.UpdatedAt = union(have.Scopes, scopes), now
		if err := p.d.Store.PutConsent(ctx, have); err != nil {
			p.d.Fail(w, r, problem.Wrap(err))
			return
		}
		if _, err := p.approve(ctx, ar, s, u, scopes); err != nil {
			p.d.Fail(w, r, problem.New(problem.Gone, "consent_request_expired"))
			return
		}
		event.Action, event.Detail = ActionConsentGranted, event.Detail+" scopes="+strings.Join(scopes, ",")
	} else {
		_, err := p.d.Store.UpdateAuthRequest(ctx, a.ID, func(a store.AuthRequest) (store.AuthRequest, error) {
			if a.Status != store.AuthRequestPending {
				return a, errAnswered
			}
			a.Status = store.AuthRequestDenied
			return a, nil
		})
		if err != nil {
			p.d.Fail(w, r, problem.New(problem.Gone, "consent_request_expired"))
			return
		}
	}
	p.record(ctx, r, event)
	writeJSON(w, http.StatusOK, consentAnswered{RedirectTo: callbackPath(a.ID)})
}

// listConsents lists the signed-in user's consents.
func (p *Provider) listConsents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	_, u, ok := p.apiUser(w, r)
	if !ok {
		return
	}
	list, err := p.d.Store.ListConsents(ctx, u.ID)
	if err != nil {
		p.d.Fail(w, r, problem.Wrap(err))
		return
	}
	out := make([]consentJSON, 0, len(list))
	for _, c := range list {
		name := c.ClientID
		if cl, err := p.d.Registry.Get(ctx, c.ClientID); err == nil {
			name = cl.Name
		}
		scopes := c.Scopes
		if scopes == nil {
			scopes = []string{}
		}
		out = append(out, consentJSON{ClientID: c.ClientID, ClientName: name, Scopes: scopes, GrantedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt})
	}
	writeJSON(w, http.StatusOK, map[string]any{"consents": out})
}

// revokeConsent withdraws the signed-in user's consent for a client and
// revokes the client's grants for the user: its refresh tokens stop working
// at once, its access tokens are reported inactive.
func (p *Provider) revokeConsent(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	_, u, ok := p.apiUser(w, r)
	if !ok {
		return
	}
	clientID := r.PathValue("client_id")
	if len(clientID) > maxIDBytes {
		p.d.Fail(w, r, problem.New(problem.NotFound, "consent_not_found"))
		return
	}
	err := p.d.Store.DeleteConsent(ctx, u.ID, clientID)
	if errors.Is(err, store.ErrNotFound) {
		p.d.Fail(w, r, problem.New(problem.NotFound, "consent_not_found"))
		return
	}
	if err != nil {
		p.d.Fail(w, r, problem.Wrap(err))
		return
	}
	if _, err := p.d.Store.RevokeGrants(ctx, u.ID, clientID, p.now()); err != nil {
		p.d.Fail(w, r, problem.Wrap(err))
		return
	}
	p.record(ctx, r, audit.Event{Actor: u.ID, Action: ActionConsentRevoked, Result: audit.ResultOK, Detail: "client_id=" + clientID})
	w.WriteHeader(http.StatusNoContent)
}

// apiUser returns the signed-in user of a consent API request, or answers
// the request when there is none.
func (p *Provider) apiUser(w http.ResponseWriter, r *http.Request) (store.Session, store.User, bool) {
	s, u, ok, err := p.d.Sessions.SignedIn(r.Context(), r)
	if err != nil {
		p.d.Fail(w, r, problem.Wrap(err))
		return store.Session{}, store.User{}, false
	}
	if !ok {
		p.d.Fail(w, r, problem.New(problem.Unauthorized, "not_signed_in"))
	}
	return s, u, ok
}

// maxConsentBody bounds the consent answer, a request id and a boolean.
const maxConsentBody = 1 << 10

// decodeJSON reads one small JSON object into dst, refusing other content
// types, unknown fields and trailing data, with the API's codes.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return problem.New(problem.Invalid, "content_type_json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxConsentBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return problem.New(problem.TooLarge, "body_too_large")
		case errors.Is(err, io.EOF):
			return problem.New(problem.Invalid, "body_required")
		}
		return problem.New(problem.Invalid, "malformed_json")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return problem.New(problem.Invalid, "malformed_json")
	}
	return nil
}

// writeJSON answers v with status, never cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
