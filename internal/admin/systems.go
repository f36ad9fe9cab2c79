package admin

import (
	"net/http"
	"slices"

	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/httpx"
	"unid/internal/operator"
	"unid/internal/problem"
	"unid/internal/store"
)

// SystemDeps are what the systems area of the console works with.
type SystemDeps struct {
	// Clients is the registry of service systems; nil answers
	// operator_feature_unavailable.
	Clients *client.Registry
	// Tools authenticates operator tools (HTTP Basic, scope unid.admin),
	// the other kind of caller of the client endpoints; nil accepts only
	// signed-in system administrators.
	Tools *Admin
	// PublicURL is where operators reach unid: the base of set-up links.
	PublicURL string
}

// systemRoutes lists the systems area's endpoints: the client registry
// and the operators.
//
// The client endpoints have two kinds of caller, so they are marked
// viaTools and clientRoute makes the check: a request with HTTP Basic
// credentials is an operator tool's (Admin.operator), any other needs a
// signed-in system administrator (guard, with sysadmins).
func (c *ConsoleAPI) systemRoutes() []consoleRoute {
	cl := c.clientRoute
	clients := []consoleRoute{
		{"GET /api/admin/v1/clients", sysadmins, cl(c.listClients)},
		{"POST /api/admin/v1/clients", sysadmins, cl(c.createClient)},
		{"POST /api/admin/v1/clients/validate", sysadmins, cl(c.validateClient)},
		{"GET /api/admin/v1/clients/{id}", sysadmins, cl(c.getClient)},
		{"PATCH /api/admin/v1/clients/{id}", sysadmins, cl(c.updateClient)},
		{"DELETE /api/admin/v1/clients/{id}", sysadmins, cl(c.deleteClient)},
		{"POST /api/admin/v1/clients/{id}/secret", sysadmins, cl(c.rotateSecret)},
		{"POST /api/admin/v1/clients/{id}/disable", sysadmins, cl(c.disableClient)},
		{"POST /api/admin/v1/clients/{id}/enable", sysadmins, cl(c.enableClient)},
	}
	for _, rt := range clients {
		c.viaTools[rt.pattern] = true
	}
	return append(clients, c.operatorRoutes()...)
}

// clientHandler is a client registry endpoint. by is the caller as the
// origin of a change (the operator, or the operator tool); self is the
// calling tool's client ID, "" for an operator.
type clientHandler func(w http.ResponseWriter, r *http.Request, by audit.Origin, self string)

// clientRoute authenticates the caller of a client endpoint: an operator
// tool by its Basic credentials, else a signed-in system administrator.
func (c *ConsoleAPI) clientRoute(h clientHandler) consoleHandler {
	console := c.guard(sysadmins, func(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
		h(w, r, c.by(r, sg), "")
	})
	var tool http.HandlerFunc
	if t := c.d.Systems.Tools; t != nil {
		tool = t.operator(func(w http.ResponseWriter, r *http.Request, op store.Client) {
			h(w, r, t.by(r, op), op.ID)
		})
	}
	return func(w http.ResponseWriter, r *http.Request, _ operator.Signed) {
		if c.d.Systems.Clients == nil {
			c.d.Responder.Fail(w, r, problem.New(problem.Unavailable, "operator_feature_unavailable"))
			return
		}
		if _, _, basic := r.BasicAuth(); basic && tool != nil {
			tool(w, r)
			return
		}
		console(w, r)
	}
}

func (c *ConsoleAPI) listClients(w http.ResponseWriter, r *http.Request, _ audit.Origin, _ string) {
	cs, err := c.d.Systems.Clients.List(r.Context())
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	views := []client.View{}
	for _, cl := range cs {
		views = append(views, client.NewView(cl))
	}
	// The names each type may register, for the console's form.
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"clients": views, "scopes": client.Vocabulary()})
}

// errToolCLIOnly refuses to make or change an operator tool's
// registration (scope unid.admin) over the API: its secret is a standing
// credential to the registry, needing no session and no code and outliving
// the operator who made it, so tools are registered, changed and given
// secrets only with `unid client` on the server, and enabled again only
// there. Disabling and deleting one, which take access away, stay open.
var errToolCLIOnly = problem.New(problem.Forbidden, "client_tool_cli_only")

