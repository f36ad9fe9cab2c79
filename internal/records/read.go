package records

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"unid/internal/enterprise"
	"unid/internal/i18n"
	"unid/internal/problem"
	"unid/internal/store"
)

// PageSize is how many records one page of a list holds unless the
// caller asks for fewer; MaxPageSize is the most it may ask for.
const (
	PageSize    = 20
	MaxPageSize = 100
	// maxSearch bounds the search words (item name or case number).
	maxSearch = 100
	// maxClientID bounds the system filter.
	maxClientID = 128
)

// UnidSystem is the system filter that keeps unid's own messages.
const UnidSystem = "-"

// Systems is what the reading service asks of the client registry: the
// name of a service system (its display name), and every system (as read
// at most a moment ago). *client.Registry implements it.
type Systems interface {
	Get(ctx context.Context, id string) (store.Client, error)
	Listed(ctx context.Context) ([]store.Client, error)
}

// Members tells a person's live enterprise memberships;
// *enterprise.Service implements it.
type Members interface {
	Memberships(ctx context.Context, userID string) ([]enterprise.Membership, error)
}

// Users is what Post asks of the accounts: whether the person exists
// and is open.
type Users interface {
	GetUser(ctx context.Context, id string) (store.User, error)
}

// Deps are what a Service is built from.
type Deps struct {
	Store   store.Records
	Users   Users
	Catalog *i18n.Catalog
	Now     func() time.Time
	// Systems names the systems that wrote records; nil shows their ids.
	Systems Systems
	// Members gives the enterprise memberships; nil: nobody is a member.
	Members Members
	// Platform is the platform's name in a language, the sender of its
	// own messages; nil: the catalog's page.site.name.
	Platform func(i18n.Lang) string
}

// Service posts unid's own messages and reads a person's and an
// enterprise's records for them.
type Service struct {
	d Deps
}

// New returns a Service over d.
func New(d Deps) *Service {
	return &Service{d: d}
}

func (s *Service) now() time.Time { return s.d.Now().UTC().Truncate(time.Millisecond) }

// Filter is what a reader asks of a list, as the query of the page or
// the API gives it: every field may be empty.
type Filter struct {
	Status string // a status of the kind's vocabulary
	Client string // a system's client id, or UnidSystem
	From   string // a date (2026-01-31, China time) or an RFC 3339 time: submitted on or after
	To     string // a date (the whole day counts) or an RFC 3339 time: submitted before
	Search string // words of the item name, or a case number
	After  string // the Next of the page before
	Limit  int    // 0: PageSize
}

// View is a record as its reader sees it.
type View struct {
	ID          string
	Kind        store.RecordKind
	Number      string
	Title       string
	ItemCode    string
	Department  string
	Status      string // the word of the vocabulary, "" for a kind without
	StatusLabel string // the status in the reader's language
	Body        string // summary, answer, reply or message body
	Link        string // the system's page (absolute URL) or, for unid's messages, a path here
	ClientID    string // the system that wrote it; "" unid
	System      string // its name
	Handler     bool   // an enterprise's record the reader acted in
	SubmittedAt time.Time
	UpdatedAt   time.Time
	Read        bool
	History     []Change // Get only: oldest first
}

// Change is one entry of a record's status history.
type Change struct {
	Status string
	Label  string
	At     time.Time
}

// Page is one page of records, newest first, with the cursor of the next
// page ("" on the last) and how many of the kind are unread in all (a
// person's lists only).
type Page struct {
	Records []View
	Next    string
	Unread  int
}

// System is one choice of the system filter.
type System struct {
	ID   string
	Name string
}

// kindOf returns the Kind named by plural, or a NotFound problem (the
// paths name kinds).
func kindOf(plural string) (Kind, error) {
	k, ok := ByPlural(plural)
	if !ok {
		return Kind{}, problem.New(problem.NotFound, "not_found")
	}
	return k, nil
}

// List returns a page of userID's records of the kind plural (cases,
// consultations, messages, complaints, favorites) that f selects,
// rendered in lang.
func (s *Service) List(ctx context.Context, lang i18n.Lang, userID, plural string, f Filter) (Page, error) {
	k, err := kindOf(plural)
	if err != nil {
		return Page{}, err
	}
	q, err := s.query(k, f)
	if err != nil {
		return Page{}, err
	}
	q.UserID = userID
	p, err := s.page(ctx, lang, q, userID)
	if err != nil {
		return Page{}, err
	}
	unread, err := s.d.Store.CountUnreadRecords(ctx, userID)
	if err != nil {
		return Page{}, problem.Wrap(fmt.Errorf("records: count unread: %w", err))
	}
	p.Unread = unread[k.Kind]
	return p, nil
}

