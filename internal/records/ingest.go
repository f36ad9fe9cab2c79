package records

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"unid/internal/audit"
	"unid/internal/problem"
	"unid/internal/store"
)

// The service systems' side of the records (the records API): a system,
// authenticated by a client-credentials token, writes the records of the
// people and enterprises that signed in to it, one at a time (Put) or in
// batches (Apply, for the bulk endpoint), reads and deletes its own
// records (Get, Delete), and reads a signed-in user's records of every
// system with that user's token (Mine).
//
//	write ──decode (DecodeFields, DecodeLine)──▶ scope ──▶ fields valid
//	      ──▶ owner known to the system (KnownUsers / KnownEnterprises)
//	      ──▶ handler a member who signed in to it ──▶ UpsertRecords
//
// An owner the system may not write for is refused exactly like one that
// does not exist: one code, one answer, one store read either way.
//
// Writes are not audited one by one: Ingest counts them per client
// (outcomes, refusals by code, rate-limited requests) and Flush appends
// one records.ingest event per client with the counts; the app flushes
// once a minute and on Close.

// ActionIngest is the audit action of a client's counted writes.
const ActionIngest = "records.ingest"

// Limits of what a system sends.
const (
	// MaxWriteBytes bounds the body of one write and one line of a bulk
	// request.
	MaxWriteBytes = 16 << 10
	// MaxBulkBytes and MaxBulkLines bound a bulk request; one over either
	// is refused whole and writes nothing.
	MaxBulkBytes = 8 << 20
	MaxBulkLines = 10_000
	// BatchSize is how many writes of a bulk request go to the store in
	// one transaction.
	BatchSize = 500
	// LinesPerToken is how many lines of a bulk request cost one request
	// of the rate limit.
	LinesPerToken = 100
	// MaxTitleRunes, MaxSummaryRunes and MaxCodeBytes cap the texts.
	MaxTitleRunes   = 200
	MaxSummaryRunes = 1000
	MaxCodeBytes    = 128
	maxShortRunes   = 100 // department, case number
	maxLinkBytes    = 2048
	// MaxSkew is how far in the future a system's clock may be.
	MaxSkew = 5 * time.Minute
	// MaxPage is the largest page of Mine.
	MaxPage = 100
)

// Caller is the service system behind a request: its client ID, the
// scopes its token carries, and its registered redirect URIs (a CAS
// system's service patterns), whose hosts are its site: a record's link
// must be a page there (onSite).
type Caller struct {
	ClientID string
	Scopes   []string
	Sites    []string
}

// May reports whether the caller's token carries scope.
func (c Caller) May(scope string) bool { return slices.Contains(c.Scopes, scope) }

// MayWriteAny reports whether the caller's token carries the write scope
// of at least one kind: a bulk request of one without is refused before
// its body is read.
func (c Caller) MayWriteAny() bool {
	return slices.ContainsFunc(Kinds, func(k Kind) bool { return c.May(k.WriteScope()) })
}

// Write is one write of a system: the record it names (kind, owner, the
// system's id) and its fields as sent, each a string. Err is set by
// DecodeLine when a line could not be read at all; Apply answers it as it
// is.
type Write struct {
	Kind       Kind
	User       string // the owner's unid user ID (sub), or
	Enterprise string // the owner's unified social credit code
	ID         string // the system's id of the record
	Fields     map[string]string
	Err        error
}

// Result is what one write did: an Upsert* outcome and the record as
// stored, or the problem that refused it.
type Result struct {
	Outcome string
	Record  store.Record
	Err     error
}

// IngestStore is what Ingest needs of the store.
type IngestStore interface {
	UpsertRecords(ctx context.Context, writes []store.Record) ([]store.UpsertResult, error)
	GetSourceRecord(ctx context.Context, clientID string, kind store.RecordKind, externalID string) (store.Record, error)
	DeleteSourceRecord(ctx context.Context, clientID string, kind store.RecordKind, externalID string) error
	ListRecords(ctx context.Context, q store.RecordQuery) ([]store.Record, error)
	RecordHistory(ctx context.Context, id string) ([]store.StatusChange, error)
	DeleteRecordsUpdatedBefore(ctx context.Context, kind store.RecordKind, cut time.Time, limit int) (int64, error)
	KnownUsers(ctx context.Context, clientID string, userIDs []string) (map[string]bool, error)
	KnownEnterprises(ctx context.Context, clientID string, usccs []string) (map[string]bool, error)
	GetEnterpriseMember(ctx context.Context, uscc, userID string) (store.EnterpriseMember, error)
}

