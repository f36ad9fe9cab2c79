package sqlstore_test

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"unid/internal/store"
	"unid/internal/store/postgres"
	"unid/internal/store/postgres/pgtest"
	"unid/internal/store/sqlite"
	"unid/internal/store/sqlstore"
)

// migrationsBefore returns the migrations of d numbered below version.
func migrationsBefore(t *testing.T, d sqlstore.Dialect, version string) fs.FS {
	t.Helper()
	out := fstest.MapFS{}
	names, err := fs.Glob(d.Migrations, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if n >= version {
			continue
		}
		b, err := fs.ReadFile(d.Migrations, n)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = &fstest.MapFile{Data: b}
	}
	return out
}

// TestMigration0005MovesPendingCASLogins upgrades a database holding a CAS
// sign-in waiting for the login page as a challenge: after the upgrade it
// is a pending flow that /cas/login/continue can finish, and the other
// challenges are untouched.
func TestMigration0005MovesPendingCASLogins(t *testing.T) {
	backends := []struct {
		name string
		open func(t *testing.T) (*sqlstore.Store, sqlstore.Dialect)
	}{
		{"sqlite", func(t *testing.T) (*sqlstore.Store, sqlstore.Dialect) {
			s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "unid.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s.Store, sqlite.Dialect()
		}},
		{"postgres", func(t *testing.T) (*sqlstore.Store, sqlstore.Dialect) {
			return pgtest.Open(t, pgtest.NewDatabase(t)).Store, postgres.Dialect()
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s, d := b.open(t)
			d.Migrations = migrationsBefore(t, d, "0005")
			old := sqlstore.New(s.DB(), s.WriteDB(), d) // the pools stay s's to close
			if _, to, err := old.Migrate(ctx); err != nil || to != 4 {
				t.Fatalf("Migrate to 4 = %d, %v", to, err)
			}
			at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
			pending := store.Challenge{Kind: "cas_login", ID: strings.Repeat("A", 26),
				Secret: []byte(`{"service":"https://hall.example/","renew":true}`), CreatedAt: at, ExpiresAt: at.Add(15 * time.Minute)}
			captcha := store.Challenge{Kind: store.ChallengeCaptcha, ID: strings.Repeat("A", 26),
				Secret: []byte("123456"), CreatedAt: at, ExpiresAt: at.Add(time.Minute)}
			for _, c := range []store.Challenge{pending, captcha} {
				if err := old.PutChallenge(ctx, c); err != nil {
					t.Fatal(err)
				}
			}

			if from, to, err := s.Migrate(ctx); err != nil || from != 4 || to < 5 {
				t.Fatalf("Migrate = %d → %d, %v; want 4 → latest", from, to, err)
			}
			f, err := s.GetFlow(ctx, pending.ID)
			if err != nil {
				t.Fatalf("GetFlow of the moved sign-in: %v", err)
			}
			want := store.Flow{ID: pending.ID, Kind: "cas_login", State: "pending", Data: pending.Secret,
				IssuedAt: at, ExpiresAt: pending.ExpiresAt, UpdatedAt: at}
			if f.ID != want.ID || f.Kind != want.Kind || f.State != want.State || f.Subject != "" ||
				string(f.Data) != string(want.Data) || !f.IssuedAt.Equal(at) || !f.ExpiresAt.Equal(want.ExpiresAt) || !f.UpdatedAt.Equal(at) {
				t.Errorf("moved sign-in = %+v, want %+v", f, want)
			}
			if _, err := s.GetChallenge(ctx, "cas_login", pending.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the cas_login challenge is still there: %v", err)
			}
			if _, err := s.GetChallenge(ctx, captcha.Kind, captcha.ID); err != nil {
				t.Errorf("the captcha went with it: %v", err)
			}
		})
	}
}
