package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"unid/internal/store"
)

func testOperatorTokens(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)
	ops := createOperators(t, s, "wang", "li")
	wang, li := ops[0], ops[1]
	if list, err := s.ListOperatorTokens(ctx, wang.ID); err != nil || len(list) != 0 {
		t.Fatalf("ListOperatorTokens with none = %v, %v", list, err)
	}
	newer := store.OperatorToken{ID: randID(), OperatorID: wang.ID, Name: "夜间导出", TokenHash: randBytes(32),
		CreatedAt: base.Add(time.Minute), ExpiresAt: base.Add(30 * 24 * time.Hour)}
	older := store.OperatorToken{ID: randID(), OperatorID: wang.ID, Name: "audit sync", TokenHash: randBytes(32),
		CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	for _, tok := range []store.OperatorToken{newer, older} {
		if err := s.CreateOperatorToken(ctx, tok); err != nil {
			t.Fatalf("CreateOperatorToken(%s): %v", tok.Name, err)
		}
	}
	sameHash := store.OperatorToken{ID: randID(), OperatorID: li.ID, Name: "copy", TokenHash: newer.TokenHash,
		CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	wantConflict(t, "CreateOperatorToken with a hash in use", s.CreateOperatorToken(ctx, sameHash), "token_hash")
	sameID := sameHash
	sameID.ID, sameID.TokenHash = newer.ID, randBytes(32)
	wantConflict(t, "CreateOperatorToken with an ID in use", s.CreateOperatorToken(ctx, sameID), "id")
	orphan := store.OperatorToken{ID: randID(), OperatorID: "nobody", Name: "x", TokenHash: randBytes(32), CreatedAt: base, ExpiresAt: base}
	if err := s.CreateOperatorToken(ctx, orphan); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateOperatorToken for a missing operator = %v, want ErrNotFound", err)
	}

	list, err := s.ListOperatorTokens(ctx, wang.ID)
	if err != nil || len(list) != 2 || list[0].Name != "audit sync" || list[1].Name != "夜间导出" {
		t.Fatalf("ListOperatorTokens = %+v, %v; want oldest first", list, err)
	}
	got := list[1]
	if got.ID != newer.ID || !bytes.Equal(got.TokenHash, newer.TokenHash) || !got.CreatedAt.Equal(newer.CreatedAt) ||
		!got.ExpiresAt.Equal(newer.ExpiresAt) || !got.LastUsedAt.IsZero() || got.OperatorID != wang.ID {
		t.Errorf("listed token = %+v, want %+v", got, newer)
	}
	if other, err := s.ListOperatorTokens(ctx, li.ID); err != nil || len(other) != 0 {
		t.Errorf("another operator's list = %v, %v", other, err)
	}

	byHash, err := s.GetOperatorTokenByHash(ctx, newer.TokenHash)
	if err != nil || byHash.ID != newer.ID || byHash.Name != newer.Name {
		t.Errorf("GetOperatorTokenByHash = %+v, %v", byHash, err)
	}
	wantNotFound(t, "GetOperatorTokenByHash of an unknown hash", func() error {
		_, err := s.GetOperatorTokenByHash(ctx, randBytes(32))
		return err
	}())
	wantNotFound(t, "GetOperatorToken of another operator's token", func() error {
		_, err := s.GetOperatorToken(ctx, li.ID, newer.ID)
		return err
	}())
	if got, err := s.GetOperatorToken(ctx, wang.ID, newer.ID); err != nil || got.Name != newer.Name {
		t.Errorf("GetOperatorToken = %+v, %v", got, err)
	}

	at := base.Add(2 * time.Hour)
	if err := s.TouchOperatorToken(ctx, newer.ID, at); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetOperatorTokenByHash(ctx, newer.TokenHash); err != nil || !got.LastUsedAt.Equal(at) {
		t.Errorf("after TouchOperatorToken: %+v, %v", got, err)
	}
	wantNotFound(t, "TouchOperatorToken of a missing token", s.TouchOperatorToken(ctx, randID(), at))

	wantNotFound(t, "DeleteOperatorToken of another operator's token", s.DeleteOperatorToken(ctx, li.ID, newer.ID))
	if _, err := s.GetOperatorTokenByHash(ctx, newer.TokenHash); err != nil {
		t.Errorf("another operator's delete removed the token: %v", err)
	}
	if err := s.DeleteOperatorToken(ctx, wang.ID, newer.ID); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, "DeleteOperatorToken twice", s.DeleteOperatorToken(ctx, wang.ID, newer.ID))
	wantNotFound(t, "GetOperatorTokenByHash of a deleted token", func() error {
		_, err := s.GetOperatorTokenByHash(ctx, newer.TokenHash)
		return err
	}())

	// Expiry: a token is removed once its end has passed, not before.
	if n, err := s.DeleteExpiredOperatorTokens(ctx, older.ExpiresAt); err != nil || n != 0 {
		t.Errorf("DeleteExpiredOperatorTokens at the end = %d, %v; want 0", n, err)
	}
	if n, err := s.DeleteExpiredOperatorTokens(ctx, older.ExpiresAt.Add(time.Millisecond)); err != nil || n != 1 {
		t.Errorf("DeleteExpiredOperatorTokens after the end = %d, %v; want 1", n, err)
	}
	if list, _ := s.ListOperatorTokens(ctx, wang.ID); len(list) != 0 {
		t.Errorf("after expiry: %+v", list)
	}
}
