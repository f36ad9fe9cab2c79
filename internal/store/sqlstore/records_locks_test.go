package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"unid/internal/store"
	"unid/internal/store/postgres/pgtest"
	"unid/internal/store/sqlstore"
)

// The tests here are PostgreSQL's: its writers lock rows, and two that
// lock the same rows in opposite orders wait for each other until the
// server fails one of them. SQLite's writers take turns.

var lockAt = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// lockFixture is a database with one person and three of their cases
// from one system, stored in the order case-c, case-a, case-b, with IDs
// and times in that order too: the order in which a statement that reads the
// table, or an index on the person or on the time, meets them, against
// the order a write locks them in (a, b, c).
type lockFixture struct {
	s     *sqlstore.Store
	admin *sql.DB
	user  store.User
}

func newLockFixture(t *testing.T) lockFixture {
	t.Helper()
	ctx := context.Background()
	s := pgtest.New(t).Store
	u := store.User{ID: "u-li", LoginName: "li", LoginNameKey: "li", Status: store.UserActive, CreatedAt: lockAt, UpdatedAt: lockAt}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	for i, ext := range []string{"case-c", "case-a", "case-b"} {
		at := lockAt.Add(time.Duration(i) * time.Second)
		if _, err := s.UpsertRecords(ctx, []store.Record{lockCase(u.ID, ext, "submitted", at)}); err != nil {
			t.Fatal(err)
		}
	}
	return lockFixture{s: s, admin: s.WriteDB(), user: u}
}

var lockIDs = map[string]string{"case-c": "r-1", "case-a": "r-2", "case-b": "r-3", "case-d": "r-4"}

func lockCase(userID, ext, status string, at time.Time) store.Record {
	return store.Record{ID: lockIDs[ext], Kind: store.RecordCase, UserID: userID, ClientID: "hall", ExternalID: ext,
		Title: "营业执照变更登记", Status: status, UpdatedAt: at, CreatedAt: at}
}

// statusChanges are the system's writes of a new status of all three
// cases and of a new case, case-d, one batch.
func statusChanges(userID string) []store.Record {
	var w []store.Record
	for _, ext := range []string{"case-a", "case-b", "case-c", "case-d"} {
		w = append(w, lockCase(userID, ext, "accepted", lockAt.Add(time.Minute)))
	}
	return w
}

// holdCase begins a transaction on its own connection that locks the
// case ext; the caller ends it.
func (f lockFixture) holdCase(t *testing.T, ext string) *sql.Tx {
	t.Helper()
	tx, err := f.admin.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback() })
	if _, err := tx.Exec(`SELECT id FROM records WHERE external_id = $1 FOR UPDATE`, ext); err != nil {
		t.Fatal(err)
	}
	return tx
}

