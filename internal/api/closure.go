package api

import (
	"net/http"
	"strings"
	"time"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/httpx"
	"unid/internal/i18n"
	"unid/internal/problem"
	"unid/internal/session"
)

// closureRoutes are the user center's account closure (注销账号): what it
// means, the download of everything unid holds about the person, and the
// closure itself. Both of the latter need a recent password.
func (a *API) closureRoutes() []httpx.Route {
	return []httpx.Route{
		{Pattern: "GET /api/v1/me/closure", Handler: a.Guard.SignedIn(a.closureTerms)},
		{Pattern: "POST /api/v1/me/closure", Handler: a.Guard.Recent(ReauthWindow, a.closeAccount)},
		{Pattern: "GET /api/v1/me/export", Handler: a.Guard.Recent(ReauthWindow, a.exportMyData)},
	}
}

type closureTermsJSON struct {
	// CoolingOffDays is how long, after closure, the phone and ID number
	// stay barred from a new account.
	CoolingOffDays int `json:"cooling_off_days"`
}

func (a *API) closureTerms(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	days := int((a.Accounts.CoolingOff() + 24*time.Hour - 1) / (24 * time.Hour))
	httpx.WriteJSON(w, http.StatusOK, closureTermsJSON{CoolingOffDays: days})
}

type closureRequest struct {
	// Confirm is the account's login name, typed by its owner.
	Confirm string `json:"confirm"`
}

