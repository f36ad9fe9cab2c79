package api

import (
	"net/http"
	"time"

	"unid/internal/account"
	"unid/internal/httpx"
)

// emailRoutes are the user center's email section: a code mailed to the
// address, then the address bound with it.
func (a *API) emailRoutes() []httpx.Route {
	return []httpx.Route{
		{Pattern: "POST /api/v1/me/email/code", Handler: a.Guard.Recent(ReauthWindow, a.sendEmailCode)},
		{Pattern: "PUT /api/v1/me/email", Handler: a.Guard.Recent(ReauthWindow, a.bindEmail)}, // an address recovers the password: only with the password entered lately
	}
}

// maxEmailBody bounds the email requests: an address and a code.
const maxEmailBody = 1 << 10

type emailCodeRequest struct {
	Email string `json:"email"`
}

type bindEmailRequest struct {
	Email     string `json:"email"`
	EmailCode string `json:"email_code"`
}

type emailJSON struct {
	Email string `json:"email"` // masked
}

func (a *API) sendEmailCode(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	var req emailCodeRequest
	if err := httpx.DecodeLimit(w, r, &req, maxEmailBody); err != nil {
		a.Fail(w, r, err)
		return
	}
	sent, err := a.EmailBind.SendCode(r.Context(), s.User, req.Email, a.client(r))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusAccepted, sendCodeResponse{ExpiresIn: int64(sent.ExpiresIn / time.Second), ResendAfter: int64(sent.ResendAfter / time.Second)})
}

func (a *API) bindEmail(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	var req bindEmailRequest
	if err := httpx.DecodeLimit(w, r, &req, maxEmailBody); err != nil {
		a.Fail(w, r, err)
		return
	}
	if err := a.EmailBind.Bind(r.Context(), s.User, req.Email, req.EmailCode, a.client(r)); err != nil {
		a.Fail(w, r, err)
		return
	}
	email, _ := account.NormalizeEmail(req.Email) // valid: Bind took it
	httpx.WriteJSON(w, http.StatusOK, emailJSON{Email: account.MaskEmail(email)})
}
