package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/store"
	"unid/internal/store/postgres/pgtest"
)

// TestSeed seeds a small database and reads it back the way unid does:
// the chain verifies up to the head, personal data opens with the key
// file and is found by its blind index, ID numbers pass GB 11643, and a
// second run refuses the database until -force.
func TestSeed(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	o := options{url: url, accounts: 3000, audit: 20_000, clients: 50,
		keyFile: filepath.Join(t.TempDir(), "seed.key"), seed: 7}
	if err := run(ctx, o); err != nil {
		t.Fatalf("seed: %v", err)
	}
	s := pgtest.Open(t, url)

	sum, err := audit.VerifyLog(ctx, s)
	if err != nil {
		t.Fatalf("the seeded audit log does not verify: %v", err)
	}
	if sum.Events != int64(o.audit) {
		t.Errorf("verified %d events, want %d", sum.Events, o.audit)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var headSeq int64
	var head []byte
	if err := conn.QueryRow(ctx, `SELECT seq, hash FROM audit_head`).Scan(&headSeq, &head); err != nil {
		t.Fatal(err)
	}
	if headSeq != int64(o.audit) || !bytes.Equal(head, sum.Head) {
		t.Errorf("audit head is %d %x, want %d %x", headSeq, head, o.audit, sum.Head)
	}
	// The next event appended by unid links to the seeded chain.
	e, err := s.AppendAudit(ctx, store.AuditEvent{Time: time.Now(), Action: "test.after_seed", Result: "ok"}, audit.Hash)
	if err != nil || e.Seq != int64(o.audit)+1 {
		t.Fatalf("append after seeding: seq %d, %v", e.Seq, err)
	}
	if _, err := audit.VerifyLog(ctx, s); err != nil {
		t.Errorf("the chain does not verify after an append: %v", err)
	}

	prot := protector(t, o.keyFile)
	rows, err := conn.Query(ctx, `SELECT id FROM users ORDER BY created_at DESC LIMIT 300`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var users []store.User
	for _, id := range ids {
		u, err := s.GetUser(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	var withID, levels, closed int
	for _, u := range users {
		if u.Status == store.UserClosed {
			closed++
			continue
		}
		phone, err := prot.Open(account.FieldPhone, u.Phone)
		if err != nil {
			t.Fatalf("phone of %s does not open: %v", u.ID, err)
		}
		if _, err := account.NormalizePhone(phone); err != nil {
			t.Errorf("phone %s is not a mainland mobile number: %v", phone, err)
		}
		got, err := s.GetUserByPhone(ctx, prot.Index(account.FieldPhone, phone))
		if err != nil || got.ID != u.ID {
			t.Errorf("GetUserByPhone(%s) = %q, %v; want %s", account.MaskPhone(phone), got.ID, err, u.ID)
		}
		if len(u.IDNumber.Cipher) > 0 {
			withID++
			n, err := prot.Open(account.FieldIDNumber, u.IDNumber)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := account.ParseIDNumber(n, time.Now()); err != nil {
				t.Errorf("ID number %s: %v", account.MaskIDNumber(n), err)
			}
		}
		if u.RealnameLevel > 0 {
			levels++
			if len(u.IDNumber.Cipher) == 0 {
				t.Errorf("account %s is verified at level %d without an ID number", u.ID, u.RealnameLevel)
			}
		}
		if err := account.ValidateLoginName(u.LoginName); err != nil {
			t.Errorf("login name %q: %v", u.LoginName, err)
		}
	}
	if withID == 0 || levels == 0 || closed == len(users) {
		t.Errorf("of %d accounts %d have an ID number, %d are verified, %d closed", len(users), withID, levels, closed)
	}

	if err := run(ctx, o); err == nil || !strings.Contains(err.Error(), "-force") {
		t.Errorf("seeding a seeded database: %v, want a refusal naming -force", err)
	}
	o.force, o.accounts, o.audit = true, 100, 50
	if err := run(ctx, o); err != nil {
		t.Fatalf("seed -force: %v", err)
	}
	n, err := s.CountUsers(ctx)
	if err != nil || n != 100 {
		t.Errorf("after -force: %d accounts, %v; want 100", n, err)
	}
	if sum, err := audit.VerifyLog(ctx, s); err != nil || sum.Events != 50 {
		t.Errorf("after -force: %d events verified, %v; want 50", sum.Events, err)
	}
}

// TestUniqueValues makes many accounts' unique values, which the indexes
// built after the copy would otherwise refuse at the end of a long run.
func TestUniqueValues(t *testing.T) {
	const n = 300_000
	w := newWorld(options{accounts: n, seed: 1}, nil, time.Now())
	logins, phones, ids := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i := range n {
		l := account.LoginNameKey(loginName(w.rng, w.rng.IntN(len(surnames)), w.rng.IntN(len(givenNames)), i))
		p, id := phoneNumber(i), idNumber(i, w.now)
		if logins[l] || phones[p] || ids[id] {
			t.Fatalf("account %d repeats a login name, phone or ID number: %s %s", i, l, p)
		}
		logins[l], phones[p], ids[id] = true, true, true
	}
}

// TestSeedOlderSchema seeds the database of the release before the
// console (schema 18: no dashboard counters, audit events without
// account_id and client_id), migrates it as an upgrade does, and reads it
// back: the chain verifies across the new columns, and a citizen signs in
// by phone and by verified ID number.
func TestSeedOlderSchema(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	o := options{url: url, accounts: 500, audit: 3000, clients: 50, schema: 18,
		keyFile: filepath.Join(t.TempDir(), "seed.key"), seed: 3}
	if err := run(ctx, o); err != nil {
		t.Fatalf("seed -schema 18: %v", err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var version int
	var counters, links bool
	if err := conn.QueryRow(ctx, `SELECT (SELECT max(version) FROM schema_migrations),
		to_regclass('stats') IS NOT NULL,
		EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'audit_events' AND column_name = 'account_id')`).
		Scan(&version, &counters, &links); err != nil {
		t.Fatal(err)
	}
	if version != 18 || counters || links {
		t.Fatalf("seeded schema %d, counters table %v, audit account column %v; want 18 without either", version, counters, links)
	}

	s := pgtest.Open(t, url)
	from, to, err := s.Migrate(ctx)
	if err != nil || from != 18 || to <= 18 {
		t.Fatalf("migrate: %d → %d, %v", from, to, err)
	}
	sum, err := audit.VerifyLog(ctx, s)
	if err != nil || sum.Events != int64(o.audit) {
		t.Fatalf("after the upgrade the chain verifies %d events, %v; want %d", sum.Events, err, o.audit)
	}

	prot := protector(t, o.keyFile)
	accounts := account.NewService(account.ServiceDeps{Store: s, Protector: prot})
	var id string
	var phone, idNumber []byte
	if err := conn.QueryRow(ctx, `SELECT id, phone_cipher, id_number_cipher FROM users
		WHERE realname_level >= 1 AND phone_cipher IS NOT NULL ORDER BY created_at DESC LIMIT 1`).Scan(&id, &phone, &idNumber); err != nil {
		t.Fatal(err)
	}
	for field, sealed := range map[string][]byte{account.FieldPhone: phone, account.FieldIDNumber: idNumber} {
		typed, err := prot.Open(field, store.Sealed{Cipher: sealed})
		if err != nil {
			t.Fatal(err)
		}
		u, found, err := accounts.Find(ctx, typed)
		if err != nil || !found || u.ID != id {
			t.Errorf("signing in by %s finds %q (found %v, %v); want %s", field, u.ID, found, err, id)
		}
	}
}

// protector opens personal data with the key file the seed sealed it with.
func protector(t *testing.T, keyFile string) *account.Protector {
	t.Helper()
	keys, err := account.LoadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	prot, err := account.NewProtector(keys)
	if err != nil {
		t.Fatal(err)
	}
	return prot
}