// IngestOptions are the limits of the records API.
type IngestOptions struct {
	// Rate is how many requests a second one client may make on one
	// instance (a bulk request counts one per LinesPerToken lines), with
	// Burst at once; 0 is no limit.
	Rate  int
	Burst int
	// Retention is, per kind, how long after its last update a record is
	// kept; absent or 0 keeps it for good.
	Retention map[store.RecordKind]time.Duration
}

// IngestDeps are what an Ingest is built from.
type IngestDeps struct {
	Store   IngestStore
	Audit   *audit.Log
	Logger  *slog.Logger
	Now     func() time.Time
	Options IngestOptions
}

// Ingest is the service systems' side of the records.
type Ingest struct {
	d IngestDeps

	commit *committer

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
	tallies  map[string]*tally
}

// tally counts what a client's writes did since its last event.
type tally struct {
	since  time.Time
	counts map[string]int
}

// NewIngest returns an Ingest over d.
func NewIngest(d IngestDeps) *Ingest {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Options.Burst < d.Options.Rate {
		d.Options.Burst = d.Options.Rate
	}
	return &Ingest{d: d, commit: &committer{upsert: d.Store.UpsertRecords}, limiters: map[string]*rate.Limiter{}, tallies: map[string]*tally{}}
}

func (in *Ingest) now() time.Time { return in.d.Now().UTC().Truncate(time.Millisecond) }

// Allow takes a request of clientID from its rate limit: one token for a
// single request (lines 0), one per LinesPerToken lines of a bulk
// request (at most the burst). A refusal is counted and says how long to
// wait.
func (in *Ingest) Allow(clientID string, lines int) (time.Duration, bool) {
	return in.allow(clientID, in.cost(lines))
}

// AllowRest takes the rest of a bulk request's cost once its lines are
// counted: the request took one token (Allow with lines 0) before its
// body was read, so that refused and oversized bodies are charged too.
func (in *Ingest) AllowRest(clientID string, lines int) (time.Duration, bool) {
	if n := in.cost(lines) - 1; n > 0 {
		return in.allow(clientID, n)
	}
	return 0, true
}

// cost is how many tokens a request of lines lines takes: one per
// LinesPerToken lines, at least one, at most the burst.
func (in *Ingest) cost(lines int) int {
	n := max(1, (lines+LinesPerToken-1)/LinesPerToken)
	return min(n, in.d.Options.Burst)
}

func (in *Ingest) allow(clientID string, n int) (time.Duration, bool) {
	o := in.d.Options
	if o.Rate <= 0 {
		return 0, true
	}
	now := in.d.Now()
	in.mu.Lock()
	l, ok := in.limiters[clientID]
	if !ok {
		l = rate.NewLimiter(rate.Limit(o.Rate), o.Burst)
		in.limiters[clientID] = l
	}
	r := l.ReserveN(now, n)
	wait := r.DelayFrom(now)
	if wait > 0 {
		r.CancelAt(now)
	}
	in.mu.Unlock()
	if wait > 0 {
		in.count(clientID, "rate_limited", 1)
		return max(wait, time.Second), false
	}
	return 0, true
}

// count adds n to the counter key of clientID.
func (in *Ingest) count(clientID, key string, n int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.tallyOf(clientID).counts[key] += n
}

// tallyOf returns the tally of clientID, begun now if there is none; in.mu
// is held.
func (in *Ingest) tallyOf(clientID string) *tally {
	t, ok := in.tallies[clientID]
	if !ok {
		t = &tally{since: in.now(), counts: map[string]int{}}
		in.tallies[clientID] = t
	}
	return t
}

// Refused counts a request refused before it named a write (a body that
// could not be read, a bulk request over the limits), under its code.
func (in *Ingest) Refused(clientID string, err error) {
	in.count(clientID, "refused."+problem.As(err).Code, 1)
}

