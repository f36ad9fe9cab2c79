package api

import (
	"net/http"
	"time"

	"unid/internal/enterprise"
	"unid/internal/httpx"
)

// maxLicenceBody bounds an enterprise appeal's body: the licence and the
// form fields.
const maxLicenceBody = enterprise.MaxUpload + 64<<10

// enterpriseRoutes are the enterprise space (企业空间): the person's
// enterprises, pending grants and applications; binding as legal
// representative and the appeal with the business licence; an
// enterprise's members and authorization area; unbinding the enterprise
// needs a recent re-authentication.
func (a *API) enterpriseRoutes() []httpx.Route {
	return []httpx.Route{
		{Pattern: "GET /api/v1/enterprises", Handler: a.Guard.SignedIn(a.enterpriseOverview)},
		{Pattern: "POST /api/v1/enterprises", Handler: a.Guard.SignedIn(a.enterpriseBind)},
		{Pattern: "POST /api/v1/enterprises/appeals", Handler: a.Guard.SignedIn(a.enterpriseAppeal)},
		{Pattern: "PUT /api/v1/enterprises/default", Handler: a.Guard.SignedIn(a.enterpriseDefault)},
		{Pattern: "GET /api/v1/enterprises/{uscc}", Handler: a.Guard.SignedIn(a.enterpriseDetail)},
		{Pattern: "DELETE /api/v1/enterprises/{uscc}", Handler: a.Guard.Recent(ReauthWindow, a.enterpriseUnbind)},
		{Pattern: "POST /api/v1/enterprises/{uscc}/unbind-code", Handler: a.Guard.Recent(ReauthWindow, a.enterpriseUnbindCode)},
		{Pattern: "POST /api/v1/enterprises/{uscc}/grants", Handler: a.Guard.SignedIn(a.enterpriseGrant)},
		{Pattern: "DELETE /api/v1/enterprises/{uscc}/grants/{id}", Handler: a.Guard.SignedIn(a.enterpriseWithdrawGrant)},
		{Pattern: "POST /api/v1/enterprise-grants/{id}/accept", Handler: a.Guard.SignedIn(a.enterpriseAccept)},
		{Pattern: "POST /api/v1/enterprise-grants/{id}/decline", Handler: a.Guard.SignedIn(a.enterpriseDecline)},
		{Pattern: "POST /api/v1/enterprise-applications", Handler: a.Guard.SignedIn(a.enterpriseApply)},
		{Pattern: "POST /api/v1/enterprises/{uscc}/applications/{id}/decision", Handler: a.Guard.SignedIn(a.enterpriseDecide)},
		{Pattern: "DELETE /api/v1/enterprises/{uscc}/members/{user_id}", Handler: a.Guard.SignedIn(a.enterpriseRevoke)},
	}
}

func (a *API) enterpriseOverview(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	o, err := a.Enterprise.Overview(r.Context(), s.User.ID)
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, o)
}

type enterpriseBindRequest struct {
	USCC string `json:"uscc"`
	Name string `json:"name"`
}

func (a *API) enterpriseBind(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	var req enterpriseBindRequest
	if err := a.Decode(w, r, &req); err != nil {
		a.Fail(w, r, err)
		return
	}
	m, err := a.Enterprise.Bind(r.Context(), s.User.ID, req.USCC, req.Name, a.origin(r, s))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, m)
}

func (a *API) enterpriseAppeal(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	var in enterprise.AppealForm
	if err := readMultipart(w, r, maxLicenceBody, multipartForm{
		Fields:  map[string]*string{"uscc": &in.USCC, "name": &in.Name},
		Files:   map[string]*[]byte{enterprise.UploadLicence: &in.Licence},
		FileMax: enterprise.MaxUpload,
	}); err != nil {
		a.Fail(w, r, err)
		return
	}
	it, err := a.Enterprise.Appeal(r.Context(), s.User.ID, in, a.origin(r, s))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, it)
}

type enterpriseDefaultRequest struct {
	USCC string `json:"uscc"`
}

func (a *API) enterpriseDefault(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	var req enterpriseDefaultRequest
	if err := a.Decode(w, r, &req); err != nil {
		a.Fail(w, r, err)
		return
	}
	if err := a.Enterprise.SetDefault(r.Context(), s.User.ID, req.USCC, a.origin(r, s)); err != nil {
		a.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) enterpriseDetail(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	d, err := a.Enterprise.Enterprise(r.Context(), s.User.ID, r.PathValue("uscc"))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, d)
}