// toolScope reports whether scopes make a registration an operator tool.
func toolScope(scopes []string) bool { return slices.Contains(scopes, Scope) }

// notTool refuses, as errToolCLIOnly, a change to the registration id when
// it is an operator tool's; a missing one is left to the change itself.
func (c *ConsoleAPI) notTool(r *http.Request, id string) error {
	cl, err := c.d.Systems.Clients.Get(r.Context(), id)
	if err == nil && toolScope(cl.Scopes) {
		return errToolCLIOnly
	}
	return nil
}

// specOf reads a registration from the body, refusing an operator tool's
// (errToolCLIOnly); it answers the request and returns false when it will
// not do.
func (c *ConsoleAPI) specOf(w http.ResponseWriter, r *http.Request) (client.Spec, bool) {
	var spec client.Spec
	err := c.d.Responder.Decode(w, r, &spec)
	if err == nil && toolScope(spec.Scopes) {
		err = errToolCLIOnly
	}
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return client.Spec{}, false
	}
	return spec, true
}

func (c *ConsoleAPI) createClient(w http.ResponseWriter, r *http.Request, by audit.Origin, _ string) {
	spec, ok := c.specOf(w, r)
	if !ok {
		return
	}
	cl, secret, err := c.d.Systems.Clients.Create(r.Context(), spec, by)
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	v := client.NewView(cl)
	v.Secret = secret
	w.Header().Set("Location", "/api/admin/v1/clients/"+cl.ID)
	httpx.WriteJSON(w, http.StatusCreated, v)
}

// validateClient judges a registration as createClient would, creating
// nothing: the console asks while the operator types.
func (c *ConsoleAPI) validateClient(w http.ResponseWriter, r *http.Request, _ audit.Origin, _ string) {
	spec, ok := c.specOf(w, r)
	if !ok {
		return
	}
	if err := c.d.Systems.Clients.Check(r.Context(), spec); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]bool{"valid": true})
}

func (c *ConsoleAPI) getClient(w http.ResponseWriter, r *http.Request, _ audit.Origin, _ string) {
	cl, err := c.d.Systems.Clients.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, client.NewView(cl))
}

func (c *ConsoleAPI) updateClient(w http.ResponseWriter, r *http.Request, by audit.Origin, _ string) {
	var p client.Patch
	if err := c.d.Responder.Decode(w, r, &p); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	if p.Scopes != nil && toolScope(*p.Scopes) {
		c.d.Responder.Fail(w, r, errToolCLIOnly)
		return
	}
	if err := c.notTool(r, r.PathValue("id")); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	cl, err := c.d.Systems.Clients.Update(r.Context(), r.PathValue("id"), p, by)
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, client.NewView(cl))
}

func (c *ConsoleAPI) deleteClient(w http.ResponseWriter, r *http.Request, by audit.Origin, self string) {
	id := r.PathValue("id")
	if id == self {
		c.d.Responder.Fail(w, r, problem.New(problem.Conflict, "client_delete_self"))
		return
	}
	if err := c.d.Systems.Clients.Delete(r.Context(), id, by); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *ConsoleAPI) rotateSecret(w http.ResponseWriter, r *http.Request, by audit.Origin, _ string) {
	id := r.PathValue("id")
	if err := c.notTool(r, id); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	secret, err := c.d.Systems.Clients.RotateSecret(r.Context(), id, by)
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"id": id, "client_secret": secret})
}

func (c *ConsoleAPI) disableClient(w http.ResponseWriter, r *http.Request, by audit.Origin, self string) {
	id := r.PathValue("id")
	if id == self {
		c.d.Responder.Fail(w, r, problem.New(problem.Conflict, "client_disable_self"))
		return
	}
	cl, err := c.d.Systems.Clients.Disable(r.Context(), id, by)
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, client.NewView(cl))
}

func (c *ConsoleAPI) enableClient(w http.ResponseWriter, r *http.Request, by audit.Origin, _ string) {
	// A tool disabled on the server comes back only from the server.
	if err := c.notTool(r, r.PathValue("id")); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	cl, err := c.d.Systems.Clients.Enable(r.Context(), r.PathValue("id"), by)
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, client.NewView(cl))
}
