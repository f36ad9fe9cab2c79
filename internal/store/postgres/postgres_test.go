package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"unid/internal/config"
	"unid/internal/store"
	"unid/internal/store/postgres"
	"unid/internal/store/postgres/pgtest"
	"unid/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return pgtest.New(t) })
}

// TestConformanceExecMode runs the suite the way unid talks to PgBouncer in
// transaction mode: no prepared statements.
func TestConformanceExecMode(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		url := pgtest.NewDatabase(t)
		sep := "?"
		if strings.Contains(url, "?") {
			sep = "&"
		}
		s := pgtest.Open(t, url+sep+"default_query_exec_mode=exec")
		if _, _, err := s.Migrate(context.Background()); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		return s
	})
}

// TestWithdrawalRace: a consent withdrawal meets a grant redeemed while it
// runs, with another connection stalling it in its revocation.
func TestWithdrawalRace(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := pgtest.Open(t, url)
	if _, _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	storetest.RunWithdrawalRace(t, s, func(grantID string) (func(), func()) {
		// Not t's context: the release at t's end must still commit.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := c.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var once sync.Once
		release := func() {
			once.Do(func() {
				if err := tx.Commit(ctx); err != nil {
					t.Errorf("let the withdrawal go: %v", err)
				}
				c.Close(ctx)
				cancel()
			})
		}
		t.Cleanup(release)
		if _, err := tx.Exec(ctx, `SELECT 1 FROM oauth_grants WHERE id = $1 FOR UPDATE`, grantID); err != nil {
			t.Fatal(err)
		}
		held := func() {
			// Until another backend waits for a lock this one holds: the
			// withdrawal's update of the stalled grant.
			for range 400 {
				var n int
				err := c.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()
					AND pg_backend_pid() = ANY (pg_blocking_pids(pid))`).Scan(&n)
				if err != nil {
					t.Fatal(err)
				}
				if n > 0 {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Fatal("the withdrawal never waited on the stalled grant")
		}
		return held, release
	})
}

// TestRevocationMeetsOneStatement: a revocation comes to a code whose
// one-statement redemption is held, by a trigger waiting on a lock this
// test holds, between its update of the request and its grant.
func TestRevocationMeetsOneStatement(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := pgtest.Open(t, url)
	if _, _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	storetest.RunRevocationMeetsOneStatement(t, s, func() (func(int), func()) {
		// Not t's context: the release at t's end must still reach the server.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			`SELECT pg_advisory_lock(4242)`,
			`CREATE FUNCTION hold_grant() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN PERFORM pg_advisory_lock_shared(4242); PERFORM pg_advisory_unlock_shared(4242); RETURN NEW; END $$`,
			`CREATE TRIGGER hold_grant BEFORE INSERT ON oauth_grants FOR EACH ROW EXECUTE FUNCTION hold_grant()`,
		} {
			if _, err := c.Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		var once sync.Once
		release := func() {
			once.Do(func() {
				if _, err := c.Exec(ctx, `SELECT pg_advisory_unlock(4242)`); err != nil {
					t.Errorf("let the redemption go: %v", err)
				}
				c.Close(ctx)
				cancel()
			})
		}
		t.Cleanup(release)
		waiting := func(n int) {
			t.Helper()
			for range 400 {
				var got int
				if err := c.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
					WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got >= n {
					return
				}
				time.Sleep(25 * time.Millisecond)
			}
			t.Fatalf("fewer than %d connections ever waited on a lock", n)
		}
		return waiting, release
	})
}

func TestWithdrawalAllOrNothing(t *testing.T) {
	s := pgtest.Open(t, pgtest.NewDatabase(t))
	if _, _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	exec := func(q string) {
		t.Helper()
		if _, err := s.DB().ExecContext(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	storetest.RunWithdrawalAllOrNothing(t, s, func() func() {
		exec(`CREATE FUNCTION refuse_revocation() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'revocation refused'; END $$`)
		exec(`CREATE TRIGGER refuse_revocation BEFORE UPDATE ON oauth_grants FOR EACH ROW EXECUTE FUNCTION refuse_revocation()`)
		return func() {
			exec(`DROP TRIGGER refuse_revocation ON oauth_grants`)
			exec(`DROP FUNCTION refuse_revocation()`)
		}
	})
}

// TestConnectionsAtMost: an instance never opens more connections than
// it was given, however many requests want one at once, and the requests
// take turns on them; so N instances fit a server's max_connections.
func TestConnectionsAtMost(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	const most, queries, sleep = 3, 9, 200 * time.Millisecond
	s, err := postgres.Open(ctx, url, most)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	watch := pgtest.Open(t, url).DB()
	errs := make(chan error, queries)
	start := time.Now()
	for range queries {
		go func() {
			_, err := s.DB().ExecContext(ctx, `SELECT pg_sleep($1)`, sleep.Seconds())
			errs <- err
		}()
	}
	peak, answered := 0, 0
	for answered < queries {
		select {
		case err := <-errs:
			if err != nil {
				t.Errorf("query: %v", err)
			}
			answered++
			continue
		case <-time.After(10 * time.Millisecond):
		}
		var n int
		if err := watch.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep%' AND pid <> pg_backend_pid()`).Scan(&n); err != nil {
			t.Fatalf("counting the connections: %v", err)
		}
		peak = max(peak, n)
	}
	// Three rounds of three: the queries waited for one another.
	if took := time.Since(start); peak != most || took < queries/most*sleep {
		t.Errorf("%d connections opened, all answered in %v; want %d, taken in turns", peak, took, most)
	}
	if got := s.DB().Stats().MaxOpenConnections; got != most {
		t.Errorf("the pool allows %d connections, want %d", got, most)
	}
	def, err := postgres.Open(ctx, url, 0)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer def.Close()
	if got := def.DB().Stats().MaxOpenConnections; got != postgres.DefaultMaxConns || got != config.Default().DatabaseMaxConns {
		t.Errorf("by default the pool allows %d connections, want %d, the configuration's default", got, postgres.DefaultMaxConns)
	}
}

func TestMigrate(t *testing.T) {
	s, err := postgres.Open(context.Background(), pgtest.NewDatabase(t), 0)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	storetest.RunMigrate(t, s)
}

// TestConcurrentMigrate starts several instances on one empty database at
// once, as a rolling deploy does; the advisory lock lets one migrate.
func TestConcurrentMigrate(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	const instances = 4
	errs := make(chan error, instances)
	for range instances {
		go func() {
			s, err := postgres.Open(ctx, url, 0)
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			_, _, err = s.Migrate(ctx)
			errs <- err
		}()
	}
	for range instances {
		if err := <-errs; err != nil {
			t.Errorf("Migrate: %v", err)
		}
	}
	s := pgtest.Open(t, url)
	if from, to, err := s.Migrate(ctx); err != nil || from != to || from == 0 {
		t.Errorf("Migrate after the race = %d → %d, %v; want latest → latest", from, to, err)
	}
}

func TestAuditIsAppendOnly(t *testing.T) {
	s := pgtest.New(t)
	ctx := context.Background()
	if _, err := s.AppendAudit(ctx, store.AuditEvent{Action: "test"}, func(store.AuditEvent) []byte {
		return make([]byte, 32)
	}); err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
	for _, q := range []string{`UPDATE audit_events SET actor = 'x'`, `DELETE FROM audit_events`} {
		if _, err := s.WriteDB().ExecContext(ctx, q); err == nil {
			t.Errorf("%s: no error", q)
		}
	}
}