// ListEnterprise returns a page of the enterprise's records of the kind
// for userID, a live member of it: the legal representative and
// administrators see all, a handler those they acted in. Anyone else,
// and a kind an enterprise does not keep, gets not-found, as for an
// enterprise that does not exist.
func (s *Service) ListEnterprise(ctx context.Context, lang i18n.Lang, userID, uscc, plural string, f Filter) (Page, error) {
	k, m, err := s.enterpriseKind(ctx, userID, uscc, plural)
	if err != nil {
		return Page{}, err
	}
	q, err := s.query(k, f)
	if err != nil {
		return Page{}, err
	}
	q.USCC = m.USCC
	if !enterprise.AtLeast(m.Role, enterprise.RoleAdmin) {
		q.HandlerID = userID
	}
	p, err := s.page(ctx, lang, q, userID)
	if err != nil {
		return Page{}, err
	}
	for i := range p.Records {
		p.Records[i].Read = true // an enterprise's records carry no one's read mark
	}
	return p, nil
}

// GetEnterprise returns one of the enterprise's records, with its status
// history, to a member who may see it (ListEnterprise).
func (s *Service) GetEnterprise(ctx context.Context, lang i18n.Lang, userID, uscc, plural, id string) (View, error) {
	k, m, err := s.enterpriseKind(ctx, userID, uscc, plural)
	if err != nil {
		return View{}, err
	}
	r, err := s.d.Store.GetRecord(ctx, "", m.USCC, k.Kind, id)
	if err == nil && !enterprise.AtLeast(m.Role, enterprise.RoleAdmin) && r.HandlerID != userID {
		err = store.ErrNotFound
	}
	v, err := s.detail(ctx, lang, r, err)
	v.Read = true
	return v, err
}

// enterpriseKind checks that userID is a live member of uscc and that the
// enterprise keeps records of the kind.
func (s *Service) enterpriseKind(ctx context.Context, userID, uscc, plural string) (Kind, enterprise.Membership, error) {
	notFound := problem.New(problem.NotFound, "enterprise_not_member")
	k, ok := ByPlural(plural)
	if !ok || !k.Enterprise {
		return Kind{}, enterprise.Membership{}, problem.New(problem.NotFound, "not_found")
	}
	code, err := enterprise.ParseUSCC(uscc)
	if err != nil || s.d.Members == nil {
		return Kind{}, enterprise.Membership{}, notFound
	}
	ms, err := s.d.Members.Memberships(ctx, userID)
	if err != nil {
		return Kind{}, enterprise.Membership{}, problem.Wrap(fmt.Errorf("records: memberships: %w", err))
	}
	i := slices.IndexFunc(ms, func(m enterprise.Membership) bool { return m.USCC == code })
	if i < 0 {
		return Kind{}, enterprise.Membership{}, notFound
	}
	return k, ms[i], nil
}

// Get returns userID's record id of the kind with its status history.
// Another person's record is not found, like a missing one.
func (s *Service) Get(ctx context.Context, lang i18n.Lang, userID, plural, id string) (View, error) {
	k, err := kindOf(plural)
	if err != nil {
		return View{}, err
	}
	r, err := s.d.Store.GetRecord(ctx, userID, "", k.Kind, id)
	return s.detail(ctx, lang, r, err)
}

// detail renders r (read with err) and its history.
func (s *Service) detail(ctx context.Context, lang i18n.Lang, r store.Record, err error) (View, error) {
	if errors.Is(err, store.ErrNotFound) {
		return View{}, errRecordNotFound
	}
	if err != nil {
		return View{}, problem.Wrap(fmt.Errorf("records: get: %w", err))
	}
	hist, err := s.d.Store.RecordHistory(ctx, r.ID)
	if err != nil {
		return View{}, problem.Wrap(fmt.Errorf("records: history: %w", err))
	}
	v := s.view(lang, r, newNames(ctx, s.d.Systems))
	v.History = make([]Change, 0, len(hist))
	for _, h := range hist {
		v.History = append(v.History, Change{Status: h.Status, Label: s.statusLabel(lang, r.Kind, h.Status), At: h.At})
	}
	return v, nil
}

