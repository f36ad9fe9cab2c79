package api

import (
	"net/http"
	"time"

	"unid/internal/httpx"
	"unid/internal/i18n"
	"unid/internal/records"
)

// messageRoutes are the first form of 我的消息, kept for the clients that
// use it: the same messages as GET /api/v1/records/messages, unid's own
// and the service systems'.
func (a *API) messageRoutes() []httpx.Route {
	return []httpx.Route{
		{Pattern: "GET /api/v1/messages", Handler: a.Guard.SignedIn(a.listMessages)},
		{Pattern: "POST /api/v1/messages/{id}/read", Handler: a.Guard.SignedIn(a.readMessage)},
	}
}

type messageJSON struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
	Read      bool      `json:"read"`
	Link      string    `json:"link"`
}

// listMessages answers a page of the user's messages, newest first, in
// the request's language; ?after= is the next cursor of the page before.
func (a *API) listMessages(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	p, err := a.Records.List(r.Context(), i18n.Negotiate(r), s.User.ID, "messages", records.Filter{After: r.URL.Query().Get("after")})
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	out := make([]messageJSON, 0, len(p.Records))
	for _, m := range p.Records {
		out = append(out, messageJSON{ID: m.ID, Title: m.Title, Body: m.Body, CreatedAt: m.SubmittedAt, Read: m.Read, Link: m.Link})
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"messages": out, "next": p.Next, "unread": p.Unread})
}

// readMessage marks one of the user's messages read. Another user's
// message is not found, like one that never was.
func (a *API) readMessage(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	if err := a.Records.MarkRead(r.Context(), s.User.ID, "messages", r.PathValue("id")); err != nil {
		a.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
