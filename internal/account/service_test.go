package account_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"unid/internal/account"
	"unid/internal/account/accounttest"
	"unid/internal/audit"
	"unid/internal/notify"
	"unid/internal/problem"
	"unid/internal/store"
	"unid/internal/store/postgres/pgtest"
	"unid/internal/store/sqlite/sqlitetest"
)

// fixture is an account Service over a real store, with the dev outbox as
// its notifier.
type fixture struct{ *accounttest.Fixture }

// forEachStore runs fn on SQLite and, when UNID_TEST_POSTGRES_URL is set,
// on PostgreSQL.
func forEachStore(t *testing.T, fn func(t *testing.T, f *fixture)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, &fixture{accounttest.New(t, sqlitetest.New(t))}) })
	t.Run("postgres", func(t *testing.T) { fn(t, &fixture{accounttest.New(t, pgtest.New(t))}) })
}

const password = "Shandong#2026"

var zhang = account.NewAccount{LoginName: "Zhang_San", Password: password, Phone: "138 1234 5678", RealName: "张三", IDNumber: "11010519491231002x"}

func (f *fixture) setLevel(t *testing.T, userID string, level int) {
	t.Helper()
	if _, err := f.Store.UpdateUser(context.Background(), userID, func(u store.User) (store.User, error) {
		u.RealnameLevel = level
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
}

// wantProblem checks that err is a problem of kind and code.
func wantProblem(t *testing.T, what string, err error, kind problem.Kind, code string) {
	t.Helper()
	var p *problem.Problem
	if !errors.As(err, &p) || p.Kind != kind || p.Code != code {
		t.Errorf("%s = %v, want problem %v %s", what, err, kind, code)
	}
}

// TestCreateSpendsOnlyWhatPasses: what an account is paid with is spent
// only once the account has passed its checks and its password is
// hashed, and not for a request already over; a refusal to spend stores
// nothing and is returned as it is; and a caller who hangs up after
// paying still gets the account.
func TestCreateSpendsOnlyWhatPasses(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		spent := 0
		spend := func(context.Context) error { spent++; return nil }
		_, err := f.Accounts.Create(ctx, account.NewAccount{LoginName: "li_si_2026", Password: password, Nickname: strings.Repeat("李", 21)}, spend)
		wantProblem(t, "a nickname too long", err, problem.Invalid, "invalid_fields")
		if spent != 0 {
			t.Errorf("spent %d times on an account refused", spent)
		}

		gone := errors.New("the code was used meanwhile")
		before, _ := f.Store.CountUsers(ctx)
		if _, err := f.Accounts.Create(ctx, account.NewAccount{LoginName: "li_si_2026", Password: password}, func(context.Context) error { return gone }); err != gone {
			t.Errorf("Create with a refused payment = %v, want it as it is", err)
		}
		if after, _ := f.Store.CountUsers(ctx); after != before {
			t.Error("an account whose payment was refused was stored")
		}

		over, end := context.WithCancel(ctx)
		end() // the proxy gave up while the hash ran
		if _, err := f.Accounts.Create(over, account.NewAccount{LoginName: "li_si_2026", Password: password}, spend); !errors.Is(err, context.Canceled) || spent != 0 {
			t.Errorf("Create for a request already over = %v, spent %d times; want context.Canceled and nothing spent", err, spent)
		}
		if after, _ := f.Store.CountUsers(ctx); after != before {
			t.Error("an account was stored for a request already over")
		}

		hangUp, cancel := context.WithCancel(ctx)
		u, err := f.Accounts.Create(hangUp, account.NewAccount{LoginName: "li_si_2026", Password: password}, func(ctx context.Context) error {
			cancel() // the browser goes once the code is taken
			spent++
			return ctx.Err()
		})
		if err != nil || spent != 1 {
			t.Fatalf("Create with the caller gone after paying = %v (spent %d times)", err, spent)
		}
		if _, err := f.Store.GetUser(ctx, u.ID); err != nil {
			t.Errorf("the paid-for account was not stored: %v", err)
		}
	})
}