// waitForLockWaits returns once n sessions of the database wait for a
// lock.
func (f lockFixture) waitForLockWaits(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var waiting int
		if err := f.admin.QueryRow(`SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions wait for a lock, want %d", waiting, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (f lockFixture) statuses(t *testing.T) map[string]store.Record {
	t.Helper()
	out := map[string]store.Record{}
	for _, ext := range []string{"case-a", "case-b", "case-c", "case-d"} {
		r, err := f.s.GetSourceRecord(context.Background(), "hall", store.RecordCase, ext)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out[ext] = r
	}
	return out
}

// TestStatementsOverSeveralRecordsMeetAWrite: a person marking all their
// cases read, closing their account, or the retention job, while the system writes a new status of the
// same cases and adds one, must all succeed, however the statement meets
// the rows. Each runs while the write holds case-a and waits for case-b
// (held here), and is released only once it waits too. Locking the
// cases in the order it met them, it took case-c and then waited for
// case-a, and the write, given case-b, waited for case-c; the closure,
// holding the account's row, also stopped the write's new case-d, which
// waits for that row: PostgreSQL failed one of the two after a second.
// Both must succeed, the write first, each run once. (The retention's
// delete, in the order a hash of the IDs gave, took case-b first and
// met no deadlock here; its row guards the order it locks in now.)
// case-d arrives after the statement began: only the closure, whose
// deletes come after its locks, meets it.
func TestStatementsOverSeveralRecordsMeetAWrite(t *testing.T) {
	cases := []struct {
		name  string
		run   func(f lockFixture) error
		check func(t *testing.T, after map[string]store.Record)
	}{
		{"marking all read", func(f lockFixture) error {
			n, err := f.s.MarkRecordsRead(context.Background(), f.user.ID, store.RecordCase, "", lockAt.Add(time.Hour))
			if err == nil && n != 3 {
				return fmt.Errorf("marked %d cases read, want 3", n)
			}
			return err
		}, func(t *testing.T, after map[string]store.Record) {
			for ext, r := range after {
				if read := ext != "case-d"; r.Status != "accepted" || r.ReadAt.IsZero() == read {
					t.Errorf("%s: status %q, read at %v; want the new status, read %v", ext, r.Status, r.ReadAt, read)
				}
			}
			if len(after) != 4 {
				t.Errorf("%d cases left, want 4", len(after))
			}
		}},
		{"closing the account", lockFixture.closeAccount, func(t *testing.T, after map[string]store.Record) {
			if len(after) != 0 {
				t.Errorf("%d cases left, want none", len(after))
			}
		}},
		{"the retention's deletes", func(f lockFixture) error {
			_, err := f.s.DeleteRecordsUpdatedBefore(context.Background(), store.RecordCase, lockAt.Add(time.Hour), 100)
			return err
		}, wantOnlyTheNewCase},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newLockFixture(t)
			f.s.WithoutRetries() // a deadlock must not happen, not be survived
			held := f.holdCase(t, "case-b")
			write := make(chan error, 1)
			go func() {
				_, err := f.s.UpsertRecords(context.Background(), statusChanges(f.user.ID))
				write <- err
			}()
			f.waitForLockWaits(t, 1)
			other := make(chan error, 1)
			go func() { other <- c.run(f) }()
			f.waitForLockWaits(t, 2)
			if err := held.Rollback(); err != nil {
				t.Fatal(err)
			}
			if err := receive(t, write, "the system's write"); err != nil {
				t.Errorf("the system's write: %v", err)
			}
			if err := receive(t, other, c.name); err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			c.check(t, f.statuses(t))
		})
	}
}

func wantOnlyTheNewCase(t *testing.T, after map[string]store.Record) {
	t.Helper()
	if _, ok := after["case-d"]; !ok || len(after) != 1 {
		t.Errorf("cases left: %v, want only case-d", slices.Sorted(maps.Keys(after)))
	}
}

// closeAccount closes the person's account, with its audit event.
func (f lockFixture) closeAccount() error {
	e := store.AuditEvent{Time: lockAt.Add(time.Hour), Actor: "u-li", Action: "account.close", Result: "ok", Subject: "u-li"}
	seal := func(store.AuditEvent) []byte { h := sha256.Sum256([]byte("event")); return h[:] }
	_, err := f.s.CloseUser(context.Background(), f.user.ID, lockAt.Add(time.Hour), lockAt.Add(30*24*time.Hour), e, seal)
	return err
}

// TestARecordWriteThatMeetsADeadlockRunsAgain: when a transaction that
// locks the same records in another order makes PostgreSQL fail the
// system's write, the write runs again and succeeds; the system is not
// told of a failure it did not cause.
func TestARecordWriteThatMeetsADeadlockRunsAgain(t *testing.T) {
	runUntilDeadlockMet(t, "the system's write", func(f lockFixture) error {
		_, err := f.s.UpsertRecords(context.Background(), statusChanges(f.user.ID))
		return err
	}, func(t *testing.T, f lockFixture) {
		after := f.statuses(t)
		for ext, r := range after {
			if r.Status != "accepted" {
				t.Errorf("%s: status %q after the write, want accepted", ext, r.Status)
			}
		}
		if len(after) != 4 {
			t.Errorf("%d cases after the write, want 4", len(after))
		}
	})
}

// TestAClosureThatMeetsADeadlockRunsAgain: a person closing their
// account whom PostgreSQL fails for a deadlock (its locks leave a window
// for one) is not shown an error: the closure runs again, and closes
// the account once, with one audit event.
func TestAClosureThatMeetsADeadlockRunsAgain(t *testing.T) {
	runUntilDeadlockMet(t, "the closure", lockFixture.closeAccount, func(t *testing.T, f lockFixture) {
		ctx := context.Background()
		if u, err := f.s.GetUser(ctx, f.user.ID); err != nil || u.Status != store.UserClosed {
			t.Errorf("the account after the closure: status %q, %v; want closed", u.Status, err)
		}
		if after := f.statuses(t); len(after) != 0 {
			t.Errorf("%d cases left after the closure, want none", len(after))
		}
		events, err := f.s.ListAudit(ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].Action != "account.close" {
			t.Errorf("audit events after the closure: %d, want the closure's one", len(events))
		}
	})
}

// runUntilDeadlockMet runs first while another transaction holds
// case-b, and when first waits for it, makes the other transaction ask
// for case-a, which first holds by then (it locks case-a before
// case-b): a deadlock. PostgreSQL looks for one once, a second after a
// session began to wait, and fails the session that finds it: first,
// which waits first, if the other transaction waits within that second.
// first must then run again and succeed, and check sees what it did. A
// run in which the other transaction met the deadlock instead shows
// nothing, and runs again.
func runUntilDeadlockMet(t *testing.T, what string, first func(f lockFixture) error, check func(t *testing.T, f lockFixture)) {
	for run := 1; ; run++ {
		f := newLockFixture(t)
		held := f.holdCase(t, "case-b")
		done := make(chan error, 1)
		go func() { done <- first(f) }()
		f.waitForLockWaits(t, 1)
		if _, err := held.Exec(`SELECT id FROM records WHERE external_id = 'case-a' FOR UPDATE`); err != nil {
			t.Logf("run %d: the other transaction met the deadlock: %v", run, err)
			held.Rollback()
			receive(t, done, what)
			if run == 3 {
				t.Fatalf("in three runs the other transaction, not %s, met the deadlock", what)
			}
			continue
		}
		if err := held.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := receive(t, done, what); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		check(t, f)
		return
	}
}

// receive returns what ch gives, failing the test if it gives nothing
// within a minute.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(time.Minute):
		t.Fatalf("%s: no answer within a minute", what)
		panic("unreachable")
	}
}

// TestARecordUpdatedDuringTheRetentionsDeleteStays: the retention job
// deletes records last updated before its cut; one that the system
// updates while the job waits for it is no longer old, and stays.
func TestARecordUpdatedDuringTheRetentionsDeleteStays(t *testing.T) {
	f := newLockFixture(t)
	ctx := context.Background()
	tx, err := f.admin.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	fresh := lockAt.Add(48 * time.Hour).UnixMilli()
	if _, err := tx.Exec(`UPDATE records SET status = 'accepted', updated_at = $1 WHERE external_id = 'case-b'`, fresh); err != nil {
		t.Fatal(err)
	}
	deleted := make(chan int64, 1)
	failed := make(chan error, 1)
	go func() {
		n, err := f.s.DeleteRecordsUpdatedBefore(ctx, store.RecordCase, lockAt.Add(24*time.Hour), 100)
		failed <- err
		deleted <- n
	}()
	f.waitForLockWaits(t, 1)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := receive(t, failed, "the retention's delete"); err != nil {
		t.Fatal(err)
	}
	if n := <-deleted; n != 2 {
		t.Errorf("the job deleted %d records, want the 2 old ones", n)
	}
	after := f.statuses(t)
	if r, ok := after["case-b"]; !ok || r.Status != "accepted" {
		t.Errorf("the case updated during the job: %+v (present %v), want it kept with its new status", r, ok)
	}
	if len(after) != 1 {
		t.Errorf("%d cases left, want 1", len(after))
	}
}
