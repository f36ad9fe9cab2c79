package client_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/problem"
	"unid/internal/store"
)

// A registration is read once for many token requests, but a change made
// through an instance's registry holds at once on that instance, and on
// another instance over the same database within client.CacheFor.
func TestCachedClientsFollowChanges(t *testing.T) {
	ctx := context.Background()
	here, st := newRegistry(t)
	now := func() time.Time { return time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC) }
	there := client.New(st, mac, audit.New(st, now, slog.New(slog.DiscardHandler)), now)

	_, secret, err := here.Create(ctx, client.Spec{ID: "hall", Name: "网上办事大厅", Type: store.ClientOIDCConfidential, RedirectURIs: []string{"https://hall.example.gov.cn/cb"}}, ops)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*client.Registry{here, there} {
		if _, err := r.Authenticate(ctx, "hall", secret); err != nil {
			t.Fatalf("right secret: %v", err)
		}
	}

	if _, err := here.Disable(ctx, "hall", ops); err != nil {
		t.Fatal(err)
	}
	if _, err := here.Authenticate(ctx, "hall", secret); problem.As(err).Code != "invalid_client" {
		t.Fatalf("a disabled client authenticated on the instance that disabled it: %v", err)
	}
	if _, err := here.Active(ctx, "hall"); problem.As(err).Code != "client_disabled" {
		t.Fatalf("Active after Disable: %v", err)
	}
	if _, err := here.Enable(ctx, "hall", ops); err != nil {
		t.Fatal(err)
	}
	rotated, err := here.RotateSecret(ctx, "hall", ops)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := here.Authenticate(ctx, "hall", secret); err == nil {
		t.Fatal("the old secret works after rotation on the same instance")
	}

	// The other instance read the registration before the change; it
	// reads it again within CacheFor.
	deadline := time.Now().Add(client.CacheFor + time.Second)
	for {
		_, oldErr := there.Authenticate(ctx, "hall", secret)
		_, newErr := there.Authenticate(ctx, "hall", rotated)
		if oldErr != nil && newErr == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("another instance still takes the old secret (%v) or refuses the new one (%v) after %v", oldErr, newErr, client.CacheFor)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