// closeAccount closes the signed-in account for good once its owner has
// typed its login name, and clears this browser's session cookie (the
// session itself ended with every other). A login name that does not
// match changes nothing.
func (a *API) closeAccount(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	var req closureRequest
	if err := httpx.DecodeLimit(w, r, &req, maxProfileBody); err != nil {
		a.Fail(w, r, err)
		return
	}
	if account.LoginNameKey(strings.TrimSpace(req.Confirm)) != s.User.LoginNameKey {
		a.Fail(w, r, problem.Field("confirm", "closure_confirm_mismatch"))
		return
	}
	if err := a.Accounts.Close(r.Context(), s.User.ID, audit.User(s.User.ID)); err != nil {
		a.Fail(w, r, err)
		return
	}
	// The session is gone already: End only clears the cookie.
	if err := a.Sessions.End(r.Context(), w, r, session.Logout{Via: session.ViaAccountClosed, Client: a.client(r)}); err != nil {
		a.Fail(w, r, problem.Wrap(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// The export document. Its field names are stable: a person may keep the
// file and read it with other tools.
type (
	exportJSON struct {
		Format            string                 `json:"format"` // "unid-export/1"
		ExportedAt        time.Time              `json:"exported_at"`
		Account           exportAccountJSON      `json:"account"`
		Addresses         []exportAddressJSON    `json:"addresses"`
		SecurityQuestions exportQuestionsJSON    `json:"security_questions"`
		Sessions          []exportSessionJSON    `json:"sessions"`
		Consents          []consentJSON          `json:"consents"`
		Realname          exportRealnameJSON     `json:"realname"`
		Messages          []exportMessageJSON    `json:"messages"`
		Records           []exportRecordJSON     `json:"records"`
		Links             []exportLinkJSON       `json:"links"`
		AuditEvents       []exportAuditEventJSON `json:"audit_events"`
	}
	// exportLinkJSON is a link to an identity provider: which identity
	// there signs in to this account.
	exportLinkJSON struct {
		Provider     string    `json:"provider"`
		App          string    `json:"app"`
		Subject      string    `json:"subject"`
		AlipayUserID string    `json:"alipay_user_id,omitempty"`
		Certified    bool      `json:"certified"`
		LinkedAt     time.Time `json:"linked_at"`
		LastUsedAt   time.Time `json:"last_used_at"`
	}
	// exportRealnameJSON is the evidence of the person's real-name level
	// and every check asked of a verifier for them.
	exportRealnameJSON struct {
		Bindings []exportBindingJSON `json:"bindings"`
		Checks   []exportCheckJSON   `json:"checks"`
	}
	exportBindingJSON struct {
		Method    string    `json:"method"`
		Level     int       `json:"level"`
		Detail    string    `json:"detail,omitempty"`
		Reference string    `json:"reference,omitempty"`
		CreatedAt time.Time `json:"created_at"`
	}
	exportCheckJSON struct {
		Method    string    `json:"method"`
		Provider  string    `json:"provider"`
		Result    string    `json:"result"`
		Reference string    `json:"reference,omitempty"`
		CreatedAt time.Time `json:"created_at"`
	}
	exportMessageJSON struct {
		Event     string            `json:"event"`
		Params    map[string]string `json:"params,omitempty"`
		Link      string            `json:"link,omitempty"`
		CreatedAt time.Time         `json:"created_at"`
		ReadAt    *time.Time        `json:"read_at"`
	}
	// exportRecordJSON is one of the records service systems keep of the
	// person (a case, a consultation, a complaint, a message, a
	// favorite); unid's own messages are in messages, as before.
	exportRecordJSON struct {
		Kind        string             `json:"kind"`
		ClientID    string             `json:"client_id,omitempty"`
		ExternalID  string             `json:"external_id,omitempty"`
		Number      string             `json:"number,omitempty"`
		Title       string             `json:"title,omitempty"`
		ItemCode    string             `json:"item_code,omitempty"`
		Department  string             `json:"department,omitempty"`
		Status      string             `json:"status,omitempty"`
		Summary     string             `json:"summary,omitempty"`
		Link        string             `json:"link,omitempty"`
		Event       string             `json:"event,omitempty"`
		Params      map[string]string  `json:"params,omitempty"`
		SubmittedAt time.Time          `json:"submitted_at"`
		UpdatedAt   time.Time          `json:"updated_at"`
		ReadAt      *time.Time         `json:"read_at"`
		History     []exportStatusJSON `json:"history,omitempty"`
	}
	exportStatusJSON struct {
		Status string    `json:"status"`
		At     time.Time `json:"at"`
	}
	exportAccountJSON struct {
		ID            string    `json:"id"`
		LoginName     string    `json:"login_name"`
		Phone         string    `json:"phone"`
		IDNumber      string    `json:"id_number"`
		RealName      string    `json:"real_name"`
		Email         string    `json:"email"`
		Nickname      string    `json:"nickname"`
		WorkUnit      string    `json:"work_unit"`
		RealnameLevel int       `json:"realname_level"`
		CreatedAt     time.Time `json:"created_at"`
	}
	exportAddressJSON struct {
		Recipient    string    `json:"recipient"`
		Phone        string    `json:"phone"`
		DivisionCode string    `json:"division_code"`
		Province     string    `json:"province"`
		City         string    `json:"city"`
		County       string    `json:"county"`
		Detail       string    `json:"detail"`
		Postcode     string    `json:"postcode"`
		Default      bool      `json:"default"`
		CreatedAt    time.Time `json:"created_at"`
		UpdatedAt    time.Time `json:"updated_at"`
	}
	// exportQuestionsJSON names the chosen questions, never the answers
	// or their hashes.
	exportQuestionsJSON struct {
		Set       bool       `json:"set"`
		SetAt     *time.Time `json:"set_at"`
		Questions []string   `json:"questions"`
	}
	exportSessionJSON struct {
		Current    bool      `json:"current"`
		Browser    string    `json:"browser"`
		Device     string    `json:"device"`
		Place      string    `json:"place"`
		SignedInAt time.Time `json:"signed_in_at"`
		LastSeenAt time.Time `json:"last_seen_at"`
	}
	exportAuditEventJSON struct {
		Time      time.Time `json:"time"`
		Action    string    `json:"action"`
		Result    string    `json:"result"`
		IP        string    `json:"ip"`
		UserAgent string    `json:"user_agent"`
		Subject   string    `json:"subject,omitempty"`
		Detail    string    `json:"detail,omitempty"`
	}
)

// exportMyData answers everything unid holds about the signed-in person,
// unmasked, as a JSON file to save. It is never cached and never logged.
func (a *API) exportMyData(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	c := a.client(r)
	d, err := a.Export.Collect(r.Context(), s.User.ID, audit.Origin{Actor: audit.User(s.User.ID), IP: c.IP, UserAgent: c.UserAgent})
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	lang := i18n.Negotiate(r)
	out := exportJSON{
		Format: "unid-export/1", ExportedAt: d.At,
		Account: exportAccountJSON{
			ID: d.Account.ID, LoginName: d.Account.LoginName, Phone: d.Account.Phone, IDNumber: d.Account.IDNumber,
			RealName: d.Account.RealName, Email: d.Account.Email, Nickname: d.Account.Nickname, WorkUnit: d.Account.WorkUnit,
			RealnameLevel: d.Account.RealnameLevel, CreatedAt: d.Account.CreatedAt,
		},
		Addresses:         []exportAddressJSON{},
		SecurityQuestions: exportQuestionsJSON{Set: d.Questions.Set, Questions: []string{}},
		Sessions:          []exportSessionJSON{},
		Consents:          []consentJSON{},
		Realname:          exportRealnameJSON{Bindings: []exportBindingJSON{}, Checks: []exportCheckJSON{}},
		Messages:          []exportMessageJSON{},
		Records:           []exportRecordJSON{},
		Links:             []exportLinkJSON{},
		AuditEvents:       []exportAuditEventJSON{},
	}
	for _, l := range d.Links {
		out.Links = append(out.Links, exportLinkJSON{Provider: l.Provider, App: l.App, Subject: l.Subject,
			AlipayUserID: l.AlipayUserID, Certified: l.Certified, LinkedAt: l.LinkedAt, LastUsedAt: l.LastUsedAt})
	}
	for _, b := range d.Bindings {
		out.Realname.Bindings = append(out.Realname.Bindings, exportBindingJSON{
			Method: b.Method, Level: b.Level, Detail: b.Detail, Reference: b.Reference, CreatedAt: b.CreatedAt,
		})
	}
	for _, c := range d.Checks {
		out.Realname.Checks = append(out.Realname.Checks, exportCheckJSON{
			Method: c.Method, Provider: c.Provider, Result: c.Result, Reference: c.Reference, CreatedAt: c.CreatedAt,
		})
	}
	for _, r := range d.Records {
		var read *time.Time
		if !r.ReadAt.IsZero() {
			read = &r.ReadAt
		}
		if r.ClientID == "" {
			out.Messages = append(out.Messages, exportMessageJSON{Event: r.Event, Params: r.Params, Link: r.Link,
				CreatedAt: r.SubmittedAt, ReadAt: read})
			continue
		}
		j := exportRecordJSON{Kind: string(r.Kind), ClientID: r.ClientID, ExternalID: r.ExternalID, Number: r.Number,
			Title: r.Title, ItemCode: r.ItemCode, Department: r.Department, Status: r.Status, Summary: r.Summary,
			Link: r.Link, SubmittedAt: r.SubmittedAt, UpdatedAt: r.UpdatedAt, ReadAt: read}
		for _, h := range r.History {
			j.History = append(j.History, exportStatusJSON{Status: h.Status, At: h.At})
		}
		out.Records = append(out.Records, j)
	}
	for _, v := range d.Addresses {
		out.Addresses = append(out.Addresses, exportAddressJSON{
			Recipient: v.Recipient, Phone: v.Phone, DivisionCode: v.DivisionCode,
			Province: v.Place.Province.Name, City: v.Place.City.Name, County: v.Place.County.Name,
			Detail: v.Detail, Postcode: v.Postcode, Default: v.Default, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
		})
	}
	if d.Questions.Set {
		out.SecurityQuestions.SetAt = &d.Questions.SetAt
		for _, id := range d.Questions.IDs {
			text := id // a question since removed from the list
			if q, ok := a.Questions.List().Get(id); ok {
				text = q.Text(lang)
			}
			out.SecurityQuestions.Questions = append(out.SecurityQuestions.Questions, text)
		}
	}
	for _, sess := range d.Sessions {
		browser, device := a.describeAgent(lang, sess.UserAgent)
		out.Sessions = append(out.Sessions, exportSessionJSON{
			Current: sess.SID == s.Session.SID, Browser: browser, Device: device, Place: a.describePlace(lang, sess.IP),
			SignedInAt: sess.CreatedAt, LastSeenAt: sess.LastSeenAt,
		})
	}
	for _, c := range d.Consents {
		scopes := c.Scopes
		if scopes == nil {
			scopes = []string{}
		}
		out.Consents = append(out.Consents, consentJSON{ClientID: c.ClientID, ClientName: c.ClientName, Scopes: scopes, GrantedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt})
	}
	for _, e := range d.AuditEvents {
		out.AuditEvents = append(out.AuditEvents, exportAuditEventJSON{
			Time: e.Time, Action: e.Action, Result: e.Result, IP: e.IP, UserAgent: e.UserAgent, Subject: e.Subject, Detail: e.Detail,
		})
	}
	name := "unid-" + d.At.Format("20060102-150405") + ".json"
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, out)
}
