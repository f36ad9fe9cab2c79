package api

import (
	"net/http"
	"strconv"
	"time"

	"unid/internal/httpx"
	"unid/internal/i18n"
	"unid/internal/records"
)

// recordRoutes are the personal space's records (我的办件, 我的咨询, 我的消息,
// 我的投诉, 我的收藏) and an enterprise's cases and consultations, as the
// service systems wrote them. A record of another person or enterprise is
// not found, like one that never was.
func (a *API) recordRoutes() []httpx.Route {
	return []httpx.Route{
		{Pattern: "GET /api/v1/records", Handler: a.Guard.SignedIn(a.recordSummary)},
		{Pattern: "GET /api/v1/records/{kind}", Handler: a.Guard.SignedIn(a.listRecords)},
		{Pattern: "GET /api/v1/records/{kind}/{id}", Handler: a.Guard.SignedIn(a.getRecord)},
		{Pattern: "POST /api/v1/records/{kind}/read", Handler: a.Guard.SignedIn(a.readRecords)},
		{Pattern: "POST /api/v1/records/{kind}/{id}/read", Handler: a.Guard.SignedIn(a.readRecords)},
		{Pattern: "DELETE /api/v1/records/favorites/{id}", Handler: a.Guard.SignedIn(a.removeFavorite)},
		{Pattern: "GET /api/v1/enterprises/{uscc}/records/{kind}", Handler: a.Guard.SignedIn(a.listEnterpriseRecords)},
		{Pattern: "GET /api/v1/enterprises/{uscc}/records/{kind}/{id}", Handler: a.Guard.SignedIn(a.getEnterpriseRecord)},
	}
}

type recordJSON struct {
	ID          string             `json:"id"`
	Kind        string             `json:"kind"`
	Number      string             `json:"number,omitempty"`
	Title       string             `json:"title"`
	ItemCode    string             `json:"item_code,omitempty"`
	Department  string             `json:"department,omitempty"`
	Status      string             `json:"status,omitempty"`
	StatusLabel string             `json:"status_label,omitempty"`
	Body        string             `json:"body,omitempty"`
	Link        string             `json:"link,omitempty"`
	ClientID    string             `json:"client_id"`
	System      string             `json:"system"`
	Mine        bool               `json:"mine,omitempty"`
	SubmittedAt time.Time          `json:"submitted_at"`
	UpdatedAt   time.Time          `json:"updated_at"`
	Read        bool               `json:"read"`
	History     []statusChangeJSON `json:"history,omitempty"`
}

type statusChangeJSON struct {
	Status string    `json:"status"`
	Label  string    `json:"label"`
	At     time.Time `json:"at"`
}

type recordPageJSON struct {
	Records []recordJSON `json:"records"`
	Next    string       `json:"next"`
	Unread  int          `json:"unread"`
}

func recordOf(v records.View) recordJSON {
	out := recordJSON{
		ID: v.ID, Kind: string(v.Kind), Number: v.Number, Title: v.Title, ItemCode: v.ItemCode, Department: v.Department,
		Status: v.Status, StatusLabel: v.StatusLabel, Body: v.Body, Link: v.Link, ClientID: v.ClientID, System: v.System,
		Mine: v.Handler, SubmittedAt: v.SubmittedAt, UpdatedAt: v.UpdatedAt, Read: v.Read,
	}
	for _, h := range v.History {
		out.History = append(out.History, statusChangeJSON{Status: h.Status, Label: h.Label, At: h.At})
	}
	return out
}

func pageOf(p records.Page) recordPageJSON {
	out := recordPageJSON{Records: make([]recordJSON, 0, len(p.Records)), Next: p.Next, Unread: p.Unread}
	for _, v := range p.Records {
		out.Records = append(out.Records, recordOf(v))
	}
	return out
}

// recordFilter reads the list filters of the query; a limit that is not
// a number is refused with the others by the service.
func recordFilter(r *http.Request) records.Filter {
	q := r.URL.Query()
	f := records.Filter{
		Status: q.Get("status"), Client: q.Get("client"), From: q.Get("from"), To: q.Get("to"),
		Search: q.Get("q"), After: q.Get("after"),
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil {
			n = -1
		}
		f.Limit = n
	}
	return f
}

// recordSummary answers how many records of each kind are unread.
func (a *API) recordSummary(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	n, err := a.Records.Summary(r.Context(), s.User.ID)
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"unread": n})
}

// listRecords answers a page of the person's records of a kind, newest
// first, in the request's language.
func (a *API) listRecords(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	p, err := a.Records.List(r.Context(), i18n.Negotiate(r), s.User.ID, r.PathValue("kind"), recordFilter(r))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, pageOf(p))
}

// getRecord answers one record with its status history.
func (a *API) getRecord(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	v, err := a.Records.Get(r.Context(), i18n.Negotiate(r), s.User.ID, r.PathValue("kind"), r.PathValue("id"))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, recordOf(v))
}

// readRecords marks one record of a kind read ({id}), or all of them.
func (a *API) readRecords(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	if err := a.Records.MarkRead(r.Context(), s.User.ID, r.PathValue("kind"), r.PathValue("id")); err != nil {
		a.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// removeFavorite deletes one of the person's favorites.
func (a *API) removeFavorite(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	if err := a.Records.Remove(r.Context(), s.User.ID, "favorites", r.PathValue("id")); err != nil {
		a.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// listEnterpriseRecords answers a page of an enterprise's cases or
// consultations to a member: all of them to the legal representative and
// administrators, a handler's own to a handler.
func (a *API) listEnterpriseRecords(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	p, err := a.Records.ListEnterprise(r.Context(), i18n.Negotiate(r), s.User.ID, r.PathValue("uscc"), r.PathValue("kind"), recordFilter(r))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, pageOf(p))
}

// getEnterpriseRecord answers one of an enterprise's records with its
// status history, to a member who may see it.
func (a *API) getEnterpriseRecord(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	v, err := a.Records.GetEnterprise(r.Context(), i18n.Negotiate(r), s.User.ID, r.PathValue("uscc"), r.PathValue("kind"), r.PathValue("id"))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, recordOf(v))
}
