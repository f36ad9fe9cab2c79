package storetest

import (
	"context"
	"testing"

	"unid/internal/store"
)

// RunMigrate checks that m, a backend opened on an empty database, migrates
// to its latest version, that migrating again changes nothing, and that the
// result is a working store.
func RunMigrate(t *testing.T, m interface {
	store.Migrator
	store.Store
}) {
	ctx := context.Background()
	from, to, err := m.Migrate(ctx)
	if err != nil {
		t.Fatalf("Migrate of an empty database: %v", err)
	}
	if from != 0 || to < 1 {
		t.Fatalf("Migrate of an empty database = %d → %d, want 0 → latest", from, to)
	}
	again, to2, err := m.Migrate(ctx)
	if err != nil || again != to || to2 != to {
		t.Fatalf("second Migrate = %d → %d, %v; want %d → %d", again, to2, err, to, to)
	}
	if n, err := m.CountUsers(ctx); err != nil || n != 0 {
		t.Fatalf("CountUsers after Migrate = %d, %v", n, err)
	}
	if err := m.CreateUser(ctx, newUser()); err != nil {
		t.Fatalf("CreateUser after Migrate: %v", err)
	}
}