// Flush appends one records.ingest event per client with counts since
// its last one, and starts counting afresh.
func (in *Ingest) Flush(ctx context.Context) {
	in.mu.Lock()
	tallies := in.tallies
	in.tallies = map[string]*tally{}
	in.mu.Unlock()
	ids := make([]string, 0, len(tallies))
	for id := range tallies {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		t := tallies[id]
		d := audit.Detail{"since": t.since.Format(time.RFC3339Nano)}
		for k, n := range t.counts {
			d[k] = strconv.Itoa(n)
		}
		in.d.Audit.Append(ctx, audit.Entry{Actor: audit.ClientActor(id), Action: ActionIngest, Result: audit.ResultOK, Detail: d})
	}
}

// Put applies one write.
func (in *Ingest) Put(ctx context.Context, c Caller, w Write) (Result, error) {
	res := in.Apply(ctx, c, []Write{w})
	return res[0], res[0].Err
}

// Apply applies writes in order, in batches of BatchSize, and returns
// one Result per write: a write that is refused does not stop the others.
func (in *Ingest) Apply(ctx context.Context, c Caller, writes []Write) []Result {
	out := make([]Result, 0, len(writes))
	for start := 0; start < len(writes); start += BatchSize {
		out = append(out, in.batch(ctx, c, writes[start:min(start+BatchSize, len(writes))])...)
	}
	return out
}

// batch applies at most BatchSize writes in one UpsertRecords.
func (in *Ingest) batch(ctx context.Context, c Caller, writes []Write) []Result {
	now := in.now()
	res := make([]Result, len(writes))
	recs := make([]store.Record, len(writes))
	var users, usccs []string
	for i, w := range writes {
		if w.Err != nil {
			res[i].Err = w.Err
			continue
		}
		if !c.May(w.Kind.WriteScope()) {
			res[i].Err = problem.New(problem.Forbidden, "insufficient_scope")
			continue
		}
		r, err := w.record(now, c.Sites)
		if err != nil {
			res[i].Err = err
			continue
		}
		recs[i] = r
		if r.UserID != "" {
			users = append(users, r.UserID)
		} else {
			usccs = append(usccs, r.USCC)
		}
		if r.HandlerID != "" {
			users = append(users, r.HandlerID)
		}
	}
	knownUsers, knownEnts, err := in.known(ctx, c.ClientID, users, usccs)
	if err != nil {
		return in.failAll(c.ClientID, res, problem.Wrap(err))
	}
	members := map[store.MemberKey]bool{}
	var todo []store.Record
	var at []int
	for i := range writes {
		if res[i].Err != nil {
			continue
		}
		r := recs[i]
		if r.UserID != "" && !knownUsers[r.UserID] || r.USCC != "" && !knownEnts[r.USCC] {
			res[i].Err = errOwnerUnknown
			continue
		}
		if r.HandlerID != "" {
			ok, err := in.member(ctx, members, r.USCC, r.HandlerID, knownUsers[r.HandlerID], now)
			if err != nil {
				return in.failAll(c.ClientID, res, problem.Wrap(err))
			}
			if !ok {
				res[i].Err = problem.Field("handler", "record_handler_unknown")
				continue
			}
		}
		r.ID, r.ClientID, r.CreatedAt = newID(), c.ClientID, now
		if r.Kind == store.RecordFavorite {
			r.ReadAt = now // a favorite is the person's own doing: never news
		}
		todo = append(todo, r)
		at = append(at, i)
	}
	if len(todo) > 0 {
		done, err := in.commit.do(ctx, todo)
		if err == nil && len(done) != len(todo) {
			err = fmt.Errorf("records: %d results of %d writes", len(done), len(todo))
		}
		var busy *problem.Problem // the commit queue is full
		if errors.As(err, &busy) {
			return in.failAll(c.ClientID, res, busy)
		}
		if err != nil {
			return in.failAll(c.ClientID, res, problem.Wrap(fmt.Errorf("records: upsert: %w", err)))
		}
		for j, d := range done {
			i := at[j]
			res[i] = Result{Outcome: d.Outcome, Record: d.Record}
			if d.Outcome == store.UpsertOwner {
				res[i] = Result{Err: problem.New(problem.Conflict, "record_id_taken")}
			}
		}
	}
	in.tally(c.ClientID, res)
	return res
}

