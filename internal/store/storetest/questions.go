package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"unid/internal/store"
)

func testSecurityQuestions(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)
	u := newUser()
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	first := store.SecurityAnswers{
		UserID: u.ID, Questions: [3]string{"q01", "q02", "q03"},
		Hashes: [3]string{"$argon2id$a", "$argon2id$b", "$argon2id$c"},
		SetAt:  base.Add(1500 * time.Microsecond), // sub-millisecond part is dropped
	}

	t.Run("none yet", func(t *testing.T) {
		_, err := s.GetSecurityAnswers(ctx, u.ID)
		wantNotFound(t, "GetSecurityAnswers", err)
	})
	t.Run("put and get", func(t *testing.T) {
		if err := s.PutSecurityAnswers(ctx, first); err != nil {
			t.Fatalf("PutSecurityAnswers: %v", err)
		}
		got, err := s.GetSecurityAnswers(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := first
		want.SetAt = first.SetAt.Truncate(time.Millisecond)
		if !got.SetAt.Equal(want.SetAt) || got.SetAt.Location() != time.UTC {
			t.Errorf("SetAt = %v, want %v in UTC", got.SetAt, want.SetAt)
		}
		got.SetAt, want.SetAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
	t.Run("put again replaces", func(t *testing.T) {
		second := store.SecurityAnswers{UserID: u.ID, Questions: [3]string{"q07", "q05", "q09"},
			Hashes: [3]string{"$argon2id$x", "$argon2id$y", "$argon2id$z"}, SetAt: base.Add(time.Hour)}
		if err := s.PutSecurityAnswers(ctx, second); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetSecurityAnswers(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Questions != second.Questions || got.Hashes != second.Hashes || !got.SetAt.Equal(second.SetAt) {
			t.Errorf("got %+v, want %+v", got, second)
		}
	})
	t.Run("unknown account", func(t *testing.T) {
		a := first
		a.UserID = randID()
		wantNotFound(t, "PutSecurityAnswers", s.PutSecurityAnswers(ctx, a))
		if _, err := s.GetSecurityAnswers(ctx, a.UserID); err == nil {
			t.Error("a set was stored for an account that does not exist")
		}
	})
	t.Run("delete", func(t *testing.T) {
		if err := s.DeleteSecurityAnswers(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		_, err := s.GetSecurityAnswers(ctx, u.ID)
		wantNotFound(t, "GetSecurityAnswers after delete", err)
		wantNotFound(t, "DeleteSecurityAnswers again", s.DeleteSecurityAnswers(ctx, u.ID))
	})
}
