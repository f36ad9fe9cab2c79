package storetest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"unid/internal/store"
)

// testAuditQuery checks the audit viewer's query, the retention anchor
// and the cut.
func testAuditQuery(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("Query", func(t *testing.T) { testQueryAudit(t, newStore(t)) })
	t.Run("Cut", func(t *testing.T) { testCutAudit(t, newStore(t)) })
	t.Run("Head", func(t *testing.T) { testAuditHead(t, newStore(t)) })
	t.Run("AnchorGuard", func(t *testing.T) { testAuditAnchorGuard(t, newStore(t)) })
}

func auditSeqs(es []store.AuditEvent) []int64 {
	var out []int64
	for _, e := range es {
		out = append(out, e.Seq)
	}
	return out
}

func testQueryAudit(t *testing.T, s store.Store) {
	ctx := context.Background()
	// Twelve events an hour apart; event 7 is stamped two minutes before
	// event 6, as an instance with a clock a little behind would.
	type ev struct {
		actor, action, result, ip, account, client string
	}
	evs := []ev{
		1:  {"alice", "session.login", "ok", "10.1.2.3", "", "hall"},
		2:  {"", "session.login_failed", "failed", "10.1.2.4", "alice", ""},
		3:  {"operator:op1", "account.unlocked", "ok", "10.10.0.1", "alice", ""},
		4:  {"bob", "session.login", "ok", "10.1.9.9", "", "hall"},
		5:  {"system", "audit.archived", "ok", "", "", ""},
		6:  {"alice", "session.logout", "ok", "192.0.2.1", "", "tax"},
		7:  {"operator:op1", "account.disabled", "ok", "10.1", "bob", ""},
		8:  {"bob", "session.login", "failed", "10.2.0.1", "", "hall"},
		9:  {"alice", "session.login", "ok", "10.1.2.3", "", "tax"},
		10: {"", "session.login_failed", "failed", "10.1.2.3", "carol", ""},
		11: {"operator:op2", "account.unlocked", "ok", "198.51.100.7", "alice", ""},
		12: {"carol", "session.login", "ok", "10.1.2.3", "", ""},
	}
	at := func(i int) time.Time {
		t := base.Add(time.Duration(i) * time.Hour)
		if i == 7 {
			t = t.Add(-62 * time.Minute) // two minutes before event 6
		}
		return t
	}
	for i := 1; i < len(evs); i++ {
		e := newEvent(i)
		v := evs[i]
		e.Time, e.Actor, e.Action, e.Result, e.IP, e.Account, e.Client = at(i), v.actor, v.action, v.result, v.ip, v.account, v.client
		if _, err := s.AppendAudit(ctx, e, seal); err != nil {
			t.Fatalf("AppendAudit: %v", err)
		}
	}
	tests := []struct {
		name   string
		f      store.AuditFilter
		before int64
		limit  int
		want   []int64
	}{
		{"everything, newest first", store.AuditFilter{}, 0, 100, []int64{12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
		{"one page", store.AuditFilter{}, 0, 3, []int64{12, 11, 10}},
		{"the next page", store.AuditFilter{}, 10, 3, []int64{9, 8, 7}},
		{"the last page", store.AuditFilter{}, 3, 3, []int64{2, 1}},
		{"past the first event", store.AuditFilter{}, 1, 3, nil},
		{"actor", store.AuditFilter{Actor: "alice"}, 0, 100, []int64{9, 6, 1}},
		{"actor, paged", store.AuditFilter{Actor: "alice"}, 9, 1, []int64{6}},
		{"operator", store.AuditFilter{Actor: "operator:op1"}, 0, 100, []int64{7, 3}},
		{"account: its own acts and those on it", store.AuditFilter{Account: "alice"}, 0, 100, []int64{11, 9, 6, 3, 2, 1}},
		{"account, paged", store.AuditFilter{Account: "alice"}, 9, 2, []int64{6, 3}},
		{"account and action", store.AuditFilter{Account: "alice", Action: "account.unlocked"}, 0, 100, []int64{11, 3}},
		{"account and actor", store.AuditFilter{Account: "alice", Actor: "operator:op2"}, 0, 100, []int64{11}},
		{"account of nobody", store.AuditFilter{Account: "dave"}, 0, 100, nil},
		{"action", store.AuditFilter{Action: "session.login"}, 0, 100, []int64{12, 9, 8, 4, 1}},
		{"result", store.AuditFilter{Result: "failed"}, 0, 100, []int64{10, 8, 2}},
		{"action and result", store.AuditFilter{Action: "session.login", Result: "failed"}, 0, 100, []int64{8}},
		{"exact address", store.AuditFilter{IP: "10.1.2.3"}, 0, 100, []int64{12, 10, 9, 1}},
		{"network 10.1.", store.AuditFilter{IPPrefix: "10.1."}, 0, 100, []int64{12, 10, 9, 4, 2, 1}},
		{"network 10.1.2.", store.AuditFilter{IPPrefix: "10.1.2."}, 0, 100, []int64{12, 10, 9, 2, 1}},
		{"network 10.", store.AuditFilter{IPPrefix: "10."}, 0, 100, []int64{12, 10, 9, 8, 7, 4, 3, 2, 1}},
		{"network, paged", store.AuditFilter{IPPrefix: "10.1."}, 9, 2, []int64{4, 2}},
		{"client", store.AuditFilter{Client: "hall"}, 0, 100, []int64{8, 4, 1}},
		{"client and actor", store.AuditFilter{Client: "tax", Actor: "alice"}, 0, 100, []int64{9, 6}},
		{"from", store.AuditFilter{From: at(10)}, 0, 100, []int64{12, 11, 10}},
		{"to", store.AuditFilter{To: at(3)}, 0, 100, []int64{2, 1}},
		{"from and to", store.AuditFilter{From: at(4), To: at(9)}, 0, 100, []int64{8, 7, 6, 5, 4}},
		{"an event stamped before the one before it", store.AuditFilter{From: at(7), To: at(7).Add(time.Second)}, 0, 100, []int64{7}},
		{"the one after it, alone", store.AuditFilter{From: at(6), To: at(6).Add(time.Second)}, 0, 100, []int64{6}},
		{"from and to, paged", store.AuditFilter{From: at(4), To: at(9)}, 6, 2, []int64{5, 4}},
		{"range before the log", store.AuditFilter{To: base}, 0, 100, nil},
		{"range after the log", store.AuditFilter{From: at(13)}, 0, 100, nil},
		{"range and actor", store.AuditFilter{From: at(2), To: at(12), Actor: "alice"}, 0, 100, []int64{9, 6}},
		{"every field", store.AuditFilter{Actor: "alice", Account: "alice", Action: "session.login", Result: "ok",
			IP: "10.1.2.3", IPPrefix: "10.1.", Client: "tax", From: at(1), To: at(12)}, 0, 100, []int64{9}},
		{"no limit", store.AuditFilter{}, 0, 0, nil},
	}
	for _, tt := range tests {
		got, err := s.QueryAudit(ctx, tt.f, tt.before, tt.limit)
		if err != nil {
			t.Fatalf("%s: QueryAudit: %v", tt.name, err)
		}
		if !reflect.DeepEqual(auditSeqs(got), tt.want) {
			t.Errorf("%s: seqs = %v, want %v", tt.name, auditSeqs(got), tt.want)
		}
	}
	// An event comes back whole, as ListAudit returns it.
	all, err := s.ListAudit(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.QueryAudit(ctx, store.AuditFilter{Client: "tax", Actor: "alice"}, 0, 1)
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], all[8]) {
		t.Errorf("QueryAudit = %+v, %v; want %+v", got, err, all[8])
	}
}

func testCutAudit(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, err := s.AuditAnchor(ctx)
	if err != nil || a.Seq != 0 || a.Hash != nil || !a.ArchivedAt.IsZero() || a.Archive != "" {
		t.Fatalf("AuditAnchor of a new store = %+v, %v", a, err)
	}
	var evs []store.AuditEvent
	for i := 1; i <= 10; i++ {
		e, err := s.AppendAudit(ctx, newEvent(i), seal)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	at := base.Add(time.Hour)
	refused := []struct {
		name string
		a    store.AuditAnchor
	}{
		{"a hash not the event's", store.AuditAnchor{Seq: 4, Hash: evs[4].Hash, ArchivedAt: at}},
		{"no hash", store.AuditAnchor{Seq: 4, ArchivedAt: at}},
		{"the head", store.AuditAnchor{Seq: 10, Hash: evs[9].Hash, ArchivedAt: at}},
		{"past the head", store.AuditAnchor{Seq: 11, Hash: evs[9].Hash, ArchivedAt: at}},
		{"seq 0", store.AuditAnchor{Seq: 0, ArchivedAt: at}},
	}
	for _, tt := range refused {
		n, err := s.CutAudit(ctx, tt.a, cutEvent(tt.a), seal)
		var ce *store.ConflictError
		if !errors.As(err, &ce) || ce.Field != "seq" || n != 0 {
			t.Errorf("%s: CutAudit = %d, %v; want a conflict on seq", tt.name, n, err)
		}
	}
	if got, _ := s.ListAudit(ctx, 0, 100); len(got) != 10 {
		t.Fatalf("refused cuts deleted or appended events: %d stored", len(got))
	}
	cut := store.AuditAnchor{Seq: 4, Hash: evs[3].Hash, ArchivedAt: at, Archive: "audit-1-4.json"}
	// The cut and its event are one: an event that cannot be appended
	// leaves the cut undone.
	if n, err := s.CutAudit(ctx, cut, cutEvent(cut), func(store.AuditEvent) []byte { return []byte{1} }); err == nil || n != 0 {
		t.Errorf("CutAudit with an event not appended = %d, %v; want an error", n, err)
	}
	if a, _ := s.AuditAnchor(ctx); a.Seq != 0 {
		t.Errorf("a cut whose event failed moved the anchor to %d", a.Seq)
	}
	if got, _ := s.ListAudit(ctx, 0, 100); len(got) != 10 {
		t.Fatalf("a cut whose event failed left %d events", len(got))
	}
	if n, err := s.CutAudit(ctx, cut, cutEvent(cut), seal); err != nil || n != 4 {
		t.Fatalf("CutAudit = %d, %v; want 4", n, err)
	}
	if a, err := s.AuditAnchor(ctx); err != nil || !reflect.DeepEqual(a, cut) {
		t.Errorf("AuditAnchor = %+v, %v; want %+v", a, err, cut)
	}
	// The cut's own event is appended with it, linked to the head.
	left, err := s.ListAudit(ctx, 0, 100)
	if err != nil || len(left) != 7 || left[0].Seq != 5 || !bytes.Equal(left[0].PrevHash, cut.Hash) {
		t.Fatalf("after the cut: %v, %v", auditSeqs(left), err)
	}
	if rec := left[6]; rec.Seq != 11 || rec.Action != "audit.archived" || rec.Detail != cutEvent(cut).Detail ||
		!bytes.Equal(rec.PrevHash, evs[9].Hash) || !bytes.Equal(rec.Hash, seal(rec)) {
		t.Errorf("the cut's event = %+v", rec)
	}
	if got, _ := s.QueryAudit(ctx, store.AuditFilter{}, 0, 100); !reflect.DeepEqual(auditSeqs(got), []int64{11, 10, 9, 8, 7, 6, 5}) {
		t.Errorf("QueryAudit after the cut = %v", auditSeqs(got))
	}
	// The same cut again, or one behind the anchor, changes nothing.
	for _, a := range []store.AuditAnchor{cut, {Seq: 2, Hash: evs[1].Hash, ArchivedAt: at}} {
		var ce *store.ConflictError
		if n, err := s.CutAudit(ctx, a, cutEvent(a), seal); !errors.As(err, &ce) || n != 0 {
			t.Errorf("CutAudit(%d) again = %d, %v; want a conflict", a.Seq, n, err)
		}
	}
	if left, _ := s.ListAudit(ctx, 0, 100); len(left) != 7 {
		t.Fatalf("refused cuts appended events: %v", auditSeqs(left))
	}
	// Appending goes on from the head, linked to the last event kept.
	e, err := s.AppendAudit(ctx, newEvent(12), seal)
	if err != nil || e.Seq != 12 || !bytes.Equal(e.PrevHash, left[6].Hash) {
		t.Errorf("append after the cut = %d, %v", e.Seq, err)
	}
	next := store.AuditAnchor{Seq: 9, Hash: evs[8].Hash, ArchivedAt: at.Add(time.Hour), Archive: "audit-5-9.json"}
	if n, err := s.CutAudit(ctx, next, cutEvent(next), seal); err != nil || n != 5 {
		t.Fatalf("second CutAudit = %d, %v; want 5", n, err)
	}
	if left, _ := s.ListAudit(ctx, 0, 100); !reflect.DeepEqual(auditSeqs(left), []int64{10, 11, 12, 13}) {
		t.Errorf("after the second cut: %v", auditSeqs(left))
	}
}

// cutEvent is the event a cut at a records.
func cutEvent(a store.AuditAnchor) store.AuditEvent {
	return store.AuditEvent{Time: base.Add(2 * time.Hour), Actor: "system", Action: "audit.archived", Result: "ok",
		Detail: fmt.Sprintf(`{"head":"%x","to":"%d"}`, a.Hash, a.Seq)}
}

func testAuditHead(t *testing.T, s store.Store) {
	ctx := context.Background()
	if seq, h, err := s.AuditHead(ctx); err != nil || seq != 0 || h != nil {
		t.Fatalf("AuditHead of a new store = %d, %x, %v", seq, h, err)
	}
	var last store.AuditEvent
	for i := 1; i <= 3; i++ {
		e, err := s.AppendAudit(ctx, newEvent(i), seal)
		if err != nil {
			t.Fatal(err)
		}
		last = e
	}
	if seq, h, err := s.AuditHead(ctx); err != nil || seq != 3 || !bytes.Equal(h, last.Hash) {
		t.Errorf("AuditHead = %d, %x, %v; want 3, %x", seq, h, err, last.Hash)
	}
}

// testAuditAnchorGuard: with unid's own database role, the anchor cannot
// be moved back, past the head, to another hash or an event not stored,
// nor inserted or deleted; so the events it covers cannot be deleted by
// moving it first. The one move the schema allows is a cut's.
func testAuditAnchorGuard(t *testing.T, s store.Store) {
	ctx := context.Background()
	sq, ok := s.(interface{ WriteDB() *sql.DB })
	if !ok {
		t.Fatal("the store gives no database handle to try the schema's guard with")
	}
	db := sq.WriteDB()
	var evs []store.AuditEvent
	for i := 1; i <= 10; i++ {
		e, err := s.AppendAudit(ctx, newEvent(i), seal)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	cut := store.AuditAnchor{Seq: 3, Hash: evs[2].Hash, ArchivedAt: base, Archive: "audit-1-3.json"}
	if _, err := s.CutAudit(ctx, cut, cutEvent(cut), seal); err != nil {
		t.Fatal(err)
	}
	head, headHash, err := s.AuditHead(ctx)
	if err != nil || head != 11 {
		t.Fatalf("AuditHead = %d, %v", head, err)
	}
	refused := []struct {
		name string
		q    string
		args []any
	}{
		{"to another event's hash", `UPDATE audit_anchor SET seq = $1, hash = $2 WHERE id = 1`, []any{6, evs[4].Hash}},
		{"without a hash", `UPDATE audit_anchor SET seq = $1, hash = NULL WHERE id = 1`, []any{6}},
		{"to the head", `UPDATE audit_anchor SET seq = $1, hash = $2 WHERE id = 1`, []any{head, headHash}},
		{"past the head", `UPDATE audit_anchor SET seq = $1, hash = $2 WHERE id = 1`, []any{50, evs[9].Hash}},
		{"back", `UPDATE audit_anchor SET seq = $1, hash = $2 WHERE id = 1`, []any{2, evs[1].Hash}},
		{"to nothing", `UPDATE audit_anchor SET seq = $1, hash = NULL WHERE id = 1`, []any{0}},
		{"in place, to another hash", `UPDATE audit_anchor SET hash = $1 WHERE id = 1`, []any{evs[4].Hash}},
		{"deleted", `DELETE FROM audit_anchor`, nil},
		{"deleted and inserted anew", `INSERT INTO audit_anchor (id, seq, hash, archived_at, archive) VALUES (2, 0, NULL, 0, '')`, nil},
	}
	for _, tt := range refused {
		if _, err := db.ExecContext(ctx, tt.q, tt.args...); err == nil {
			t.Errorf("anchor moved %s", tt.name)
		}
	}
	if a, err := s.AuditAnchor(ctx); err != nil || !reflect.DeepEqual(a, cut) {
		t.Errorf("AuditAnchor = %+v, %v; want it unchanged, %+v", a, err, cut)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM audit_events WHERE seq <= 6`); err == nil {
		t.Error("events above the anchor were deleted")
	}
	if left, _ := s.ListAudit(ctx, 0, 100); len(left) != 8 || left[0].Seq != 4 {
		t.Errorf("stored after the refusals: %v", auditSeqs(left))
	}
	// The one move allowed: forward, to a stored event below the head,
	// with its hash (a cut, which also records it).
	if _, err := db.ExecContext(ctx, `UPDATE audit_anchor SET seq = $1, hash = $2 WHERE id = 1`, 5, evs[4].Hash); err != nil {
		t.Errorf("a cut's move refused: %v", err)
	}
}
