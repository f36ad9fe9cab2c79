package admin

import (
	"net/http"
	"strings"

	"unid/internal/httpx"
	"unid/internal/operator"
	"unid/internal/problem"
)

// TokenDeps are what the API tokens area of the console works with.
type TokenDeps struct {
	// Tokens are the operators' API tokens; nil refuses every token
	// (operator_token_invalid) and answers the token endpoints
	// operator_feature_unavailable.
	Tokens *operator.Tokens
}

// tokenRoutes lists the API tokens area's endpoints: each operator their
// own tokens, from a console session only, so that a token cannot make
// or keep tokens (cookieOnly).
func (c *ConsoleAPI) tokenRoutes() []consoleRoute {
	return []consoleRoute{
		{"GET /api/admin/v1/me/tokens", signedIn, c.cookieOnly(c.listTokens)},
		{"POST /api/admin/v1/me/tokens", signedIn, c.cookieOnly(c.createToken)},
		{"DELETE /api/admin/v1/me/tokens/{id}", signedIn, c.cookieOnly(c.revokeToken)},
	}
}

// bearerToken reads the token of an Authorization: Bearer header; sent is
// whether the request has one at all (maybe empty).
func bearerToken(r *http.Request) (token string, sent bool) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// withToken is guard for a call with a bearer token: the token's operator,
// as they are now, instead of a console session, then the same role
// check. A token that does not authenticate is 401 with the challenge of
// RFC 6750 section 3.
func (c *ConsoleAPI) withToken(w http.ResponseWriter, r *http.Request, token string, roles []string, h consoleHandler) {
	var (
		sg  operator.Signed
		err error = problem.New(problem.Unauthorized, "operator_token_invalid")
	)
	if t := c.d.Tokens.Tokens; t != nil {
		sg, err = t.Authenticate(r.Context(), token)
	}
	if err != nil {
		if problem.As(err).Kind == problem.Unauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="unid operator API", error="invalid_token"`)
		}
		c.d.Responder.Fail(w, r, err)
		return
	}
	if err := operator.Allow(sg.Operator, roles...); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	h(w, r, sg)
}

// cookieOnly refuses h to a call made with an API token.
func (c *ConsoleAPI) cookieOnly(h consoleHandler) consoleHandler {
	return func(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
		if sg.TokenID != "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="unid operator API", error="insufficient_scope"`)
			c.d.Responder.Fail(w, r, problem.New(problem.Forbidden, "operator_token_not_allowed"))
			return
		}
		h(w, r, sg)
	}
}

// tokens returns the tokens, or answers that there are none.
func (c *ConsoleAPI) tokens(w http.ResponseWriter, r *http.Request) (*operator.Tokens, bool) {
	if c.d.Tokens.Tokens == nil {
		c.d.Responder.Fail(w, r, problem.New(problem.Unavailable, "operator_feature_unavailable"))
		return nil, false
	}
	return c.d.Tokens.Tokens, true
}

func (c *ConsoleAPI) listTokens(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
	t, ok := c.tokens(w, r)
	if !ok {
		return
	}
	list, err := t.List(r.Context(), sg.Operator.ID)
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": list,
		"min_days": operator.MinTokenDays, "max_days": operator.MaxTokenDays, "default_days": operator.DefaultTokenDays})
}

func (c *ConsoleAPI) createToken(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
	t, ok := c.tokens(w, r)
	if !ok {
		return
	}
	var body struct {
		Name string `json:"name"`
		Days *int   `json:"days"`
		Code string `json:"code"`
	}
	if err := c.d.Responder.Decode(w, r, &body); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	days := operator.DefaultTokenDays
	if body.Days != nil {
		days = *body.Days
	}
	nt, err := t.Create(r.Context(), sg.Operator, body.Name, days, body.Code, c.by(r, sg))
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, nt)
}

func (c *ConsoleAPI) revokeToken(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
	t, ok := c.tokens(w, r)
	if !ok {
		return
	}
	if err := t.Revoke(r.Context(), sg.Operator, r.PathValue("id"), c.by(r, sg)); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
