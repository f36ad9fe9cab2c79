package admin

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"unid/internal/audit"
	"unid/internal/httpx"
	"unid/internal/i18n"
	"unid/internal/operator"
	"unid/internal/problem"
	"unid/internal/store"
)

// AuditDeps are what the audit area of the console works with.
type AuditDeps struct {
	Store store.AuditLog // the stored trail; nil answers operator_feature_unavailable
	// Log records the auditors' verifications and exports.
	Log *audit.Log
	// Accounts finds the account a citizen's identifier names (login
	// name, phone, ID number: exact, through the blind index).
	Accounts interface {
		Find(ctx context.Context, identifier string) (store.User, bool, error)
	}
	// Operators finds an operator by login name, for the actor filter.
	Operators interface {
		GetOperatorByLoginName(ctx context.Context, loginKey string) (store.Operator, error)
	}
	Retention time.Duration // how long events stay in the database
	// StreamIdle is how long a verification or export stream may go
	// without a write reaching its reader before the connection is
	// ended; 0 is auditStreamIdle.
	StreamIdle time.Duration
	Now        func() time.Time
	Logger     *slog.Logger
}

// auditStreamIdle is how far each write of a verification or export
// pushes the connection's write deadline: a stream has no deadline for
// its whole length (it may take an hour over millions of events), but
// one whose reader stops reading ends instead of holding the connection
// and the trail's reads.
const auditStreamIdle = 2 * time.Minute

// auditStream is a verification's or export's hold on the response: each
// write first pushes the write deadline StreamIdle ahead, and is flushed
// to the reader. Its deadlines are the network's, on the wall clock.
type auditStream struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	idle time.Duration
}

func (c *ConsoleAPI) auditStream(w http.ResponseWriter) *auditStream {
	idle := c.d.Audit.StreamIdle
	if idle <= 0 {
		idle = auditStreamIdle
	}
	s := &auditStream{w: w, rc: http.NewResponseController(w), idle: idle}
	s.push()
	return s
}

func (s *auditStream) push() { _ = s.rc.SetWriteDeadline(time.Now().Add(s.idle)) }

func (s *auditStream) Write(p []byte) (int, error) {
	s.push()
	n, err := s.w.Write(p)
	if err == nil {
		err = s.rc.Flush()
	}
	return n, err
}

// auditGate is set while a verification or export runs.
type auditGate struct{ atomic.Bool }

// auditOne lets one verification or export run at a time on this
// instance, each of which reads the whole trail: it answers 429
// audit_busy to another and returns false, or takes the place and
// returns its release.
func (c *ConsoleAPI) auditOne(w http.ResponseWriter, r *http.Request) (release func(), ok bool) {
	if !c.auditBusy.CompareAndSwap(false, true) {
		c.d.Responder.Fail(w, r, &problem.Problem{Kind: problem.TooMany, Code: "audit_busy", RetryAfter: 30 * time.Second})
		return nil, false
	}
	return func() { c.auditBusy.Store(false) }, true
}

// auditRoutes lists the audit area's endpoints: reading, verifying and
// exporting the trail, for auditors only. None changes or deletes an
// event; retention does that, inside unid.
func (c *ConsoleAPI) auditRoutes() []consoleRoute {
	return []consoleRoute{
		{"GET /api/admin/v1/audit/events", auditors, c.auditEvents},
		{"GET /api/admin/v1/audit/events/{seq}", auditors, c.auditEvent},
		{"POST /api/admin/v1/audit/verify", auditors, c.auditVerify},
		{"GET /api/admin/v1/audit/export", auditors, c.auditExport},
		{"GET /api/admin/v1/audit/retention", auditors, c.auditRetention},
	}
}

// auditPage is how many events a page of the viewer lists.
const auditPage = 50

// auditEventView is an event as the viewer shows it: as stored (masked
// where the service that wrote it masked), with its hashes in hex.
type auditEventView struct {
	Seq       int64     `json:"seq"`
	Time      time.Time `json:"time"`
	Actor     string    `json:"actor"`
	Action    string    `json:"action"`
	Result    string    `json:"result"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"user_agent"`
	Subject   string    `json:"subject"`
	Detail    string    `json:"detail"`
	Account   string    `json:"account"`
	Client    string    `json:"client"`
	PrevHash  string    `json:"prev_hash"`
	Hash      string    `json:"hash"`
}

