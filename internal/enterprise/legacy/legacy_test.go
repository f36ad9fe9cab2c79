package legacy_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"unid/internal/account"
	"unid/internal/account/accounttest"
	"unid/internal/audit"
	"unid/internal/captcha"
	"unid/internal/enterprise"
	"unid/internal/enterprise/legacy"
	"unid/internal/enterprise/legacy/legacytest"
	"unid/internal/flow"
	"unid/internal/flow/login"
	"unid/internal/problem"
	"unid/internal/ratelimit"
	"unid/internal/store"
	"unid/internal/store/postgres/pgtest"
	"unid/internal/store/sqlite/sqlitetest"
)

// backends are the stores every test runs on.
var backends = []struct {
	name string
	open func(t testing.TB) store.Store
}{
	{"sqlite", func(t testing.TB) store.Store { return sqlitetest.New(t) }},
	{"postgres", func(t testing.TB) store.Store { return pgtest.New(t) }},
}

// eachBackend runs test on SQLite and PostgreSQL.
func eachBackend(t *testing.T, test func(t *testing.T, f *fixture)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { test(t, newFixture(t, b.open(t), nil)) })
	}
}

const password = "Legacy#Pass2019"

var cli = audit.Origin{Actor: audit.Operator("cli:tester")}

type fixture struct {
	*accounttest.Fixture
	ent      *enterprise.Service
	importer *legacy.Importer
	captchas *captcha.Service
	login    *login.Service
}

// newFixture builds the import, the enterprise service and the real login
// flow over st; prot, if not nil, is the personal-data protector to use (so
// that two stores can be compared).
func newFixture(t testing.TB, st store.Store, prot *account.Protector) *fixture {
	t.Helper()
	a := accounttest.New(t, st)
	if prot != nil {
		a.Protector = prot
		a.Accounts = account.NewService(account.ServiceDeps{Store: st, Hasher: a.Hasher, Protector: prot, Audit: a.Audit, Now: a.Clock})
	}
	f := &fixture{Fixture: a, captchas: captcha.New(st, a.Clock, captcha.Options{})}
	f.ent = enterprise.New(enterprise.Deps{Store: st, Protector: a.Protector, Audit: a.Audit, Now: a.Clock})
	f.importer = legacy.New(legacy.Deps{Store: st, Accounts: a.Accounts, Protector: a.Protector, Enterprises: f.ent, Audit: a.Audit, Now: a.Clock})
	f.login = login.New(login.Deps{
		Accounts: a.Accounts, Users: st, Hasher: a.Hasher, Protector: a.Protector, Captchas: f.captchas,
		Limiter: ratelimit.New(st), Audit: a.Audit, Now: a.Clock,
		Options: login.Options{LockoutThreshold: 50, AccountThreshold: 500, LockoutWindow: time.Minute, LockoutDuration: time.Minute,
			PerIPLimit: 10000, PerIPSuccessLimit: 10000, PerIPWindow: time.Minute},
	})
	return f
}

// csvOf writes rows as a legacy file.
func csvOf(t testing.TB, rows ...legacytest.Row) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	if err := legacytest.Write(&b, rows); err != nil {
		t.Fatal(err)
	}
	return &b
}

// run imports rows and returns the result and the rejects.
func (f *fixture) run(t testing.TB, o legacy.Options, rows ...legacytest.Row) (legacy.Result, []legacy.Reject) {
	t.Helper()
	var rejects []legacy.Reject
	o.By = cli
	o.Rejects = func(r legacy.Reject) error { rejects = append(rejects, r); return nil }
	res, err := f.importer.Run(context.Background(), csvOf(t, rows...), o)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return res, rejects
}

// signIn signs in through the login flow with a fresh, rightly answered
// captcha.
func (f *fixture) signIn(t testing.TB, identifier, pw string) (store.User, error) {
	t.Helper()
	ctx := context.Background()
	c, err := f.captchas.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := f.captchas.Answer(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return f.login.Login(ctx, login.Request{Identifier: identifier, Password: pw, CaptchaID: c.ID, CaptchaAnswer: answer},
		flow.NewClient("203.0.113.9", "test"))
}

func (f *fixture) user(t testing.TB, loginName string) store.User {
	t.Helper()
	u, err := f.Store.GetUserByLoginName(context.Background(), account.LoginNameKey(loginName))
	if err != nil {
		t.Fatalf("account %s: %v", loginName, err)
	}
	return u
}

// roles returns the user's memberships as "uscc:role".
func (f *fixture) roles(t testing.TB, userID string) []string {
	t.Helper()
	ms, err := f.Store.ListUserMemberships(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.USCC+":"+m.Role)
	}
	slices.Sort(out)
	return out
}

