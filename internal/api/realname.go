package api

import (
	"net/http"
	"net/url"
	"strconv"

	"unid/internal/audit"
	"unid/internal/httpx"
	"unid/internal/problem"
	"unid/internal/realname"
)

// realnameRoutes are real-name verification (实名认证): the status, the
// level-1 and level-2 forms, 支付宝认证, the redirect verifications and
// their callback, the counter request, appeals and unbinding. Removing a
// binding needs a recent password, like other sensitive settings.
func (a *API) realnameRoutes() []httpx.Route {
	return []httpx.Route{
		{Pattern: "GET /api/v1/realname", Handler: a.Guard.SignedIn(a.realnameStatus)},
		{Pattern: "POST /api/v1/realname/identity", Handler: a.Guard.SignedIn(a.realnameIdentity)},
		{Pattern: "POST /api/v1/realname/bank-card", Handler: a.Guard.SignedIn(a.realnameBankCard)},
		{Pattern: "POST /api/v1/realname/carrier", Handler: a.Guard.SignedIn(a.realnameCarrier)},
		{Pattern: "POST /api/v1/realname/alipay", Handler: a.Guard.SignedIn(a.realnameAlipay)},
		{Pattern: "POST /api/v1/realname/redirects", Handler: a.Guard.SignedIn(a.realnameRedirect)},
		{Pattern: "POST /api/v1/realname/counter", Handler: a.Guard.SignedIn(a.realnameCounter)},
		{Pattern: "POST /api/v1/realname/appeals", Handler: a.Guard.SignedIn(a.realnameAppeal)},
		{Pattern: "DELETE /api/v1/realname/bindings/{method}", Handler: a.Guard.Recent(ReauthWindow, a.realnameUnbind)},
		{Pattern: "GET /realname/callback", Handler: a.realnameCallback},
	}
}

// origin is the signed-in user acting from this request.
func (a *API) origin(r *http.Request, s httpx.Signed) audit.Origin {
	c := a.client(r)
	return audit.Origin{Actor: audit.User(s.User.ID), IP: c.IP, UserAgent: c.UserAgent}
}

func (a *API) realnameStatus(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	st, err := a.Realname.Status(r.Context(), s.User.ID)
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, st)
}

type realnameIdentityRequest struct {
	RealName      string `json:"real_name"`
	IDNumber      string `json:"id_number"`
	UseRegistered bool   `json:"use_registered"`
}

func (a *API) realnameIdentity(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	var req realnameIdentityRequest
	if err := a.Decode(w, r, &req); err != nil {
		a.Fail(w, r, err)
		return
	}
	st, err := a.Realname.VerifyIdentity(r.Context(), s.User.ID,
		realname.Identity{RealName: req.RealName, IDNumber: req.IDNumber, UseRegistered: req.UseRegistered}, a.origin(r, s))
	a.realnameAnswer(w, r, st, err)
}

type realnameBankCardRequest struct {
	CardNumber string `json:"card_number"`
	Phone      string `json:"phone"`
}

func (a *API) realnameBankCard(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	var req realnameBankCardRequest
	if err := a.Decode(w, r, &req); err != nil {
		a.Fail(w, r, err)
		return
	}
	st, err := a.Realname.VerifyBankCard(r.Context(), s.User.ID, req.CardNumber, req.Phone, a.origin(r, s))
	a.realnameAnswer(w, r, st, err)
}

type realnameCarrierRequest struct {
	Phone string `json:"phone"`
}

func (a *API) realnameCarrier(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	var req realnameCarrierRequest
	if err := a.Decode(w, r, &req); err != nil {
		a.Fail(w, r, err)
		return
	}
	st, err := a.Realname.VerifyCarrier(r.Context(), s.User.ID, req.Phone, a.origin(r, s))
	a.realnameAnswer(w, r, st, err)
}

