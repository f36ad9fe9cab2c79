package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"unid/internal/store"
)

// newCase returns a case of the user written by the client "hall" at
// (with a sub-millisecond part, which the store drops).
func newCase(userID, externalID, status string, at time.Time) store.Record {
	at = at.Add(300 * time.Microsecond)
	return store.Record{
		ID: randID(), Kind: store.RecordCase, UserID: userID, ClientID: "hall", ExternalID: externalID,
		Number: "BJ-" + externalID, Title: "居住证办理", ItemCode: "11100000MB0143028A", Department: "公安局",
		Status: status, Summary: "", Link: "https://hall.example/cases/" + externalID,
		UpdatedAt: at, CreatedAt: at.Add(time.Second),
	}
}

// storedRecord is what w looks like after a round trip as a new record.
func storedRecord(w store.Record) store.Record {
	if w.SubmittedAt.IsZero() {
		w.SubmittedAt = w.UpdatedAt
	}
	w.SubmittedAt = w.SubmittedAt.UTC().Truncate(time.Millisecond)
	w.UpdatedAt = w.UpdatedAt.UTC().Truncate(time.Millisecond)
	w.CreatedAt = w.CreatedAt.UTC().Truncate(time.Millisecond)
	if !w.ReadAt.IsZero() {
		w.ReadAt = w.ReadAt.UTC().Truncate(time.Millisecond)
	}
	if len(w.Params) == 0 {
		w.Params = nil
	}
	return w
}