func TestCreate(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u := f.Create(t, zhang)
		got, err := f.Store.GetUser(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.LoginName != "Zhang_San" || got.LoginNameKey != "zhang_san" || got.Status != store.UserActive ||
			got.RealnameLevel != 0 || !got.CreatedAt.Equal(f.Now) || got.RealName.Index != nil {
			t.Errorf("stored account: %+v", got)
		}
		if ok, _, err := f.Accounts.VerifyPassword(ctx, got, password); !ok || err != nil {
			t.Errorf("VerifyPassword of the new account = %v, %v", ok, err)
		}
		p, err := account.NewProfile(f.Protector, got)
		if err != nil {
			t.Fatal(err)
		}
		want := account.Profile{ID: u.ID, LoginName: "Zhang_San", Phone: "138****5678", IDNumber: "1101**********002X", RealName: "*三", HasPassword: true, CreatedAt: f.Now}
		if p != want {
			t.Errorf("profile = %+v, want %+v", p, want)
		}

		t.Run("conflicts", func(t *testing.T) {
			tests := []struct {
				name string
				na   account.NewAccount
				code string
			}{
				{"login name, any case", account.NewAccount{LoginName: "ZHANG_SAN", Password: password, Phone: "13900000001"}, "login_name_taken"},
				{"phone", account.NewAccount{LoginName: "li_si_2026", Password: password, Phone: "13812345678"}, "phone_registered"},
			}
			for _, tt := range tests {
				before, _ := f.Store.CountUsers(ctx)
				_, err := f.Accounts.Create(ctx, tt.na, nil)
				wantProblem(t, tt.name, err, problem.Conflict, tt.code)
				var ce *store.ConflictError
				if !errors.As(err, &ce) {
					t.Errorf("%s: the store's conflict is not reachable for the audit: %v", tt.name, err)
				}
				if after, _ := f.Store.CountUsers(ctx); after != before {
					t.Errorf("%s: a refused account was stored", tt.name)
				}
			}
		})

		t.Run("an unverified ID number another account holds", func(t *testing.T) {
			other := f.Create(t, account.NewAccount{LoginName: "wang_wu_2026", Password: password, Phone: "13900000002", RealName: "王五", IDNumber: zhang.IDNumber})
			if string(other.IDNumber.Index) != string(u.IDNumber.Index) {
				t.Error("the two accounts do not hold the same ID number")
			}
		})

		t.Run("bad fields, all at once, store nothing", func(t *testing.T) {
			before, _ := f.Store.CountUsers(ctx)
			_, err := f.Accounts.Create(ctx, account.NewAccount{LoginName: "1x", Password: "short", Phone: "12345", RealName: "张三", IDNumber: "110105194912310021"}, nil)
			var p *problem.Problem
			if !errors.As(err, &p) || p.Kind != problem.Invalid {
				t.Fatalf("Create = %v, want Invalid", err)
			}
			for _, field := range []string{"login_name", "password", "phone", "id_number"} {
				if p.Fields[field] == "" {
					t.Errorf("field %s not reported: %v", field, p.Fields)
				}
			}
			if after, _ := f.Store.CountUsers(ctx); after != before {
				t.Error("an invalid account was stored")
			}
		})
	})
}

func TestAccountWithoutPassword(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u := f.Create(t, account.NewAccount{LoginName: "alipay_user_1", Phone: "13900000003"})
		if u.PasswordHash != "" {
			t.Fatalf("PasswordHash = %q, want none", u.PasswordHash)
		}
		for _, pw := range []string{"", password, "anything"} {
			if ok, rehash, err := f.Accounts.VerifyPassword(ctx, u, pw); ok || rehash || err != nil {
				t.Errorf("VerifyPassword(%q) = %v, %v, %v; want false", pw, ok, rehash, err)
			}
		}
	})
}

