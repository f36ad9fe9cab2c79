// Package accounttest builds an account Service over a real store for the
// tests of the services that stand on it (the account service itself, the
// login and registration flows): fresh keys, cheap but real password
// hashing, an audit log, the dev outbox as notifier (texts and mails) and a clock the test
// sets by hand.
package accounttest

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/i18n"
	"unid/internal/notify"
	"unid/internal/store"
)

// Params keep password hashing cheap but real.
var Params = account.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Start is the time a fixture's clock first reads.
var Start = time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)

// Fixture is an account Service and the parts it is made of, for a test to
// build its own service on.
type Fixture struct {
	Store     store.Store
	Protector *account.Protector
	Hasher    *account.Hasher
	Audit     *audit.Log
	Outbox    *notify.Outbox // the account Service's notifier, SMS and email
	Mailer    *notify.Mailer // mails into Outbox
	Accounts  *account.Service
	// Now is the time every part of the fixture reads; the test moves it.
	Now time.Time
}

// New builds a fixture over st.
func New(t testing.TB, st store.Store) *Fixture {
	t.Helper()
	prot := NewProtector(t)
	f := &Fixture{Store: st, Protector: prot, Hasher: account.NewHasher(Params, 0), Now: Start}
	f.Outbox = notify.NewOutbox(f.Clock)
	f.Audit = audit.New(st, f.Clock, slog.New(slog.DiscardHandler))
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	f.Mailer = notify.NewMailer(f.Outbox, cat, map[i18n.Lang]string{i18n.ZH: "统一身份认证平台", i18n.EN: "Unified Identity Authentication"})
	f.Accounts = account.NewService(account.ServiceDeps{
		Store: st, Hasher: f.Hasher, Protector: prot, Audit: f.Audit, Notifier: f.Outbox, Mailer: f.Mailer, Now: f.Clock,
	})
	return f
}

// NewProtector returns a Protector over fresh keys.
func NewProtector(t testing.TB) *account.Protector {
	t.Helper()
	keys, err := account.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	prot, err := account.NewProtector(keys)
	if err != nil {
		t.Fatal(err)
	}
	return prot
}

// Clock reads f.Now: the clock to give the services a test builds on the
// fixture.
func (f *Fixture) Clock() time.Time { return f.Now }

// Create creates an account, failing the test unless it works.
func (f *Fixture) Create(t testing.TB, na account.NewAccount) store.User {
	t.Helper()
	u, err := f.Accounts.Create(context.Background(), na, nil)
	if err != nil {
		t.Fatalf("create %s: %v", na.LoginName, err)
	}
	return u
}

// Events returns the audit events with action, oldest first.
func (f *Fixture) Events(t testing.TB, action string) []store.AuditEvent {
	t.Helper()
	all, err := f.Store.ListAudit(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditEvent
	for _, e := range all {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// SlowParams make a hash take a few hundred milliseconds, so that a queue
// of them lasts while a test looks at it.
var SlowParams = account.Params{Memory: 19456, Time: 16, Threads: 1, SaltLen: 16, KeyLen: 32}

// Burst queues n password hashes in h, as a burst of sign-ins would,
// until stop, which the test's end also calls; h should run one at a time
// with SlowParams. Burst returns once all but two wait; stop returns when
// none of its hashes waits or runs.
func Burst(t testing.TB, h *account.Hasher, n int) (stop func()) {
	t.Helper()
	ctx, end := context.WithCancel(context.Background())
	var burst sync.WaitGroup
	for range n {
		burst.Go(func() { _, _ = h.Hash(ctx, "Burst#Password1") })
	}
	stop = sync.OnceFunc(func() {
		end()
		burst.Wait()
	})
	t.Cleanup(stop)
	for deadline := time.Now().Add(10 * time.Second); h.Waiting() < int64(n-2); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("%d hashes waiting, want %d", h.Waiting(), n-2)
		}
	}
	return stop
}