// errOwnerUnknown is the one answer to a write for an owner the system
// may not write for, whether or not the owner exists.
var errOwnerUnknown = problem.New(problem.NotFound, "records_owner_unknown")

// failAll answers every write of a batch not refused already with err:
// the batch was not written.
func (in *Ingest) failAll(clientID string, res []Result, err error) []Result {
	for i := range res {
		if res[i].Err == nil {
			res[i] = Result{Err: err}
		}
	}
	in.tally(clientID, res)
	return res
}

func (in *Ingest) tally(clientID string, res []Result) {
	in.mu.Lock()
	defer in.mu.Unlock()
	t := in.tallyOf(clientID)
	for _, r := range res {
		if r.Err != nil {
			t.counts["refused."+problem.As(r.Err).Code]++
		} else {
			t.counts[r.Outcome]++
		}
	}
}

// known asks the store once each about the users and enterprises of a
// batch.
func (in *Ingest) known(ctx context.Context, clientID string, users, usccs []string) (map[string]bool, map[string]bool, error) {
	var ku, ke map[string]bool
	var err error
	if len(users) > 0 {
		slices.Sort(users)
		if ku, err = in.d.Store.KnownUsers(ctx, clientID, slices.Compact(users)); err != nil {
			return nil, nil, fmt.Errorf("records: known users: %w", err)
		}
	}
	if len(usccs) > 0 {
		slices.Sort(usccs)
		if ke, err = in.d.Store.KnownEnterprises(ctx, clientID, slices.Compact(usccs)); err != nil {
			return nil, nil, fmt.Errorf("records: known enterprises: %w", err)
		}
	}
	return ku, ke, nil
}

// member reports whether handler is a current member of uscc who signed
// in to the system (signedIn), remembering answers in seen.
func (in *Ingest) member(ctx context.Context, seen map[store.MemberKey]bool, uscc, handler string, signedIn bool, now time.Time) (bool, error) {
	if !signedIn {
		return false, nil
	}
	k := store.MemberKey{USCC: uscc, UserID: handler}
	if ok, done := seen[k]; done {
		return ok, nil
	}
	m, err := in.d.Store.GetEnterpriseMember(ctx, uscc, handler)
	if errors.Is(err, store.ErrNotFound) {
		seen[k] = false
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("records: enterprise member: %w", err)
	}
	ok := m.ValidUntil.IsZero() || now.Before(m.ValidUntil)
	seen[k] = ok
	return ok, nil
}

// Get returns the system's record of kind and id with its status
// history, if it belongs to the owner named (user or enterprise); any
// other is not found.
func (in *Ingest) Get(ctx context.Context, c Caller, kind Kind, user, uscc, id string) (store.Record, []store.StatusChange, error) {
	r, err := in.source(ctx, c, kind, user, uscc, id)
	if err != nil {
		return store.Record{}, nil, err
	}
	h, err := in.d.Store.RecordHistory(ctx, r.ID)
	if err != nil {
		return store.Record{}, nil, problem.Wrap(fmt.Errorf("records: history: %w", err))
	}
	return r, h, nil
}

// Delete deletes the system's record of kind and id, if it belongs to the
// owner named.
func (in *Ingest) Delete(ctx context.Context, c Caller, kind Kind, user, uscc, id string) error {
	if _, err := in.source(ctx, c, kind, user, uscc, id); err != nil {
		return err
	}
	err := in.d.Store.DeleteSourceRecord(ctx, c.ClientID, kind.Kind, id)
	if errors.Is(err, store.ErrNotFound) {
		return errRecordNotFound
	}
	if err != nil {
		return problem.Wrap(fmt.Errorf("records: delete: %w", err))
	}
	in.count(c.ClientID, "deleted", 1)
	return nil
}

// errRecordNotFound is the one answer about a record that is not the
// caller's to see, whether or not it exists.
var errRecordNotFound = problem.New(problem.NotFound, "record_not_found")

