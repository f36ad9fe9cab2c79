package admin

import (
	"net/http"

	"unid/internal/httpx"
	"unid/internal/operator"
)

// enterprisePage is how many enterprises a page of a name search shows.
const enterprisePage = 50

// enterprises finds enterprises by credit code (exact) or a prefix of
// their name.
func (c *ConsoleAPI) enterprises(w http.ResponseWriter, r *http.Request, _ operator.Signed) {
	if c.d.Citizens.Enterprises == nil {
		c.d.Responder.Fail(w, r, errCitizensUnavailable)
		return
	}
	q := r.URL.Query()
	page, err := c.d.Citizens.Enterprises.Find(r.Context(), q.Get("q"), q.Get("after"), enterprisePage)
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, page)
}

func (c *ConsoleAPI) enterprise(w http.ResponseWriter, r *http.Request, _ operator.Signed) {
	if c.d.Citizens.Enterprises == nil {
		c.d.Responder.Fail(w, r, errCitizensUnavailable)
		return
	}
	d, err := c.d.Citizens.Enterprises.Inspect(r.Context(), r.PathValue("uscc"))
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, d)
}

func (c *ConsoleAPI) removeMember(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
	reason, ok := c.reasonOf(w, r)
	if !ok {
		return
	}
	if c.d.Citizens.Enterprises == nil {
		c.d.Responder.Fail(w, r, errCitizensUnavailable)
		return
	}
	if err := c.d.Citizens.Enterprises.RemoveMember(r.Context(), r.PathValue("uscc"), r.PathValue("user"), reason, c.by(r, sg)); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