// TestAccountWithoutPasswordCostsAHash: answering for an account without a
// password costs a password hash, as a wrong password does, so timing does
// not tell such accounts apart.
func TestAccountWithoutPasswordCostsAHash(t *testing.T) {
	ctx := context.Background()
	h := account.NewHasher(account.Params{Memory: 4096, Time: 2, Threads: 1}, 1)
	svc := account.NewService(account.ServiceDeps{Hasher: h})
	enc, err := h.Hash(ctx, password)
	if err != nil {
		t.Fatal(err)
	}
	hashes := func(u store.User) uint64 {
		before := h.Runs()
		if ok, _, _ := svc.VerifyPassword(ctx, u, "Wrong#Password1"); ok {
			t.Fatal("a wrong password verified")
		}
		return h.Runs() - before
	}
	if wrong, none := hashes(store.User{ID: "a", PasswordHash: enc}), hashes(store.User{ID: "b"}); wrong != 1 || none != 1 {
		t.Errorf("a wrong password costs %d hashes, an account without password %d; want 1 each", wrong, none)
	}
}

func TestFind(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u := f.Create(t, zhang)
		// Another account holds zhang's ID number too, unverified.
		f.Create(t, account.NewAccount{LoginName: "wang_wu_2026", Password: password, Phone: "13900000002", RealName: "王五", IDNumber: zhang.IDNumber})

		find := func(ident string) (string, bool) {
			t.Helper()
			got, found, err := f.Accounts.Find(ctx, ident)
			if err != nil {
				t.Fatalf("Find(%q): %v", ident, err)
			}
			return got.ID, found
		}
		for _, ident := range []string{"zhang_san", "ZHANG_SAN", " Zhang_San ", "13812345678", "+86 138-1234-5678"} {
			if id, found := find(ident); !found || id != u.ID {
				t.Errorf("Find(%q) = %q, %v; want %q", ident, id, found, u.ID)
			}
		}
		for _, ident := range []string{"11010519491231002X", "nobody_2026", "13900000009", "110105198001010016", "!!", ""} {
			if id, found := find(ident); found {
				t.Errorf("Find(%q) found %q", ident, id)
			}
		}

		f.setLevel(t, u.ID, 1)
		for _, ident := range []string{"11010519491231002X", "11010519491231002x"} {
			if id, found := find(ident); !found || id != u.ID {
				t.Errorf("Find(%q) of a verified ID number = %q, %v; want %q", ident, id, found, u.ID)
			}
		}
	})
}

// access gives the account a browser session and an OpenID Connect grant
// with a refresh token, and returns them.
func (f *fixture) access(t *testing.T, userID string) (store.Session, store.Grant, store.RefreshToken) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.Store.GetClient(ctx, "hall"); errors.Is(err, store.ErrNotFound) {
		if err := f.Store.CreateClient(ctx, store.Client{ID: "hall", Name: "办事大厅", Type: store.ClientOIDCPublic,
			RedirectURIs: []string{"https://hall.example.gov.cn/cb"}, CreatedAt: f.Now, UpdatedAt: f.Now}); err != nil {
			t.Fatal(err)
		}
	}
	id := account.NewUserID()
	s := store.Session{TokenHash: []byte(id + "-token-hash-32-bytes......")[:32], SID: "sid-" + id, UserID: userID,
		AuthTime: f.Now, CreatedAt: f.Now, LastSeenAt: f.Now, ExpiresAt: f.Now.Add(8 * time.Hour)}
	g := store.Grant{ID: "grant-" + id, ClientID: "hall", UserID: userID, SID: s.SID, Scopes: []string{"openid", "offline_access"},
		AuthTime: f.Now, CreatedAt: f.Now, ExpiresAt: f.Now.Add(24 * time.Hour)}
	rt := store.RefreshToken{TokenHash: []byte(id + "-refresh-hash-32-bytes....")[:32], GrantID: g.ID, CreatedAt: f.Now, ExpiresAt: f.Now.Add(24 * time.Hour)}
	if err := f.Store.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := f.Store.CreateGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	if err := f.Store.CreateRefreshToken(ctx, rt); err != nil {
		t.Fatal(err)
	}
	return s, g, rt
}