func (f *fixture) count(t testing.TB) (users int64, events int) {
	t.Helper()
	n, err := f.Store.CountUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	all, err := f.Store.ListAudit(context.Background(), 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	return n, len(all)
}

func TestEveryHashFormatSignsInAndIsRehashed(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		var rows []legacytest.Row
		for i, format := range legacytest.Formats {
			rows = append(rows, legacytest.Account(i, format, password))
		}
		res, rejects := f.run(t, legacy.Options{}, rows...)
		if len(rejects) != 0 || res.Created != len(rows) {
			t.Fatalf("import = %+v, rejects %v", res, rejects)
		}
		for i, format := range legacytest.Formats {
			r := rows[i]
			u := f.user(t, r.LoginName)
			// The hash is copied as it is (a bare hex digest with its scheme
			// named).
			if !strings.HasSuffix(u.PasswordHash, r.PasswordHash) || strings.HasPrefix(u.PasswordHash, "$argon2id$") {
				t.Errorf("%s: stored hash %q, want the legacy %q", format, u.PasswordHash, r.PasswordHash)
			}
			if got := f.roles(t, u.ID); !slices.Equal(got, []string{r.USCC + ":handler"}) {
				t.Errorf("%s: memberships %v", format, got)
			}
			ms, err := f.ent.Memberships(context.Background(), u.ID)
			if err != nil || len(ms) != 1 || ms[0].Role != enterprise.RoleHandler || ms[0].Name != r.EnterpriseName {
				t.Errorf("%s: Memberships = %+v, %v", format, ms, err)
			}
			if _, err := f.signIn(t, r.LoginName, "Wrong#Pass2019"); problem.As(err).Code != "login_failed" {
				t.Errorf("%s: a wrong password: %v, want login_failed", format, err)
			}
			if f.user(t, r.LoginName).PasswordHash != u.PasswordHash {
				t.Errorf("%s: a wrong password changed the hash", format)
			}
			got, err := f.signIn(t, r.LoginName, password)
			if err != nil || got.ID != u.ID {
				t.Fatalf("%s: sign-in with the old password = %v, %v", format, got.ID, err)
			}
			after := f.user(t, r.LoginName).PasswordHash
			if !strings.HasPrefix(after, "$argon2id$") {
				t.Errorf("%s: after the first sign-in the hash is %q, want argon2id", format, after)
			}
			// By phone too, and with the new hash.
			if got, err := f.signIn(t, r.ContactPhone, password); err != nil || got.ID != u.ID {
				t.Errorf("%s: second sign-in by phone = %v, %v", format, got.ID, err)
			}
		}
		if n := len(f.Events(t, account.ActionImported)); n != len(rows) {
			t.Errorf("%d account.imported events, want %d", n, len(rows))
		}
		for _, e := range f.Events(t, account.ActionImported) {
			if e.Actor != "operator:cli:tester" || strings.Contains(e.Detail, "139") {
				t.Errorf("event %+v: want the CLI operator and no phone", e)
			}
		}
	})
}

func TestImportTwiceChangesNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		var rows []legacytest.Row
		for i := range 12 {
			rows = append(rows, legacytest.Account(i, legacytest.Formats[i%len(legacytest.Formats)], password))
		}
		// One person handled two enterprises with one login.
		second := rows[0]
		second.USCC, second.EnterpriseName = legacytest.USCC(100), "第二家企业有限公司"
		rows = append(rows, second)
		res, rejects := f.run(t, legacy.Options{Batch: 5}, rows...)
		if len(rejects) != 0 || res.Created != 12 || res.Existing != 1 {
			t.Fatalf("first import = %+v, %v", res, rejects)
		}
		users, events := f.count(t)
		before := snapshot(t, f, rows)
		res, rejects = f.run(t, legacy.Options{Batch: 5}, rows...)
		if len(rejects) != 0 || res.Created != 0 || res.Existing != 13 {
			t.Fatalf("second import = %+v, %v", res, rejects)
		}
		if u, e := f.count(t); u != users || e != events {
			t.Errorf("the second import changed the counts: %d users, %d events; want %d, %d", u, e, users, events)
		}
		if after := snapshot(t, f, rows); after != before {
			t.Errorf("the second import changed the state:\n%s\nwant\n%s", after, before)
		}
		if got := f.roles(t, f.user(t, rows[0].LoginName).ID); len(got) != 2 {
			t.Errorf("the login of two enterprises holds %v", got)
		}
	})
}

