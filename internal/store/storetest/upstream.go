package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"unid/internal/store"
)

func newLink(userID, subject string) store.UpstreamLink {
	return store.UpstreamLink{
		Provider: "alipay", App: "2021000000000001", Subject: subject, UserID: userID,
		AlipayUserID: "2088" + subject[:8], Display: "张*", Certified: true, IDNumberIndex: randBytes(32),
		LinkedAt: base.Add(time.Minute), LastUsedAt: base.Add(time.Minute),
	}
}

func testUpstreamLinks(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)
	zhang, li := newUser(), newUser()
	for _, u := range []store.User{zhang, li} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	link := newLink(zhang.ID, "open-"+randID())

	t.Run("create, get and list", func(t *testing.T) {
		if err := s.CreateUpstreamLink(ctx, link); err != nil {
			t.Fatalf("CreateUpstreamLink: %v", err)
		}
		got, err := s.GetUpstreamLink(ctx, link.Provider, link.App, link.Subject)
		if err != nil || !reflect.DeepEqual(got, link) {
			t.Fatalf("GetUpstreamLink = %+v, %v; want %+v", got, err, link)
		}
		_, err = s.GetUpstreamLink(ctx, link.Provider, "2021000000000002", link.Subject)
		wantNotFound(t, "the same subject at another app", err)
		list, err := s.ListUpstreamLinks(ctx, zhang.ID)
		if err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], link) {
			t.Fatalf("ListUpstreamLinks = %+v, %v", list, err)
		}
		if list, _ := s.ListUpstreamLinks(ctx, li.ID); len(list) != 0 {
			t.Errorf("another account lists %+v", list)
		}
	})

	t.Run("an identity links to one account, an account to one identity per provider", func(t *testing.T) {
		again := link
		again.UserID = li.ID
		wantConflict(t, "the identity linked to a second account", s.CreateUpstreamLink(ctx, again), "upstream_identity")
		second := newLink(zhang.ID, "open-"+randID())
		wantConflict(t, "a second Alipay identity of one account", s.CreateUpstreamLink(ctx, second), "upstream_provider")
		other := newLink(zhang.ID, "sub-"+randID())
		other.Provider, other.App = "gov", "https://login.example.gov.cn"
		if err := s.CreateUpstreamLink(ctx, other); err != nil {
			t.Fatalf("a link of another provider: %v", err)
		}
		wantNotFound(t, "a link of a missing account", s.CreateUpstreamLink(ctx, newLink(randID(), "open-"+randID())))
	})

	t.Run("use", func(t *testing.T) {
		used := link
		used.LastUsedAt, used.AlipayUserID, used.Display, used.Certified, used.IDNumberIndex = base.Add(time.Hour), "2088000000000009", "李*", false, nil
		if err := s.UseUpstreamLink(ctx, used); err != nil {
			t.Fatalf("UseUpstreamLink: %v", err)
		}
		got, _ := s.GetUpstreamLink(ctx, link.Provider, link.App, link.Subject)
		if !reflect.DeepEqual(got, used) {
			t.Errorf("after use %+v, want %+v", got, used)
		}
		wantNotFound(t, "use of a missing link", s.UseUpstreamLink(ctx, newLink(zhang.ID, "open-"+randID())))
	})

	t.Run("create a user with a link, all or nothing", func(t *testing.T) {
		u := newUser()
		u.PasswordHash = ""
		l := newLink("", "open-"+randID())
		if err := s.CreateUserWithLink(ctx, u, l); err != nil {
			t.Fatalf("CreateUserWithLink: %v", err)
		}
		if got, err := s.GetUpstreamLink(ctx, l.Provider, l.App, l.Subject); err != nil || got.UserID != u.ID {
			t.Fatalf("link of the new user = %+v, %v", got, err)
		}
		taken := newUser()
		err := s.CreateUserWithLink(ctx, taken, l)
		wantConflict(t, "a new account with a linked identity", err, "upstream_identity")
		_, err = s.GetUser(ctx, taken.ID)
		wantNotFound(t, "the account of a refused link", err)
	})

	t.Run("the only way in is not removed", func(t *testing.T) {
		u := newUser()
		u.PasswordHash = ""
		l := newLink("", "open-"+randID())
		if err := s.CreateUserWithLink(ctx, u, l); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteUpstreamLink(ctx, u.ID, "alipay"); !errors.Is(err, store.ErrLastWayIn) {
			t.Fatalf("deleting the only way in: %v, want ErrLastWayIn", err)
		}
		if _, err := s.GetUpstreamLink(ctx, l.Provider, l.App, l.Subject); err != nil {
			t.Fatalf("the refused deletion removed the link: %v", err)
		}
		wantNotFound(t, "deleting a missing link", s.DeleteUpstreamLink(ctx, u.ID, "gov"))
		// zhang has a password: both links may go.
		for _, p := range []string{"alipay", "gov"} {
			if err := s.DeleteUpstreamLink(ctx, zhang.ID, p); err != nil {
				t.Fatalf("DeleteUpstreamLink %s: %v", p, err)
			}
		}
		if list, _ := s.ListUpstreamLinks(ctx, zhang.ID); len(list) != 0 {
			t.Errorf("left %+v", list)
		}
	})
}
