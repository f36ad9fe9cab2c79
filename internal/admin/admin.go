// Package admin is the operator API under /api/admin/v1/. For now it
// manages the client registry, the same operations as `unid client`.
//
// Callers authenticate as a confidential client whose allowed scopes include
// "unid.admin" (HTTP Basic with the client id and secret, as at a token
// endpoint); such a client is created once with
// `unid client create --type oidc_confidential --scope unid.admin …`. The
// registry audits every change, with the calling client as the actor.
package admin

import (
	"net/http"
	"slices"

	"unid/internal/audit"
	"unid/internal/claims"
	"unid/internal/client"
	"unid/internal/httpx"
	"unid/internal/problem"
	"unid/internal/store"
)

// Scope marks a client as an operator tool.
const Scope = claims.ScopeAdmin

// Admin serves the operator API.
type Admin struct {
	rs         *httpx.Responder
	clients    *client.Registry
	trustProxy bool
}

// New returns the operator API; rs answers errors and decodes bodies the
// way the rest of the JSON API does.
func New(rs *httpx.Responder, clients *client.Registry, trustProxy bool) *Admin {
	return &Admin{rs: rs, clients: clients, trustProxy: trustProxy}
}

// Routes lists the operator endpoints.
func (ad *Admin) Routes() []httpx.Route {
	return []httpx.Route{
		{Pattern: "GET /api/admin/v1/clients", Handler: ad.operator(ad.listClients)},
		{Pattern: "POST /api/admin/v1/clients", Handler: ad.operator(ad.createClient)},
		{Pattern: "GET /api/admin/v1/clients/{id}", Handler: ad.operator(ad.getClient)},
		{Pattern: "DELETE /api/admin/v1/clients/{id}", Handler: ad.operator(ad.deleteClient)},
		{Pattern: "POST /api/admin/v1/clients/{id}/secret", Handler: ad.operator(ad.rotateSecret)},
	}
}

// handler is an operator endpoint; op is the authenticated operator client.
type handler func(w http.ResponseWriter, r *http.Request, op store.Client)

// operator authenticates the caller before h runs.
func (ad *Admin) operator(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="unid operator API", charset="UTF-8"`)
			ad.rs.Fail(w, r, &problem.Problem{Kind: problem.Unauthorized, Code: "invalid_client"})
			return
		}
		op, err := ad.clients.Authenticate(r.Context(), id, secret)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Basic realm="unid operator API", charset="UTF-8"`)
			ad.rs.Fail(w, r, err)
			return
		}
		if !slices.Contains(op.Scopes, Scope) {
			ad.rs.Fail(w, r, problem.New(problem.Forbidden, "operator_scope_required"))
			return
		}
		h(w, r, op)
	}
}

// by names the operator client op, calling over r, as the origin of a
// change.
func (ad *Admin) by(r *http.Request, op store.Client) audit.Origin {
	c := httpx.Client(r, ad.trustProxy)
	return audit.Origin{Actor: audit.ClientActor(op.ID), IP: c.IP, UserAgent: c.UserAgent}
}

func (ad *Admin) listClients(w http.ResponseWriter, r *http.Request, _ store.Client) {
	cs, err := ad.clients.List(r.Context())
	if err != nil {
		ad.rs.Fail(w, r, err)
		return
	}
	views := []client.View{}
	for _, c := range cs {
		views = append(views, client.NewView(c))
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"clients": views})
}

func (ad *Admin) createClient(w http.ResponseWriter, r *http.Request, op store.Client) {
	var spec client.Spec
	if err := ad.rs.Decode(w, r, &spec); err != nil {
		ad.rs.Fail(w, r, err)
		return
	}
	c, secret, err := ad.clients.Create(r.Context(), spec, ad.by(r, op))
	if err != nil {
		ad.rs.Fail(w, r, err)
		return
	}
	v := client.NewView(c)
	v.Secret = secret
	w.Header().Set("Location", "/api/admin/v1/clients/"+c.ID)
	httpx.WriteJSON(w, http.StatusCreated, v)
}

func (ad *Admin) getClient(w http.ResponseWriter, r *http.Request, _ store.Client) {
	c, err := ad.clients.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		ad.rs.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, client.NewView(c))
}

func (ad *Admin) deleteClient(w http.ResponseWriter, r *http.Request, op store.Client) {
	id := r.PathValue("id")
	if id == op.ID {
		ad.rs.Fail(w, r, problem.New(problem.Conflict, "client_delete_self"))
		return
	}
	if err := ad.clients.Delete(r.Context(), id, ad.by(r, op)); err != nil {
		ad.rs.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (ad *Admin) rotateSecret(w http.ResponseWriter, r *http.Request, op store.Client) {
	id := r.PathValue("id")
	secret, err := ad.clients.RotateSecret(r.Context(), id, ad.by(r, op))
	if err != nil {
		ad.rs.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"id": id, "client_secret": secret})
}
