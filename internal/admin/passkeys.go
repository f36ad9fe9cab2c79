package admin

import (
	"encoding/json"
	"net/http"

	"unid/internal/httpx"
	"unid/internal/operator"
	"unid/internal/problem"
)

// PasskeyDeps are what the passkeys area of the console works with.
type PasskeyDeps struct {
	// Passkeys are the operators' passkeys; nil answers
	// operator_feature_unavailable.
	Passkeys *operator.Passkeys
}

// passkeyRoutes lists the passkeys area's endpoints: each signed-in
// operator their own passkeys (adding one takes a current TOTP code), and
// signing in with one.
func (c *ConsoleAPI) passkeyRoutes() []consoleRoute {
	return []consoleRoute{
		{"GET /api/admin/v1/me/passkeys", signedIn, c.listPasskeys},
		{"POST /api/admin/v1/me/passkeys/begin", signedIn, c.beginPasskey},
		{"POST /api/admin/v1/me/passkeys/finish", signedIn, c.finishPasskey},
		{"DELETE /api/admin/v1/me/passkeys/{id}", signedIn, c.removePasskey},
		{"POST /api/admin/v1/sign-in/passkey/begin", anyone, c.beginPasskeySignIn},
		{"POST /api/admin/v1/sign-in/passkey/finish", anyone, c.finishPasskeySignIn},
	}
}

// passkeys returns the passkeys, or answers that there are none.
func (c *ConsoleAPI) passkeys(w http.ResponseWriter, r *http.Request) (*operator.Passkeys, bool) {
	if c.d.Passkeys.Passkeys == nil {
		c.d.Responder.Fail(w, r, problem.New(problem.Unavailable, "operator_feature_unavailable"))
		return nil, false
	}
	return c.d.Passkeys.Passkeys, true
}

func (c *ConsoleAPI) listPasskeys(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
	p, ok := c.passkeys(w, r)
	if !ok {
		return
	}
	list, err := p.List(r.Context(), sg.Operator.ID)
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": list})
}

func (c *ConsoleAPI) beginPasskey(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
	p, ok := c.passkeys(w, r)
	if !ok {
		return
	}
	var body struct {
		Code string `json:"code"`
	}
	if err := c.d.Responder.Decode(w, r, &body); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	cer, err := p.BeginRegistration(r.Context(), sg.Operator, body.Code, c.by(r, sg))
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, cer)
}

func (c *ConsoleAPI) finishPasskey(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
	p, ok := c.passkeys(w, r)
	if !ok {
		return
	}
	var body struct {
		Ceremony   string          `json:"ceremony"`
		Name       string          `json:"name"`
		Credential json.RawMessage `json:"credential"`
	}
	if err := c.d.Responder.Decode(w, r, &body); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	v, err := p.FinishRegistration(r.Context(), sg.Operator, body.Ceremony, body.Name, body.Credential, c.by(r, sg))
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, v)
}

func (c *ConsoleAPI) removePasskey(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
	p, ok := c.passkeys(w, r)
	if !ok {
		return
	}
	if err := p.Remove(r.Context(), sg.Operator, r.PathValue("id"), c.by(r, sg)); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *ConsoleAPI) beginPasskeySignIn(w http.ResponseWriter, r *http.Request, _ operator.Signed) {
	p, ok := c.passkeys(w, r)
	if !ok {
		return
	}
	var body struct {
		Login string `json:"login"`
	}
	if err := c.d.Responder.Decode(w, r, &body); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	cer, err := p.BeginSignIn(r.Context(), body.Login, httpx.Client(r, c.d.TrustProxy))
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, cer)
}

func (c *ConsoleAPI) finishPasskeySignIn(w http.ResponseWriter, r *http.Request, _ operator.Signed) {
	p, ok := c.passkeys(w, r)
	if !ok {
		return
	}
	var body struct {
		Ceremony   string          `json:"ceremony"`
		Credential json.RawMessage `json:"credential"`
	}
	if err := c.d.Responder.Decode(w, r, &body); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	o, err := p.SignIn(r.Context(), w, r, body.Ceremony, body.Credential, httpx.Client(r, c.d.TrustProxy))
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, c.meOf(operator.Signed{Operator: o}))
}
