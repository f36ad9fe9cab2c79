package admin

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"unid/internal/audit"
	"unid/internal/httpx"
	"unid/internal/i18n"
	"unid/internal/operator"
	"unid/internal/problem"
	"unid/internal/review"
)

// RealnameCorrector corrects a citizen's locked real name and ID number
// (level ≥ 1): a reviewer's decision, with a reason, audited by the
// real-name service that implements it.
type RealnameCorrector interface {
	Correct(ctx context.Context, userID, realName, idNumber, reason string, by audit.Origin) error
}

// ConsoleDeps are what the operators' own API works with.
type ConsoleDeps struct {
	Responder  *httpx.Responder
	Operators  *operator.Service
	TrustProxy bool
	// Queues are the review queues the console works (the real-name
	// service's today); none is an empty inbox.
	Queues []review.Queue
	// Realname corrects locked identities; nil answers
	// operator_feature_unavailable.
	Realname RealnameCorrector

	// The console's areas, each served by its own file of this package.
	Citizens  CitizenDeps   // citizens.go: citizens and enterprises (secadmin)
	Systems   SystemDeps    // systems.go: service systems and operators (sysadmin)
	Audit     AuditDeps     // audit.go: the audit viewer, verification, export, retention (auditor)
	Dashboard DashboardDeps // dashboard.go: the dashboard (every role)
	Passkeys  PasskeyDeps   // passkeys.go: operators' passkeys (each operator their own)
	Tokens    TokenDeps     // tokens.go: operators' API tokens (each operator their own)
}

// ConsoleAPI is the part of the operator API that operators use from the
// console, signed in with the console cookie (operator.Service.Current):
// signing in and out, set-up, and the review queues. Each route names the
// roles that may call it, in the one table of Routes; the check is made in
// one place, guard.
type ConsoleAPI struct {
	d     ConsoleDeps
	inbox inbox
	// viaTools are the routes operator tools may call too (HTTP Basic):
	// their handler tells the two callers apart itself (clientRoute) and
	// holds a signed-in caller to the route's roles.
	viaTools  map[string]bool
	auditBusy auditGate // one verification or export at a time (auditOne)
}

// NewConsoleAPI returns the console's API.
func NewConsoleAPI(d ConsoleDeps) *ConsoleAPI {
	return &ConsoleAPI{d: d, inbox: inbox(d.Queues), viaTools: map[string]bool{}}
}

// Who may call a route.
var (
	anyone   []string     // no session needed
	signedIn = []string{} // any signed-in operator
	readers  = []string{operator.RoleReviewer, operator.RoleAuditor}
	deciders = []string{operator.RoleReviewer}
	// The console's areas, one role each (三员分立): service systems and
	// operators, citizens' accounts, the audit trail.
	sysadmins = []string{operator.RoleSysadmin}
	secadmins = []string{operator.RoleSecadmin}
	auditors  = []string{operator.RoleAuditor}
)

// Routes lists the console endpoints with the roles each needs.
func (c *ConsoleAPI) Routes() []httpx.Route {
	table := c.table()
	out := make([]httpx.Route, 0, len(table))
	for _, rt := range table {
		h := c.guard(rt.roles, rt.h)
		if c.viaTools[rt.pattern] {
			h = func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "no-store")
				rt.h(w, r, operator.Signed{})
			}
		}
		out = append(out, httpx.Route{Pattern: rt.pattern, Handler: h})
	}
	return out
}

// Access is who may call one endpoint: Roles nil for anyone, empty for
// any signed-in operator, else the roles of which one is needed.
type Access struct {
	Pattern string
	Roles   []string
}

// Access lists every endpoint with the roles it needs, for the tests that
// hold each role to its part.
func (c *ConsoleAPI) Access() []Access {
	var out []Access
	for _, rt := range c.table() {
		out = append(out, Access{Pattern: rt.pattern, Roles: rt.roles})
	}
	return out
}

