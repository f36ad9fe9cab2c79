package storetest

import (
	"context"
	"testing"
	"time"

	"unid/internal/store"
)

// testClosures: closing an account erases its personal data and deletes
// what hangs off it in one audited transaction, and the phone and verified
// ID number it gave up block a new holder until their release, not after.
func testClosures(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)
	c := newClient("hall-" + randID())
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	events := 0
	event := func() store.AuditEvent { events++; return newEvent(events) }
	chain := func(t *testing.T) {
		t.Helper()
		list, err := s.ListAudit(ctx, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		checkChain(t, list, events)
	}
	// withData creates u with an address, security answers and a consent.
	withData := func(t *testing.T, u store.User) {
		t.Helper()
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateAddress(ctx, newAddress(u.ID, base), 20, event(), seal); err != nil {
			t.Fatal(err)
		}
		if err := s.PutSecurityAnswers(ctx, store.SecurityAnswers{UserID: u.ID, Questions: [3]string{"q01", "q02", "q03"},
			Hashes: [3]string{"$a", "$b", "$c"}, SetAt: base}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutConsent(ctx, store.Consent{UserID: u.ID, ClientID: c.ID, Scopes: []string{"openid"}, CreatedAt: base, UpdatedAt: base}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateUpstreamLink(ctx, newLink(u.ID, "open-"+u.ID)); err != nil {
			t.Fatal(err)
		}
	}
	// kept says whether u's records (address, answers, consent) are there.
	kept := func(t *testing.T, userID string) (addresses int, answers, consent bool) {
		t.Helper()
		list, err := s.ListAddresses(ctx, userID)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.GetSecurityAnswers(ctx, userID)
		answers = err == nil
		_, err = s.GetConsent(ctx, userID, c.ID)
		consent = err == nil
		return len(list), answers, consent
	}

	zhang, li := newUser(), newUser()
	withData(t, zhang)
	withData(t, li)
	closedAt := base.Add(time.Hour)
	released := closedAt.Add(30 * 24 * time.Hour)

	t.Run("a refused audit event closes nothing", func(t *testing.T) {
		_, err := s.CloseUser(ctx, zhang.ID, closedAt, released, newEvent(events+1), func(store.AuditEvent) []byte { return []byte("short") })
		if err == nil {
			t.Fatal("CloseUser with a refused seal: no error")
		}
		got, err := s.GetUser(ctx, zhang.ID)
		if err != nil {
			t.Fatal(err)
		}
		equalUser(t, "after the failed closure", got, stored(zhang))
		if n, a, cs := kept(t, zhang.ID); n != 1 || !a || !cs {
			t.Errorf("after the failed closure: %d addresses, answers %v, consent %v; want all kept", n, a, cs)
		}
		_, err = s.GetClosedIdentifier(ctx, store.ClosedPhone, zhang.Phone.Index)
		wantNotFound(t, "closed phone after the failed closure", err)
		chain(t)
	})

	t.Run("close", func(t *testing.T) {
		old, err := s.CloseUser(ctx, zhang.ID, closedAt, released, event(), seal)
		if err != nil {
			t.Fatalf("CloseUser: %v", err)
		}
		equalUser(t, "CloseUser's answer (the account as it was)", old, stored(zhang))
		chain(t)

		got, err := s.GetUser(ctx, zhang.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := store.User{ID: zhang.ID, LoginName: zhang.LoginName, LoginNameKey: zhang.LoginNameKey,
			Status: store.UserClosed, CreatedAt: zhang.CreatedAt.Truncate(time.Millisecond), UpdatedAt: closedAt.Truncate(time.Millisecond),
			ClosedAt: closedAt.Truncate(time.Millisecond)}
		if !got.ClosedAt.Equal(want.ClosedAt) {
			t.Errorf("ClosedAt = %v, want %v", got.ClosedAt, want.ClosedAt)
		}
		got.ClosedAt, want.ClosedAt = time.Time{}, time.Time{}
		equalUser(t, "the closed account", got, want)

		if byName, err := s.GetUserByLoginName(ctx, zhang.LoginNameKey); err != nil || byName.ID != zhang.ID {
			t.Errorf("by login name: %v, %v; want the closed account: its name stays reserved", byName.ID, err)
		}
		_, err = s.GetUserByPhone(ctx, zhang.Phone.Index)
		wantNotFound(t, "by the old phone", err)
		_, err = s.GetUserByEmail(ctx, zhang.Email.Index)
		wantNotFound(t, "by the old email", err)
		_, err = s.GetUserByVerifiedIDNumber(ctx, zhang.IDNumber.Index)
		wantNotFound(t, "by the old ID number", err)
		if n, a, cs := kept(t, zhang.ID); n != 0 || a || cs {
			t.Errorf("closed: %d addresses, answers %v, consent %v; want none", n, a, cs)
		}
		_, err = s.GetUpstreamLink(ctx, "alipay", "2021000000000001", "open-"+zhang.ID)
		wantNotFound(t, "the Alipay link of the closed account", err)
		if n, a, cs := kept(t, li.ID); n != 1 || !a || !cs {
			t.Errorf("another account: %d addresses, answers %v, consent %v; want all kept", n, a, cs)
		}
		for _, kind := range []string{store.ClosedPhone, store.ClosedIDNumber} {
			index := zhang.Phone.Index
			if kind == store.ClosedIDNumber {
				index = zhang.IDNumber.Index
			}
			ci, err := s.GetClosedIdentifier(ctx, kind, index)
			if err != nil || !ci.ReleasedAt.Equal(released.Truncate(time.Millisecond)) || ci.ReleasedAt.Location() != time.UTC {
				t.Errorf("closed %s = %+v, %v; want released at %v", kind, ci, err, released)
			}
		}
	})

	t.Run("a closed account stays closed", func(t *testing.T) {
		_, err := s.CloseUser(ctx, zhang.ID, closedAt, released, newEvent(events+1), seal)
		wantNotFound(t, "CloseUser again", err)
		_, err = s.CloseUser(ctx, randID(), closedAt, released, newEvent(events+1), seal)
		wantNotFound(t, "CloseUser of nobody", err)
		_, err = s.UpdateUser(ctx, zhang.ID, func(u store.User) (store.User, error) {
			u.Status = store.UserActive
			return u, nil
		})
		wantNotFound(t, "UpdateUser of a closed account", err)
		_, err = s.UpdateUser(ctx, li.ID, func(u store.User) (store.User, error) {
			u.Status = store.UserClosed
			return u, nil
		})
		if err == nil {
			t.Error("UpdateUser closed an account: only CloseUser may")
		}
		chain(t)
	})

	t.Run("the phone is blocked until its release", func(t *testing.T) {
		u := newUser()
		u.Phone.Index = zhang.Phone.Index
		u.CreatedAt, u.UpdatedAt = released.Add(-time.Millisecond), released.Add(-time.Millisecond)
		wantConflict(t, "CreateUser before the release", s.CreateUser(ctx, u), "closed_phone")
		_, err := s.GetUser(ctx, u.ID)
		wantNotFound(t, "the refused account", err)

		_, err = s.UpdateUser(ctx, li.ID, func(v store.User) (store.User, error) {
			v.Phone = store.Sealed{Cipher: randBytes(40), Index: zhang.Phone.Index}
			v.UpdatedAt = released.Add(-time.Millisecond)
			return v, nil
		})
		wantConflict(t, "UpdateUser to the phone before the release", err, "closed_phone")
		if got, _ := s.GetUser(ctx, li.ID); string(got.Phone.Index) != string(li.Phone.Index) {
			t.Error("the refused phone change was stored")
		}

		u.CreatedAt, u.UpdatedAt = released, released
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser at the release: %v", err)
		}
	})

	t.Run("the verified ID number is blocked until its release", func(t *testing.T) {
		before := released.Add(-time.Second)
		u := newUser()
		u.IDNumber.Index, u.RealnameLevel = zhang.IDNumber.Index, 0
		u.CreatedAt, u.UpdatedAt = before, before
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser with the number unverified: %v (an unverified number blocks nothing)", err)
		}
		_, err := s.UpdateUser(ctx, u.ID, func(v store.User) (store.User, error) {
			v.RealnameLevel, v.UpdatedAt = 1, before
			return v, nil
		})
		wantConflict(t, "verifying the number before the release", err, "closed_id_number")
		v := newUser()
		v.IDNumber.Index = zhang.IDNumber.Index
		v.CreatedAt, v.UpdatedAt = before, before
		wantConflict(t, "CreateUser verified before the release", s.CreateUser(ctx, v), "closed_id_number")

		if _, err := s.UpdateUser(ctx, u.ID, func(v store.User) (store.User, error) {
			v.RealnameLevel, v.UpdatedAt = 1, released
			return v, nil
		}); err != nil {
			t.Fatalf("verifying the number at the release: %v", err)
		}
	})

	t.Run("an unverified ID number is not kept", func(t *testing.T) {
		u := newUser()
		u.RealnameLevel = 0
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CloseUser(ctx, u.ID, closedAt, released, event(), seal); err != nil {
			t.Fatal(err)
		}
		_, err := s.GetClosedIdentifier(ctx, store.ClosedIDNumber, u.IDNumber.Index)
		wantNotFound(t, "closed unverified ID number", err)
	})

	t.Run("a later closure of the number moves its release later", func(t *testing.T) {
		// The phone zhang gave up, taken again at its release, given up
		// again by its new holder.
		holder, err := s.GetUserByPhone(ctx, zhang.Phone.Index)
		if err != nil {
			t.Fatal(err)
		}
		later := released.Add(40 * 24 * time.Hour)
		if _, err := s.CloseUser(ctx, holder.ID, released.Add(10*24*time.Hour), later, event(), seal); err != nil {
			t.Fatal(err)
		}
		ci, err := s.GetClosedIdentifier(ctx, store.ClosedPhone, zhang.Phone.Index)
		if err != nil || !ci.ReleasedAt.Equal(later.Truncate(time.Millisecond)) {
			t.Errorf("closed phone = %+v, %v; want released at %v", ci, err, later)
		}
	})

	t.Run("released identifiers are forgotten", func(t *testing.T) {
		n, err := s.DeleteReleasedIdentifiers(ctx, released)
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 { // zhang's ID number, and the unverified account's phone
			t.Errorf("DeleteReleasedIdentifiers = %d, want 2", n)
		}
		_, err = s.GetClosedIdentifier(ctx, store.ClosedIDNumber, zhang.IDNumber.Index)
		wantNotFound(t, "released ID number", err)
		if _, err := s.GetClosedIdentifier(ctx, store.ClosedPhone, zhang.Phone.Index); err != nil {
			t.Errorf("the phone released later was forgotten: %v", err)
		}
	})
}
