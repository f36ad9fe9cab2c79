// Package admin is the operator API under /api/admin/v1/: the console's
// API (console.go and one file per area), and the client registry for
// operator tools.
//
// The client registry (systems.go) has two kinds of caller. A system
// administrator signed in to the console calls it with the console
// cookie; a script calls it as a confidential client whose allowed scopes
// include "unid.admin" (HTTP Basic with the client id and secret, as at a
// token endpoint), created once with
// `unid client create --type oidc_confidential --scope unid.admin …`.
// Both reach the same handlers; the registry audits every change, with the
// operator or the calling client as the actor.
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

// Admin authenticates operator tools: clients with the scope Scope.
type Admin struct {
	rs         *httpx.Responder
	clients    *client.Registry
	trustProxy bool
}

// New returns the operator tools' authenticator; rs answers errors the
// way the rest of the JSON API does.
func New(rs *httpx.Responder, clients *client.Registry, trustProxy bool) *Admin {
	return &Admin{rs: rs, clients: clients, trustProxy: trustProxy}
}

// handler is an operator-tool endpoint; op is the authenticated tool.
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
