package records_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"unid/internal/audit"
	"unid/internal/problem"
	"unid/internal/records"
	"unid/internal/store"
)

const (
	hall   = "hall"  // the service system that writes
	other  = "other" // a system nobody signed in to
	ent    = "91370100MA3C4X0A1B"
	stamp  = "2030-05-06T14:00:00+08:00" // 06:00 UTC, before the fixture's clock
	stamp2 = "2030-05-06T14:30:00+08:00"
)

var allWrites = records.Caller{ClientID: hall, Scopes: []string{
	"records.cases:write", "records.consultations:write", "records.messages:write", "records.complaints:write", "records.favorites:write"},
	Sites: []string{"https://hall.example.gov.cn/callback"}}

type ingestFixture struct {
	*fixture
	in *records.Ingest
}

// newIngest is the fixture with an Ingest: zhang signed in to hall acting
// for ent, of which zhang is a member; li never signed in to hall.
func newIngest(t *testing.T, o records.IngestOptions) *ingestFixture {
	t.Helper()
	f := newFixture(t)
	ctx := context.Background()
	log := audit.New(f.st, f.clock.Now, slog.New(slog.DiscardHandler))
	now := f.clock.Now()
	if err := f.st.AddSessionClient(ctx, store.SessionClient{SID: "s1", ClientID: hall, Protocol: "oidc", UserID: f.zhang, Acting: ent, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	err := f.st.ChangeEnterprise(ctx, store.EnterpriseChange{
		Enterprise:     &store.Enterprise{USCC: ent, Name: "济南某某有限公司", Status: "active", CheckedAt: now, CreatedAt: now},
		KeepEnterprise: true,
		PutMembers:     []store.EnterpriseMember{{USCC: ent, UserID: f.zhang, Role: "handler", CreatedAt: now}},
	}, log.Event(audit.Entry{Actor: audit.System(), Action: "test.member_added", Result: audit.ResultOK}), audit.Hash)
	if err != nil {
		t.Fatal(err)
	}
	in := records.NewIngest(records.IngestDeps{Store: f.st, Audit: log, Now: f.clock.Now, Options: o})
	return &ingestFixture{fixture: f, in: in}
}

func kind(t *testing.T, plural string) records.Kind {
	t.Helper()
	k, ok := records.ByPlural(plural)
	if !ok {
		t.Fatal(plural)
	}
	return k
}

func caseWrite(t *testing.T, user, id, status, updated string) records.Write {
	return records.Write{Kind: kind(t, "cases"), User: user, ID: id, Fields: map[string]string{
		"number": "JN-2030-0001", "item_name": "营业执照变更登记", "item_code": "11370100MB2850001X", "department": "市场监管局",
		"status": status, "submitted_at": stamp, "updated_at": updated, "link": "https://hall.example.gov.cn/cases/1"}}
}

func problemOf(err error) *problem.Problem {
	var p *problem.Problem
	if errors.As(err, &p) {
		return p
	}
	return nil
}

func TestIngestUpsertOutcomesAndHistory(t *testing.T) {
	f := newIngest(t, records.IngestOptions{})
	ctx := context.Background()
	steps := []struct {
		status, updated, want string
	}{
		{"submitted", stamp, store.UpsertCreated},
		{"submitted", stamp, store.UpsertUnchanged}, // the same write again
		{"accepted", stamp2, store.UpsertUpdated},   // newer
		{"processing", stamp, store.UpsertStale},    // older, arriving late
		{"completed", "2030-05-06T15:00:00+08:00", store.UpsertUpdated},
	}
	for i, s := range steps {
		res, err := f.in.Put(ctx, allWrites, caseWrite(t, f.zhang, "c-1", s.status, s.updated))
		if err != nil || res.Outcome != s.want {
			t.Fatalf("step %d: %v %v, want %s", i, res.Outcome, err, s.want)
		}
	}
	r, h, err := f.in.Get(ctx, allWrites, kind(t, "cases"), f.zhang, "", "c-1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range h {
		got = append(got, c.Status)
	}
	if r.Status != "completed" || strings.Join(got, ",") != "submitted,accepted,completed" {
		t.Errorf("record %s, history %v", r.Status, got)
	}
	if fs := records.Fields(r); fs["item_name"] != "营业执照变更登记" || fs["department"] != "市场监管局" || fs["status"] != "completed" {
		t.Errorf("fields %v", fs)
	}
	// Another owner's path does not reach it; nor does another system.
	if _, _, err := f.in.Get(ctx, allWrites, kind(t, "cases"), f.li, "", "c-1"); problemOf(err) == nil || problemOf(err).Code != "record_not_found" {
		t.Errorf("get under another owner: %v", err)
	}
	if _, _, err := f.in.Get(ctx, records.Caller{ClientID: other, Scopes: allWrites.Scopes}, kind(t, "cases"), f.zhang, "", "c-1"); problemOf(err).Code != "record_not_found" {
		t.Errorf("get by another system: %v", err)
	}
	// The id is the system's: reusing it for another owner is a conflict.
	if err := f.st.AddSessionClient(ctx, store.SessionClient{SID: "s2", ClientID: hall, Protocol: "oidc", UserID: f.li, CreatedAt: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.in.Put(ctx, allWrites, caseWrite(t, f.li, "c-1", "submitted", "2030-05-06T15:05:00+08:00")); problemOf(err).Code != "record_id_taken" {
		t.Errorf("id of another owner: %v", err)
	}
	if err := f.in.Delete(ctx, allWrites, kind(t, "cases"), f.zhang, "", "c-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.GetSourceRecord(ctx, hall, store.RecordCase, "c-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
}

func TestIngestRefusals(t *testing.T) {
	f := newIngest(t, records.IngestOptions{})
	ctx := context.Background()
	with := func(w records.Write, k, v string) records.Write {
		fs := map[string]string{}
		for a, b := range w.Fields {
			fs[a] = b
		}
		if v == "" {
			delete(fs, k)
		} else {
			fs[k] = v
		}
		w.Fields = fs
		return w
	}
	good := caseWrite(t, f.zhang, "c-2", "submitted", stamp)
	future := f.clock.Now().Add(10 * time.Minute).Format(time.RFC3339)
	entCase := good
	entCase.User, entCase.Enterprise = "", ent
	msg := records.Write{Kind: kind(t, "messages"), Enterprise: ent, ID: "m-1", Fields: map[string]string{"title": "通知"}}
	tests := []struct {
		name        string
		w           records.Write
		code, field string // the problem's code, and a field's code
	}{
		{"status not of the vocabulary", with(good, "status", "answered"), "invalid_fields", "record_status_invalid"},
		{"status missing", with(good, "status", ""), "invalid_fields", "record_field_required"},
		{"item name missing", with(good, "item_name", ""), "invalid_fields", "record_field_required"},
		{"item name too long", with(good, "item_name", strings.Repeat("证", 201)), "invalid_fields", "field_too_long"},
		{"control character", with(good, "department", "a\x00b"), "invalid_fields", "invalid_characters"},
		{"right-to-left override", with(good, "item_name", "营业执照\u202Efdp.exe"), "invalid_fields", "invalid_characters"},
		{"bidi isolate", with(good, "number", "JN\u2066-0001\u2069"), "invalid_fields", "invalid_characters"},
		{"zero-width space", with(good, "department", "市场\u200B监管局"), "invalid_fields", "invalid_characters"},
		{"byte order mark", with(good, "item_name", "\uFEFF营业执照"), "invalid_fields", "invalid_characters"},
		{"format character in a link", with(good, "link", "https://hall.example.gov.cn/\u200Fcases/1"), "invalid_fields", "invalid_characters"},
		{"item code not ASCII", with(good, "item_code", "事项"), "invalid_fields", "invalid_characters"},
		{"time not RFC 3339", with(good, "updated_at", "2030-05-06 15:00"), "invalid_fields", "record_time_invalid"},
		{"time in the future", with(good, "updated_at", future), "invalid_fields", "record_time_future"},
		{"link with userinfo", with(good, "link", "https://u:p@hall.example/"), "invalid_fields", "record_link_invalid"},
		{"link relative", with(good, "link", "/cases/1"), "invalid_fields", "record_link_invalid"},
		{"link javascript", with(good, "link", "javascript:alert(1)"), "invalid_fields", "record_link_invalid"},
		{"link on another site", with(good, "link", "https://pay.example.com/cases/1"), "invalid_fields", "record_link_invalid"},
		{"link on a subdomain", with(good, "link", "https://x.hall.example.gov.cn/cases/1"), "invalid_fields", "record_link_invalid"},
		{"link on another port", with(good, "link", "https://hall.example.gov.cn:8443/cases/1"), "invalid_fields", "record_link_invalid"},
		{"link http on an https site", with(good, "link", "http://hall.example.gov.cn/cases/1"), "invalid_fields", "record_link_invalid"},
		{"unknown field", with(good, "answer", "x"), "invalid_fields", "unknown_field"},
		{"handler on a person's record", with(good, "handler", f.zhang), "invalid_fields", "record_handler_not_allowed"},
		{"enterprise message", msg, "invalid_fields", "record_enterprise_not_allowed"},
		{"handler not a member", with(entCase, "handler", f.li), "record_handler_unknown", "record_handler_unknown"},
		{"id too long", func() records.Write { w := good; w.ID = strings.Repeat("x", 129); return w }(), "invalid_fields", "record_id_invalid"},
		{"user never signed in to the system", caseWrite(t, f.li, "c-3", "submitted", stamp), "records_owner_unknown", ""},
		{"user that does not exist", caseWrite(t, "no-such-user", "c-3", "submitted", stamp), "records_owner_unknown", ""},
		{"user no account can have", caseWrite(t, "no such user", "c-3", "submitted", stamp), "records_owner_unknown", ""},
		{"enterprise never acted for", func() records.Write { w := entCase; w.Enterprise = "91370100MA3C4X0A2C"; return w }(), "records_owner_unknown", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.in.Put(ctx, allWrites, tt.w)
			p := problemOf(err)
			if p == nil || p.Code != tt.code {
				t.Fatalf("Put = %v, want %s", err, tt.code)
			}
			if tt.field != "" && !mapHas(p.Fields, tt.field) {
				t.Errorf("fields %v, want one %s", p.Fields, tt.field)
			}
			if l, _ := f.st.ListRecords(ctx, store.RecordQuery{Kind: tt.w.Kind.Kind, UserID: f.li, Limit: 10}); len(l) != 0 {
				t.Errorf("a refused write was stored: %+v", l)
			}
		})
	}
	// Without the kind's write scope nothing is written.
	_, err := f.in.Put(ctx, records.Caller{ClientID: hall, Scopes: []string{"records.messages:write"}}, good)
	if p := problemOf(err); p == nil || p.Kind != problem.Forbidden || p.Code != "insufficient_scope" {
		t.Errorf("without the scope: %v", err)
	}
	if _, err := f.st.GetSourceRecord(ctx, hall, store.RecordCase, "c-2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("written without the scope: %v", err)
	}
}

func mapHas(m map[string]string, code string) bool {
	for _, c := range m {
		if c == code {
			return true
		}
	}
	return false
}

func TestIngestEnterpriseFavoritesAndBatches(t *testing.T) {
	f := newIngest(t, records.IngestOptions{})
	ctx := context.Background()
	entCase := caseWrite(t, "", "e-1", "submitted", stamp)
	entCase.Enterprise, entCase.Fields["handler"] = strings.ToLower(ent), f.zhang
	fav := records.Write{Kind: kind(t, "favorites"), User: f.zhang, ID: "f-1", Fields: map[string]string{"name": "公积金提取", "link": "https://hall.example.gov.cn/items/9"}}
	bad := records.Write{Err: problem.New(problem.Invalid, "malformed_json")}
	res := f.in.Apply(ctx, allWrites, []records.Write{entCase, bad, fav, caseWrite(t, f.li, "x", "submitted", stamp)})
	if res[0].Err != nil || res[0].Record.USCC != ent || res[0].Record.HandlerID != f.zhang || res[0].Record.UserID != "" {
		t.Errorf("enterprise case: %+v", res[0])
	}
	if problemOf(res[1].Err).Code != "malformed_json" || problemOf(res[3].Err).Code != "records_owner_unknown" {
		t.Errorf("refused lines: %v, %v", res[1].Err, res[3].Err)
	}
	if res[2].Err != nil || res[2].Record.ReadAt.IsZero() {
		t.Errorf("a favorite is never unread: %+v", res[2])
	}
	if n, _ := f.st.CountUnreadRecords(ctx, f.zhang); n[store.RecordFavorite] != 0 {
		t.Errorf("unread favorites: %v", n)
	}
	// More writes than a batch: all applied, in order.
	var many []records.Write
	for i := range records.BatchSize + 7 {
		w := records.Write{Kind: kind(t, "messages"), User: f.zhang, ID: "m-" + string(rune('a'+i%26)) + strings.Repeat("x", i/26), Fields: map[string]string{"title": "办件提醒"}}
		many = append(many, w)
	}
	for i, r := range f.in.Apply(ctx, allWrites, many) {
		if r.Err != nil || r.Outcome != store.UpsertCreated {
			t.Fatalf("write %d: %+v", i, r)
		}
	}
}

func TestIngestCountsAndFlushes(t *testing.T) {
	f := newIngest(t, records.IngestOptions{Rate: 1, Burst: 2})
	ctx := context.Background()
	f.in.Put(ctx, allWrites, caseWrite(t, f.zhang, "c-1", "submitted", stamp))
	f.in.Put(ctx, allWrites, caseWrite(t, f.zhang, "c-1", "submitted", stamp))
	f.in.Put(ctx, allWrites, caseWrite(t, f.li, "c-2", "submitted", stamp))
	for range 3 {
		f.in.Allow(hall, 0)
	}
	if wait, ok := f.in.Allow(hall, 0); ok || wait < time.Second {
		t.Errorf("Allow over the burst = %v, %v", wait, ok)
	}
	f.clock.Advance(time.Second)
	if _, ok := f.in.Allow(hall, 0); !ok {
		t.Error("no token after a second")
	}
	f.in.Flush(ctx)
	f.in.Flush(ctx) // nothing new: no event
	all, err := f.st.ListAudit(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var evs []store.AuditEvent
	for _, e := range all {
		if e.Action == records.ActionIngest {
			evs = append(evs, e)
		}
	}
	if len(evs) != 1 || evs[0].Actor != "client:"+hall {
		t.Fatalf("events %+v", evs)
	}
	d, _ := audit.ParseDetail(evs[0].Detail)
	if d["created"] != "1" || d["unchanged"] != "1" || d["refused.records_owner_unknown"] != "1" || d["rate_limited"] != "2" {
		t.Errorf("detail %v", d)
	}
}

func TestIngestPrune(t *testing.T) {
	f := newIngest(t, records.IngestOptions{Retention: map[store.RecordKind]time.Duration{store.RecordCase: 24 * time.Hour}})
	ctx := context.Background()
	f.in.Put(ctx, allWrites, caseWrite(t, f.zhang, "c-1", "submitted", stamp))
	f.in.Put(ctx, allWrites, records.Write{Kind: kind(t, "messages"), User: f.zhang, ID: "m-1", Fields: map[string]string{"title": "t", "updated_at": stamp}})
	if n, err := f.in.Prune(ctx); err != nil || n != 0 {
		t.Fatalf("Prune = %d, %v before the retention", n, err)
	}
	f.clock.Advance(25 * time.Hour)
	if n, err := f.in.Prune(ctx); err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v", n, err)
	}
	if _, err := f.st.GetSourceRecord(ctx, hall, store.RecordMessage, "m-1"); err != nil {
		t.Errorf("a message without retention went: %v", err)
	}
}

// TestIngestConcurrentWritesShareCommits: many writes at once, some to
// one record, all applied (through shared transactions) with an outcome
// each, and the record's history in updated_at order.
func TestIngestConcurrentWritesShareCommits(t *testing.T) {
	f := newIngest(t, records.IngestOptions{})
	ctx := context.Background()
	const n = 40
	errs := make(chan error, n)
	base := f.clock.Now().Add(-time.Hour)
	for i := range n {
		go func() {
			w := caseWrite(t, f.zhang, "c-"+strings.Repeat("x", i%4), "submitted", base.Add(time.Duration(i)*time.Second).Format(time.RFC3339))
			if i%4 == 0 && i > 0 {
				w.Fields["status"] = "processing"
			}
			_, err := f.in.Put(ctx, allWrites, w)
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	l, err := f.st.ListRecords(ctx, store.RecordQuery{Kind: store.RecordCase, UserID: f.zhang, Limit: 10})
	if err != nil || len(l) != 4 {
		t.Fatalf("%d records, %v; want 4", len(l), err)
	}
	for _, r := range l {
		if want := base.Add(time.Duration(n-4+len(r.ExternalID)-2) * time.Second); !r.UpdatedAt.Equal(want) {
			t.Errorf("%s updated at %v, want the newest write's %v", r.ExternalID, r.UpdatedAt, want)
		}
	}
}

// FuzzDecodeLine: any line a system sends is read or refused with a
// problem, never a panic, and a write that passes names a kind and an id
// within the limits.
func FuzzDecodeLine(f *testing.F) {
	f.Add([]byte(`{"kind":"cases","user":"u1","id":"c-1","item_name":"营业执照","status":"submitted","updated_at":"2030-05-06T14:00:00+08:00"}`))
	f.Add([]byte(`{"kind":"favorites","enterprise":"x","id":"f","name":"n","link":"https://a.example/"}`))
	f.Add([]byte(`{"kind":7}`))
	f.Add([]byte(`[1,2]`))
	f.Add([]byte(`{"kind":"messages","user":"u","id":"m","title":null,"body":"a\nb"}`))
	now := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	f.Fuzz(func(t *testing.T, line []byte) {
		w := records.DecodeLine(line)
		if w.Err != nil {
			if problemOf(w.Err) == nil {
				t.Fatalf("not a problem: %v", w.Err)
			}
			return
		}
		if _, ok := records.ByPlural(w.Kind.Plural); !ok {
			t.Fatalf("kind %q", w.Kind.Plural)
		}
		r, err := records.CheckWrite(w, []string{"https://a.example/cb"}, now)
		if err != nil {
			if problemOf(err) == nil {
				t.Fatalf("not a problem: %v", err)
			}
			return
		}
		if r.ExternalID == "" || len(r.ExternalID) > records.MaxCodeBytes || r.UpdatedAt.After(now.Add(records.MaxSkew)) {
			t.Fatalf("passed: %+v", r)
		}
	})
}

// heldStore is the store with UpsertRecords held until release is
// closed; entered receives a value (when it has room) on each call, and
// known, when set, one after each KnownUsers.
type heldStore struct {
	store.Store
	entered chan struct{}
	release chan struct{}
	known   chan struct{}
}

func (s *heldStore) UpsertRecords(ctx context.Context, writes []store.Record) ([]store.UpsertResult, error) {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	<-s.release
	return s.Store.UpsertRecords(ctx, writes)
}

func (s *heldStore) KnownUsers(ctx context.Context, clientID string, userIDs []string) (map[string]bool, error) {
	m, err := s.Store.KnownUsers(ctx, clientID, userIDs)
	if s.known != nil {
		s.known <- struct{}{}
	}
	return m, err
}

// newHeld is newIngest over a heldStore, with one write in the commit
// held there.
func newHeld(t *testing.T) (*ingestFixture, *heldStore, chan error) {
	t.Helper()
	f := newIngest(t, records.IngestOptions{})
	held := &heldStore{Store: f.st, entered: make(chan struct{}, 1), release: make(chan struct{})}
	t.Cleanup(func() {
		select {
		case <-held.release:
		default:
			close(held.release)
		}
	})
	f.in = records.NewIngest(records.IngestDeps{Store: held, Audit: audit.New(f.st, f.clock.Now, nil), Now: f.clock.Now})
	first := make(chan error, 1)
	go func() {
		_, err := f.in.Put(context.Background(), allWrites, caseWrite(t, f.zhang, "first", "submitted", stamp))
		first <- err
	}()
	<-held.entered
	return f, held, first
}

// TestIngestCommitQueueIsBounded: while a commit is held, the writes
// waiting for the next one are capped; one over the cap is refused at
// once as unavailable with a time to retry, the others are all written
// once the commit is let go.
func TestIngestCommitQueueIsBounded(t *testing.T) {
	f, held, first := newHeld(t)
	const jobs, size = 25, records.BatchSize - 1 // 12,475 records: over 10,000
	results := make(chan error, jobs)
	for j := range jobs {
		writes := make([]records.Write, size)
		for i := range writes {
			writes[i] = caseWrite(t, f.zhang, fmt.Sprintf("q-%d-%d", j, i), "submitted", stamp)
		}
		go func() {
			var err error
			for _, r := range f.in.Apply(context.Background(), allWrites, writes) {
				err = cmp.Or(err, r.Err)
			}
			results <- err
		}()
	}
	admitted := 10_000 / size
	for range jobs - admitted {
		err := <-results
		if p := problemOf(err); p == nil || p.Kind != problem.Unavailable || p.RetryAfter <= 0 {
			t.Fatalf("a write over the queue's cap = %v, want unavailable with a retry time", err)
		}
	}
	close(held.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for range admitted {
		if err := <-results; err != nil {
			t.Errorf("a queued write = %v", err)
		}
	}
}

// TestIngestWaitEndsWithTheCaller: a write waiting for a held commit
// returns as soon as its caller's context ends.
func TestIngestWaitEndsWithTheCaller(t *testing.T) {
	f, held, first := newHeld(t)
	held.known = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := f.in.Put(ctx, allWrites, caseWrite(t, f.zhang, "second", "submitted", stamp))
		done <- err
	}()
	<-held.known // past the store's reads: next it waits for the commit
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Put of a caller gone = %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Put waited for the held commit after its caller had gone")
	}
	close(held.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
}

// TestLinkOnTheSystemsSite: a link is good on the host and port of one of
// the system's registered redirect URIs or CAS service patterns, over
// https, or http when that URI is http.
func TestLinkOnTheSystemsSite(t *testing.T) {
	now := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	tests := []struct {
		name, link string
		sites      []string
		ok         bool
	}{
		{"under the redirect URI", "https://hall.example.gov.cn/oidc/cases/1", []string{"https://hall.example.gov.cn/oidc/callback"}, true},
		{"elsewhere on its host", "https://hall.example.gov.cn/items/9?x=1#top", []string{"https://hall.example.gov.cn/oidc/callback"}, true},
		{"the second of its URIs", "https://m.hall.example.gov.cn/", []string{"https://hall.example.gov.cn/cb", "https://m.hall.example.gov.cn/cb"}, true},
		{"host in capitals, default port", "https://HALL.example.gov.cn:443/a", []string{"https://hall.example.gov.cn/cb"}, true},
		{"a CAS pattern", "https://archive.example.gov.cn/files/1", []string{"https://archive.example.gov.cn/cas/*"}, true},
		{"loopback on http", "http://127.0.0.1:8080/cases/1", []string{"http://127.0.0.1:8080/callback"}, true},
		{"https on a system registered on http", "https://127.0.0.1:8080/cases/1", []string{"http://127.0.0.1:8080/callback"}, true},
		{"another host", "https://evil.example/hall.example.gov.cn/", []string{"https://hall.example.gov.cn/cb"}, false},
		{"a host ending like it", "https://badhall.example.gov.cn/", []string{"https://hall.example.gov.cn/cb"}, false},
		{"another port", "http://127.0.0.1:9090/", []string{"http://127.0.0.1:8080/callback"}, false},
		{"http on an https site", "http://hall.example.gov.cn/", []string{"https://hall.example.gov.cn/cb"}, false},
		{"a system with no URI", "https://hall.example.gov.cn/", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := records.Write{Kind: kind(t, "favorites"), User: "u1", ID: "f-1", Fields: map[string]string{"name": "公积金提取", "link": tt.link}}
			_, err := records.CheckWrite(w, tt.sites, now)
			if ok := err == nil; ok != tt.ok {
				t.Fatalf("CheckWrite = %v, want ok %v", err, tt.ok)
			}
			if err != nil && !mapHas(problemOf(err).Fields, "record_link_invalid") {
				t.Errorf("CheckWrite = %v, want record_link_invalid", err)
			}
		})
	}
}