func viewAudit(e store.AuditEvent) auditEventView {
	return auditEventView{Seq: e.Seq, Time: e.Time, Actor: e.Actor, Action: e.Action, Result: e.Result, IP: e.IP,
		UserAgent: e.UserAgent, Subject: e.Subject, Detail: e.Detail, Account: e.Account, Client: e.Client,
		PrevHash: hex.EncodeToString(e.PrevHash), Hash: hex.EncodeToString(e.Hash)}
}

// auditReady answers operator_feature_unavailable when the audit area is
// not wired.
func (c *ConsoleAPI) auditReady(w http.ResponseWriter, r *http.Request) bool {
	if c.d.Audit.Store == nil || c.d.Audit.Log == nil {
		c.d.Responder.Fail(w, r, problem.New(problem.Unavailable, "operator_feature_unavailable"))
		return false
	}
	return true
}

// auditFilter reads the viewer's query. An identifier that names nobody
// still gives a filter (one that matches nothing), so that the answer
// for an unknown citizen is the answer for one with no events.
func (c *ConsoleAPI) auditFilter(ctx context.Context, q map[string][]string) (store.AuditFilter, int64, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	var f store.AuditFilter
	bad := problem.FieldSet{}
	f.Action, f.Result, f.Client = get("action"), get("result"), get("client")
	if ip := get("ip"); ip != "" {
		exact, prefix, err := auditAddress(ip)
		bad.Add("ip", err)
		f.IP, f.IPPrefix = exact, prefix
	}
	for _, tm := range []struct {
		key string
		p   *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := get(tm.key); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				bad.Add(tm.key, problem.Field(tm.key, "audit_time_invalid"))
			}
			*tm.p = t
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		bad.Add("to", problem.Field("to", "audit_time_order"))
	}
	var before int64
	if v := get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			bad.Add("before", problem.Field("before", "audit_cursor_invalid"))
		}
		before = n
	}
	if err := bad.Err(); err != nil {
		return f, 0, err
	}
	var err error
	if s := get("subject"); s != "" {
		if f.Account, err = c.auditAccount(ctx, s); err != nil {
			return f, 0, err
		}
	}
	if a := get("actor"); a != "" {
		if f.Actor, err = c.auditActor(ctx, a); err != nil {
			return f, 0, err
		}
	}
	return f, before, nil
}

// auditAddress reads the ip filter: an address, or an IPv4 network on
// octet boundaries (a.b.0.0/16), which is the text prefix "a.b.".
func auditAddress(s string) (exact, prefix string, err error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return "", "", problem.Field("ip", "audit_ip_invalid")
		}
		return a.String(), "", nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() || p.Bits()%8 != 0 || p.Bits() == 0 || p.Masked() != p {
		return "", "", problem.Field("ip", "audit_network_invalid")
	}
	if p.Bits() == 32 {
		return p.Addr().String(), "", nil
	}
	b := p.Addr().As4()
	var sb strings.Builder
	for i := 0; i < p.Bits()/8; i++ {
		fmt.Fprintf(&sb, "%d.", b[i])
	}
	return "", sb.String(), nil
}

// auditAccount is the account a citizen's identifier names: a login
// name, phone or ID number (exact: personal data is stored encrypted,
// found only through its blind index), or else the text itself taken as
// an account ID.
func (c *ConsoleAPI) auditAccount(ctx context.Context, s string) (string, error) {
	if c.d.Audit.Accounts != nil {
		u, found, err := c.d.Audit.Accounts.Find(ctx, s)
		if err != nil {
			return "", err
		}
		if found {
			return u.ID, nil
		}
	}
	return s, nil
}