// ended reports whether the session is gone and the refresh token's grant
// revoked (a revoked grant refuses its refresh and access tokens).
func (f *fixture) ended(t *testing.T, s store.Session, rt store.RefreshToken) (sessionGone, grantRevoked bool) {
	t.Helper()
	ctx := context.Background()
	_, err := f.Store.GetSession(ctx, s.TokenHash)
	sessionGone = errors.Is(err, store.ErrNotFound)
	tok, err := f.Store.GetRefreshToken(ctx, rt.TokenHash)
	if err != nil {
		t.Fatalf("GetRefreshToken: %v", err)
	}
	g, err := f.Store.GetGrant(ctx, tok.GrantID)
	if err != nil {
		t.Fatalf("GetGrant: %v", err)
	}
	return sessionGone, !g.RevokedAt.IsZero()
}

func detail(t *testing.T, e store.AuditEvent) map[string]string {
	t.Helper()
	var d map[string]string
	if err := json.Unmarshal([]byte(e.Detail), &d); err != nil {
		t.Fatalf("detail %q: %v", e.Detail, err)
	}
	return d
}

func TestSetPassword(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u := f.Create(t, zhang)
		other := f.Create(t, account.NewAccount{LoginName: "li_si_2026", Password: password, Phone: "13900000004"})
		s1, _, rt1 := f.access(t, u.ID)
		s2, _, rt2 := f.access(t, u.ID)
		os, _, ort := f.access(t, other.ID)
		const newPassword = "Jinan@Spring2031"

		t.Run("a password the policy refuses changes nothing", func(t *testing.T) {
			sent := len(f.Outbox.List())
			err := f.Accounts.SetPassword(ctx, u.ID, "password", audit.User(u.ID))
			if p := problem.As(err); p.Kind != problem.Invalid || p.Fields["password"] != "password_common" {
				t.Errorf("SetPassword(weak) = %v, want the password field marked password_common", err)
			}
			got, _ := f.Store.GetUser(ctx, u.ID)
			if ok, _, _ := f.Accounts.VerifyPassword(ctx, got, password); !ok {
				t.Error("the old password no longer works")
			}
			if gone, revoked := f.ended(t, s1, rt1); gone || revoked {
				t.Error("a refused change ended access")
			}
			if len(f.Events(t, account.ActionPasswordChanged)) != 0 || len(f.Outbox.List()) != sent {
				t.Error("a refused change was audited or told")
			}
		})

		t.Run("unknown account", func(t *testing.T) {
			err := f.Accounts.SetPassword(ctx, "nobody", newPassword, audit.System())
			wantProblem(t, "SetPassword(nobody)", err, problem.NotFound, "not_found")
		})

		if err := f.Accounts.SetPassword(ctx, u.ID, newPassword, audit.User(u.ID)); err != nil {
			t.Fatalf("SetPassword: %v", err)
		}
		got, _ := f.Store.GetUser(ctx, u.ID)
		if ok, _, _ := f.Accounts.VerifyPassword(ctx, got, newPassword); !ok {
			t.Error("the new password does not work")
		}
		if ok, _, _ := f.Accounts.VerifyPassword(ctx, got, password); ok {
			t.Error("the old password still works")
		}
		if !got.UpdatedAt.Equal(f.Now) {
			t.Errorf("UpdatedAt = %v", got.UpdatedAt)
		}
		for i, a := range []struct {
			s  store.Session
			rt store.RefreshToken
		}{{s1, rt1}, {s2, rt2}} {
			if gone, revoked := f.ended(t, a.s, a.rt); !gone || !revoked {
				t.Errorf("access %d: session gone %v, refresh token's grant revoked %v; want both", i, gone, revoked)
			}
		}
		if gone, revoked := f.ended(t, os, ort); gone || revoked {
			t.Error("another account's access was ended")
		}

		events := f.Events(t, account.ActionPasswordChanged)
		if len(events) != 1 {
			t.Fatalf("%d password_changed events, want 1", len(events))
		}
		if e := events[0]; e.Actor != u.ID || e.Result != audit.ResultOK || detail(t, e)["user"] != u.ID || detail(t, e)["by"] != string(audit.KindUser) {
			t.Errorf("audit event: %+v", e)
		}
		if strings.Contains(events[0].Detail, newPassword) {
			t.Error("the audit holds the password")
		}

		m, ok := f.Outbox.Last(notify.ChannelSMS, "13812345678")
		if !ok {
			t.Fatal("the owner was not told")
		}
		if m.Template != notify.TemplatePasswordChanged || !strings.Contains(m.Text, "密码已修改") {
			t.Errorf("notice: %+v", m)
		}
		for _, secret := range []string{newPassword, password, "zhang", "Zhang", "13812345678", "1101"} {
			if strings.Contains(m.Text, secret) {
				t.Errorf("notice %q names %q", m.Text, secret)
			}
		}

		t.Run("by an operator", func(t *testing.T) {
			if err := f.Accounts.SetPassword(ctx, u.ID, "Qingdao@Sea2032", audit.Operator("wang.ops")); err != nil {
				t.Fatal(err)
			}
			events := f.Events(t, account.ActionPasswordChanged)
			if e := events[len(events)-1]; e.Actor != "operator:wang.ops" || detail(t, e)["by"] != string(audit.KindOperator) || detail(t, e)["user"] != u.ID {
				t.Errorf("audit event: %+v", e)
			}
		})
	})
}