type enterpriseUnbindRequest struct {
	SMSCode string `json:"sms_code"`
}

func (a *API) enterpriseUnbindCode(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	sent, err := a.Enterprise.SendUnbindCode(r.Context(), s.User.ID, r.PathValue("uscc"), a.origin(r, s))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusAccepted, sendCodeResponse{ExpiresIn: int64(sent.ExpiresAt.Sub(a.Now()) / time.Second), ResendAfter: int64(sent.ResendAfter / time.Second)})
}

// enterpriseUnbind unbinds with a recent password and the SMS code of
// POST …/unbind-code in the body.
func (a *API) enterpriseUnbind(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	var req enterpriseUnbindRequest
	if err := a.Decode(w, r, &req); err != nil {
		a.Fail(w, r, err)
		return
	}
	if err := a.Enterprise.Unbind(r.Context(), s.User.ID, r.PathValue("uscc"), req.SMSCode, a.origin(r, s)); err != nil {
		a.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type enterpriseGrantRequest struct {
	Phone      string   `json:"phone"`
	RealName   string   `json:"real_name"`
	Role       string   `json:"role"`
	Labels     []string `json:"labels"`
	ValidUntil string   `json:"valid_until"`
}

// enterpriseGrantSent is the one answer to a grant, whether or not
// someone matched.
type enterpriseGrantSent struct {
	Status string `json:"status"`
}

func (a *API) enterpriseGrant(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	var req enterpriseGrantRequest
	if err := a.Decode(w, r, &req); err != nil {
		a.Fail(w, r, err)
		return
	}
	err := a.Enterprise.Grant(r.Context(), s.User.ID, r.PathValue("uscc"), enterprise.GrantForm{Phone: req.Phone, RealName: req.RealName,
		Role: req.Role, Labels: req.Labels, ValidUntil: req.ValidUntil}, a.origin(r, s))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusAccepted, enterpriseGrantSent{Status: "sent"})
}

func (a *API) enterpriseWithdrawGrant(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	if err := a.Enterprise.WithdrawGrant(r.Context(), s.User.ID, r.PathValue("uscc"), r.PathValue("id"), a.origin(r, s)); err != nil {
		a.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) enterpriseAccept(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	m, err := a.Enterprise.AcceptGrant(r.Context(), s.User.ID, r.PathValue("id"), a.origin(r, s))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, m)
}

func (a *API) enterpriseDecline(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	if err := a.Enterprise.DeclineGrant(r.Context(), s.User.ID, r.PathValue("id"), a.origin(r, s)); err != nil {
		a.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type enterpriseApplyRequest struct {
	USCC   string `json:"uscc"`
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

func (a *API) enterpriseApply(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	var req enterpriseApplyRequest
	if err := a.Decode(w, r, &req); err != nil {
		a.Fail(w, r, err)
		return
	}
	app, err := a.Enterprise.Apply(r.Context(), s.User.ID, req.USCC, req.Name, req.Reason, a.origin(r, s))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, app)
}

type enterpriseDecisionRequest struct {
	Approve bool     `json:"approve"`
	Reason  string   `json:"reason"`
	Labels  []string `json:"labels"`
}

func (a *API) enterpriseDecide(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	var req enterpriseDecisionRequest
	if err := a.Decode(w, r, &req); err != nil {
		a.Fail(w, r, err)
		return
	}
	app, err := a.Enterprise.DecideApplication(r.Context(), s.User.ID, r.PathValue("uscc"), r.PathValue("id"), req.Approve, req.Reason, req.Labels, a.origin(r, s))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, app)
}

// enterpriseRevoke revokes a member, or with "me" leaves the enterprise.
func (a *API) enterpriseRevoke(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	var err error
	if id := r.PathValue("user_id"); id == "me" {
		err = a.Enterprise.Leave(r.Context(), s.User.ID, r.PathValue("uscc"), a.origin(r, s))
	} else {
		err = a.Enterprise.Revoke(r.Context(), s.User.ID, r.PathValue("uscc"), id, a.origin(r, s))
	}
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