// snapshot describes the accounts of rows and their roles, for comparing
// two stores: login name, hash, phone and real name as opened, roles.
func snapshot(t testing.TB, f *fixture, rows []legacytest.Row) string {
	t.Helper()
	var b strings.Builder
	seen := map[string]bool{}
	for _, r := range rows {
		u, err := f.Store.GetUserByLoginName(context.Background(), account.LoginNameKey(r.LoginName))
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", r.LoginName, err)
			continue
		}
		if seen[u.ID] {
			continue
		}
		seen[u.ID] = true
		phone, _ := f.Protector.Open(account.FieldPhone, u.Phone)
		name, _ := f.Protector.Open(account.FieldRealName, u.RealName)
		fmt.Fprintf(&b, "%s %s %s %s %s %v\n", u.LoginName, u.PasswordHash, phone, name, u.Status, f.roles(t, u.ID))
	}
	return b.String()
}

func TestBadRowsAreReportedWithTheirLines(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		taken := f.Create(t, account.NewAccount{LoginName: "ent000009", Password: "Other#Pass2026", Phone: "13800000009"})
		good := legacytest.Account(1, legacytest.MD5, password)
		badUSCC := legacytest.Account(2, legacytest.MD5, password)
		badUSCC.USCC = legacytest.BadUSCC(2)
		badPhone := legacytest.Account(3, legacytest.MD5, password)
		badPhone.ContactPhone = "12345"
		badHash := legacytest.Account(4, legacytest.MD5, password)
		badHash.PasswordHash = "$crypt$abc"
		dupInFile := legacytest.Account(5, legacytest.MD5, password)
		dupInFile.LoginName = good.LoginName                          // another phone
		dupInStore := legacytest.Account(9, legacytest.MD5, password) // ent000009 belongs to 13800000009
		noName := legacytest.Account(6, legacytest.MD5, password)
		noName.EnterpriseName = " "
		many := legacytest.Account(7, legacytest.MD5, password)
		many.USCC, many.ContactPhone, many.PasswordHash = "123", "", "zz"
		later := legacytest.Account(8, legacytest.SHA256, password)

		usersBefore, _ := f.count(t)
		for _, dry := range []bool{true, false} {
			res, rejects := f.run(t, legacy.Options{DryRun: dry, Batch: 3}, good, badUSCC, badPhone, badHash, dupInFile, dupInStore, noName, many, later)
			want := []legacy.Reject{
				{Line: 3, LoginName: badUSCC.LoginName, Reasons: []string{"uscc_format"}},
				{Line: 4, LoginName: badPhone.LoginName, Reasons: []string{"phone_format"}},
				{Line: 5, LoginName: badHash.LoginName, Reasons: []string{"password_hash_format"}},
				{Line: 6, LoginName: dupInFile.LoginName, Reasons: []string{legacy.ReasonLoginNameDuplicate}},
				{Line: 7, LoginName: dupInStore.LoginName, Reasons: []string{legacy.ReasonLoginNameDuplicate}},
				{Line: 8, LoginName: noName.LoginName, Reasons: []string{"import_enterprise_name_required"}},
				{Line: 9, LoginName: many.LoginName, Reasons: []string{"password_hash_format", "phone_required", "uscc_format"}},
			}
			if fmt.Sprint(rejects) != fmt.Sprint(want) {
				t.Errorf("dry %v: rejects\n%v\nwant\n%v", dry, rejects, want)
			}
			if res.Created != 2 || res.Rejected != 7 || res.Rows != 9 || res.DryRun != dry {
				t.Errorf("dry %v: result %+v", dry, res)
			}
			users, _ := f.count(t)
			if dry && users != usersBefore {
				t.Errorf("a dry run created %d accounts", users-usersBefore)
			}
			if dry && len(f.Events(t, enterprise.ActionImported))+len(f.Events(t, account.ActionImported)) != 0 {
				t.Error("a dry run wrote audit events")
			}
			if !dry && users != usersBefore+2 {
				t.Errorf("the import created %d accounts, want 2", users-usersBefore)
			}
		}
		if got := f.roles(t, taken.ID); len(got) != 0 {
			t.Errorf("the account that held the login name became %v", got)
		}
	})
}