func (in *Ingest) source(ctx context.Context, c Caller, kind Kind, user, uscc, id string) (store.Record, error) {
	if !c.May(kind.WriteScope()) {
		return store.Record{}, problem.New(problem.Forbidden, "insufficient_scope")
	}
	uscc = strings.ToUpper(uscc)
	if !validCode(id) || user == "" && uscc == "" {
		return store.Record{}, errRecordNotFound
	}
	r, err := in.d.Store.GetSourceRecord(ctx, c.ClientID, kind.Kind, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Record{}, errRecordNotFound
	}
	if err != nil {
		return store.Record{}, problem.Wrap(fmt.Errorf("records: get: %w", err))
	}
	if r.UserID != user || r.USCC != uscc {
		return store.Record{}, errRecordNotFound
	}
	return r, nil
}

// MineQuery selects a page of a user's records of one kind for Mine.
type MineQuery struct {
	Status string // "" any
	Since  string // RFC 3339: submitted at or after it; "" any
	After  string // the cursor of the previous page; "" the first
	Limit  string // page size, 1..MaxPage; "" 20
}

// MinePage is a page of a user's records, newest first, with the cursor
// of the next page ("" on the last).
type MinePage struct {
	Records []store.Record
	Next    string
}

// Mine returns a page of userID's records of kind, from every system, to
// a system holding the user's token with the kind's read scope. unid's
// own messages are not included: their texts are unid's to render.
func (in *Ingest) Mine(ctx context.Context, c Caller, userID string, kind Kind, mq MineQuery) (MinePage, error) {
	if !c.May(kind.ReadScope()) {
		return MinePage{}, problem.New(problem.Forbidden, "insufficient_scope")
	}
	q := store.RecordQuery{Kind: kind.Kind, UserID: userID, Limit: 20}
	f := problem.FieldSet{}
	if mq.Status != "" {
		if !kind.ValidStatus(mq.Status) {
			f.Add("status", problem.Field("status", "record_status_invalid"))
		}
		q.Status = mq.Status
	}
	if mq.Since != "" {
		t, err := time.Parse(time.RFC3339, mq.Since)
		if err != nil {
			f.Add("since", problem.Field("since", "record_time_invalid"))
		}
		q.From = t.UTC()
	}
	if mq.Limit != "" {
		n, err := strconv.Atoi(mq.Limit)
		if err != nil || n < 1 || n > MaxPage {
			f.Add("limit", problem.Field("limit", "records_limit_invalid"))
		}
		q.Limit = n
	}
	cur, err := parseCursor(mq.After)
	if err != nil {
		f.Add("after", problem.Field("after", "records_cursor_invalid"))
	}
	if err := f.Err(); err != nil {
		return MinePage{}, err
	}
	q.After = cur
	limit := q.Limit
	q.Limit++
	list, err := in.d.Store.ListRecords(ctx, q)
	if err != nil {
		return MinePage{}, problem.Wrap(fmt.Errorf("records: list: %w", err))
	}
	var p MinePage
	if len(list) > limit {
		list = list[:limit]
		last := list[limit-1]
		p.Next = formatCursor(store.RecordCursor{SubmittedAt: last.SubmittedAt, ID: last.ID})
	}
	p.Records = slices.DeleteFunc(list, func(r store.Record) bool { return r.ClientID == "" })
	return p, nil
}

// Prune deletes the records older than their kind's retention, in chunks,
// at most maxPruneChunks chunks of each kind a run, and returns how many.
func (in *Ingest) Prune(ctx context.Context) (int64, error) {
	now := in.now()
	var total int64
	for _, k := range Kinds {
		keep := in.d.Options.Retention[k.Kind]
		if keep <= 0 {
			continue
		}
		for range maxPruneChunks {
			n, err := in.d.Store.DeleteRecordsUpdatedBefore(ctx, k.Kind, now.Add(-keep), pruneChunk)
			total += n
			if err != nil {
				return total, fmt.Errorf("records: prune %s: %w", k.Kind, err)
			}
			// A short chunk is not the end: on PostgreSQL the delete
			// keeps a record updated while it waited for it.
			if n == 0 {
				break
			}
		}
	}
	return total, nil
}

const (
	pruneChunk     = 1000
	maxPruneChunks = 100
)

// fieldType is what a field holds.
type fieldType int

