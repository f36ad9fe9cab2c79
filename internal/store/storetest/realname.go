package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"unid/internal/store"
)

// levelOf is the real-name rule the cases use: the highest binding level.
func levelOf(bs []store.RealnameBinding) int {
	l := 0
	for _, b := range bs {
		l = max(l, b.Level)
	}
	return l
}

// testRealname: a real-name change writes its check, bindings, account
// level, review item and files with its audit event, or nothing at all; a
// verified ID number stays with one account; the queue pages by keyset;
// a decision is taken once.
func testRealname(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)
	events := 0
	event := func() store.AuditEvent { events++; return newEvent(events) }
	relevel := func(u store.User, bs []store.RealnameBinding) (store.User, error) {
		u.RealnameLevel = levelOf(bs)
		u.UpdatedAt = base.Add(time.Minute)
		return u, nil
	}
	bind := func(userID, method string, level int) store.RealnameBinding {
		return store.RealnameBinding{UserID: userID, Method: method, Level: level, Detail: "**** 1234", Reference: "ref-" + method, CreatedAt: base}
	}
	level := func(t *testing.T, userID string) int {
		t.Helper()
		u, err := s.GetUser(ctx, userID)
		if err != nil {
			t.Fatal(err)
		}
		return u.RealnameLevel
	}
	zhang, li := newUser(), newUser()
	zhang.RealnameLevel, li.RealnameLevel = 0, 0
	li.IDNumber = zhang.IDNumber // typed at registration, unverified: blocks nobody
	for _, u := range []store.User{zhang, li} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("a refused audit event writes nothing", func(t *testing.T) {
		err := s.ChangeRealname(ctx, store.RealnameChange{
			Check: &store.RealnameCheck{ID: randID(), UserID: zhang.ID, Method: "registry", Provider: "sandbox", Result: "pass", CreatedAt: base},
			Users: []store.RealnameUserChange{{UserID: zhang.ID, Put: []store.RealnameBinding{bind(zhang.ID, "registry", 1)}, Update: relevel}},
			Item:  &store.ReviewItem{ID: randID(), Kind: "realname.counter", State: "pending", Reference: "AAAAAA", UserID: zhang.ID, CreatedAt: base},
		}, newEvent(events+1), func(store.AuditEvent) []byte { return []byte("short") })
		if err == nil {
			t.Fatal("ChangeRealname with a refused seal: no error")
		}
		if l := level(t, zhang.ID); l != 0 {
			t.Errorf("level %d after the failed change, want 0", l)
		}
		if bs, _ := s.ListRealnameBindings(ctx, zhang.ID); len(bs) != 0 {
			t.Errorf("bindings after the failed change: %+v", bs)
		}
		if cs, _ := s.ListRealnameChecks(ctx, zhang.ID, 10); len(cs) != 0 {
			t.Errorf("checks after the failed change: %+v", cs)
		}
		if items, _ := s.ListUserReviewItems(ctx, zhang.ID, "pending"); len(items) != 0 {
			t.Errorf("items after the failed change: %+v", items)
		}
	})

	t.Run("bind, relevel, check, audit", func(t *testing.T) {
		check := store.RealnameCheck{ID: randID(), UserID: zhang.ID, Method: "registry", Provider: "sandbox", Result: "pass", Reference: "r1",
			Subject: []byte("mac-of-the-name-and-id-number-32"), CreatedAt: base}
		if err := s.ChangeRealname(ctx, store.RealnameChange{
			Check: &check,
			Users: []store.RealnameUserChange{{UserID: zhang.ID, Put: []store.RealnameBinding{bind(zhang.ID, "registry", 1)}, Update: relevel}},
		}, event(), seal); err != nil {
			t.Fatal(err)
		}
		if err := s.ChangeRealname(ctx, store.RealnameChange{
			Users: []store.RealnameUserChange{{UserID: zhang.ID, Put: []store.RealnameBinding{bind(zhang.ID, "bank_card", 2)}, Update: relevel}},
		}, event(), seal); err != nil {
			t.Fatal(err)
		}
		if l := level(t, zhang.ID); l != 2 {
			t.Errorf("level %d, want 2", l)
		}
		bs, err := s.ListRealnameBindings(ctx, zhang.ID)
		if err != nil || len(bs) != 2 || bs[0].Method != "registry" || bs[1].Method != "bank_card" || !bs[1].CreatedAt.Equal(base) {
			t.Errorf("bindings %+v, %v", bs, err)
		}
		cs, err := s.ListRealnameChecks(ctx, zhang.ID, 10)
		if err != nil || len(cs) != 1 || cs[0].ID != check.ID || cs[0].Result != "pass" || !cs[0].CreatedAt.Equal(base) ||
			string(cs[0].Subject) != string(check.Subject) {
			t.Errorf("checks %+v, %v", cs, err)
		}
		// Removing the card drops the level back.
		if err := s.ChangeRealname(ctx, store.RealnameChange{
			Users: []store.RealnameUserChange{{UserID: zhang.ID, Remove: []string{"bank_card"}, Update: relevel}},
		}, event(), seal); err != nil {
			t.Fatal(err)
		}
		if l := level(t, zhang.ID); l != 1 {
			t.Errorf("level %d after removing the card, want 1", l)
		}
		// RemoveAbove keeps the bindings up to its level.
		if err := s.ChangeRealname(ctx, store.RealnameChange{
			Users: []store.RealnameUserChange{{UserID: zhang.ID, Put: []store.RealnameBinding{bind(zhang.ID, "bank_card", 2), bind(zhang.ID, "face", 3)}, Update: relevel}},
		}, event(), seal); err != nil {
			t.Fatal(err)
		}
		if err := s.ChangeRealname(ctx, store.RealnameChange{
			Users: []store.RealnameUserChange{{UserID: zhang.ID, RemoveAbove: 1, Update: relevel}},
		}, event(), seal); err != nil {
			t.Fatal(err)
		}
		if bs, err := s.ListRealnameBindings(ctx, zhang.ID); err != nil || len(bs) != 1 || bs[0].Method != "registry" || level(t, zhang.ID) != 1 {
			t.Errorf("after RemoveAbove 1: %+v, %v, level %d", bs, err, level(t, zhang.ID))
		}
		list, err := s.ListAudit(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		checkChain(t, list, events)
	})

	t.Run("a verified ID number belongs to one account", func(t *testing.T) {
		err := s.ChangeRealname(ctx, store.RealnameChange{
			Check: &store.RealnameCheck{ID: randID(), UserID: li.ID, Method: "registry", Provider: "sandbox", Result: "pass", CreatedAt: base},
			Users: []store.RealnameUserChange{{UserID: li.ID, Put: []store.RealnameBinding{bind(li.ID, "registry", 1)}, Update: relevel}},
		}, newEvent(events+1), seal)
		var ce *store.ConflictError
		if !errors.As(err, &ce) || ce.Field != "id_number" {
			t.Fatalf("second verification of one ID number: %v, want a conflict on id_number", err)
		}
		if l := level(t, li.ID); l != 0 {
			t.Errorf("level %d after the conflict, want 0", l)
		}
		if cs, _ := s.ListRealnameChecks(ctx, li.ID, 10); len(cs) != 0 {
			t.Errorf("the conflicting change kept its check: %+v", cs)
		}
		// Moved in one change: the holder first loses it, then li takes it.
		item := store.ReviewItem{ID: randID(), Kind: "realname.appeal", State: "pending", Reference: "APPEAL", UserID: li.ID,
			Subject: "*三", Data: []byte(`{"x":1}`), CreatedAt: base}
		if err := s.ChangeRealname(ctx, store.RealnameChange{Item: &item,
			Files: []store.ReviewFile{{ID: randID(), ItemID: item.ID, Label: "id_photo", ContentType: "image/png", Size: 3, Data: []byte("abc")}},
		}, event(), seal); err != nil {
			t.Fatal(err)
		}
		move := store.RealnameChange{
			Decision: &store.ReviewDecision{ItemID: item.ID, State: "approved", DecidedAt: base.Add(time.Hour), DecidedBy: "operator:ann", Reason: "ok"},
			Users: []store.RealnameUserChange{
				{UserID: zhang.ID, RemoveAll: true, Update: relevel},
				{UserID: li.ID, Put: []store.RealnameBinding{bind(li.ID, "registry", 1)}, Update: relevel},
			},
		}
		if err := s.ChangeRealname(ctx, move, event(), seal); err != nil {
			t.Fatal(err)
		}
		if lz, ll := level(t, zhang.ID), level(t, li.ID); lz != 0 || ll != 1 {
			t.Errorf("levels after the move: %d, %d; want 0, 1", lz, ll)
		}
		got, err := s.GetReviewItem(ctx, item.ID)
		if err != nil || got.State != "approved" || got.DecidedBy != "operator:ann" || !got.DecidedAt.Equal(base.Add(time.Hour)) || string(got.Data) != `{"x":1}` {
			t.Errorf("decided item %+v, %v", got, err)
		}
		if err := s.ChangeRealname(ctx, move, newEvent(events+1), seal); !errors.Is(err, store.ErrConflict) {
			t.Errorf("deciding twice: %v, want ErrConflict", err)
		}
		move.Decision.ItemID = "missing"
		if err := s.ChangeRealname(ctx, move, newEvent(events+1), seal); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deciding a missing item: %v, want ErrNotFound", err)
		}
		files, err := s.ListReviewFiles(ctx, item.ID)
		if err != nil || len(files) != 1 || files[0].Data != nil || files[0].Size != 3 {
			t.Fatalf("files %+v, %v", files, err)
		}
		f, err := s.GetReviewFile(ctx, item.ID, files[0].ID)
		if err != nil || string(f.Data) != "abc" {
			t.Errorf("file %+v, %v", f, err)
		}
		if _, err := s.GetReviewFile(ctx, "other", files[0].ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("file of another item: %v, want ErrNotFound", err)
		}
	})

	t.Run("closing an account deletes its bindings", func(t *testing.T) {
		if _, err := s.CloseUser(ctx, li.ID, base.Add(3*time.Hour), base.Add(4*time.Hour), event(), seal); err != nil {
			t.Fatal(err)
		}
		if bs, err := s.ListRealnameBindings(ctx, li.ID); err != nil || len(bs) != 0 {
			t.Errorf("bindings of a closed account: %+v, %v", bs, err)
		}
		err := s.ChangeRealname(ctx, store.RealnameChange{Users: []store.RealnameUserChange{{UserID: li.ID,
			Put: []store.RealnameBinding{bind(li.ID, "face", 3)}, Update: relevel}}}, newEvent(events+1), seal)
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("binding a closed account: %v, want ErrNotFound", err)
		}
	})

	t.Run("the queue pages oldest first by keyset", func(t *testing.T) {
		var ids []string
		for i := range 7 {
			at := base.Add(2*time.Hour + time.Duration(i/2)*time.Second) // pairs share a time
			it := store.ReviewItem{ID: fmt.Sprintf("q%02d", i), Kind: "realname.counter", State: "pending", Reference: "R",
				UserID: fmt.Sprintf("%s-%d", li.ID, i), CreatedAt: at} // one pending item per user and kind
			if i == 3 {
				it.Kind = "realname.appeal"
			}
			if err := s.ChangeRealname(ctx, store.RealnameChange{Item: &it}, event(), seal); err != nil {
				t.Fatal(err)
			}
			if i != 3 {
				ids = append(ids, it.ID)
			}
		}
		var got []string
		p := store.ReviewPage{Kinds: []string{"realname.counter"}, State: "pending", Limit: 2}
		for range 10 {
			page, err := s.ListReviewItems(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page {
				got = append(got, it.ID)
			}
			if len(page) < p.Limit {
				break
			}
			p.AfterTime, p.AfterID = page[len(page)-1].CreatedAt, page[len(page)-1].ID
		}
		if fmt.Sprint(got) != fmt.Sprint(ids) {
			t.Errorf("pages %v, want %v", got, ids)
		}
		all, err := s.ListReviewItems(ctx, store.ReviewPage{State: "pending", Limit: 100})
		if err != nil || len(all) != 7 {
			t.Errorf("all kinds: %d items, %v; want 7", len(all), err)
		}
	})
	t.Run("one pending item per user and kind", func(t *testing.T) {
		user := "pending-" + randID()
		item := func(kind string) *store.ReviewItem {
			return &store.ReviewItem{ID: randID(), Kind: kind, State: "pending", Reference: "P", UserID: user, CreatedAt: base}
		}
		first := item("realname.counter")
		if err := s.ChangeRealname(ctx, store.RealnameChange{Item: first}, event(), seal); err != nil {
			t.Fatal(err)
		}
		err := s.ChangeRealname(ctx, store.RealnameChange{Item: item("realname.counter")}, newEvent(events+1), seal)
		var ce *store.ConflictError
		if !errors.As(err, &ce) || ce.Field != "review_pending" {
			t.Fatalf("a second pending item: %v, want a conflict on review_pending", err)
		}
		if items, _ := s.ListUserReviewItems(ctx, user, "pending"); len(items) != 1 {
			t.Errorf("%d pending items, want 1", len(items))
		}
		// Another kind, or once the first is decided, is another item.
		if err := s.ChangeRealname(ctx, store.RealnameChange{Item: item("realname.appeal")}, event(), seal); err != nil {
			t.Errorf("a pending item of another kind: %v", err)
		}
		if err := s.ChangeRealname(ctx, store.RealnameChange{Decision: &store.ReviewDecision{ItemID: first.ID, State: "rejected",
			DecidedAt: base, DecidedBy: "ann", Reason: "no"}}, event(), seal); err != nil {
			t.Fatal(err)
		}
		if err := s.ChangeRealname(ctx, store.RealnameChange{Item: item("realname.counter")}, event(), seal); err != nil {
			t.Errorf("a new item after the first was decided: %v", err)
		}
	})

}
