package admin

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/enterprise"
	"unid/internal/flow/login"
	"unid/internal/httpx"
	"unid/internal/operator"
	"unid/internal/problem"
	"unid/internal/store"
)

// CitizenDeps are what the citizens area of the console works with.
type CitizenDeps struct {
	// Desk carries out the operators' actions on accounts (and audits
	// them); nil: the area answers operator_feature_unavailable.
	Desk      *account.Desk
	Store     CitizenStore
	Protector *account.Protector
	Sessions  interface {
		ListUser(ctx context.Context, userID string) ([]store.Session, error)
	}
	// Consents lists what the citizen allowed service systems to know,
	// with their names (the OpenID provider).
	Consents interface {
		ListConsents(ctx context.Context, userID string) ([]store.Consent, map[string]string, error)
	}
	// Locks tells whether sign-in to the account is locked (the login flow).
	Locks interface {
		Lock(ctx context.Context, userID string) (login.LockState, error)
	}
	// Enterprises finds enterprises and removes members (enterprise.Service).
	Enterprises *enterprise.Service
}

// CitizenStore is what the citizens area reads directly: accounts, their
// memberships, links and events.
type CitizenStore interface {
	GetUser(ctx context.Context, id string) (store.User, error)
	ListUsers(ctx context.Context, after store.UserCursor, status string, limit int) ([]store.User, error)
	ListUserMemberships(ctx context.Context, userID string) ([]store.EnterpriseMember, error)
	GetEnterprise(ctx context.Context, uscc string) (store.Enterprise, error)
	ListUpstreamLinks(ctx context.Context, userID string) ([]store.UpstreamLink, error)
	QueryAudit(ctx context.Context, f store.AuditFilter, beforeSeq int64, limit int) ([]store.AuditEvent, error)
}

// citizenRoutes lists the citizens area's endpoints: the security
// administrator's (三员分立: not the reviewer's, auditor's or sysadmin's).
func (c *ConsoleAPI) citizenRoutes() []consoleRoute {
	return []consoleRoute{
		{"GET /api/admin/v1/citizens", secadmins, c.citizens},
		{"GET /api/admin/v1/citizens/{id}", secadmins, c.citizen},
		{"POST /api/admin/v1/citizens/{id}/reveal", secadmins, c.revealCitizen},
		{"POST /api/admin/v1/citizens/{id}/unlock", secadmins, c.citizenAction(func(ctx context.Context, d *account.Desk, id, reason string, by audit.Origin) (any, error) {
			return nil, d.Unlock(ctx, id, reason, by)
		})},
		{"POST /api/admin/v1/citizens/{id}/disable", secadmins, c.citizenAction(func(ctx context.Context, d *account.Desk, id, reason string, by audit.Origin) (any, error) {
			return nil, d.Disable(ctx, id, reason, by)
		})},
		{"POST /api/admin/v1/citizens/{id}/enable", secadmins, c.citizenAction(func(ctx context.Context, d *account.Desk, id, reason string, by audit.Origin) (any, error) {
			return nil, d.Enable(ctx, id, reason, by)
		})},
		{"POST /api/admin/v1/citizens/{id}/sign-out", secadmins, c.citizenAction(func(ctx context.Context, d *account.Desk, id, reason string, by audit.Origin) (any, error) {
			n, err := d.SignOut(ctx, id, reason, by)
			return map[string]int{"sessions": n}, err
		})},
		{"POST /api/admin/v1/citizens/{id}/recovery-sms", secadmins, c.citizenAction(func(ctx context.Context, d *account.Desk, id, reason string, by audit.Origin) (any, error) {
			return nil, d.SendRecoveryHint(ctx, id, reason, by)
		})},
		{"GET /api/admin/v1/enterprises", secadmins, c.enterprises},
		{"GET /api/admin/v1/enterprises/{uscc}", secadmins, c.enterprise},
		{"POST /api/admin/v1/enterprises/{uscc}/members/{user}/remove", secadmins, c.removeMember},
	}
}

// citizenPage is how many accounts a page of the citizen list shows.
const citizenPage = 50

// citizenSummary is an account in a list: personal data masked.
type citizenSummary struct {
	ID            string    `json:"id"`
	LoginName     string    `json:"login_name"`
	Phone         string    `json:"phone,omitempty"`
	RealName      string    `json:"real_name,omitempty"`
	Status        string    `json:"status"`
	RealnameLevel int       `json:"realname_level"`
	CreatedAt     time.Time `json:"created_at"`
}

func (c *ConsoleAPI) summary(u store.User) (citizenSummary, error) {
	p, err := account.NewProfile(c.d.Citizens.Protector, u)
	if err != nil {
		return citizenSummary{}, problem.Wrap(err)
	}
	return citizenSummary{ID: u.ID, LoginName: u.LoginName, Phone: p.Phone, RealName: p.RealName, Status: u.Status,
		RealnameLevel: u.RealnameLevel, CreatedAt: u.CreatedAt}, nil
}

var errCitizensUnavailable = problem.New(problem.Unavailable, "operator_feature_unavailable")