const (
	text      fieldType = iota // one line of text
	multiline                  // text with line breaks
	code                       // printable ASCII, MaxCodeBytes
	status                     // a word of the kind's vocabulary
	timestamp                  // RFC 3339
	link                       // absolute http(s) URL
)

// field is one field a system sends for a kind.
type field struct {
	name     string
	typ      fieldType
	max      int // runes of a text
	required bool
	of       func(r *store.Record) *string // the record's field it is; nil for the times
}

func title(r *store.Record) *string   { return &r.Title }
func summary(r *store.Record) *string { return &r.Summary }

var (
	fieldStatus    = field{name: "status", typ: status, required: true, of: func(r *store.Record) *string { return &r.Status }}
	fieldLink      = field{name: "link", typ: link, of: func(r *store.Record) *string { return &r.Link }}
	fieldSubmitted = field{name: "submitted_at", typ: timestamp}
	fieldUpdated   = field{name: "updated_at", typ: timestamp, required: true}
	fieldUpdatedOr = field{name: "updated_at", typ: timestamp} // default: now
	fieldItemCode  = field{name: "item_code", typ: code, of: func(r *store.Record) *string { return &r.ItemCode }}
)

// fields are the fields of each kind; handler (enterprise records) is
// read apart.
var fields = map[store.RecordKind][]field{
	store.RecordCase: {
		{name: "number", typ: text, max: maxShortRunes, of: func(r *store.Record) *string { return &r.Number }},
		{name: "item_name", typ: text, max: MaxTitleRunes, required: true, of: title},
		fieldItemCode,
		{name: "department", typ: text, max: maxShortRunes, of: func(r *store.Record) *string { return &r.Department }},
		fieldStatus, fieldLink, fieldSubmitted, fieldUpdated,
	},
	store.RecordConsultation: {
		{name: "question", typ: text, max: MaxTitleRunes, required: true, of: title},
		{name: "answer", typ: multiline, max: MaxSummaryRunes, of: summary},
		fieldStatus, fieldLink, fieldSubmitted, fieldUpdated,
	},
	store.RecordComplaint: {
		{name: "subject", typ: text, max: MaxTitleRunes, required: true, of: title},
		{name: "reply", typ: multiline, max: MaxSummaryRunes, of: summary},
		fieldStatus, fieldLink, fieldSubmitted, fieldUpdated,
	},
	store.RecordMessage: {
		{name: "title", typ: text, max: MaxTitleRunes, required: true, of: title},
		{name: "body", typ: multiline, max: MaxSummaryRunes, of: summary},
		fieldLink, fieldSubmitted, fieldUpdatedOr,
	},
	store.RecordFavorite: {
		{name: "name", typ: text, max: MaxTitleRunes, required: true, of: title},
		fieldItemCode,
		{name: "link", typ: link, required: true, of: fieldLink.of},
		fieldUpdatedOr,
	},
}

// FieldNames returns the names of the fields of kind (for the API's
// documentation and tests), handler last for an enterprise kind.
func FieldNames(k Kind) []string {
	var out []string
	for _, f := range fields[k.Kind] {
		out = append(out, f.name)
	}
	if k.Enterprise {
		out = append(out, "handler")
	}
	return out
}

// Fields returns the fields of r as a system sends them for its kind
// (empty ones left out), without the times and the handler.
func Fields(r store.Record) map[string]string {
	out := map[string]string{}
	for _, fd := range fields[r.Kind] {
		if fd.of != nil {
			if v := *fd.of(&r); v != "" {
				out[fd.name] = v
			}
		}
	}
	return out
}

// CheckWrite checks w as Apply does for a system of sites, before asking
// who the owner is, and returns the record it would write.
func CheckWrite(w Write, sites []string, now time.Time) (store.Record, error) {
	return w.record(now, sites)
}

