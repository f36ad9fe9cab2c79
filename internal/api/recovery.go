package api

import (
	"net/http"
	"time"

	"unid/internal/flow/recovery"
	"unid/internal/httpx"
	"unid/internal/i18n"
	"unid/internal/questions"
)

// recoveryRoutes are password recovery (找回密码): a flow started with an
// identifier and a captcha, proven by a code or by the security questions,
// ended by a new password. See package recovery.
func (a *API) recoveryRoutes() []httpx.Route {
	return []httpx.Route{
		{Pattern: "POST /api/v1/recovery", Handler: a.startRecovery},
		{Pattern: "GET /api/v1/recovery/{id}/questions", Handler: a.recoveryQuestions},
		{Pattern: "POST /api/v1/recovery/{id}/codes", Handler: a.sendRecoveryCode},
		{Pattern: "POST /api/v1/recovery/{id}/proof", Handler: a.proveRecovery},
		{Pattern: "POST /api/v1/recovery/{id}/password", Handler: a.recoverPassword},
	}
}

// maxRecoveryBody bounds a recovery request: a few short fields.
const maxRecoveryBody = 4 << 10

type startRecoveryRequest struct {
	Identifier    string `json:"identifier"`
	CaptchaID     string `json:"captcha_id"`
	CaptchaAnswer string `json:"captcha_answer"`
}

type recoveryJSON struct {
	ID            string    `json:"id"`
	ExpiresAt     time.Time `json:"expires_at"`
	Methods       []string  `json:"methods"`
	QuestionsMode string    `json:"questions_mode"`
}

// startRecovery answers the same for every identifier: a flow, and every
// method there is.
func (a *API) startRecovery(w http.ResponseWriter, r *http.Request) {
	var req startRecoveryRequest
	if err := httpx.DecodeLimit(w, r, &req, maxRecoveryBody); err != nil {
		a.Fail(w, r, err)
		return
	}
	st, err := a.Recovery.Start(r.Context(), req.Identifier, req.CaptchaID, req.CaptchaAnswer, a.client(r))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, recoveryJSON{ID: st.ID, ExpiresAt: st.ExpiresAt, Methods: a.Recovery.Methods(), QuestionsMode: a.Recovery.QuestionsMode()})
}

type questionJSON struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

func questionsJSON(qs []questions.Question, lang i18n.Lang) []questionJSON {
	out := make([]questionJSON, 0, len(qs))
	for _, q := range qs {
		out = append(out, questionJSON{ID: q.ID, Text: q.Text(lang)})
	}
	return out
}

func (a *API) recoveryQuestions(w http.ResponseWriter, r *http.Request) {
	qs, err := a.Recovery.Questions(r.Context(), r.PathValue("id"))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"questions": questionsJSON(qs, i18n.Negotiate(r))})
}

type recoveryCodeRequest struct {
	Method string `json:"method"`
}

func (a *API) sendRecoveryCode(w http.ResponseWriter, r *http.Request) {
	var req recoveryCodeRequest
	if err := httpx.DecodeLimit(w, r, &req, maxRecoveryBody); err != nil {
		a.Fail(w, r, err)
		return
	}
	sent, err := a.Recovery.SendCode(r.Context(), r.PathValue("id"), req.Method, a.client(r))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusAccepted, sendCodeResponse{ExpiresIn: int64(sent.ExpiresIn / time.Second), ResendAfter: int64(sent.ResendAfter / time.Second)})
}

type proofRequest struct {
	Method     string   `json:"method"`
	Code       string   `json:"code"`
	CodeMethod string   `json:"code_method"`
	Answers    []string `json:"answers"`
}

func (a *API) proveRecovery(w http.ResponseWriter, r *http.Request) {
	var req proofRequest
	if err := httpx.DecodeLimit(w, r, &req, maxRecoveryBody); err != nil {
		a.Fail(w, r, err)
		return
	}
	p := recovery.Proof{Method: req.Method, Code: req.Code, CodeMethod: req.CodeMethod}
	copy(p.Answers[:], req.Answers)
	if err := a.Recovery.Prove(r.Context(), r.PathValue("id"), p, a.client(r)); err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"state": recovery.StateProven})
}

type recoverPasswordRequest struct {
	Password        string `json:"password"`
	PasswordConfirm string `json:"password_confirm"`
}

func (a *API) recoverPassword(w http.ResponseWriter, r *http.Request) {
	var req recoverPasswordRequest
	if err := httpx.DecodeLimit(w, r, &req, maxRecoveryBody); err != nil {
		a.Fail(w, r, err)
		return
	}
	if err := a.Recovery.SetPassword(r.Context(), r.PathValue("id"), req.Password, req.PasswordConfirm, a.client(r)); err != nil {
		a.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