// MarkRead marks userID's record id of the kind read, or all of them when
// id is "". Another person's record is not found, like a missing one.
func (s *Service) MarkRead(ctx context.Context, userID, plural, id string) error {
	k, err := kindOf(plural)
	if err != nil {
		return err
	}
	_, err = s.d.Store.MarkRecordsRead(ctx, userID, k.Kind, id, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return errRecordNotFound
	}
	if err != nil {
		return problem.Wrap(fmt.Errorf("records: mark read: %w", err))
	}
	return nil
}

// Remove deletes userID's favorite id: the only kind a person removes
// (the others are the systems' account of what happened).
func (s *Service) Remove(ctx context.Context, userID, plural, id string) error {
	k, err := kindOf(plural)
	if err != nil {
		return err
	}
	if k.Kind != store.RecordFavorite {
		return problem.New(problem.NotFound, "not_found")
	}
	err = s.d.Store.DeleteRecord(ctx, userID, k.Kind, id)
	if errors.Is(err, store.ErrNotFound) {
		return errRecordNotFound
	}
	if err != nil {
		return problem.Wrap(fmt.Errorf("records: remove: %w", err))
	}
	return nil
}

// Summary returns how many of userID's records are unread, per kind
// (path name), every kind present.
func (s *Service) Summary(ctx context.Context, userID string) (map[string]int, error) {
	n, err := s.d.Store.CountUnreadRecords(ctx, userID)
	if err != nil {
		return nil, problem.Wrap(fmt.Errorf("records: count unread: %w", err))
	}
	out := make(map[string]int, len(Kinds))
	for _, k := range Kinds {
		out[k.Plural] = n[k.Kind]
	}
	return out, nil
}

// Systems returns the choices of the system filter of a kind: the
// registered systems that may write it, by name, and for messages unid
// itself first.
func (s *Service) Systems(ctx context.Context, lang i18n.Lang, plural string) ([]System, error) {
	k, err := kindOf(plural)
	if err != nil {
		return nil, err
	}
	var out []System
	if k.Kind == store.RecordMessage {
		out = append(out, System{ID: UnidSystem, Name: s.platform(lang)})
	}
	if s.d.Systems == nil {
		return out, nil
	}
	cs, err := s.d.Systems.Listed(ctx)
	if err != nil {
		return nil, problem.Wrap(fmt.Errorf("records: systems: %w", err))
	}
	var found []System
	for _, c := range cs {
		if slices.Contains(c.Scopes, k.WriteScope()) {
			found = append(found, System{ID: c.ID, Name: c.Name})
		}
	}
	slices.SortFunc(found, func(a, b System) int { return strings.Compare(a.Name, b.Name) })
	return append(out, found...), nil
}

// StatusLabel is the message key of a status of a kind.
func StatusLabel(k store.RecordKind, status string) string {
	return "records.status." + string(k) + "." + status
}

// StatusKeys lists the message keys of every status of every kind.
func StatusKeys() []string {
	var keys []string
	for _, k := range Kinds {
		for _, st := range k.Statuses {
			keys = append(keys, StatusLabel(k.Kind, st))
		}
	}
	return keys
}

func (s *Service) statusLabel(lang i18n.Lang, k store.RecordKind, status string) string {
	if status == "" {
		return ""
	}
	if key := StatusLabel(k, status); s.d.Catalog.Has(key) {
		return s.d.Catalog.T(lang, key)
	}
	return status
}

func (s *Service) platform(lang i18n.Lang) string {
	if s.d.Platform != nil {
		if n := s.d.Platform(lang); n != "" {
			return n
		}
	}
	return s.d.Catalog.T(lang, "page.site.name")
}