// auditActor is the stored actor the actor filter names: "system", an
// operator by login name ("operator:<id>"), a citizen as for subject,
// or a stored actor as typed ("operator:…", "client:…").
func (c *ConsoleAPI) auditActor(ctx context.Context, s string) (string, error) {
	if s == audit.System().String() || strings.Contains(s, ":") {
		return s, nil
	}
	if c.d.Audit.Operators != nil {
		o, err := c.d.Audit.Operators.GetOperatorByLoginName(ctx, strings.ToLower(s))
		if err == nil {
			return audit.Operator(o.ID).String(), nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
	}
	return c.auditAccount(ctx, s)
}

func (c *ConsoleAPI) auditEvents(w http.ResponseWriter, r *http.Request, _ operator.Signed) {
	if !c.auditReady(w, r) {
		return
	}
	f, before, err := c.auditFilter(r.Context(), r.URL.Query())
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	events, err := c.d.Audit.Store.QueryAudit(r.Context(), f, before, auditPage+1)
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	next := ""
	if len(events) > auditPage {
		events = events[:auditPage]
		next = strconv.FormatInt(events[auditPage-1].Seq, 10)
	}
	out := make([]auditEventView, 0, len(events))
	for _, e := range events {
		out = append(out, viewAudit(e))
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"events": out, "next": next})
}

func (c *ConsoleAPI) auditEvent(w http.ResponseWriter, r *http.Request, _ operator.Signed) {
	if !c.auditReady(w, r) {
		return
	}
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq < 1 {
		c.d.Responder.Fail(w, r, problem.New(problem.NotFound, "audit_event_not_found"))
		return
	}
	es, err := c.d.Audit.Store.ListAudit(r.Context(), seq-1, 1)
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	if len(es) == 0 || es[0].Seq != seq {
		c.d.Responder.Fail(w, r, problem.New(problem.NotFound, "audit_event_not_found"))
		return
	}
	httpx.WriteJSON(w, http.StatusOK, viewAudit(es[0]))
}

// auditRange checks a range of seqs (0: open).
func auditRange(from, to int64) error {
	bad := problem.FieldSet{}
	if from < 0 {
		bad.Add("from", problem.Field("from", "audit_seq_invalid"))
	}
	if to < 0 {
		bad.Add("to", problem.Field("to", "audit_seq_invalid"))
	}
	if from > 0 && to > 0 && to < from {
		bad.Add("to", problem.Field("to", "audit_range_invalid"))
	}
	return bad.Err()
}

