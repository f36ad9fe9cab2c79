package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"unid/internal/store"
)

func newAddress(userID string, at time.Time) store.Address {
	return store.Address{
		ID: randID(), UserID: userID,
		Recipient: store.Sealed{Cipher: randBytes(30)}, Phone: store.Sealed{Cipher: randBytes(27)},
		Detail:   store.Sealed{Cipher: randBytes(60)},
		Division: "370102", Postcode: "250014",
		CreatedAt: at, UpdatedAt: at,
	}
}

func testAddresses(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)
	zhang, li := newUser(), newUser()
	for _, u := range []store.User{zhang, li} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	events := 0
	event := func() store.AuditEvent { events++; return newEvent(events) }
	refused := func(store.AuditEvent) []byte { return []byte("short") }
	const max = 3

	ids := func(list []store.Address) (out []string) {
		for _, a := range list {
			out = append(out, a.ID)
		}
		return out
	}
	defaults := func(t *testing.T, userID string) []string {
		t.Helper()
		list, err := s.ListAddresses(ctx, userID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range list {
			if a.IsDefault {
				out = append(out, a.ID)
			}
		}
		return out
	}
	chain := func(t *testing.T) {
		t.Helper()
		list, err := s.ListAudit(ctx, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		checkChain(t, list, events)
	}

	if _, err := s.CreateAddress(ctx, newAddress("nobody", base), max, newEvent(0), seal); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CreateAddress for a missing user = %v", err)
	}
	// The first address is the default, whatever it asks.
	first := newAddress(zhang.ID, base)
	got, err := s.CreateAddress(ctx, first, max, event(), seal)
	if err != nil || !got.IsDefault {
		t.Fatalf("CreateAddress(first) = %+v, %v", got, err)
	}
	first.IsDefault = true
	if g, err := s.GetAddress(ctx, zhang.ID, first.ID); err != nil || !equalAddress(g, first) {
		t.Fatalf("GetAddress = %+v, %v; want %+v", g, err, first)
	}
	// Another user's address is not found, as a missing one.
	if _, err := s.GetAddress(ctx, li.ID, first.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetAddress of another user's = %v", err)
	}
	if list, err := s.ListAddresses(ctx, li.ID); err != nil || len(list) != 0 {
		t.Fatalf("ListAddresses of another user = %v, %v", list, err)
	}
	second := newAddress(zhang.ID, base.Add(time.Minute))
	if got, err := s.CreateAddress(ctx, second, max, event(), seal); err != nil || got.IsDefault {
		t.Fatalf("CreateAddress(second) = %+v, %v", got, err)
	}
	// A third that asks to be the default takes it.
	third := newAddress(zhang.ID, base.Add(2*time.Minute))
	third.IsDefault = true
	if got, err := s.CreateAddress(ctx, third, max, event(), seal); err != nil || !got.IsDefault {
		t.Fatalf("CreateAddress(third, default) = %+v, %v", got, err)
	}
	if d := defaults(t, zhang.ID); len(d) != 1 || d[0] != third.ID {
		t.Fatalf("defaults = %v, want only the third", d)
	}
	list, err := s.ListAddresses(ctx, zhang.ID)
	if err != nil || len(list) != 3 || list[0].ID != third.ID || list[1].ID != second.ID || list[2].ID != first.ID {
		t.Fatalf("ListAddresses = %v, %v; want default, then newest first", ids(list), err)
	}
	// The limit: a fourth is refused and changes nothing.
	if _, err := s.CreateAddress(ctx, newAddress(zhang.ID, base), max, newEvent(99), seal); !errors.Is(err, store.ErrLimit) {
		t.Fatalf("CreateAddress past the limit = %v", err)
	}
	if n, err := s.CountAddresses(ctx, zhang.ID); err != nil || n != 3 {
		t.Fatalf("CountAddresses = %d, %v", n, err)
	}
	chain(t)

	// Update changes the fields it may, under the user only.
	later := base.Add(time.Hour)
	upd, err := s.UpdateAddress(ctx, zhang.ID, second.ID, func(a store.Address) (store.Address, error) {
		a.Postcode, a.Division, a.UpdatedAt = "266001", "370202", later
		a.IsDefault, a.CreatedAt = true, later // ignored
		return a, nil
	}, event(), seal)
	if err != nil || upd.Postcode != "266001" || upd.Division != "370202" || upd.IsDefault || !upd.CreatedAt.Equal(normMS(second.CreatedAt)) || !upd.UpdatedAt.Equal(later) {
		t.Fatalf("UpdateAddress = %+v, %v", upd, err)
	}
	if g, _ := s.GetAddress(ctx, zhang.ID, second.ID); !equalAddress(g, upd) {
		t.Fatalf("after UpdateAddress, GetAddress = %+v; want %+v", g, upd)
	}
	noop := func(a store.Address) (store.Address, error) { return a, nil }
	if _, err := s.UpdateAddress(ctx, li.ID, second.ID, noop, newEvent(99), seal); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateAddress of another user's = %v", err)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateAddress(ctx, zhang.ID, second.ID, func(a store.Address) (store.Address, error) { return a, boom }, newEvent(99), seal); !errors.Is(err, boom) {
		t.Fatalf("UpdateAddress with failing fn = %v", err)
	}
	if _, err := s.UpdateAddress(ctx, zhang.ID, second.ID, func(a store.Address) (store.Address, error) { a.UserID = li.ID; return a, nil }, newEvent(99), seal); err == nil {
		t.Fatal("UpdateAddress moved an address to another user")
	}
	// Rolled back whole when its event is refused.
	if _, err := s.UpdateAddress(ctx, zhang.ID, second.ID, func(a store.Address) (store.Address, error) { a.Postcode = "100000"; return a, nil }, newEvent(99), refused); err == nil {
		t.Fatal("UpdateAddress with a refused event: no error")
	}
	if g, _ := s.GetAddress(ctx, zhang.ID, second.ID); g.Postcode != "266001" {
		t.Fatalf("UpdateAddress whose event was refused left postcode %s", g.Postcode)
	}
	chain(t)

	// Set default: one default per user.
	if err := s.SetDefaultAddress(ctx, li.ID, first.ID, later, newEvent(99), seal); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetDefaultAddress of another user's = %v", err)
	}
	if err := s.SetDefaultAddress(ctx, zhang.ID, first.ID, later, newEvent(99), refused); err == nil {
		t.Fatal("SetDefaultAddress with a refused event: no error")
	}
	if d := defaults(t, zhang.ID); len(d) != 1 || d[0] != third.ID {
		t.Fatalf("after a refused SetDefaultAddress, defaults = %v", d)
	}
	if err := s.SetDefaultAddress(ctx, zhang.ID, first.ID, later, event(), seal); err != nil {
		t.Fatal(err)
	}
	if d := defaults(t, zhang.ID); len(d) != 1 || d[0] != first.ID {
		t.Fatalf("after SetDefaultAddress, defaults = %v", d)
	}
	if err := s.SetDefaultAddress(ctx, zhang.ID, first.ID, later, event(), seal); err != nil {
		t.Fatalf("SetDefaultAddress again: %v", err)
	}
	if d := defaults(t, zhang.ID); len(d) != 1 || d[0] != first.ID {
		t.Fatalf("after SetDefaultAddress again, defaults = %v", d)
	}

	// Delete: another user's is not found; the default passes to the
	// newest remaining address.
	if err := s.DeleteAddress(ctx, li.ID, first.ID, later, newEvent(99), seal); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteAddress of another user's = %v", err)
	}
	if err := s.DeleteAddress(ctx, zhang.ID, first.ID, later, newEvent(99), refused); err == nil {
		t.Fatal("DeleteAddress with a refused event: no error")
	}
	if n, _ := s.CountAddresses(ctx, zhang.ID); n != 3 {
		t.Fatalf("a refused DeleteAddress left %d addresses", n)
	}
	if err := s.DeleteAddress(ctx, zhang.ID, first.ID, later, event(), seal); err != nil {
		t.Fatal(err)
	}
	if d := defaults(t, zhang.ID); len(d) != 1 || d[0] != third.ID {
		t.Fatalf("after deleting the default, defaults = %v, want the newest remaining", d)
	}
	if err := s.DeleteAddress(ctx, zhang.ID, first.ID, later, newEvent(99), seal); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteAddress twice = %v", err)
	}
	if err := s.DeleteAddress(ctx, zhang.ID, second.ID, later, event(), seal); err != nil {
		t.Fatal(err)
	}
	if d := defaults(t, zhang.ID); len(d) != 1 || d[0] != third.ID {
		t.Fatalf("after deleting another, defaults = %v", d)
	}
	// A refused create leaves nothing.
	lost := newAddress(zhang.ID, later)
	if _, err := s.CreateAddress(ctx, lost, max, newEvent(99), refused); err == nil {
		t.Fatal("CreateAddress with a refused event: no error")
	}
	if _, err := s.GetAddress(ctx, zhang.ID, lost.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CreateAddress whose event was refused left its address: %v", err)
	}
	chain(t)

	// Concurrent creates never pass the limit.
	others := make([]error, concurrency)
	parallel(func(i int) {
		_, others[i] = s.CreateAddress(ctx, newAddress(li.ID, base.Add(time.Duration(i)*time.Second)), max, newEvent(100+i), seal)
	})
	ok := 0
	for _, err := range others {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrLimit):
			t.Errorf("concurrent CreateAddress: %v", err)
		}
	}
	if n, _ := s.CountAddresses(ctx, li.ID); ok != max || n != max {
		t.Fatalf("concurrent creates: %d succeeded, %d stored; want %d", ok, n, max)
	}
	if d := defaults(t, li.ID); len(d) != 1 {
		t.Fatalf("concurrent creates: defaults = %v", d)
	}
}

func normMS(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// equalAddress compares addresses field by field, times with Equal.
func equalAddress(got, want store.Address) bool {
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		return false
	}
	return got.ID == want.ID && got.UserID == want.UserID && got.Division == want.Division &&
		got.Postcode == want.Postcode && got.IsDefault == want.IsDefault &&
		string(got.Recipient.Cipher) == string(want.Recipient.Cipher) && got.Recipient.Index == nil &&
		string(got.Phone.Cipher) == string(want.Phone.Cipher) && got.Phone.Index == nil &&
		string(got.Detail.Cipher) == string(want.Detail.Cipher) && got.Detail.Index == nil
}