// query checks f against the kind and returns the store's query; every
// field that is wrong is named.
func (s *Service) query(k Kind, f Filter) (store.RecordQuery, error) {
	fs := problem.FieldSet{}
	q := store.RecordQuery{Kind: k.Kind, Limit: PageSize}
	if f.Status = strings.TrimSpace(f.Status); f.Status != "" {
		if !k.ValidStatus(f.Status) {
			fs.Add("status", problem.New(problem.Invalid, "record_status_invalid"))
		}
		q.Status = f.Status
	}
	if f.Client = strings.TrimSpace(f.Client); f.Client != "" {
		if len(f.Client) > maxClientID {
			fs.Add("client", problem.New(problem.Invalid, "record_client_invalid"))
		}
		q.ClientID = f.Client
	}
	var err error
	if q.From, err = parseDay(f.From, false); err != nil {
		fs.Add("from", err)
	}
	if q.To, err = parseDay(f.To, true); err != nil {
		fs.Add("to", err)
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		fs.Add("to", problem.New(problem.Invalid, "record_range_invalid"))
	}
	if q.Search = strings.TrimSpace(f.Search); utf8.RuneCountInString(q.Search) > maxSearch || !utf8.ValidString(q.Search) {
		fs.Add("q", problem.New(problem.Invalid, "record_search_too_long"))
	}
	if q.After, err = parseCursor(f.After); err != nil {
		fs.Add("after", problem.New(problem.Invalid, "record_cursor_invalid"))
	}
	switch {
	case f.Limit < 0 || f.Limit > MaxPageSize:
		fs.Add("limit", problem.New(problem.Invalid, "record_limit_invalid"))
	case f.Limit > 0:
		q.Limit = f.Limit
	}
	if err := fs.Err(); err != nil {
		return q, err
	}
	return q, nil
}

// china is the time zone the dates of the filters are days of.
var china = time.FixedZone("CST", 8*3600)

// parseDay reads a filter's bound: an RFC 3339 time, or a date whose
// start (end: the start of the next day) counts.
func parseDay(v string, end bool) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	bad := problem.New(problem.Invalid, "record_date_invalid")
	if len(v) > 40 {
		return time.Time{}, bad
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	d, err := time.ParseInLocation(time.DateOnly, v, china)
	if err != nil || d.Year() < 1900 || d.Year() > 9999 {
		return time.Time{}, bad
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d.UTC(), nil
}

// page reads one page of q (one more, to know there is a next) and
// renders it for the reader userID.
func (s *Service) page(ctx context.Context, lang i18n.Lang, q store.RecordQuery, userID string) (Page, error) {
	limit := q.Limit
	q.Limit++
	list, err := s.d.Store.ListRecords(ctx, q)
	if err != nil {
		return Page{}, problem.Wrap(fmt.Errorf("records: list: %w", err))
	}
	p := Page{Records: make([]View, 0, min(len(list), limit))}
	if len(list) > limit {
		list = list[:limit]
		last := list[limit-1]
		p.Next = formatCursor(store.RecordCursor{SubmittedAt: last.SubmittedAt, ID: last.ID})
	}
	names := newNames(ctx, s.d.Systems)
	for _, r := range list {
		v := s.view(lang, r, names)
		v.Handler = q.USCC != "" && r.HandlerID != "" && r.HandlerID == userID
		p.Records = append(p.Records, v)
	}
	return p, nil
}

// view renders r in lang; unid's own messages from the catalog.
func (s *Service) view(lang i18n.Lang, r store.Record, names *names) View {
	v := View{
		ID: r.ID, Kind: r.Kind, Number: r.Number, Title: r.Title, ItemCode: r.ItemCode, Department: r.Department,
		Status: r.Status, StatusLabel: s.statusLabel(lang, r.Kind, r.Status), Body: r.Summary, Link: r.Link,
		ClientID: r.ClientID, SubmittedAt: r.SubmittedAt, UpdatedAt: r.UpdatedAt, Read: !r.ReadAt.IsZero(),
	}
	if r.ClientID == "" {
		v.System = s.platform(lang)
		if r.Kind == store.RecordMessage {
			v.Title, v.Body = s.renderEvent(lang, r.Event, r.Params)
		}
		return v
	}
	v.System = names.name(r.ClientID)
	return v
}

// names looks up the names of systems once per list.
type names struct {
	ctx   context.Context
	sys   Systems
	known map[string]string
}

func newNames(ctx context.Context, sys Systems) *names {
	return &names{ctx: ctx, sys: sys, known: map[string]string{}}
}

// name is the system's name; a system no longer registered (or a
// registry that cannot answer) shows its id.
func (n *names) name(id string) string {
	if v, ok := n.known[id]; ok {
		return v
	}
	v := id
	if n.sys != nil {
		if c, err := n.sys.Get(n.ctx, id); err == nil && c.Name != "" {
			v = c.Name
		}
	}
	n.known[id] = v
	return v
}