// citizens answers a search (q: matches, at most one per kind of
// identifier) or, without q, one page of the newest accounts.
func (c *ConsoleAPI) citizens(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
	d := c.d.Citizens
	if d.Desk == nil {
		c.d.Responder.Fail(w, r, errCitizensUnavailable)
		return
	}
	query := r.URL.Query()
	var users []store.User
	next := ""
	if query.Has("q") {
		var err error
		if users, err = d.Desk.Find(r.Context(), query.Get("q"), c.by(r, sg)); err != nil {
			c.d.Responder.Fail(w, r, err)
			return
		}
	} else {
		status := query.Get("status")
		if !slices.Contains([]string{"", store.UserActive, store.UserDisabled, store.UserClosed}, status) {
			c.d.Responder.Fail(w, r, problem.Field("status", "citizen_status_unknown"))
			return
		}
		cur, ok := parseUserCursor(query.Get("after"))
		if !ok {
			c.d.Responder.Fail(w, r, problem.Field("after", "citizen_cursor_invalid"))
			return
		}
		var err error
		if users, err = d.Store.ListUsers(r.Context(), cur, status, citizenPage+1); err != nil {
			c.d.Responder.Fail(w, r, problem.Wrap(err))
			return
		}
		if len(users) > citizenPage {
			users = users[:citizenPage]
			last := users[len(users)-1]
			next = strconv.FormatInt(last.CreatedAt.UnixMilli(), 10) + "." + last.ID
		}
	}
	items := make([]citizenSummary, 0, len(users))
	for _, u := range users {
		s, err := c.summary(u)
		if err != nil {
			c.d.Responder.Fail(w, r, err)
			return
		}
		items = append(items, s)
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": items, "next": next})
}

// parseUserCursor reads "<created_at in unix ms>.<id>"; "" is the start.
func parseUserCursor(s string) (store.UserCursor, bool) {
	if s == "" {
		return store.UserCursor{}, true
	}
	at, id, ok := strings.Cut(s, ".")
	n, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || id == "" {
		return store.UserCursor{}, false
	}
	return store.UserCursor{CreatedAt: time.UnixMilli(n).UTC(), ID: id}, true
}

// citizenDetail is an account as the security administrator sees it.
type citizenDetail struct {
	Profile     citizenProfile   `json:"profile"`
	Lock        login.LockState  `json:"lock"`
	Enterprises []membershipView `json:"enterprises"`
	Links       []linkView       `json:"links"`
	Sessions    []sessionView    `json:"sessions"`
	Consents    []consentView    `json:"consents"`
	Events      []citizenEvent   `json:"events"`
}

type citizenProfile struct {
	citizenSummary
	IDNumber string `json:"id_number,omitempty"`
	Email    string `json:"email,omitempty"`
	// Revealable are the fields the account holds, which Reveal opens.
	Revealable []string `json:"revealable"`
}

type membershipView struct {
	USCC string `json:"uscc"`
	Name string `json:"name"`
	Role string `json:"role"`
}

type linkView struct {
	Provider   string    `json:"provider"`
	Subject    string    `json:"subject"` // masked
	Display    string    `json:"display,omitempty"`
	LinkedAt   time.Time `json:"linked_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

type sessionView struct {
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
	AMR        []string  `json:"amr"`
}

type consentView struct {
	ClientID  string    `json:"client_id"`
	Name      string    `json:"name"`
	Scopes    []string  `json:"scopes"`
	UpdatedAt time.Time `json:"updated_at"`
}

type citizenEvent struct {
	Time   time.Time `json:"time"`
	Action string    `json:"action"`
	Result string    `json:"result"`
	IP     string    `json:"ip"`
	// By is who acted: "" the citizen themselves, else the stored actor
	// ("operator:<id>", "system", "" for a stranger shows as "anonymous").
	By string `json:"by,omitempty"`
}

// citizenEvents is how many of the account's own recent events the
// detail shows.
const citizenEvents = 20

// maskSubject shows the first and last few characters of an identity at
// a provider, enough to compare with what the citizen reads out.
func maskSubject(s string) string {
	if len(s) <= 8 {
		return "****"
	}
	return s[:4] + "****" + s[len(s)-4:]
}

func (c *ConsoleAPI) citizen(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
	d, ctx := c.d.Citizens, r.Context()
	if d.Store == nil || d.Desk == nil {
		c.d.Responder.Fail(w, r, errCitizensUnavailable)
		return
	}
	out, err := c.citizenDetail(ctx, r.PathValue("id"))
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	if err := d.Desk.Viewed(ctx, out.Profile.ID, c.by(r, sg)); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

var errNoCitizen = problem.New(problem.NotFound, "citizen_not_found")

func (c *ConsoleAPI) citizenDetail(ctx context.Context, id string) (citizenDetail, error) {
	d := c.d.Citizens
	u, err := d.Store.GetUser(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return citizenDetail{}, errNoCitizen
		}
		return citizenDetail{}, problem.Wrap(err)
	}
	sum, err := c.summary(u)
	if err != nil {
		return citizenDetail{}, err
	}
	p, err := account.NewProfile(d.Protector, u)
	if err != nil {
		return citizenDetail{}, problem.Wrap(err)
	}
	out := citizenDetail{Profile: citizenProfile{citizenSummary: sum, IDNumber: p.IDNumber, Email: p.Email, Revealable: []string{}},
		Enterprises: []membershipView{}, Links: []linkView{}, Sessions: []sessionView{}, Consents: []consentView{}, Events: []citizenEvent{}}
	for _, f := range []struct {
		name string
		s    store.Sealed
	}{{account.FieldPhone, u.Phone}, {account.FieldIDNumber, u.IDNumber}, {account.FieldEmail, u.Email}, {account.FieldRealName, u.RealName}} {
		if !f.s.Empty() {
			out.Profile.Revealable = append(out.Profile.Revealable, f.name)
		}
	}
	if d.Locks != nil {
		if out.Lock, err = d.Locks.Lock(ctx, u.ID); err != nil {
			return citizenDetail{}, err
		}
	}
	ms, err := d.Store.ListUserMemberships(ctx, u.ID)
	if err != nil {
		return citizenDetail{}, problem.Wrap(err)
	}
	for _, m := range ms {
		name := ""
		if e, err := d.Store.GetEnterprise(ctx, m.USCC); err == nil {
			name = e.Name
		}
		out.Enterprises = append(out.Enterprises, membershipView{USCC: m.USCC, Name: name, Role: m.Role})
	}
	links, err := d.Store.ListUpstreamLinks(ctx, u.ID)
	if err != nil {
		return citizenDetail{}, problem.Wrap(err)
	}
	for _, l := range links {
		out.Links = append(out.Links, linkView{Provider: l.Provider, Subject: maskSubject(l.Subject), Display: l.Display, LinkedAt: l.LinkedAt, LastUsedAt: l.LastUsedAt})
	}
	if d.Sessions != nil {
		ss, err := d.Sessions.ListUser(ctx, u.ID)
		if err != nil {
			return citizenDetail{}, problem.Wrap(err)
		}
		for _, s := range ss {
			amr := s.AMR
			if amr == nil {
				amr = []string{}
			}
			out.Sessions = append(out.Sessions, sessionView{CreatedAt: s.CreatedAt, LastSeenAt: s.LastSeenAt, IP: s.IP, UserAgent: s.UserAgent, AMR: amr})
		}
	}
	if d.Consents != nil {
		cs, names, err := d.Consents.ListConsents(ctx, u.ID)
		if err != nil {
			return citizenDetail{}, err
		}
		for _, x := range cs {
			out.Consents = append(out.Consents, consentView{ClientID: x.ClientID, Name: names[x.ClientID], Scopes: x.Scopes, UpdatedAt: x.UpdatedAt})
		}
	}
	// The citizen's own acts and what others did to the account
	// (operators, failed sign-ins by strangers).
	evs, err := d.Store.QueryAudit(ctx, store.AuditFilter{Account: u.ID}, 0, citizenEvents)
	if err != nil {
		return citizenDetail{}, problem.Wrap(err)
	}
	for _, e := range evs {
		ev := citizenEvent{Time: e.Time, Action: e.Action, Result: e.Result, IP: e.IP}
		switch {
		case e.Actor == u.ID:
		case e.Actor == "":
			ev.By = "anonymous"
		default:
			ev.By = e.Actor
		}
		out.Events = append(out.Events, ev)
	}
	return out, nil
}

func (c *ConsoleAPI) revealCitizen(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
	var body struct {
		Field  string `json:"field"`
		Reason string `json:"reason"`
	}
	if err := c.d.Responder.Decode(w, r, &body); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	fields := problem.FieldSet{}
	if !slices.Contains(account.RevealFields, body.Field) {
		fields.Add("field", problem.Field("field", "citizen_field_unknown"))
	}
	reason, err := checkReason(body.Reason)
	fields.Add("reason", err)
	if err := fields.Err(); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	if c.d.Citizens.Desk == nil {
		c.d.Responder.Fail(w, r, errCitizensUnavailable)
		return
	}
	v, err := c.d.Citizens.Desk.Reveal(r.Context(), r.PathValue("id"), body.Field, reason, c.by(r, sg))
	if err != nil {
		c.d.Responder.Fail(w, r, citizenProblem(err))
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"field": body.Field, "value": v})
}

// citizenAction is an action on an account that takes only a reason.
func (c *ConsoleAPI) citizenAction(act func(ctx context.Context, d *account.Desk, id, reason string, by audit.Origin) (any, error)) consoleHandler {
	return func(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
		reason, ok := c.reasonOf(w, r)
		if !ok {
			return
		}
		if c.d.Citizens.Desk == nil {
			c.d.Responder.Fail(w, r, errCitizensUnavailable)
			return
		}
		out, err := act(r.Context(), c.d.Citizens.Desk, r.PathValue("id"), reason, c.by(r, sg))
		if err != nil {
			c.d.Responder.Fail(w, r, citizenProblem(err))
			return
		}
		if out == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, out)
	}
}

// citizenProblem names the account's absence for the console.
func citizenProblem(err error) error {
	if p := problem.As(err); p.Kind == problem.NotFound && p.Code == "not_found" {
		return errNoCitizen
	}
	return err
}