// verifyLine is a line of the verification stream: progress, then the
// outcome.
type verifyLine struct {
	Checked *int64 `json:"checked,omitempty"`
	Total   *int64 `json:"total,omitempty"`
	OK      *bool  `json:"ok,omitempty"`
	Events  *int64 `json:"events,omitempty"`
	From    *int64 `json:"from,omitempty"`
	To      *int64 `json:"to,omitempty"`
	Head    string `json:"head,omitempty"`
	Seq     int64  `json:"seq,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// Progress lines come at most every progressEvery events or
// progressInterval, whichever is first.
const (
	progressEvery    = 100_000
	progressInterval = 250 * time.Millisecond
)

func (c *ConsoleAPI) auditVerify(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
	if !c.auditReady(w, r) {
		return
	}
	var body struct {
		From int64 `json:"from"`
		To   int64 `json:"to"`
	}
	if err := c.d.Responder.Decode(w, r, &body); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	if err := auditRange(body.From, body.To); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	release, ok := c.auditOne(w, r)
	if !ok {
		return
	}
	defer release()
	// A verification of millions of events outlasts the server's write
	// timeout; its progress lines push the deadline on, and a reader
	// that stops reading ends it.
	out := c.auditStream(w)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	enc := json.NewEncoder(out)
	line := func(v verifyLine) {
		if err := enc.Encode(v); err != nil {
			cancel()
		}
	}
	now := c.auditNow()
	last, lastN := now(), int64(0)
	sum, err := c.d.Audit.Log.VerifyAs(ctx, c.by(r, sg), body.From, body.To, func(n, total int64) {
		if t := now(); n-lastN >= progressEvery || t.Sub(last) >= progressInterval || n == total {
			last, lastN = t, n
			line(verifyLine{Checked: &n, Total: &total})
		}
	})
	f := false
	switch br, ok := audit.BreakOf(err); {
	case ok:
		line(verifyLine{OK: &f, Seq: br.Seq, Reason: br.Reason, Events: &sum.Events})
	case err != nil:
		c.auditLog().ErrorContext(r.Context(), "audit verification failed", "err", err)
		line(verifyLine{OK: &f, Reason: "error", Message: c.d.Responder.Catalog().T(i18n.Negotiate(r), "error.audit_verify_failed")})
	default:
		t := true
		line(verifyLine{OK: &t, Events: &sum.Events, From: &sum.From, To: &sum.To, Head: hex.EncodeToString(sum.Head)})
	}
}

func (c *ConsoleAPI) auditLog() *slog.Logger {
	if c.d.Audit.Logger != nil {
		return c.d.Audit.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (c *ConsoleAPI) auditNow() func() time.Time {
	if c.d.Audit.Now != nil {
		return c.d.Audit.Now
	}
	return time.Now
}

func (c *ConsoleAPI) auditExport(w http.ResponseWriter, r *http.Request, sg operator.Signed) {
	if !c.auditReady(w, r) {
		return
	}
	q := r.URL.Query()
	bad := problem.FieldSet{}
	format := q.Get("format")
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "csv" {
		bad.Add("format", problem.Field("format", "audit_format_invalid"))
	}
	seqOf := func(k string) int64 {
		v := q.Get(k)
		if v == "" {
			return 0
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			bad.Add(k, problem.Field(k, "audit_seq_invalid"))
		}
		return n
	}
	from, to := seqOf("from"), seqOf("to")
	if err := bad.Err(); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	if err := auditRange(from, to); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	release, ok := c.auditOne(w, r)
	if !ok {
		return
	}
	defer release()
	ctx := r.Context()
	a, err := c.d.Audit.Store.AuditAnchor(ctx)
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	newest, err := c.d.Audit.Store.QueryAudit(ctx, store.AuditFilter{}, 0, 1)
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	if from == 0 || from <= a.Seq {
		from = a.Seq + 1
	}
	if len(newest) > 0 && (to == 0 || to > newest[0].Seq) {
		to = newest[0].Seq
	}
	if len(newest) == 0 || to < from {
		c.d.Responder.Fail(w, r, problem.Field("from", "audit_range_empty"))
		return
	}
	// The head the export ends in, for the header: the stored hash of
	// its last event, which the export checks as it goes.
	end, err := c.d.Audit.Store.ListAudit(ctx, to-1, 1)
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	if len(end) == 0 || end[0].Seq != to {
		c.d.Responder.Fail(w, r, problem.Field("to", "audit_range_empty"))
		return
	}
	out := c.auditStream(w)
	h := w.Header()
	ctype := "application/json"
	if format == "csv" {
		ctype = "text/csv; charset=utf-8"
	}
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="audit-%d-%d.%s"`, from, to, format))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Audit-Range", fmt.Sprintf("%d-%d", from, to))
	h.Set("X-Audit-Head", hex.EncodeToString(end[0].Hash))
	if _, err := c.d.Audit.Log.ExportAs(ctx, c.by(r, sg), from, to, format, out); err != nil {
		// The file is cut short and does not verify; the log says why.
		c.auditLog().ErrorContext(ctx, "audit export failed", "from", from, "to", to, "err", err)
	}
}

func (c *ConsoleAPI) auditRetention(w http.ResponseWriter, r *http.Request, _ operator.Signed) {
	if !c.auditReady(w, r) {
		return
	}
	ctx := r.Context()
	a, err := c.d.Audit.Store.AuditAnchor(ctx)
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	oldest, err := c.d.Audit.Store.ListAudit(ctx, a.Seq, 1)
	if err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	type anchorView struct {
		Seq        int64      `json:"seq"`
		Hash       string     `json:"hash"`
		ArchivedAt *time.Time `json:"archived_at"`
		Archive    string     `json:"archive"`
	}
	out := struct {
		Anchor        anchorView `json:"anchor"`
		RetentionDays int        `json:"retention_days"`
		Oldest        *int64     `json:"oldest_seq"`
		OldestTime    *time.Time `json:"oldest_time"`
		NextCutBefore time.Time  `json:"next_cut_before"`
	}{
		Anchor:        anchorView{Seq: a.Seq, Hash: hex.EncodeToString(a.Hash), Archive: a.Archive},
		RetentionDays: int(c.d.Audit.Retention / (24 * time.Hour)),
		NextCutBefore: c.auditNow()().Add(-c.d.Audit.Retention).UTC().Truncate(time.Second),
	}
	if !a.ArchivedAt.IsZero() {
		out.Anchor.ArchivedAt = &a.ArchivedAt
	}
	if len(oldest) > 0 {
		out.Oldest, out.OldestTime = &oldest[0].Seq, &oldest[0].Time
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}