// realnameAlipay binds 支付宝认证 on the account's Alipay link; it takes
// no body.
func (a *API) realnameAlipay(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	st, err := a.Realname.VerifyAlipay(r.Context(), s.User.ID, a.origin(r, s))
	a.realnameAnswer(w, r, st, err)
}

func (a *API) realnameAnswer(w http.ResponseWriter, r *http.Request, st realname.Status, err error) {
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, st)
}

type realnameRedirectRequest struct {
	Method string `json:"method"`
	Next   string `json:"next"`
	Level  int    `json:"level"` // the level the service at next needs
}

type realnameRedirectJSON struct {
	URL string `json:"url"`
}

func (a *API) realnameRedirect(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	var req realnameRedirectRequest
	if err := a.Decode(w, r, &req); err != nil {
		a.Fail(w, r, err)
		return
	}
	u, err := a.Realname.StartRedirect(r.Context(), s.User.ID, req.Method, realname.Back{Next: req.Next, Level: req.Level}, a.origin(r, s))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, realnameRedirectJSON{URL: u})
}

// realnameCallback is where a verifier sends the browser back: the result
// is fetched server to server, and the browser goes on to the real-name
// page with how it ended.
func (a *API) realnameCallback(w http.ResponseWriter, r *http.Request) {
	q := url.Values{}
	_, u, ok, err := a.Sessions.SignedIn(r.Context(), r)
	switch {
	case err != nil:
		a.Fail(w, r, problem.Wrap(err))
		return
	case !ok:
		q.Set("result", realname.FinishExpired)
	default:
		c := a.client(r)
		fin, err := a.Realname.FinishRedirect(r.Context(), u.ID, r.URL.Query().Get("flow"),
			audit.Origin{Actor: audit.User(u.ID), IP: c.IP, UserAgent: c.UserAgent})
		if err != nil {
			a.Fail(w, r, err)
			return
		}
		q.Set("result", fin.Result)
		if fin.Method != "" {
			q.Set("method", fin.Method)
		}
		if fin.Back.Next != "" {
			q.Set("next", fin.Back.Next)
		}
		if fin.Back.Level > 0 {
			q.Set("level", strconv.Itoa(fin.Back.Level))
		}
	}
	http.Redirect(w, r, "/settings/realname?"+q.Encode(), http.StatusSeeOther)
}

func (a *API) realnameCounter(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	it, err := a.Realname.RequestCounter(r.Context(), s.User.ID, a.origin(r, s))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, it)
}

// maxAppealBody bounds an appeal: two uploads and a few fields.
const maxAppealBody = 2*realname.MaxUpload + 64<<10

// realnameAppeal reads a multipart appeal: the fields real_name and
// id_number and the files id_photo and handheld_photo. A file larger than
// the limit is read only to one byte past it, for the service to refuse.
//
// Whether the user may appeal at all, and the day's appeals, are checked
// before the body is read: a refused appeal costs no upload.
func (a *API) realnameAppeal(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	if err := a.Realname.CanAppeal(r.Context(), s.User.ID, a.origin(r, s)); err != nil {
		a.Fail(w, r, err)
		return
	}
	var in realname.AppealForm
	if err := readMultipart(w, r, maxAppealBody, multipartForm{
		Fields:  map[string]*string{"real_name": &in.RealName, "id_number": &in.IDNumber},
		Files:   map[string]*[]byte{realname.UploadIDPhoto: &in.IDPhoto, realname.UploadHandheldPhoto: &in.HandheldPhoto},
		FileMax: realname.MaxUpload,
	}); err != nil {
		a.Fail(w, r, err)
		return
	}
	it, err := a.Realname.Appeal(r.Context(), s.User.ID, in, a.origin(r, s))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, it)
}

func (a *API) realnameUnbind(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	st, err := a.Realname.Unbind(r.Context(), s.User.ID, r.PathValue("method"), a.origin(r, s))
	a.realnameAnswer(w, r, st, err)
}
