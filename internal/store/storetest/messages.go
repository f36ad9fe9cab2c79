package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"unid/internal/store"
)

func newMessage(userID, event string, at time.Time) store.Message {
	return store.Message{
		ID: randID(), UserID: userID, Event: event,
		Params: map[string]string{"reason": "照片不清晰", "level": "3"}, Link: "/settings/realname",
		CreatedAt: at.Add(400 * time.Microsecond), // sub-millisecond part is dropped
	}
}

// storedMessage is what m looks like after a round trip.
func storedMessage(m store.Message) store.Message {
	m.CreatedAt = m.CreatedAt.UTC().Truncate(time.Millisecond)
	if !m.ReadAt.IsZero() {
		m.ReadAt = m.ReadAt.UTC().Truncate(time.Millisecond)
	}
	if len(m.Params) == 0 {
		m.Params = nil
	}
	return m
}

func testMessages(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)
	zhang, li := newUser(), newUser()
	for _, u := range []store.User{zhang, li} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	list := func(t *testing.T, userID string, after store.MessageCursor, limit int) []store.Message {
		t.Helper()
		got, err := s.ListMessages(ctx, userID, after, limit)
		if err != nil {
			t.Fatalf("ListMessages: %v", err)
		}
		return got
	}
	unread := func(t *testing.T, userID string) int {
		t.Helper()
		n, err := s.CountUnreadMessages(ctx, userID)
		if err != nil {
			t.Fatalf("CountUnreadMessages: %v", err)
		}
		return n
	}

	if got := list(t, zhang.ID, store.MessageCursor{}, 10); len(got) != 0 || unread(t, zhang.ID) != 0 {
		t.Fatalf("a new account has messages: %v", got)
	}
	if err := s.PostMessage(ctx, newMessage("nobody", "realname.approved", base)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("PostMessage to a missing user = %v", err)
	}

	// A round trip keeps every field; no params is none, not an empty map.
	first := newMessage(zhang.ID, "realname.approved", base)
	if err := s.PostMessage(ctx, first); err != nil {
		t.Fatal(err)
	}
	bare := store.Message{ID: randID(), UserID: zhang.ID, Event: "realname.moved_away", CreatedAt: base.Add(time.Second)}
	if err := s.PostMessage(ctx, bare); err != nil {
		t.Fatal(err)
	}
	got := list(t, zhang.ID, store.MessageCursor{}, 10)
	if want := []store.Message{storedMessage(bare), storedMessage(first)}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ListMessages:\n got %+v\nwant %+v", got, want)
	}
	if got[0].CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt is not UTC: %v", got[0].CreatedAt.Location())
	}
	if err := s.PostMessage(ctx, first); !errors.Is(err, store.ErrConflict) {
		t.Errorf("PostMessage with a used ID = %v", err)
	}

	// Another user sees none of them and cannot mark them.
	if got := list(t, li.ID, store.MessageCursor{}, 10); len(got) != 0 {
		t.Errorf("li lists zhang's messages: %v", got)
	}
	if err := s.MarkMessageRead(ctx, li.ID, first.ID, base); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("MarkMessageRead of another user's = %v", err)
	}
	if err := s.MarkMessageRead(ctx, zhang.ID, "missing", base); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("MarkMessageRead of a missing one = %v", err)
	}
	if n := unread(t, zhang.ID); n != 2 {
		t.Fatalf("unread = %d, want 2", n)
	}

	// Marking read counts once and keeps the first time.
	readAt := base.Add(time.Hour + 700*time.Microsecond)
	if err := s.MarkMessageRead(ctx, zhang.ID, first.ID, readAt); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkMessageRead(ctx, zhang.ID, first.ID, readAt.Add(time.Hour)); err != nil {
		t.Fatalf("MarkMessageRead again = %v", err)
	}
	if n := unread(t, zhang.ID); n != 1 {
		t.Errorf("unread after reading one = %d, want 1", n)
	}
	got = list(t, zhang.ID, store.MessageCursor{}, 10)
	if !got[1].ReadAt.Equal(readAt.Truncate(time.Millisecond)) || !got[0].ReadAt.IsZero() {
		t.Errorf("read times = %v, %v", got[0].ReadAt, got[1].ReadAt)
	}

	// Keyset pages: newest first, every message once, ties on the time
	// broken by ID.
	t.Run("Pages", func(t *testing.T) {
		u := newUser()
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		const n = 11
		for i := range n {
			at := base.Add(time.Duration(i/3) * time.Minute) // three at each time
			if err := s.PostMessage(ctx, newMessage(u.ID, fmt.Sprintf("e%d", i), at)); err != nil {
				t.Fatal(err)
			}
		}
		all := list(t, u.ID, store.MessageCursor{}, 100)
		if len(all) != n {
			t.Fatalf("%d messages, want %d", len(all), n)
		}
		var paged []store.Message
		var after store.MessageCursor
		for pages := 0; ; pages++ {
			page := list(t, u.ID, after, 4)
			paged = append(paged, page...)
			if len(page) < 4 || pages > n {
				break
			}
			last := page[len(page)-1]
			after = store.MessageCursor{CreatedAt: last.CreatedAt, ID: last.ID}
		}
		if !reflect.DeepEqual(paged, all) {
			t.Fatalf("pages of 4 give %d messages, not the list of %d in its order", len(paged), len(all))
		}
		seen := map[string]bool{}
		for i, m := range all {
			if seen[m.ID] {
				t.Errorf("message %s listed twice", m.ID)
			}
			seen[m.ID] = true
			if i > 0 && m.CreatedAt.After(all[i-1].CreatedAt) {
				t.Errorf("message %d is newer than the one before it", i)
			}
		}
	})

	// Closing the account deletes its messages; a closed account gets no
	// new ones.
	if _, err := s.CloseUser(ctx, zhang.ID, base.Add(2*time.Hour), base.Add(48*time.Hour), newEvent(1), seal); err != nil {
		t.Fatal(err)
	}
	if got := list(t, zhang.ID, store.MessageCursor{}, 10); len(got) != 0 {
		t.Errorf("a closed account keeps %d messages", len(got))
	}
	if err := s.PostMessage(ctx, newMessage(zhang.ID, "realname.approved", base.Add(3*time.Hour))); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PostMessage to a closed account = %v", err)
	}
}
