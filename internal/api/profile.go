package api

import (
	"net/http"
	"time"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/flow/profile"
	"unid/internal/httpx"
	"unid/internal/problem"
)

// ReauthWindow is how long after entering the password (at sign-in or
// again, POST /api/v1/sessions/current/reauth) the user may reveal their
// full identifiers, change their phone, or set a first password on an
// account without one, without entering it again.
const ReauthWindow = 5 * time.Minute

// profileRoutes are the user center's personal information, password and
// phone, and the re-authentication every sensitive change asks for.
func (a *API) profileRoutes() []httpx.Route {
	return []httpx.Route{
		{Pattern: "POST /api/v1/sessions/current/reauth", Handler: a.Guard.SignedIn(a.reauthenticate)},
		{Pattern: "PATCH /api/v1/me", Handler: a.Guard.SignedIn(a.updateProfile)},
		{Pattern: "GET /api/v1/me/revealed", Handler: a.Guard.Recent(ReauthWindow, a.reveal)},
		{Pattern: "PUT /api/v1/me/password", Handler: a.Guard.SignedIn(a.changePassword)},
		{Pattern: "POST /api/v1/me/phone/sms-codes", Handler: a.Guard.Recent(ReauthWindow, a.sendPhoneCode)},
		{Pattern: "PUT /api/v1/me/phone", Handler: a.Guard.Recent(ReauthWindow, a.changePhone)},
	}
}

// maxProfileBody bounds the bodies of these endpoints: a few short fields.
const maxProfileBody = 4 << 10

type reauthRequest struct {
	Password string `json:"password"`
}

type reauthResponse struct {
	AuthTime time.Time `json:"auth_time"`
	// FreshUntil is when the sensitive changes ask for the password again.
	FreshUntil time.Time `json:"fresh_until"`
}

func (a *API) reauthenticate(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	var req reauthRequest
	if err := httpx.DecodeLimit(w, r, &req, maxProfileBody); err != nil {
		a.Fail(w, r, err)
		return
	}
	sess, err := a.Profile.Reauthenticate(r.Context(), s.Session, s.User, req.Password, a.client(r))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, reauthResponse{AuthTime: sess.AuthTime, FreshUntil: sess.AuthTime.Add(ReauthWindow)})
}

// profileUpdate is the personal information form: an absent field stays
// as it is, an empty one is removed.
type profileUpdate struct {
	Nickname *string `json:"nickname"`
	WorkUnit *string `json:"work_unit"`
}

func (a *API) updateProfile(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	var req profileUpdate
	if err := httpx.DecodeLimit(w, r, &req, maxProfileBody); err != nil {
		a.Fail(w, r, err)
		return
	}
	u, err := a.Accounts.UpdateProfile(r.Context(), s.User.ID, account.ProfileChange{Nickname: req.Nickname, WorkUnit: req.WorkUnit}, audit.User(s.User.ID))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	p, err := account.NewProfile(a.Protector, u)
	if err != nil {
		a.Fail(w, r, problem.Wrap(err))
		return
	}
	httpx.WriteJSON(w, http.StatusOK, p)
}

// reveal answers the owner's own phone and ID number in full. The answer
// is never cached and never logged.
func (a *API) reveal(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	out, err := a.Accounts.Reveal(r.Context(), s.User.ID, audit.User(s.User.ID))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, out)
}

type passwordChangeRequest struct {
	CurrentPassword string `json:"current_password"`
	Password        string `json:"password"`
	PasswordConfirm string `json:"password_confirm"`
	// SignOutOthers ends every other session; absent means true.
	SignOutOthers *bool `json:"sign_out_others"`
}

func (a *API) changePassword(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	var req passwordChangeRequest
	if err := httpx.DecodeLimit(w, r, &req, maxProfileBody); err != nil {
		a.Fail(w, r, err)
		return
	}
	signOut := req.SignOutOthers == nil || *req.SignOutOthers
	err := a.Profile.ChangePassword(r.Context(), s.Session, s.User, profile.PasswordChange{
		Current: req.CurrentPassword, New: req.Password, Confirm: req.PasswordConfirm, SignOutOthers: signOut,
		Recent: ReauthWindow,
	}, a.client(r))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type phoneCodeRequest struct {
	Phone         string `json:"phone"`
	CaptchaID     string `json:"captcha_id"`
	CaptchaAnswer string `json:"captcha_answer"`
}

func (a *API) sendPhoneCode(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	var req phoneCodeRequest
	if err := httpx.DecodeLimit(w, r, &req, maxProfileBody); err != nil {
		a.Fail(w, r, err)
		return
	}
	sent, err := a.Profile.SendPhoneCode(r.Context(), s.User, req.Phone, req.CaptchaID, req.CaptchaAnswer, a.client(r))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusAccepted, sendCodeResponse{ExpiresIn: int64(sent.ExpiresIn / time.Second), ResendAfter: int64(sent.ResendAfter / time.Second)})
}

type phoneChangeRequest struct {
	Phone   string `json:"phone"`
	SMSCode string `json:"sms_code"`
}

func (a *API) changePhone(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	var req phoneChangeRequest
	if err := httpx.DecodeLimit(w, r, &req, maxProfileBody); err != nil {
		a.Fail(w, r, err)
		return
	}
	if err := a.Profile.ChangePhone(r.Context(), s.User, req.Phone, req.SMSCode); err != nil {
		a.Fail(w, r, err)
		return
	}
	u, err := a.Users.GetUser(r.Context(), s.User.ID)
	if err != nil {
		a.Fail(w, r, problem.Wrap(err))
		return
	}
	p, err := account.NewProfile(a.Protector, u)
	if err != nil {
		a.Fail(w, r, problem.Wrap(err))
		return
	}
	httpx.WriteJSON(w, http.StatusOK, p)
}