func testRecords(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)
	zhang, li := newUser(), newUser()
	for _, u := range []store.User{zhang, li} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	upsert := func(t *testing.T, writes ...store.Record) []store.UpsertResult {
		t.Helper()
		res, err := s.UpsertRecords(ctx, writes)
		if err != nil {
			t.Fatalf("UpsertRecords: %v", err)
		}
		if len(res) != len(writes) {
			t.Fatalf("UpsertRecords gave %d results for %d writes", len(res), len(writes))
		}
		return res
	}
	source := func(t *testing.T, w store.Record) store.Record {
		t.Helper()
		got, err := s.GetSourceRecord(ctx, w.ClientID, w.Kind, w.ExternalID)
		if err != nil {
			t.Fatalf("GetSourceRecord %s: %v", w.ExternalID, err)
		}
		return got
	}
	history := func(t *testing.T, id string) []store.StatusChange {
		t.Helper()
		h, err := s.RecordHistory(ctx, id)
		if err != nil {
			t.Fatalf("RecordHistory: %v", err)
		}
		return h
	}
	list := func(t *testing.T, q store.RecordQuery) []store.Record {
		t.Helper()
		got, err := s.ListRecords(ctx, q)
		if err != nil {
			t.Fatalf("ListRecords %+v: %v", q, err)
		}
		return got
	}
	ids := func(recs []store.Record) []string {
		var out []string
		for _, r := range recs {
			out = append(out, r.ExternalID)
		}
		return out
	}

	t.Run("Upsert", func(t *testing.T) {
		w := newCase(zhang.ID, "c1", "submitted", base)
		want := storedRecord(w)
		res := upsert(t, w)
		if res[0].Outcome != store.UpsertCreated || !reflect.DeepEqual(res[0].Record, want) {
			t.Fatalf("first write = %s %+v\nwant created %+v", res[0].Outcome, res[0].Record, want)
		}
		if got := source(t, w); !reflect.DeepEqual(got, want) {
			t.Fatalf("GetSourceRecord:\n got %+v\nwant %+v", got, want)
		}
		if got, err := s.GetRecord(ctx, zhang.ID, "", store.RecordCase, w.ID); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("GetRecord = %+v, %v", got, err)
		}
		wantHist := []store.StatusChange{{Status: "submitted", At: want.UpdatedAt}}
		if h := history(t, w.ID); !reflect.DeepEqual(h, wantHist) {
			t.Fatalf("history of a new record = %+v, want %+v", h, wantHist)
		}

		// The same write again, even with another ID: nothing changes.
		again := w
		again.ID = randID()
		if res := upsert(t, again); res[0].Outcome != store.UpsertUnchanged || !reflect.DeepEqual(res[0].Record, want) {
			t.Errorf("the same write again = %s %+v", res[0].Outcome, res[0].Record)
		}

		// The same content later: unchanged, but the time moves.
		later := w
		later.UpdatedAt = w.UpdatedAt.Add(time.Minute)
		want.UpdatedAt = later.UpdatedAt.UTC().Truncate(time.Millisecond)
		if res := upsert(t, later); res[0].Outcome != store.UpsertUnchanged || !res[0].Record.UpdatedAt.Equal(want.UpdatedAt) {
			t.Errorf("the same content later = %s %+v", res[0].Outcome, res[0].Record)
		}
		if got := source(t, w); !reflect.DeepEqual(got, want) {
			t.Errorf("after a later write of the same content:\n got %+v\nwant %+v", got, want)
		}

		// An older write, and one as old but different, are stale.
		older := w
		older.Status, older.UpdatedAt = "completed", base.Add(30*time.Second)
		sameTime := w
		sameTime.Status, sameTime.UpdatedAt = "accepted", later.UpdatedAt
		for _, x := range []store.Record{older, sameTime} {
			if res := upsert(t, x); res[0].Outcome != store.UpsertStale || !reflect.DeepEqual(res[0].Record, want) {
				t.Errorf("write at %v = %s %+v, want stale and the record as it was", x.UpdatedAt, res[0].Outcome, res[0].Record)
			}
		}
		if got := source(t, w); !reflect.DeepEqual(got, want) {
			t.Errorf("stale writes changed the record:\n got %+v\nwant %+v", got, want)
		}

		// A change without a new status keeps the history and the read
		// time; a new status grows the history and makes it unread.
		readAt := base.Add(2 * time.Minute)
		if n, err := s.MarkRecordsRead(ctx, zhang.ID, store.RecordCase, w.ID, readAt); err != nil || n != 1 {
			t.Fatalf("MarkRecordsRead = %d, %v", n, err)
		}
		retitled := w
		retitled.Title, retitled.UpdatedAt = "居住证签注", base.Add(3*time.Minute)
		res = upsert(t, retitled)
		if res[0].Outcome != store.UpsertUpdated || res[0].Record.Title != "居住证签注" || !res[0].Record.ReadAt.Equal(readAt) {
			t.Errorf("a new title = %s %+v, want updated and still read", res[0].Outcome, res[0].Record)
		}
		if h := history(t, w.ID); len(h) != 1 {
			t.Errorf("a new title added to the history: %+v", h)
		}
		accepted := retitled
		accepted.Status, accepted.UpdatedAt = "accepted", base.Add(4*time.Minute)
		accepted.SubmittedAt = base.Add(time.Hour) // never changes after the first write
		res = upsert(t, accepted)
		got := res[0].Record
		if res[0].Outcome != store.UpsertUpdated || got.Status != "accepted" || !got.ReadAt.IsZero() ||
			got.ID != w.ID || !got.SubmittedAt.Equal(want.SubmittedAt) || !got.CreatedAt.Equal(want.CreatedAt) {
			t.Errorf("a new status = %s %+v, want updated, unread, same ID, SubmittedAt and CreatedAt", res[0].Outcome, got)
		}
		if stored := source(t, w); !reflect.DeepEqual(stored, got) {
			t.Errorf("stored:\n got %+v\nwant %+v", stored, got)
		}
		wantHist = append(wantHist, store.StatusChange{Status: "accepted", At: base.Add(4 * time.Minute)})
		if h := history(t, w.ID); !reflect.DeepEqual(h, wantHist) {
			t.Errorf("history = %+v, want %+v", h, wantHist)
		}

		// Another owner's write to the key changes nothing.
		theirs := accepted
		theirs.UserID, theirs.Status, theirs.UpdatedAt = li.ID, "completed", base.Add(time.Hour)
		if res := upsert(t, theirs); res[0].Outcome != store.UpsertOwner || res[0].Record.UserID != zhang.ID {
			t.Errorf("another owner's write = %s %+v", res[0].Outcome, res[0].Record)
		}
		if stored := source(t, w); stored.Status != "accepted" || stored.UserID != zhang.ID {
			t.Errorf("after another owner's write: %+v", stored)
		}
		// Another system's record of the same external id is another record.
		other := w
		other.ID, other.ClientID = randID(), "tax"
		if res := upsert(t, other); res[0].Outcome != store.UpsertCreated {
			t.Errorf("the same external id of another system = %s", res[0].Outcome)
		}
	})

	t.Run("Batch", func(t *testing.T) {
		// Several writes of one key in one call apply in order.
		a1 := newCase(zhang.ID, "b1", "submitted", base)
		a2 := a1
		a2.ID, a2.Status, a2.UpdatedAt = randID(), "accepted", base.Add(time.Minute)
		a0 := a1
		a0.ID, a0.Status, a0.UpdatedAt = randID(), "withdrawn", base.Add(-time.Minute)
		a3 := a2
		a3.ID, a3.Status, a3.UpdatedAt = randID(), "completed", base.Add(2*time.Minute)
		read := newCase(zhang.ID, "b2", "", base)
		read.ReadAt = base.Add(time.Second)
		read.SubmittedAt = base.Add(-24 * time.Hour)
		res := upsert(t, a1, a2, a0, read, a3)
		var outcomes []string
		for _, r := range res {
			outcomes = append(outcomes, r.Outcome)
		}
		if want := []string{store.UpsertCreated, store.UpsertUpdated, store.UpsertStale, store.UpsertCreated, store.UpsertUpdated}; !slices.Equal(outcomes, want) {
			t.Errorf("outcomes = %v, want %v", outcomes, want)
		}
		if res[1].Record.ID != a1.ID || res[1].Record.Status != "accepted" || res[2].Record.Status != "accepted" {
			t.Errorf("results of the second and third write: %+v, %+v", res[1].Record, res[2].Record)
		}
		got := source(t, a1)
		if got.ID != a1.ID || got.Status != "completed" || !got.SubmittedAt.Equal(storedRecord(a1).SubmittedAt) {
			t.Errorf("after the batch: %+v", got)
		}
		if h := history(t, a1.ID); len(h) != 3 || h[0].Status != "submitted" || h[1].Status != "accepted" || h[2].Status != "completed" {
			t.Errorf("history = %+v", h)
		}
		if got := source(t, read); !reflect.DeepEqual(got, storedRecord(read)) {
			t.Errorf("a record written read, submitted earlier:\n got %+v\nwant %+v", got, storedRecord(read))
		}
		if h := history(t, read.ID); len(h) != 0 {
			t.Errorf("a record without a status has a history: %+v", h)
		}

		// A write that fails leaves nothing of its batch.
		before := source(t, a1)
		next := a3
		next.Status, next.UpdatedAt = "correction", base.Add(time.Hour)
		fresh := newCase(zhang.ID, "b3", "submitted", base)
		orphan := newCase("nobody", "b4", "submitted", base)
		_, err := s.UpsertRecords(ctx, []store.Record{next, fresh, orphan})
		wantNotFound(t, "a batch with a missing owner", err)
		if got := source(t, a1); !reflect.DeepEqual(got, before) {
			t.Errorf("the failed batch changed a record:\n got %+v\nwant %+v", got, before)
		}
		if h := history(t, a1.ID); len(h) != 3 {
			t.Errorf("the failed batch grew the history: %+v", h)
		}
		for _, x := range []store.Record{fresh, orphan} {
			_, err := s.GetSourceRecord(ctx, x.ClientID, x.Kind, x.ExternalID)
			wantNotFound(t, "a record of the failed batch", err)
		}

		// A large batch: one statement per few hundred rows.
		var many []store.Record
		for i := range 1200 {
			many = append(many, newCase(li.ID, fmt.Sprintf("m%04d", i), "submitted", base.Add(time.Duration(i)*time.Second)))
		}
		res = upsert(t, many...)
		for i, r := range res {
			if r.Outcome != store.UpsertCreated {
				t.Fatalf("write %d of a large batch: %s", i, r.Outcome)
			}
		}
		for i := range many {
			many[i].Status, many[i].UpdatedAt = "accepted", many[i].UpdatedAt.Add(time.Hour)
		}
		for i, r := range upsert(t, many...) {
			if r.Outcome != store.UpsertUpdated {
				t.Fatalf("update %d of a large batch: %s", i, r.Outcome)
			}
		}
		if h := history(t, many[1100].ID); len(h) != 2 {
			t.Errorf("history in a large batch = %+v", h)
		}
		n, err := s.CountUnreadRecords(ctx, li.ID)
		if err != nil || n[store.RecordCase] != 1200 {
			t.Errorf("CountUnreadRecords after a large batch = %v, %v", n, err)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		// Systems writing the same new key at once: one creates it, the
		// others find it. Several rounds, so that the writers meet.
		var w store.Record
		for round := range 20 {
			w = newCase(zhang.ID, fmt.Sprintf("race%d", round), "submitted", base)
			outcomes := make([]string, concurrency)
			errs := make([]error, concurrency)
			parallel(func(i int) {
				x := w
				x.ID = randID()
				res, err := s.UpsertRecords(ctx, []store.Record{x})
				errs[i] = err
				if err == nil {
					outcomes[i] = res[0].Outcome
				}
			})
			created := 0
			for i := range concurrency {
				if errs[i] != nil {
					t.Errorf("round %d, writer %d: %v", round, i, errs[i])
				}
				if outcomes[i] == store.UpsertCreated {
					created++
				}
			}
			if created != 1 {
				t.Errorf("round %d: %d writers created the record: %v", round, created, outcomes)
			}
		}
		// And new statuses at once: every one lands in the history.
		parallel(func(i int) {
			x := w
			x.Status, x.UpdatedAt = fmt.Sprintf("s%d", i), base.Add(time.Duration(i+1)*time.Minute)
			if _, err := s.UpsertRecords(ctx, []store.Record{x}); err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		})
		got := source(t, w)
		if got.Status != fmt.Sprintf("s%d", concurrency-1) {
			t.Errorf("after concurrent writes the status is %q, want the newest", got.Status)
		}
		h := history(t, got.ID)
		for i := 1; i < len(h); i++ {
			if !h[i].At.After(h[i-1].At) {
				t.Errorf("history out of order: %+v", h)
			}
		}
	})

	t.Run("List", func(t *testing.T) {
		u := newUser()
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		mk := func(ext, client, status, title, number string, at time.Time) store.Record {
			r := newCase(u.ID, ext, status, at)
			r.ClientID, r.Title, r.Number = client, title, number
			return r
		}
		recs := []store.Record{
			mk("l1", "hall", "submitted", "50%_off 减免申请", "N-1", base),
			mk("l2", "hall", "completed", "50x_offy 申请", "N-2", base.Add(time.Hour)),
			mk("l3", "tax", "submitted", "Tax Refund", "N-3", base.Add(2*time.Hour)),
			mk("l4", "tax", "completed", "5000 off", "50%_off", base.Add(3*time.Hour)),
			mk("l5", "hall", "submitted", "back\\slash", "N-5", base.Add(4*time.Hour)),
		}
		upsert(t, recs...)
		msgID := randID()
		msg := store.Record{ID: msgID, Kind: store.RecordMessage, UserID: u.ID, ExternalID: msgID, Event: "realname.approved",
			Params: map[string]string{"level": "2"}, Link: "/settings/realname", UpdatedAt: base.Add(time.Hour), CreatedAt: base.Add(time.Hour)}
		upsert(t, msg)
		sysMsg := store.Record{ID: randID(), Kind: store.RecordMessage, UserID: u.ID, ClientID: "hall", ExternalID: "m1",
			Title: "材料补正通知", Summary: "请补交身份证复印件", UpdatedAt: base.Add(2 * time.Hour), CreatedAt: base.Add(2 * time.Hour)}
		upsert(t, sysMsg)
		if _, err := s.MarkRecordsRead(ctx, u.ID, store.RecordCase, recs[2].ID, base.Add(5*time.Hour)); err != nil {
			t.Fatal(err)
		}

		q := func(mod func(*store.RecordQuery)) store.RecordQuery {
			q := store.RecordQuery{Kind: store.RecordCase, UserID: u.ID, Limit: 10}
			mod(&q)
			return q
		}
		tests := []struct {
			name string
			q    store.RecordQuery
			want []string
		}{
			{"all, newest first", q(func(*store.RecordQuery) {}), []string{"l5", "l4", "l3", "l2", "l1"}},
			{"status", q(func(q *store.RecordQuery) { q.Status = "completed" }), []string{"l4", "l2"}},
			{"client", q(func(q *store.RecordQuery) { q.ClientID = "tax" }), []string{"l4", "l3"}},
			{"unid's own of cases", q(func(q *store.RecordQuery) { q.ClientID = "-" }), nil},
			{"from", q(func(q *store.RecordQuery) { q.From = base.Add(time.Hour) }), []string{"l5", "l4", "l3", "l2"}},
			{"from to", q(func(q *store.RecordQuery) { q.From, q.To = base.Add(time.Hour), base.Add(3*time.Hour) }), []string{"l3", "l2"}},
			{"search % and _ literally, or the number", q(func(q *store.RecordQuery) { q.Search = "50%_off" }), []string{"l4", "l1"}},
			{"search ignores ASCII case", q(func(q *store.RecordQuery) { q.Search = "tax REFUND" }), []string{"l3"}},
			{"search a backslash", q(func(q *store.RecordQuery) { q.Search = `k\s` }), []string{"l5"}},
			{"search Chinese", q(func(q *store.RecordQuery) { q.Search = "申请" }), []string{"l2", "l1"}},
			{"search the number exactly", q(func(q *store.RecordQuery) { q.Search = "N-" }), nil},
			{"unread", q(func(q *store.RecordQuery) { q.Unread = true }), []string{"l5", "l4", "l2", "l1"}},
			{"combined", q(func(q *store.RecordQuery) { q.Unread, q.ClientID, q.Status = true, "hall", "submitted" }), []string{"l5", "l1"}},
			{"limit", q(func(q *store.RecordQuery) { q.Limit = 2 }), []string{"l5", "l4"}},
			{"after", q(func(q *store.RecordQuery) {
				q.After = store.RecordCursor{SubmittedAt: storedRecord(recs[3]).SubmittedAt, ID: recs[3].ID}
			}), []string{"l3", "l2", "l1"}},
			{"another owner", q(func(q *store.RecordQuery) { q.UserID = li.ID; q.Search = "50%_off" }), nil},
			{"another kind", q(func(q *store.RecordQuery) { q.Kind = store.RecordConsultation }), nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if got := ids(list(t, tt.q)); !slices.Equal(got, tt.want) {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			})
		}

		// Messages: unid's own and a system's, each filter apart.
		msgs := list(t, store.RecordQuery{Kind: store.RecordMessage, UserID: u.ID, Limit: 10})
		if len(msgs) != 2 || msgs[0].ID != sysMsg.ID || msgs[1].ID != msg.ID {
			t.Fatalf("messages = %+v", msgs)
		}
		own := msgs[1]
		wantOwn := store.Record{ID: msg.ID, Kind: store.RecordMessage, UserID: u.ID, ExternalID: msg.ID, Event: msg.Event,
			Params: msg.Params, Link: msg.Link, SubmittedAt: msg.CreatedAt, UpdatedAt: msg.CreatedAt, CreatedAt: msg.CreatedAt}
		if !reflect.DeepEqual(own, wantOwn) {
			t.Errorf("unid's message as a record:\n got %+v\nwant %+v", own, wantOwn)
		}
		if got := ids(list(t, store.RecordQuery{Kind: store.RecordMessage, UserID: u.ID, ClientID: "-", Limit: 10})); !slices.Equal(got, []string{msg.ID}) {
			t.Errorf("unid's own messages = %v", got)
		}

		unread, err := s.CountUnreadRecords(ctx, u.ID)
		if want := map[store.RecordKind]int{store.RecordCase: 4, store.RecordMessage: 2}; err != nil || !reflect.DeepEqual(unread, want) {
			t.Errorf("CountUnreadRecords = %v, %v; want %v", unread, err, want)
		}
		if n, err := s.MarkRecordsRead(ctx, u.ID, store.RecordMessage, "", base.Add(6*time.Hour)); err != nil || n != 2 {
			t.Errorf("MarkRecordsRead of all messages = %d, %v", n, err)
		}
		if n, err := s.MarkRecordsRead(ctx, u.ID, store.RecordCase, recs[2].ID, base.Add(7*time.Hour)); err != nil || n != 0 {
			t.Errorf("MarkRecordsRead of one read already = %d, %v", n, err)
		}
		if got := source(t, recs[2]); !got.ReadAt.Equal(base.Add(5 * time.Hour)) {
			t.Errorf("read again: ReadAt = %v, want the first time", got.ReadAt)
		}
		unread, err = s.CountUnreadRecords(ctx, u.ID)
		if want := map[store.RecordKind]int{store.RecordCase: 4}; err != nil || !reflect.DeepEqual(unread, want) {
			t.Errorf("CountUnreadRecords = %v, %v; want %v", unread, err, want)
		}
	})

	t.Run("Pages", func(t *testing.T) {
		u := newUser()
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		var recs []store.Record
		for i := range 23 {
			recs = append(recs, newCase(u.ID, fmt.Sprintf("p%02d", i), "submitted", base.Add(time.Duration(i/3)*time.Minute))) // three at each time
		}
		upsert(t, recs...)
		var seen []string
		var after store.RecordCursor
		for page := 0; ; page++ {
			got := list(t, store.RecordQuery{Kind: store.RecordCase, UserID: u.ID, After: after, Limit: 5})
			for _, r := range got {
				seen = append(seen, r.ExternalID)
			}
			if len(got) < 5 || page > 10 {
				break
			}
			last := got[len(got)-1]
			after = store.RecordCursor{SubmittedAt: last.SubmittedAt, ID: last.ID}
			// Newer records arrive between the pages.
			upsert(t, newCase(u.ID, fmt.Sprintf("new%d", page), "submitted", base.Add(time.Hour+time.Duration(page)*time.Minute)))
			// And an older one's update does not move it.
			old := recs[page]
			old.Status, old.UpdatedAt = "accepted", base.Add(2*time.Hour+time.Duration(page)*time.Minute)
			upsert(t, old)
		}
		all := ids(recs)
		slices.Sort(all)
		sorted := slices.Clone(seen)
		slices.Sort(sorted)
		if !slices.Equal(sorted, all) {
			t.Errorf("pages gave %v\nwant each of %v once", seen, all)
		}
	})

	t.Run("Owners", func(t *testing.T) {
		w := newCase(zhang.ID, "o1", "submitted", base)
		upsert(t, w)
		_, err := s.GetRecord(ctx, li.ID, "", store.RecordCase, w.ID)
		wantNotFound(t, "GetRecord of another person's", err)
		_, err = s.GetRecord(ctx, zhang.ID, "", store.RecordComplaint, w.ID)
		wantNotFound(t, "GetRecord of another kind", err)
		_, err = s.GetRecord(ctx, "", "", store.RecordCase, w.ID)
		wantNotFound(t, "GetRecord without an owner", err)
		_, err = s.MarkRecordsRead(ctx, li.ID, store.RecordCase, w.ID, base)
		wantNotFound(t, "MarkRecordsRead of another person's", err)
		_, err = s.MarkRecordsRead(ctx, zhang.ID, store.RecordCase, "missing", base)
		wantNotFound(t, "MarkRecordsRead of a missing one", err)
		wantNotFound(t, "DeleteRecord of another person's", s.DeleteRecord(ctx, li.ID, store.RecordCase, w.ID))
		wantNotFound(t, "DeleteRecord of another kind", s.DeleteRecord(ctx, zhang.ID, store.RecordFavorite, w.ID))
		if got := source(t, w); !got.ReadAt.IsZero() {
			t.Errorf("another person marked it read: %+v", got)
		}

		// Enterprise records: the enterprise sees all, a handler theirs.
		const uscc = "91110000MA01ABCD2X"
		ent := func(ext, handler string, at time.Time) store.Record {
			r := newCase("", ext, "submitted", at)
			r.USCC, r.HandlerID = uscc, handler
			return r
		}
		e1, e2, e3 := ent("e1", zhang.ID, base), ent("e2", li.ID, base.Add(time.Minute)), ent("e3", "", base.Add(2*time.Minute))
		upsert(t, e1, e2, e3)
		if got := ids(list(t, store.RecordQuery{Kind: store.RecordCase, USCC: uscc, Limit: 10})); !slices.Equal(got, []string{"e3", "e2", "e1"}) {
			t.Errorf("the enterprise's cases = %v", got)
		}
		if got := ids(list(t, store.RecordQuery{Kind: store.RecordCase, USCC: uscc, HandlerID: zhang.ID, Limit: 10})); !slices.Equal(got, []string{"e1"}) {
			t.Errorf("zhang's cases of the enterprise = %v", got)
		}
		if got, err := s.GetRecord(ctx, "", uscc, store.RecordCase, e2.ID); err != nil || got.HandlerID != li.ID {
			t.Errorf("GetRecord of the enterprise's = %+v, %v", got, err)
		}
		_, err = s.GetRecord(ctx, "", "91110000MA01ZZZZ9Y", store.RecordCase, e2.ID)
		wantNotFound(t, "GetRecord of another enterprise's", err)
		_, err = s.GetRecord(ctx, li.ID, "", store.RecordCase, e2.ID)
		wantNotFound(t, "GetRecord of the enterprise's as the handler's own", err)
		personal := e1
		personal.USCC, personal.UserID, personal.UpdatedAt = "", zhang.ID, base.Add(time.Hour)
		if res := upsert(t, personal); res[0].Outcome != store.UpsertOwner {
			t.Errorf("the enterprise's record written as a person's = %s", res[0].Outcome)
		}

		// Deleting: the person's favorite, and a system's record.
		fav := store.Record{ID: randID(), Kind: store.RecordFavorite, UserID: zhang.ID, ClientID: "hall", ExternalID: "f1",
			Title: "居住证办理", ItemCode: "11100000MB0143028A", UpdatedAt: base, CreatedAt: base}
		upsert(t, fav)
		if err := s.DeleteRecord(ctx, zhang.ID, store.RecordFavorite, fav.ID); err != nil {
			t.Fatalf("DeleteRecord: %v", err)
		}
		_, err = s.GetSourceRecord(ctx, "hall", store.RecordFavorite, "f1")
		wantNotFound(t, "a deleted favorite", err)
		wantNotFound(t, "DeleteRecord again", s.DeleteRecord(ctx, zhang.ID, store.RecordFavorite, fav.ID))
		if err := s.DeleteSourceRecord(ctx, "hall", store.RecordCase, "o1"); err != nil {
			t.Fatalf("DeleteSourceRecord: %v", err)
		}
		if h := history(t, w.ID); len(h) != 0 {
			t.Errorf("a deleted record keeps its history: %+v", h)
		}
		wantNotFound(t, "DeleteSourceRecord again", s.DeleteSourceRecord(ctx, "hall", store.RecordCase, "o1"))
		// The key is free again: a new record, a new history.
		w.ID = randID()
		if res := upsert(t, w); res[0].Outcome != store.UpsertCreated {
			t.Errorf("writing a deleted key = %s", res[0].Outcome)
		}
	})

	t.Run("Retention", func(t *testing.T) {
		s := newStore(t)
		u := newUser()
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		var recs []store.Record
		for i := range 5 {
			recs = append(recs, newCase(u.ID, fmt.Sprintf("r%d", i), "submitted", base.Add(time.Duration(i)*time.Hour)))
		}
		cons := store.Record{ID: randID(), Kind: store.RecordConsultation, UserID: u.ID, ClientID: "hall", ExternalID: "q1",
			Title: "社保转移怎么办理", Status: "submitted", UpdatedAt: base, CreatedAt: base}
		if _, err := s.UpsertRecords(ctx, append(recs, cons)); err != nil {
			t.Fatal(err)
		}
		cut := base.Add(3 * time.Hour) // r0, r1, r2 are older
		if n, err := s.DeleteRecordsUpdatedBefore(ctx, store.RecordCase, cut, 2); err != nil || n != 2 {
			t.Errorf("DeleteRecordsUpdatedBefore with limit 2 = %d, %v", n, err)
		}
		if n, err := s.DeleteRecordsUpdatedBefore(ctx, store.RecordCase, cut, 10); err != nil || n != 1 {
			t.Errorf("DeleteRecordsUpdatedBefore again = %d, %v", n, err)
		}
		got, err := s.ListRecords(ctx, store.RecordQuery{Kind: store.RecordCase, UserID: u.ID, Limit: 10})
		if err != nil || !slices.Equal(ids(got), []string{"r4", "r3"}) {
			t.Errorf("after retention: %v, %v", ids(got), err)
		}
		if h, err := s.RecordHistory(ctx, recs[0].ID); err != nil || len(h) != 0 {
			t.Errorf("a deleted record's history: %v, %v", h, err)
		}
		if _, err := s.GetSourceRecord(ctx, "hall", store.RecordConsultation, "q1"); err != nil {
			t.Errorf("retention of cases took a consultation: %v", err)
		}
	})

	t.Run("Known", func(t *testing.T) {
		s := newStore(t)
		a, b, c := newUser(), newUser(), newUser()
		for _, u := range []store.User{a, b, c} {
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		const uscc = "91110000MA01ABCD2X"
		for _, sc := range []store.SessionClient{
			{SID: "s1", ClientID: "hall", Protocol: "oidc", UserID: a.ID, Acting: uscc, CreatedAt: base},
			{SID: "s1", ClientID: "hall", Protocol: "oidc", UserID: a.ID, Acting: uscc, CreatedAt: base}, // again
			{SID: "s2", ClientID: "hall", Protocol: "cas", Ref: "ST-1", UserID: b.ID, CreatedAt: base},
			{SID: "s3", ClientID: "tax", Protocol: "oidc", UserID: c.ID, CreatedAt: base},
			{SID: "s4", ClientID: "hall", Protocol: "oidc", UserID: "nobody", CreatedAt: base},
		} {
			if err := s.AddSessionClient(ctx, sc); err != nil {
				t.Fatalf("AddSessionClient %+v: %v", sc, err)
			}
		}
		known := func(clientID string, ids ...string) map[string]bool {
			t.Helper()
			got, err := s.KnownUsers(ctx, clientID, ids)
			if err != nil {
				t.Fatalf("KnownUsers: %v", err)
			}
			return got
		}
		if got := known("hall", a.ID, b.ID, c.ID, "nobody"); !reflect.DeepEqual(got, map[string]bool{a.ID: true, b.ID: true}) {
			t.Errorf("KnownUsers(hall) = %v", got)
		}
		if got := known("tax", a.ID, c.ID); !reflect.DeepEqual(got, map[string]bool{c.ID: true}) {
			t.Errorf("KnownUsers(tax) = %v", got)
		}
		if got := known("hall"); len(got) != 0 {
			t.Errorf("KnownUsers of none = %v", got)
		}
		if got, err := s.KnownEnterprises(ctx, "hall", []string{uscc, "91110000MA01ZZZZ9Y"}); err != nil || !reflect.DeepEqual(got, map[string]bool{uscc: true}) {
			t.Errorf("KnownEnterprises(hall) = %v, %v", got, err)
		}
		if got, err := s.KnownEnterprises(ctx, "tax", []string{uscc}); err != nil || len(got) != 0 {
			t.Errorf("KnownEnterprises(tax) = %v, %v", got, err)
		}

		// Closing an account forgets it, its records and their history;
		// an enterprise's record it handled stays, without its handler.
		mine := newCase(b.ID, "k1", "submitted", base)
		handled := newCase("", "k2", "submitted", base)
		handled.USCC, handled.HandlerID = uscc, b.ID
		upsert := func(writes ...store.Record) {
			t.Helper()
			if _, err := s.UpsertRecords(ctx, writes); err != nil {
				t.Fatal(err)
			}
		}
		upsert(mine, handled)
		if _, err := s.CloseUser(ctx, b.ID, base.Add(time.Hour), base.Add(48*time.Hour), newEvent(1), seal); err != nil {
			t.Fatal(err)
		}
		if got := known("hall", a.ID, b.ID); !reflect.DeepEqual(got, map[string]bool{a.ID: true}) {
			t.Errorf("KnownUsers after b closed = %v", got)
		}
		if _, err := s.GetSourceRecord(ctx, "hall", store.RecordCase, "k1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a closed account keeps its record: %v", err)
		}
		if h, err := s.RecordHistory(ctx, mine.ID); err != nil || len(h) != 0 {
			t.Errorf("a closed account's record keeps its history: %v, %v", h, err)
		}
		if got, err := s.GetSourceRecord(ctx, "hall", store.RecordCase, "k2"); err != nil || got.HandlerID != "" || got.USCC != uscc {
			t.Errorf("the enterprise's record after its handler closed = %+v, %v", got, err)
		}
		// Signing in again does not bring a closed account back.
		if err := s.AddSessionClient(ctx, store.SessionClient{SID: "s5", ClientID: "hall", Protocol: "oidc", UserID: b.ID, CreatedAt: base}); err != nil {
			t.Fatal(err)
		}
		if got := known("hall", b.ID); len(got) != 0 {
			t.Errorf("KnownUsers of a closed account = %v", got)
		}
	})
}