// table is the one table of the console's endpoints and their roles.
func (c *ConsoleAPI) table() []consoleRoute {
	table := []consoleRoute{
		{"POST /api/admin/v1/sign-in", anyone, c.signIn},
		{"POST /api/admin/v1/setup/key", anyone, c.setupKey},
		{"POST /api/admin/v1/setup", anyone, c.setup},
		{"POST /api/admin/v1/sign-out", anyone, c.signOut}, // also ends a timed-out session
		{"GET /api/admin/v1/me", signedIn, c.me},
		{"GET /api/admin/v1/reviews", readers, c.listReviews},
		{"GET /api/admin/v1/reviews/{id}", readers, c.openReview},
		{"GET /api/admin/v1/reviews/{id}/files/{file}", readers, c.reviewFile},
		{"POST /api/admin/v1/reviews/{id}/decision", deciders, c.decide},
		{"POST /api/admin/v1/users/{id}/realname-correction", deciders, c.correctRealname},
	}
	table = append(table, c.citizenRoutes()...)
	table = append(table, c.systemRoutes()...)
	table = append(table, c.auditRoutes()...)
	table = append(table, c.dashboardRoutes()...)
	table = append(table, c.passkeyRoutes()...)
	table = append(table, c.tokenRoutes()...)
	return table
}

// consoleRoute is one endpoint of the table of Routes: its pattern, the
// roles that may call it (anyone, signedIn, or a list) and its handler.
type consoleRoute struct {
	pattern string
	roles   []string
	h       consoleHandler
}

// consoleHandler is a console endpoint; sg is the signed-in operator (zero
// on the routes anyone may call).
type consoleHandler func(w http.ResponseWriter, r *http.Request, sg operator.Signed)

// guard is the one role check of the operator API: no session is 401
// (operator_session_expired when it timed out, so that the console can
// say so), a role not allowed is 403 — operator_read_only for an auditor
// who tries to decide, operator_role_forbidden otherwise. A call with an
// API token (Authorization: Bearer) is its operator's instead of the
// console session's (withToken).
func (c *ConsoleAPI) guard(roles []string, h consoleHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if roles == nil {
			h(w, r, operator.Signed{})
			return
		}
		if err := checkQuery(r); err != nil {
			c.d.Responder.Fail(w, r, err)
			return
		}
		if token, sent := bearerToken(r); sent {
			c.withToken(w, r, token, roles, h)
			return
		}
		sg, state, err := c.d.Operators.Current(r.Context(), r)
		if err != nil {
			c.d.Responder.Fail(w, r, err)
			return
		}
		switch state {
		case operator.TimedOut:
			c.d.Responder.Fail(w, r, problem.New(problem.Unauthorized, "operator_session_expired"))
			return
		case operator.None:
			c.d.Responder.Fail(w, r, problem.New(problem.Unauthorized, "operator_sign_in_required"))
			return
		}
		if err := operator.Allow(sg.Operator, roles...); err != nil {
			c.d.Responder.Fail(w, r, err)
			return
		}
		h(w, r, sg)
	}
}

// by names the signed-in operator sg, calling over r, as the origin of a
// change.
func (c *ConsoleAPI) by(r *http.Request, sg operator.Signed) audit.Origin {
	return sg.Origin(httpx.Client(r, c.d.TrustProxy))
}

// meView is the signed-in operator as the console shows them.
type meView struct {
	ID          string    `json:"id"`
	LoginName   string    `json:"login_name"`
	Roles       []string  `json:"roles"`
	IdleSeconds int       `json:"idle_seconds"`
	ExpiresAt   time.Time `json:"expires_at"`
}

func (c *ConsoleAPI) meOf(sg operator.Signed) meView {
	return meView{
		ID: sg.Operator.ID, LoginName: sg.Operator.LoginName, Roles: sg.Operator.Roles,
		IdleSeconds: int(c.d.Operators.Options().Idle / time.Second), ExpiresAt: sg.Session.ExpiresAt,
	}
}

func (c *ConsoleAPI) me(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
	httpx.WriteJSON(w, http.StatusOK, c.meOf(sg))
}

func (c *ConsoleAPI) signIn(w http.ResponseWriter, r *http.Request, _ operator.Signed) {
	var body struct {
		Login         string `json:"login"`
		Password      string `json:"password"`
		Code          string `json:"code"`
		CaptchaID     string `json:"captcha_id"`
		CaptchaAnswer string `json:"captcha_answer"`
	}
	if err := c.d.Responder.Decode(w, r, &body); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	o, err := c.d.Operators.SignIn(r.Context(), w, r, operator.SignInRequest{
		Login: body.Login, Password: body.Password, Code: body.Code,
		CaptchaID: body.CaptchaID, CaptchaAnswer: body.CaptchaAnswer,
	}, httpx.Client(r, c.d.TrustProxy))
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, c.meOf(operator.Signed{Operator: o}))
}