func TestDisableEnable(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u := f.Create(t, zhang)
		s, _, rt := f.access(t, u.ID)

		if err := f.Accounts.Disable(ctx, u.ID, audit.Operator("wang.ops"), "ticket 2030-117"); err != nil {
			t.Fatalf("Disable: %v", err)
		}
		got, _ := f.Store.GetUser(ctx, u.ID)
		if got.Status != store.UserDisabled {
			t.Errorf("status after Disable = %q", got.Status)
		}
		if gone, revoked := f.ended(t, s, rt); !gone || !revoked {
			t.Errorf("after Disable: session gone %v, grant revoked %v; want both", gone, revoked)
		}
		events := f.Events(t, account.ActionDisabled)
		if len(events) != 1 || events[0].Actor != "operator:wang.ops" || detail(t, events[0])["reason"] != "ticket 2030-117" || detail(t, events[0])["user"] != u.ID {
			t.Errorf("disable events: %+v", events)
		}

		if err := f.Accounts.Enable(ctx, u.ID, audit.System(), "appeal granted"); err != nil {
			t.Fatalf("Enable: %v", err)
		}
		got, _ = f.Store.GetUser(ctx, u.ID)
		if got.Status != store.UserActive {
			t.Errorf("status after Enable = %q", got.Status)
		}
		events = f.Events(t, account.ActionEnabled)
		if len(events) != 1 || events[0].Actor != "system" || detail(t, events[0])["by"] != string(audit.KindSystem) {
			t.Errorf("enable events: %+v", events)
		}

		t.Run("unknown account or actor", func(t *testing.T) {
			wantProblem(t, "Disable(nobody)", f.Accounts.Disable(ctx, "nobody", audit.System(), ""), problem.NotFound, "not_found")
			wantProblem(t, "Disable without actor", f.Accounts.Disable(ctx, u.ID, audit.Actor{}, ""), problem.Internal, "internal")
			if got, _ := f.Store.GetUser(ctx, u.ID); got.Status != store.UserActive {
				t.Error("a refused Disable changed the status")
			}
		})
	})
}
