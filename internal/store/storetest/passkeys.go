package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"unid/internal/store"
)

func testOperatorPasskeys(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)
	ops := createOperators(t, s, "wang", "li")
	wang, li := ops[0], ops[1]
	if list, err := s.ListOperatorPasskeys(ctx, wang.ID); err != nil || len(list) != 0 {
		t.Fatalf("ListOperatorPasskeys with none = %v, %v", list, err)
	}
	newer := store.OperatorPasskey{CredentialID: randBytes(32), OperatorID: wang.ID, Name: "办公电脑",
		Credential: []byte(`{"id":"b","flags":{"backupEligible":true}}`), CreatedAt: base.Add(time.Minute)}
	older := store.OperatorPasskey{CredentialID: randBytes(16), OperatorID: wang.ID, Name: "YubiKey 5",
		Credential: []byte(`{"id":"a"}`), CreatedAt: base}
	for _, p := range []store.OperatorPasskey{newer, older} {
		if err := s.CreateOperatorPasskey(ctx, p); err != nil {
			t.Fatalf("CreateOperatorPasskey(%s): %v", p.Name, err)
		}
	}
	taken := newer
	taken.OperatorID, taken.Name = li.ID, "copy"
	wantConflict(t, "CreateOperatorPasskey with a credential ID in use", s.CreateOperatorPasskey(ctx, taken), "credential_id")
	orphan := store.OperatorPasskey{CredentialID: randBytes(32), OperatorID: "nobody", Credential: []byte(`{}`), CreatedAt: base}
	if err := s.CreateOperatorPasskey(ctx, orphan); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateOperatorPasskey for a missing operator = %v, want ErrNotFound", err)
	}

	list, err := s.ListOperatorPasskeys(ctx, wang.ID)
	if err != nil || len(list) != 2 || list[0].Name != "YubiKey 5" || list[1].Name != "办公电脑" {
		t.Fatalf("ListOperatorPasskeys = %+v, %v; want oldest first", list, err)
	}
	if !list[0].LastUsedAt.IsZero() || !list[1].CreatedAt.Equal(newer.CreatedAt) || string(list[1].Credential) != string(newer.Credential) {
		t.Errorf("listed passkey = %+v", list[1])
	}
	if other, err := s.ListOperatorPasskeys(ctx, li.ID); err != nil || len(other) != 0 {
		t.Errorf("another operator's list = %v, %v", other, err)
	}

	at := base.Add(time.Hour)
	if err := s.UsedOperatorPasskey(ctx, newer.CredentialID, []byte(`{"id":"b","authenticator":{"signCount":7}}`), at); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetOperatorPasskey(ctx, newer.CredentialID)
	if err != nil || !got.LastUsedAt.Equal(at) || string(got.Credential) != `{"id":"b","authenticator":{"signCount":7}}` ||
		got.Name != "办公电脑" || got.OperatorID != wang.ID {
		t.Errorf("after UsedOperatorPasskey: %+v, %v", got, err)
	}
	if err := s.UsedOperatorPasskey(ctx, randBytes(32), []byte(`{}`), at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UsedOperatorPasskey of a missing passkey = %v, want ErrNotFound", err)
	}
	if _, err := s.GetOperatorPasskey(ctx, randBytes(32)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetOperatorPasskey of a missing passkey = %v, want ErrNotFound", err)
	}

	if err := s.DeleteOperatorPasskey(ctx, li.ID, older.CredentialID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteOperatorPasskey of another operator's passkey = %v, want ErrNotFound", err)
	}
	if _, err := s.GetOperatorPasskey(ctx, older.CredentialID); err != nil {
		t.Errorf("another operator's delete removed the passkey: %v", err)
	}
	if err := s.DeleteOperatorPasskey(ctx, wang.ID, older.CredentialID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteOperatorPasskey(ctx, wang.ID, older.CredentialID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteOperatorPasskey twice = %v, want ErrNotFound", err)
	}
	if list, _ := s.ListOperatorPasskeys(ctx, wang.ID); len(list) != 1 || list[0].Name != "办公电脑" {
		t.Errorf("after delete: %+v", list)
	}
}