// record checks w and returns the record it writes (without unid's ID,
// client and creation time). now bounds its times; sites are the
// system's (Caller.Sites), where its links must lead.
func (w Write) record(now time.Time, sites []string) (store.Record, error) {
	f := problem.FieldSet{}
	r := store.Record{Kind: w.Kind.Kind, UserID: w.User, USCC: strings.ToUpper(w.Enterprise), ExternalID: w.ID}
	// An owner no account or enterprise can have is refused, once the
	// fields are good, as one that does not exist.
	ownerBad := false
	switch {
	case w.User != "" && w.Enterprise != "", w.User == "" && w.Enterprise == "":
		f.Add("user", problem.Field("user", "records_owner_required"))
	case w.Enterprise != "" && !w.Kind.Enterprise:
		f.Add("enterprise", problem.Field("enterprise", "record_enterprise_not_allowed"))
	default:
		ownerBad = !validCode(w.User + w.Enterprise)
	}
	if !validCode(w.ID) {
		f.Add("id", problem.Field("id", "record_id_invalid"))
	}
	known := map[string]bool{}
	for _, fd := range fields[w.Kind.Kind] {
		known[fd.name] = true
		v, ok := w.Fields[fd.name]
		if !ok || v == "" {
			if fd.required {
				f.Add(fd.name, problem.Field(fd.name, "record_field_required"))
			}
			continue
		}
		if code := check(fd, w.Kind, v, now, sites); code != "" {
			f.Add(fd.name, problem.Field(fd.name, code))
			continue
		}
		switch fd.name {
		case "submitted_at":
			r.SubmittedAt = parseTime(v)
		case "updated_at":
			r.UpdatedAt = parseTime(v)
		default:
			*fd.of(&r) = v
		}
	}
	if h, ok := w.Fields["handler"]; ok && h != "" {
		known["handler"] = true
		switch {
		case !w.Kind.Enterprise || w.Enterprise == "":
			f.Add("handler", problem.Field("handler", "record_handler_not_allowed"))
		case !validCode(h):
			f.Add("handler", problem.Field("handler", "record_handler_unknown"))
		default:
			r.HandlerID = h
		}
	}
	for name := range w.Fields {
		if !known[name] && name != "handler" {
			f.Add(fieldName(name), problem.Field(fieldName(name), "unknown_field"))
		}
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = now
	}
	if !r.SubmittedAt.IsZero() && r.SubmittedAt.After(r.UpdatedAt) {
		f.Add("submitted_at", problem.Field("submitted_at", "record_submitted_after_update"))
	}
	if err := f.Err(); err != nil {
		return store.Record{}, err
	}
	if ownerBad {
		return store.Record{}, errOwnerUnknown
	}
	return r, nil
}

// fieldName bounds the name of an unknown field that is echoed back.
func fieldName(s string) string {
	if len(s) > 64 || !validCode(s) {
		return "?"
	}
	return s
}

// earliest is the earliest time a record can carry.
var earliest = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)

// check returns the code of what is wrong with v as fd of kind, or "".
// Control characters (but a tab, and line breaks in a multiline text) and
// format characters (category Cf: bidirectional overrides and isolates,
// zero-width characters, the byte order mark), which would let a text
// read otherwise than it is, are invalid_characters in every field.
func check(fd field, k Kind, v string, now time.Time, sites []string) string {
	if !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool {
		return r < 0x20 && r != '\t' && !(fd.typ == multiline && (r == '\n' || r == '\r')) || r == 0x7f || r == utf8.RuneError ||
			unicode.Is(unicode.Cf, r)
	}) {
		return "invalid_characters"
	}
	switch fd.typ {
	case text, multiline:
		if utf8.RuneCountInString(v) > fd.max {
			return "field_too_long"
		}
	case code:
		if len(v) > MaxCodeBytes {
			return "field_too_long"
		}
		if !validCode(v) {
			return "invalid_characters"
		}
	case status:
		if !k.ValidStatus(v) {
			return "record_status_invalid"
		}
	case timestamp:
		t, err := time.Parse(time.RFC3339, v)
		switch {
		case err != nil || t.Before(earliest):
			return "record_time_invalid"
		case t.After(now.Add(MaxSkew)):
			return "record_time_future"
		}
	case link:
		if len(v) > maxLinkBytes || !validLink(v, sites) {
			return "record_link_invalid"
		}
	}
	return ""
}

func parseTime(v string) time.Time {
	t, _ := time.Parse(time.RFC3339, v)
	return t.UTC().Truncate(time.Millisecond)
}

