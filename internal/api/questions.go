package api

import (
	"net/http"
	"time"

	"unid/internal/audit"
	"unid/internal/httpx"
	"unid/internal/i18n"
	"unid/internal/questions"
)

// questionsRoutes are the user center's security questions (密保问题):
// the list to choose from and whether the owner's are set; setting them
// needs a recent password.
func (a *API) questionsRoutes() []httpx.Route {
	return []httpx.Route{
		{Pattern: "GET /api/v1/security-questions", Handler: a.Guard.SignedIn(a.getSecurityQuestions)},
		{Pattern: "PUT /api/v1/security-questions", Handler: a.Guard.Recent(5*time.Minute, a.setSecurityQuestions)},
	}
}

// securityQuestionsJSON shows the owner only whether questions are set and
// when, never which ones or the answers.
type securityQuestionsJSON struct {
	Set       bool           `json:"set"`
	SetAt     *time.Time     `json:"set_at"`
	Questions []questionJSON `json:"questions"` // the list to choose from
}

func (a *API) securityQuestions(w http.ResponseWriter, r *http.Request, st questions.Status, status int) {
	out := securityQuestionsJSON{Set: st.Set, Questions: questionsJSON(a.Questions.List().All(), i18n.Negotiate(r))}
	if st.Set {
		out.SetAt = &st.SetAt
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, status, out)
}

func (a *API) getSecurityQuestions(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	st, err := a.Questions.Status(r.Context(), s.User.ID)
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	a.securityQuestions(w, r, st, http.StatusOK)
}

type setQuestionsRequest struct {
	Answers []struct {
		Question string `json:"question"`
		Answer   string `json:"answer"`
	} `json:"answers"`
}

func (a *API) setSecurityQuestions(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	var req setQuestionsRequest
	if err := httpx.DecodeLimit(w, r, &req, 4<<10); err != nil {
		a.Fail(w, r, err)
		return
	}
	answers := make([]questions.Answer, 0, len(req.Answers))
	for _, x := range req.Answers {
		answers = append(answers, questions.Answer{Question: x.Question, Answer: x.Answer})
	}
	st, err := a.Questions.Set(r.Context(), s.User.ID, answers, audit.User(s.User.ID))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	a.securityQuestions(w, r, st, http.StatusOK)
}
