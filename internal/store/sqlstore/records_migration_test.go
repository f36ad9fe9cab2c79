package sqlstore_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"unid/internal/store"
	"unid/internal/store/postgres"
	"unid/internal/store/postgres/pgtest"
	"unid/internal/store/sqlite"
	"unid/internal/store/sqlstore"
)

// TestMigration0018MovesMessages upgrades a database holding one of unid's
// messages and a sign-in to a client: after the upgrade the message is a
// record of kind message that both the messages and the records reads
// find, read state kept, and the user is known to the client.
func TestMigration0018MovesMessages(t *testing.T) {
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
			d.Migrations = migrationsBefore(t, d, "0018")
			old := sqlstore.New(s.DB(), s.WriteDB(), d) // the pools stay s's to close
			if _, to, err := old.Migrate(ctx); err != nil || to != 17 {
				t.Fatalf("Migrate to 17 = %d, %v", to, err)
			}
			at := time.Date(2030, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
			u := store.User{ID: "u-zhang", LoginName: "zhang", LoginNameKey: "zhang", Status: store.UserActive, CreatedAt: at, UpdatedAt: at}
			if err := old.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{`INSERT INTO messages (id, user_id, event, params, link, created_at, read_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
					[]any{"m-read", u.ID, "realname.approved", `{"level":"2"}`, "/settings/realname", at.UnixMilli(), at.Add(time.Hour).UnixMilli()}},
				{`INSERT INTO messages (id, user_id, event, params, link, created_at, read_at) VALUES ($1, $2, $3, $4, $5, $6, NULL)`,
					[]any{"m-new", u.ID, "realname.moved_away", `{}`, "", at.Add(time.Minute).UnixMilli()}},
				{`INSERT INTO session_clients (sid, client_id, ref, protocol, url, user_id, created_at) VALUES ($1, $2, '', 'oidc', '', $3, $4)`,
					[]any{"s1", "hall", u.ID, at.UnixMilli()}},
				{`INSERT INTO session_clients (sid, client_id, ref, protocol, url, user_id, created_at) VALUES ($1, $2, '', 'oidc', '', $3, $4)`,
					[]any{"s2", "hall", "u-gone", at.UnixMilli()}},
				// A system deleted since: its sign-ins give it no one.
				{`INSERT INTO session_clients (sid, client_id, ref, protocol, url, user_id, created_at) VALUES ($1, $2, '', 'oidc', '', $3, $4)`,
					[]any{"s3", "retired", u.ID, at.UnixMilli()}},
				{`INSERT INTO clients (id, name, type, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)`,
					[]any{"hall", "政务服务大厅", "oidc_confidential", at.UnixMilli()}},
			} {
				if _, err := s.WriteDB().ExecContext(ctx, q.sql, q.args...); err != nil {
					t.Fatalf("%s: %v", q.sql, err)
				}
			}

			if from, to, err := s.Migrate(ctx); err != nil || from != 17 || to < 18 {
				t.Fatalf("Migrate = %d → %d, %v; want 17 → latest", from, to, err)
			}
			recs, err := s.ListRecords(ctx, store.RecordQuery{Kind: store.RecordMessage, UserID: u.ID, ClientID: "-", Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			want := []store.Record{
				{ID: "m-new", Kind: store.RecordMessage, UserID: u.ID, ExternalID: "m-new", Event: "realname.moved_away",
					SubmittedAt: at.Add(time.Minute), UpdatedAt: at.Add(time.Minute), CreatedAt: at.Add(time.Minute)},
				{ID: "m-read", Kind: store.RecordMessage, UserID: u.ID, ExternalID: "m-read", Event: "realname.approved",
					Params: map[string]string{"level": "2"}, Link: "/settings/realname",
					SubmittedAt: at, UpdatedAt: at, CreatedAt: at, ReadAt: at.Add(time.Hour)},
			}
			if !reflect.DeepEqual(recs, want) {
				t.Errorf("the messages of before as records:\n got %+v\nwant %+v", recs, want)
			}
			if n, err := s.CountUnreadRecords(ctx, u.ID); err != nil || !reflect.DeepEqual(n, map[store.RecordKind]int{store.RecordMessage: 1}) {
				t.Errorf("CountUnreadRecords = %v, %v", n, err)
			}
			known, err := s.KnownUsers(ctx, "hall", []string{u.ID, "u-gone"})
			if err != nil || !reflect.DeepEqual(known, map[string]bool{u.ID: true}) {
				t.Errorf("KnownUsers after the upgrade = %v, %v", known, err)
			}
			if known, err := s.KnownUsers(ctx, "retired", []string{u.ID}); err != nil || len(known) != 0 {
				t.Errorf("KnownUsers of a deleted system after the upgrade = %v, %v", known, err)
			}
		})
	}
}