// validCode reports whether s is 1 to MaxCodeBytes printable ASCII
// characters: an id, a sub, a credit code, an item code.
func validCode(s string) bool {
	if s == "" || len(s) > MaxCodeBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// validLink reports whether s is an absolute http(s) URL with a host and
// no user information, on the system's own site: a page of the system
// the citizen can open, not one elsewhere that a system's link would
// lend unid's trust to.
func validLink(s string, sites []string) bool {
	u, err := url.Parse(s)
	if err != nil || u.User != nil || u.Host == "" || u.Opaque != "" || strings.ContainsAny(s, " \\") {
		return false
	}
	return (u.Scheme == "https" || u.Scheme == "http") && onSite(u, sites)
}

// onSite reports whether u is on the site of a system registered with
// sites (Caller.Sites): its host and port are those of one of them (a
// CAS pattern's trailing "*" and "?*" cut; a pattern has no wildcard in
// its host), and its scheme is https, or http when that registered URI
// is itself http (a system on loopback in development). A path is not
// compared: a system's pages need not sit under its redirect URI.
func onSite(u *url.URL, sites []string) bool {
	host := siteHost(u)
	for _, s := range sites {
		s = strings.TrimSuffix(strings.TrimSuffix(s, "?*"), "*")
		r, err := url.Parse(s)
		if err != nil || r.Host == "" || r.Scheme != "https" && r.Scheme != "http" || siteHost(r) != host {
			continue
		}
		if u.Scheme == "https" || r.Scheme == "http" {
			return true
		}
	}
	return false
}

// siteHost is the host of u lower-cased, with its port unless that is
// the scheme's default.
func siteHost(u *url.URL) string {
	h, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" || u.Scheme == "https" && port == "443" || u.Scheme == "http" && port == "80" {
		return h
	}
	return net.JoinHostPort(h, port)
}

// DecodeFields reads the body of a single write: a JSON object of the
// kind's fields, each a string (null is absent). kind, the owner and the
// id come from the request's path.
func DecodeFields(kind Kind, user, uscc, id string, body []byte) (Write, error) {
	w := Write{Kind: kind, User: user, Enterprise: uscc, ID: id}
	obj, err := decodeObject(body)
	if err != nil {
		return w, err
	}
	w.Fields, err = strings_(obj)
	return w, err
}

// DecodeLine reads one line of a bulk request: a JSON object with kind
// (the plural of the path: "cases"), user or enterprise, id, and the
// kind's fields. A line that cannot be read returns a Write whose Err
// says why.
func DecodeLine(line []byte) Write {
	obj, err := decodeObject(line)
	if err != nil {
		return Write{Err: err}
	}
	addr := map[string]string{}
	for _, name := range []string{"kind", "user", "enterprise", "id"} {
		raw, ok := obj[name]
		if !ok {
			continue
		}
		delete(obj, name)
		var s *string
		if err := json.Unmarshal(raw, &s); err != nil {
			return Write{Err: problem.Field(name, "wrong_type")}
		}
		if s != nil {
			addr[name] = *s
		}
	}
	kind, ok := ByPlural(addr["kind"])
	if !ok {
		return Write{Err: problem.Field("kind", "records_kind_unknown")}
	}
	fs, err := strings_(obj)
	return Write{Kind: kind, User: addr["user"], Enterprise: addr["enterprise"], ID: addr["id"], Fields: fs, Err: err}
}

func decodeObject(b []byte) (map[string]json.RawMessage, error) {
	if len(b) > MaxWriteBytes {
		return nil, problem.New(problem.TooLarge, "body_too_large")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, problem.New(problem.Invalid, "body_required")
	}
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, problem.New(problem.Invalid, "malformed_json")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, problem.New(problem.Invalid, "malformed_json")
	}
	return obj, nil
}

// strings_ turns an object's values into strings; null is absent, any
// other non-string a wrong_type field.
func strings_(obj map[string]json.RawMessage) (map[string]string, error) {
	out := make(map[string]string, len(obj))
	f := problem.FieldSet{}
	for k, raw := range obj {
		var s *string
		if err := json.Unmarshal(raw, &s); err != nil {
			f.Add(fieldName(k), problem.Field(fieldName(k), "wrong_type"))
			continue
		}
		if s != nil {
			out[k] = *s
		}
	}
	return out, f.Err()
}
