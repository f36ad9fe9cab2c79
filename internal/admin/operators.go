package admin

import (
	"net/http"
	"time"

	"unid/internal/httpx"
	"unid/internal/operator"
	"unid/internal/store"
)

// operatorRoutes are the operators endpoints of the systems area. The
// rules (no auditors, never oneself, an auditor's account out of reach)
// are the operator service's.
func (c *ConsoleAPI) operatorRoutes() []consoleRoute {
	return []consoleRoute{
		// Who may act in the console is decided signed in to it: an API
		// token may list operators and stop one, never make, restore,
		// reset (a set-up link is a new way in) or promote one.
		{"GET /api/admin/v1/operators", sysadmins, c.listOperators},
		{"POST /api/admin/v1/operators", sysadmins, c.cookieOnly(c.createOperator)},
		{"POST /api/admin/v1/operators/{id}/disable", sysadmins, c.disableOperator},
		{"POST /api/admin/v1/operators/{id}/enable", sysadmins, c.cookieOnly(c.enableOperator)},
		{"POST /api/admin/v1/operators/{id}/reset", sysadmins, c.cookieOnly(c.resetOperator)},
		{"PUT /api/admin/v1/operators/{id}/roles", sysadmins, c.cookieOnly(c.setOperatorRoles)},
	}
}

// operatorView is an operator as the console lists them: never a hash or
// a secret.
type operatorView struct {
	ID        string   `json:"id"`
	LoginName string   `json:"login_name"`
	Roles     []string `json:"roles"`
	Status    string   `json:"status"`
	// SetUp says whether the operator chose a password and enrolled an
	// authenticator; until then SetupExpiresAt is when their link ends.
	SetUp          bool       `json:"set_up"`
	SetupExpiresAt *time.Time `json:"setup_expires_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	// Self marks the signed-in operator, whom the console offers no
	// action on.
	Self bool `json:"self"`
}

func viewOperator(o store.Operator, self string) operatorView {
	v := operatorView{ID: o.ID, LoginName: o.LoginName, Roles: o.Roles, Status: o.Status, SetUp: o.PasswordHash != "",
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt, Self: o.ID == self}
	if v.Roles == nil {
		v.Roles = []string{}
	}
	if !v.SetUp && len(o.SetupHash) > 0 {
		t := o.SetupExpiresAt
		v.SetupExpiresAt = &t
	}
	return v
}

// withLink is an operator with the one-time set-up link, shown once.
type withLink struct {
	operatorView
	SetupLink string `json:"setup_link"`
}

// setupLink is the link of a set-up token: under PublicURL, or a path
// when none is known (never from the request's Host, which the client
// chose).
func (c *ConsoleAPI) setupLink(token string) string {
	return operator.SetupLink(c.d.Systems.PublicURL, token)
}

func (c *ConsoleAPI) listOperators(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
	l, err := c.d.Operators.List(r.Context())
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	out := []operatorView{}
	for _, o := range l {
		out = append(out, viewOperator(o, sg.Operator.ID))
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"operators": out, "grantable": operator.Grantable})
}

func (c *ConsoleAPI) createOperator(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
	var body struct {
		Login string   `json:"login"`
		Roles []string `json:"roles"`
	}
	if err := c.d.Responder.Decode(w, r, &body); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	o, token, err := c.d.Operators.CreateBy(r.Context(), sg.Operator, body.Login, body.Roles, c.by(r, sg))
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/admin/v1/operators/"+o.ID)
	httpx.WriteJSON(w, http.StatusCreated, withLink{viewOperator(o, sg.Operator.ID), c.setupLink(token)})
}

func (c *ConsoleAPI) disableOperator(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
	o, err := c.d.Operators.DisableBy(r.Context(), sg.Operator, r.PathValue("id"), c.by(r, sg))
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, viewOperator(o, sg.Operator.ID))
}

func (c *ConsoleAPI) enableOperator(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
	o, err := c.d.Operators.EnableBy(r.Context(), sg.Operator, r.PathValue("id"), c.by(r, sg))
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, viewOperator(o, sg.Operator.ID))
}

func (c *ConsoleAPI) resetOperator(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
	o, token, err := c.d.Operators.ResetBy(r.Context(), sg.Operator, r.PathValue("id"), c.by(r, sg))
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, withLink{viewOperator(o, sg.Operator.ID), c.setupLink(token)})
}

func (c *ConsoleAPI) setOperatorRoles(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
	var body struct {
		Roles []string `json:"roles"`
	}
	if err := c.d.Responder.Decode(w, r, &body); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	o, err := c.d.Operators.SetRolesBy(r.Context(), sg.Operator, r.PathValue("id"), body.Roles, c.by(r, sg))
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, viewOperator(o, sg.Operator.ID))
}