func TestPhoneOfAnExistingAccountMergesWhenTheNamesMatch(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		zhang := f.Create(t, account.NewAccount{LoginName: "zhang_san", Password: "Citizen#Pass2026", Phone: "13912340001", RealName: "张三", IDNumber: "11010519491231002X"})
		li := f.Create(t, account.NewAccount{LoginName: "li_si", Password: "Citizen#Pass2026", Phone: "13912340002", RealName: "李四", IDNumber: "110105198001010016"})
		noname := f.Create(t, account.NewAccount{LoginName: "anon_2026", Password: "Citizen#Pass2026", Phone: "13912340003"})
		match := legacytest.Account(1, legacytest.Bcrypt, password)
		match.ContactPhone, match.ContactName = "139 1234 0001", " 张三 "
		mismatch := legacytest.Account(2, legacytest.MD5, password)
		mismatch.ContactPhone, mismatch.ContactName = "13912340002", "李斯"
		unnamed := legacytest.Account(3, legacytest.MD5, password)
		unnamed.ContactPhone = "13912340003"
		users, _ := f.count(t)

		res, rejects := f.run(t, legacy.Options{}, match, mismatch, unnamed)
		if res.Merged != 1 || res.Created != 0 || res.Rejected != 2 {
			t.Errorf("import = %+v", res)
		}
		want := []legacy.Reject{
			{Line: 3, LoginName: mismatch.LoginName, Reasons: []string{legacy.ReasonNameMismatch}},
			{Line: 4, LoginName: unnamed.LoginName, Reasons: []string{legacy.ReasonNameMismatch}},
		}
		if fmt.Sprint(rejects) != fmt.Sprint(want) {
			t.Errorf("rejects %v, want %v", rejects, want)
		}
		if n, _ := f.count(t); n != users {
			t.Errorf("%d accounts created, want none", n-users)
		}
		if got := f.roles(t, zhang.ID); !slices.Equal(got, []string{match.USCC + ":handler"}) {
			t.Errorf("zhang: %v", got)
		}
		for _, u := range []store.User{li, noname} {
			if got := f.roles(t, u.ID); len(got) != 0 {
				t.Errorf("%s: %v, want no role", u.LoginName, got)
			}
		}
		// The merged account keeps its own password and login name; the
		// legacy login name is not created.
		if got := f.user(t, "zhang_san"); got.PasswordHash != zhang.PasswordHash {
			t.Error("the merge changed the account's password")
		}
		if _, err := f.Store.GetUserByLoginName(context.Background(), match.LoginName); err == nil {
			t.Error("the merged row's login name was created")
		}
		if got, err := f.signIn(t, "zhang_san", "Citizen#Pass2026"); err != nil || got.ID != zhang.ID {
			t.Errorf("zhang signs in: %v", err)
		}
		// Again: nothing new.
		_, e1 := f.count(t)
		res, _ = f.run(t, legacy.Options{}, match, mismatch, unnamed)
		if _, e2 := f.count(t); e2 != e1 || res.Merged != 1 {
			t.Errorf("rerun: %+v, %d new events", res, e2-e1)
		}
	})
}

// cancelling makes handlers through the enterprise service and cancels
// the import after n of them: a kill in the middle.
type cancelling struct {
	*enterprise.Service
	n      int
	cancel context.CancelFunc
}

func (c *cancelling) ImportHandler(ctx context.Context, userID, uscc, name string, o audit.Origin) error {
	if c.n == 0 {
		c.cancel()
	}
	c.n--
	return c.Service.ImportHandler(ctx, userID, uscc, name, o)
}

func TestAKilledImportIsCompletedByARerun(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			prot := accounttest.NewProtector(t)
			var rows []legacytest.Row
			for i := range 40 {
				rows = append(rows, legacytest.Account(i, legacytest.Formats[i%4], password))
			}
			clean := newFixture(t, b.open(t), prot)
			clean.run(t, legacy.Options{Batch: 7}, rows...)

			killed := newFixture(t, b.open(t), prot)
			for _, stopAfter := range []int{3, 17} {
				ctx, cancel := context.WithCancel(context.Background())
				im := legacy.New(legacy.Deps{Store: killed.Store, Accounts: killed.Accounts, Protector: prot,
					Enterprises: &cancelling{Service: killed.ent, n: stopAfter, cancel: cancel}, Audit: killed.Audit, Now: killed.Clock})
				_, err := im.Run(ctx, csvOf(t, rows...), legacy.Options{Batch: 7, By: cli})
				cancel()
				if err == nil {
					t.Fatalf("an import cancelled after %d handlers ended without an error", stopAfter)
				}
			}
			if snapshot(t, killed, rows) == snapshot(t, clean, rows) {
				t.Fatal("the killed import finished anyway: the test kills nothing")
			}
			res, rejects := killed.run(t, legacy.Options{Batch: 7}, rows...)
			if len(rejects) != 0 || res.Created+res.Existing != len(rows) {
				t.Errorf("rerun = %+v, %v", res, rejects)
			}
			if got, want := snapshot(t, killed, rows), snapshot(t, clean, rows); got != want {
				t.Errorf("after the rerun:\n%s\nwant as a clean run:\n%s", got, want)
			}
			// One event per account, as in a clean run.
			for _, action := range []string{account.ActionImported, enterprise.ActionImported} {
				if got, want := len(killed.Events(t, action)), len(clean.Events(t, action)); got != want {
					t.Errorf("%s: %d events, want %d", action, got, want)
				}
			}
		})
	}
}

