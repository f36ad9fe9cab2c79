package api

import (
	"errors"
	"net/http"
	"time"

	"unid/internal/activity"
	"unid/internal/audit"
	"unid/internal/httpx"
	"unid/internal/i18n"
	"unid/internal/problem"
	"unid/internal/session"
)

// sessionRoutes are the user center's "devices and activity" (登录设备与
// 记录): the signed-in user's live sessions, ending one or all others, and
// their own history of sign-ins and security events.
func (a *API) sessionRoutes() []httpx.Route {
	return []httpx.Route{
		{Pattern: "GET /api/v1/me/sessions", Handler: a.Guard.SignedIn(a.listMySessions)},
		{Pattern: "DELETE /api/v1/me/sessions", Handler: a.Guard.SignedIn(a.endMyOtherSessions)},
		{Pattern: "DELETE /api/v1/me/sessions/{sid}", Handler: a.Guard.SignedIn(a.endMySession)},
		{Pattern: "GET /api/v1/me/history", Handler: a.Guard.SignedIn(a.myHistory)},
	}
}

// mySessionJSON is one live session as its owner sees it: named by its
// SID (never the token hash), described by browser, device and place
// rather than the raw user agent and address.
type mySessionJSON struct {
	ID         string    `json:"id"`
	Current    bool      `json:"current"` // the browser asking
	Browser    string    `json:"browser"`
	Device     string    `json:"device"`
	Place      string    `json:"place"`
	SignedInAt time.Time `json:"signed_in_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
}

// listMySessions lists the user's live sessions, the asking browser's
// first, then the most recently seen.
func (a *API) listMySessions(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	list, err := a.Sessions.ListUser(r.Context(), s.User.ID)
	if err != nil {
		a.Fail(w, r, problem.Wrap(err))
		return
	}
	lang := i18n.Negotiate(r)
	out := make([]mySessionJSON, 0, len(list))
	for _, sess := range list {
		browser, device := a.describeAgent(lang, sess.UserAgent)
		item := mySessionJSON{
			ID: sess.SID, Current: sess.SID == s.Session.SID, Browser: browser, Device: device,
			Place: a.describePlace(lang, sess.IP), SignedInAt: sess.CreatedAt, LastSeenAt: sess.LastSeenAt,
		}
		if item.Current {
			out = append([]mySessionJSON{item}, out...)
		} else {
			out = append(out, item)
		}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

// endMySession signs out one of the user's sessions, named by its SID: a
// logout like any other, so the service systems it signed in to are told.
// A SID that is not the user's is not found, like one that never was.
// Naming the asking browser's own session signs this browser out.
func (a *API) endMySession(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	how := session.Logout{Via: session.ViaSessionList, Client: a.client(r)}
	sid := r.PathValue("sid")
	var err error
	if sid == s.Session.SID {
		err = a.Sessions.End(r.Context(), w, r, how)
	} else {
		err = a.Sessions.EndSID(r.Context(), s.User.ID, sid, how)
	}
	if errors.Is(err, session.ErrNoSuchSession) {
		a.Fail(w, r, problem.New(problem.NotFound, "session_not_found"))
		return
	}
	if err != nil {
		a.Fail(w, r, problem.Wrap(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// endMyOtherSessions signs out every session of the user but the asking
// browser's, and says how many there were.
func (a *API) endMyOtherSessions(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	n, err := a.Sessions.EndOthers(r.Context(), s.User.ID, s.Session.SID, session.Logout{Via: session.ViaSessionList, Client: a.client(r)})
	if err != nil {
		a.Fail(w, r, problem.Wrap(err))
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]int{"ended": n})
}

// historyJSON is one event of the user's history, in the request's
// language; Action and Result are the codes behind What and ResultText.
type historyJSON struct {
	Time       time.Time `json:"time"`
	Action     string    `json:"action"`
	What       string    `json:"what"`
	Result     string    `json:"result"`
	OK         bool      `json:"ok"`
	ResultText string    `json:"result_text"`
	Browser    string    `json:"browser"`
	Device     string    `json:"device"`
	Place      string    `json:"place"`
}

// myHistory answers the user's newest sign-ins and security events.
func (a *API) myHistory(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	events, err := activity.History(r.Context(), a.AuditLog, s.User.ID)
	if err != nil {
		a.Fail(w, r, problem.Wrap(err))
		return
	}
	lang := i18n.Negotiate(r)
	cat := a.Catalog()
	out := make([]historyJSON, 0, len(events))
	for _, e := range events {
		browser, device := a.describeAgent(lang, e.UserAgent)
		h := historyJSON{
			Time: e.Time, Action: e.Action, Result: e.Result, OK: e.Result == audit.ResultOK,
			Browser: browser, Device: device, Place: a.describePlace(lang, e.IP),
		}
		h.What = cat.T(lang, "activity.action.other", "action", e.Action)
		if key := "activity.action." + e.Action; cat.Has(key) {
			h.What = cat.T(lang, key)
		}
		if e.Action == audit.ActionLogout {
			if d, ok := audit.ParseDetail(e.Detail); ok && cat.Has("activity.logout."+d["via"]) {
				h.What = cat.T(lang, "activity.logout."+d["via"])
			}
		}
		h.ResultText = cat.T(lang, "activity.result.other")
		if key := "activity.result." + e.Result; e.Result != "" && cat.Has(key) {
			h.ResultText = cat.T(lang, key)
		}
		out = append(out, h)
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"events": out})
}

// describeAgent names the browser and the device of a user agent string
// in lang; the string itself is never shown.
func (a *API) describeAgent(lang i18n.Lang, ua string) (browser, device string) {
	cat := a.Catalog()
	ag := activity.ParseUserAgent(ua)
	browser = cat.T(lang, "activity.browser.unknown")
	if ag.Browser != "" {
		browser = cat.T(lang, "activity.browser."+ag.Browser)
		if ag.BrowserVersion != "" {
			browser = cat.T(lang, "activity.browser.version", "name", browser, "version", ag.BrowserVersion)
		}
	}
	device = cat.T(lang, "activity.device.unknown")
	if ag.OS != "" {
		device = cat.T(lang, "activity.os."+ag.OS)
		if ag.OSVersion != "" {
			device = cat.T(lang, "activity.os.version", "name", device, "version", ag.OSVersion)
		}
		if ag.Form != "" {
			device = cat.T(lang, "activity.form."+ag.Form, "os", device)
		}
	}
	return browser, device
}

// describePlace names the coarse place of an address in lang.
func (a *API) describePlace(lang i18n.Lang, ip string) string {
	p := activity.PlaceOf(ip)
	if p.Kind == activity.PlacePublic {
		return p.Network
	}
	return a.Catalog().T(lang, "activity.place."+p.Kind)
}