func (c *ConsoleAPI) signOut(w http.ResponseWriter, r *http.Request, _ operator.Signed) {
	if err := c.d.Operators.SignOut(r.Context(), w, r, httpx.Client(r, c.d.TrustProxy)); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *ConsoleAPI) setupKey(w http.ResponseWriter, r *http.Request, _ operator.Signed) {
	var body struct {
		Token string `json:"token"`
	}
	if err := c.d.Responder.Decode(w, r, &body); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	k, err := c.d.Operators.SetupKey(r.Context(), body.Token)
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, k)
}

func (c *ConsoleAPI) setup(w http.ResponseWriter, r *http.Request, _ operator.Signed) {
	var body struct {
		Token    string `json:"token"`
		Password string `json:"password"`
		Code     string `json:"code"`
	}
	if err := c.d.Responder.Decode(w, r, &body); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	o, err := c.d.Operators.Setup(r.Context(), w, r, body.Token, body.Password, body.Code, httpx.Client(r, c.d.TrustProxy))
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, c.meOf(operator.Signed{Operator: o}))
}

// pageSize is how many review items a page lists.
const pageSize = 50

func (c *ConsoleAPI) listReviews(w http.ResponseWriter, r *http.Request, _ operator.Signed) {
	q := r.URL.Query()
	p := review.Page{Kind: q.Get("kind"), State: q.Get("state"), After: q.Get("after"), Limit: pageSize}
	if p.State == "" {
		p.State = review.StatePending
	}
	if !slices.Contains([]string{review.StatePending, review.StateApproved, review.StateRejected}, p.State) {
		c.d.Responder.Fail(w, r, problem.Field("state", "review_state_unknown"))
		return
	}
	if p.Kind != "" && !slices.Contains(c.inbox.kinds(), p.Kind) {
		c.d.Responder.Fail(w, r, problem.Field("kind", "review_kind_unknown"))
		return
	}
	items, next, err := c.inbox.list(r.Context(), p)
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	if items == nil {
		items = []review.Item{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": items, "next": next, "kinds": c.inbox.kinds()})
}

func (c *ConsoleAPI) openReview(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
	d, err := c.inbox.open(r.Context(), r.PathValue("id"), c.by(r, sg))
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	// Labels are message keys of the queue's domain; the console shows
	// them in the operator's language.
	lang, cat := i18n.Negotiate(r), c.d.Responder.Catalog()
	label := func(key string) string {
		if cat.Has(key) {
			return cat.T(lang, key)
		}
		return key
	}
	out := detailView{Item: d.Item, Fields: []fieldView{}, Files: []fileView{}}
	for _, f := range d.Fields {
		out.Fields = append(out.Fields, fieldView{Field: f, LabelText: label(f.Label)})
	}
	for _, f := range d.Files {
		out.Files = append(out.Files, fileView{File: f, LabelText: label(f.Label)})
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// detailView is an opened item with its labels in the reader's language.
type detailView struct {
	Item   review.Item `json:"item"`
	Fields []fieldView `json:"fields"`
	Files  []fileView  `json:"files"`
}

type fieldView struct {
	review.Field
	LabelText string `json:"label_text"`
}

type fileView struct {
	review.File
	LabelText string `json:"label_text"`
}

// inlineTypes are the file types the console shows in the browser; any
// other upload is served as opaque bytes.
var inlineTypes = []string{"image/jpeg", "image/png", "application/pdf"}

func (c *ConsoleAPI) reviewFile(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
	f, err := c.inbox.file(r.Context(), r.PathValue("id"), r.PathValue("file"), c.by(r, sg))
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	ctype, _, _ := strings.Cut(http.DetectContentType(f.Data), ";")
	if !slices.Contains(inlineTypes, ctype) {
		ctype = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", "inline")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	// The browser's own image and PDF viewers may run; nothing the
	// upload carries may (no script source at all).
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'; frame-ancestors 'self'")
	w.WriteHeader(http.StatusOK)
	w.Write(f.Data)
}

// reasonOf reads a body that is only a reason ({"reason": "…"}) and checks
// it, answering the request and returning false when it will not do.
func (c *ConsoleAPI) reasonOf(w http.ResponseWriter, r *http.Request) (string, bool) {
	var body struct {
		Reason string `json:"reason"`
	}
	if err := c.d.Responder.Decode(w, r, &body); err != nil {
		c.d.Responder.Fail(w, r, err)
		return "", false
	}
	reason, err := checkReason(body.Reason)
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return "", false
	}
	return reason, true
}

func checkReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return "", problem.Field("reason", "review_reason_required")
	case utf8.RuneCountInString(reason) > review.MaxReason:
		return "", problem.Field("reason", "review_reason_too_long")
	}
	return reason, nil
}

func (c *ConsoleAPI) decide(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
	var body struct {
		Approve *bool  `json:"approve"`
		Reason  string `json:"reason"`
	}
	if err := c.d.Responder.Decode(w, r, &body); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	if body.Approve == nil {
		c.d.Responder.Fail(w, r, problem.Field("approve", "review_decision_required"))
		return
	}
	reason, err := checkReason(body.Reason)
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	it, err := c.inbox.decide(r.Context(), r.PathValue("id"), *body.Approve, reason, c.by(r, sg))
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, it)
}

func (c *ConsoleAPI) correctRealname(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
	var body struct {
		RealName string `json:"real_name"`
		IDNumber string `json:"id_number"`
		Reason   string `json:"reason"`
	}
	if err := c.d.Responder.Decode(w, r, &body); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	reason, err := checkReason(body.Reason)
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	if c.d.Realname == nil {
		c.d.Responder.Fail(w, r, problem.New(problem.Unavailable, "operator_feature_unavailable"))
		return
	}
	if err := c.d.Realname.Correct(r.Context(), r.PathValue("id"), body.RealName, body.IDNumber, reason,
		c.by(r, sg)); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// errNoItem is the answer for an item no queue holds.
var errNoItem = problem.New(problem.NotFound, "review_not_found")

// inbox is every review queue as one: items are found by trying each
// queue in turn, and a list of every kind runs through the queues one
// after the other (the cursor names the queue).
type inbox []review.Queue

func (in inbox) kinds() []string {
	out := []string{}
	for _, q := range in {
		out = append(out, q.Kinds()...)
	}
	return out
}

// notFound reports whether err says that a queue does not hold the item.
func notFound(err error) bool {
	var p *problem.Problem
	return errors.As(err, &p) && p.Kind == problem.NotFound
}

func (in inbox) list(ctx context.Context, p review.Page) ([]review.Item, string, error) {
	if p.Kind != "" {
		for _, q := range in {
			if slices.Contains(q.Kinds(), p.Kind) {
				return q.List(ctx, p)
			}
		}
		return nil, "", nil
	}
	// The cursor of a list of every kind is "<queue>:<cursor in it>".
	start, inner := 0, ""
	if p.After != "" {
		i, rest, ok := strings.Cut(p.After, ":")
		n, err := strconv.Atoi(i)
		if !ok || err != nil || n < 0 || n >= len(in) {
			return nil, "", problem.Field("after", "review_cursor_invalid")
		}
		start, inner = n, rest
	}
	var out []review.Item
	for i := start; i < len(in); i++ {
		pp := p
		pp.After, pp.Limit = inner, p.Limit-len(out)
		items, next, err := in[i].List(ctx, pp)
		if err != nil {
			return nil, "", err
		}
		out = append(out, items...)
		inner = ""
		if next != "" {
			return out, strconv.Itoa(i) + ":" + next, nil
		}
		if len(out) >= p.Limit && i+1 < len(in) {
			return out, strconv.Itoa(i+1) + ":", nil
		}
	}
	return out, "", nil
}

func (in inbox) open(ctx context.Context, id string, by audit.Origin) (review.Detail, error) {
	for _, q := range in {
		d, err := q.Open(ctx, id, by)
		if !notFound(err) {
			return d, err
		}
	}
	return review.Detail{}, errNoItem
}

func (in inbox) file(ctx context.Context, id, fileID string, by audit.Origin) (review.File, error) {
	for _, q := range in {
		f, err := q.File(ctx, id, fileID, by)
		if !notFound(err) {
			return f, err
		}
	}
	return review.File{}, errNoItem
}

func (in inbox) decide(ctx context.Context, id string, approve bool, reason string, by audit.Origin) (review.Item, error) {
	for _, q := range in {
		it, err := q.Decide(ctx, id, approve, reason, by)
		if !notFound(err) {
			return it, err
		}
	}
	return review.Item{}, errNoItem
}

// checkQuery refuses a query string the stores could not take as text:
// bytes that are not UTF-8, or a NUL (PostgreSQL refuses both and would
// answer a 500), as a field problem on the parameter.
func checkQuery(r *http.Request) error {
	for k, vs := range r.URL.Query() {
		for _, v := range vs {
			if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				return problem.Field(k, "query_invalid_text")
			}
		}
	}
	return nil
}