func TestTheFileMustHaveTheHeader(t *testing.T) {
	f := newFixture(t, sqlitetest.New(t), nil)
	for _, in := range []string{"", "login,hash\nx,y\n", "uscc,login_name,password_hash,enterprise_name,contact_name,contact_phone\n"} {
		if _, err := f.importer.Run(context.Background(), strings.NewReader(in), legacy.Options{By: cli}); err == nil {
			t.Errorf("file %q: no error", in)
		}
	}
	// A byte-order mark and another case are fine; a short row is refused
	// with its line.
	in := "\uFEFFLogin_Name,password_hash,uscc,enterprise_name,contact_name,contact_phone\nent1,abc\n"
	var rejects []legacy.Reject
	res, err := f.importer.Run(context.Background(), strings.NewReader(in), legacy.Options{By: cli,
		Rejects: func(r legacy.Reject) error { rejects = append(rejects, r); return nil }})
	if err != nil || res.Rejected != 1 || len(rejects) != 1 || rejects[0].Line != 2 || rejects[0].Reasons[0] != legacy.ReasonColumns {
		t.Errorf("short row: %+v %v %v", res, rejects, err)
	}
}

// racing is the store with someone registering the login name of a row
// just before the import writes its batch.
type racing struct {
	legacy.Store
	f     *fixture
	login string
	done  bool
}

func (r *racing) ImportUsers(ctx context.Context, users []store.User, events []store.AuditEvent, seal func(store.AuditEvent) []byte) error {
	if !r.done {
		r.done = true
		if _, err := r.f.Accounts.Create(ctx, account.NewAccount{LoginName: r.login, Password: "Racer#Pass2026"}, nil); err != nil {
			return err
		}
	}
	return r.Store.ImportUsers(ctx, users, events, seal)
}

func TestARowThatLosesARaceIsRefusedAlone(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		rows := []legacytest.Row{legacytest.Account(1, legacytest.MD5, password), legacytest.Account(2, legacytest.SHA1, password), legacytest.Account(3, legacytest.SHA256, password)}
		// The same login as row 2 again (another enterprise): its account is
		// row 2's, which is never made.
		again := rows[1]
		again.USCC = legacytest.USCC(20)
		rows = append(rows, again)
		st := &racing{Store: f.Store.(legacy.Store), f: f, login: rows[1].LoginName}
		im := legacy.New(legacy.Deps{Store: st, Accounts: f.Accounts, Protector: f.Protector, Enterprises: f.ent, Audit: f.Audit, Now: f.Clock})
		var rejects []legacy.Reject
		res, err := im.Run(context.Background(), csvOf(t, rows...), legacy.Options{By: cli,
			Rejects: func(r legacy.Reject) error { rejects = append(rejects, r); return nil }})
		if err != nil || res.Created != 2 || res.Rejected != 2 {
			t.Fatalf("import = %+v, %v", res, err)
		}
		want := []legacy.Reject{{Line: 3, LoginName: rows[1].LoginName, Reasons: []string{legacy.ReasonConflict}},
			{Line: 5, LoginName: rows[1].LoginName, Reasons: []string{legacy.ReasonConflict}}}
		if fmt.Sprint(rejects) != fmt.Sprint(want) {
			t.Errorf("rejects %v, want %v", rejects, want)
		}
		if n := len(f.Events(t, account.ActionImported)); n != 2 {
			t.Errorf("%d account.imported events, want 2", n)
		}
		if got := f.roles(t, f.user(t, rows[1].LoginName).ID); len(got) != 0 {
			t.Errorf("the racer's account became %v", got)
		}
		for _, r := range []legacytest.Row{rows[0], rows[2]} {
			if got := f.roles(t, f.user(t, r.LoginName).ID); len(got) != 1 {
				t.Errorf("%s: %v", r.LoginName, got)
			}
		}
	})
}
