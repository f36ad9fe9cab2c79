package realname_test

import (
	"context"
	"testing"

	"unid/internal/account"
	"unid/internal/account/accounttest"
	"unid/internal/audit"
	"unid/internal/i18n"
	"unid/internal/problem"
	"unid/internal/ratelimit"
	"unid/internal/realname"
	"unid/internal/realname/sandbox"
	"unid/internal/store"
	"unid/internal/store/sqlite/sqlitetest"
)

// alipayFixture is a real-name service over a real store, with the
// sandbox verifier and an Alipay whose links the test sets by user.
type alipayFixture struct {
	*accounttest.Fixture
	svc   *realname.Service
	links map[string]realname.LinkEvidence
}

// newAlipayFixture builds the service; withAlipay false leaves Deps.Alipay
// nil, as without Alipay sign-in. One check a day per user: the registry
// check uses it up, so that a counted alipay check would be refused.
func newAlipayFixture(t *testing.T, withAlipay bool) *alipayFixture {
	t.Helper()
	f := &alipayFixture{Fixture: accounttest.New(t, sqlitetest.New(t)), links: map[string]realname.LinkEvidence{}}
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	d := realname.Deps{
		Store: f.Store, Provider: sandbox.New("http://127.0.0.1", cat), Protector: f.Protector,
		Limiter: ratelimit.New(f.Store), Audit: f.Audit, Now: f.Clock,
		Options: realname.Options{ChecksPerUserDay: 1},
	}
	if withAlipay {
		d.Alipay = realname.AlipayEvidenceFunc(func(_ context.Context, userID string) (realname.LinkEvidence, error) {
			return f.links[userID], nil
		})
	}
	if f.svc, err = realname.New(d); err != nil {
		t.Fatal(err)
	}
	return f
}

var me = audit.Origin{Actor: audit.User("test")}

// citizen creates 张三's account, at level 1 when verified.
func (f *alipayFixture) citizen(t *testing.T, verified bool) store.User {
	t.Helper()
	u := f.Create(t, account.NewAccount{LoginName: "zhang_san", Password: "Shandong#2026"})
	if verified {
		st, err := f.svc.VerifyIdentity(context.Background(), u.ID, realname.Identity{RealName: "张三", IDNumber: "11010519491231002X"}, me)
		if err != nil || st.Level != 1 {
			t.Fatalf("level 1: %+v %v", st, err)
		}
	}
	return u
}

func (f *alipayFixture) checks(t *testing.T, userID string) []store.RealnameCheck {
	t.Helper()
	cs, err := f.Store.ListRealnameChecks(context.Background(), userID, 100)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func alipayOffered(st realname.Status) (realname.MethodOffered, bool) {
	for _, lm := range st.Levels {
		for _, m := range lm.Methods {
			if m.Method == realname.MethodAlipay {
				return m, lm.Level == 2
			}
		}
	}
	return realname.MethodOffered{}, false
}

func TestVerifyAlipayRefusals(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		withAlipay bool
		verified   bool
		link       realname.LinkEvidence
		wantCode   string
		wantLevel  int
	}{
		{"level 0: Alipay is never level 1 on its own", true, false, realname.LinkEvidence{Linked: true, Certified: true, Display: "张*"}, "realname_level_required", 0},
		{"no Alipay link", true, true, realname.LinkEvidence{}, "realname_alipay_unlinked", 1},
		{"a link Alipay has not certified", true, true, realname.LinkEvidence{Linked: true, Display: "张*"}, "realname_alipay_uncertified", 1},
		{"no Alipay sign-in on the platform", false, true, realname.LinkEvidence{Linked: true, Certified: true}, "realname_method_off", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newAlipayFixture(t, tt.withAlipay)
			u := f.citizen(t, tt.verified)
			f.links[u.ID] = tt.link
			before := len(f.checks(t, u.ID))
			_, err := f.svc.VerifyAlipay(ctx, u.ID, me)
			if p := problem.As(err); err == nil || p.Code != tt.wantCode {
				t.Fatalf("VerifyAlipay: %v, want %s", err, tt.wantCode)
			}
			st, err := f.svc.Status(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if st.Level != tt.wantLevel || len(st.Bindings) != tt.wantLevel {
				t.Errorf("after a refusal: level %d, bindings %+v; want level %d unchanged", st.Level, st.Bindings, tt.wantLevel)
			}
			if n := len(f.checks(t, u.ID)); n != before {
				t.Errorf("a refusal recorded a check: %d checks, were %d", n, before)
			}
		})
	}
}

func TestVerifyAlipayThenUnlink(t *testing.T) {
	ctx := context.Background()
	f := newAlipayFixture(t, true)
	u := f.citizen(t, true)
	// Alipay certified someone else: no evidence about this person.
	f.links[u.ID] = realname.LinkEvidence{Linked: true, Certified: true, Display: "李*",
		IDNumberIndex: f.Protector.Index(account.FieldIDNumber, "11010519800101001X")}
	if _, err := f.svc.VerifyAlipay(ctx, u.ID, me); problem.As(err).Code != "realname_alipay_mismatch" {
		t.Fatalf("another person's certified Alipay: %v, want realname_alipay_mismatch", err)
	}
	f.links[u.ID] = realname.LinkEvidence{Linked: true, Certified: true, Display: "李*"}
	if _, err := f.svc.VerifyAlipay(ctx, u.ID, me); problem.As(err).Code != "realname_alipay_mismatch" {
		t.Fatalf("a certified Alipay that named nobody: %v, want realname_alipay_mismatch", err)
	}
	f.links[u.ID] = realname.LinkEvidence{Linked: true, Certified: true, Display: "张*",
		IDNumberIndex: f.Protector.Index(account.FieldIDNumber, "11010519491231002X")}

	st, err := f.svc.Status(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m, level2 := alipayOffered(st); !level2 || !m.Available || m.Kind != realname.KindLink {
		t.Fatalf("alipay as the page sees it at level 1: %+v (at level 2: %v)", m, level2)
	}
	if st.Alipay == nil || !st.Alipay.Linked || !st.Alipay.Certified || st.ChecksLeftToday != 0 {
		t.Fatalf("status at level 1: alipay %+v, checks left %d", st.Alipay, st.ChecksLeftToday)
	}

	// The registry check used up today's checks: alipay asks no
	// verifier, so it is not counted and still goes through.
	st, err = f.svc.VerifyAlipay(ctx, u.ID, me)
	if err != nil {
		t.Fatalf("VerifyAlipay: %v", err)
	}
	if st.Level != 2 {
		t.Fatalf("level %d, want 2", st.Level)
	}
	var bound *realname.Binding
	for i, b := range st.Bindings {
		if b.Method == realname.MethodAlipay {
			bound = &st.Bindings[i]
		}
	}
	if bound == nil || bound.Level != 2 || bound.Detail != "张*" || !bound.Removable {
		t.Errorf("alipay binding: %+v in %+v", bound, st.Bindings)
	}
	cs := f.checks(t, u.ID)
	var check *store.RealnameCheck
	for i, c := range cs {
		if c.Method == realname.MethodAlipay {
			check = &cs[i]
		}
	}
	if check == nil || check.Provider != realname.ProviderAlipay || check.Result != realname.ResultPass || check.Reference != "张*" {
		t.Errorf("alipay check: %+v", check)
	}
	if bound := f.Events(t, realname.ActionBound); len(bound) != 2 {
		t.Errorf("%d %s events, want 2 (registry, alipay)", len(bound), realname.ActionBound)
	}

	// Unlinking Alipay takes the binding with it.
	f.links[u.ID] = realname.LinkEvidence{}
	if err := f.svc.AlipayUnlinked(ctx, u.ID); err != nil {
		t.Fatalf("AlipayUnlinked: %v", err)
	}
	st, err = f.svc.Status(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Level != 1 || len(st.Bindings) != 1 || st.Bindings[0].Method != realname.MethodRegistry {
		t.Errorf("after unlinking: level %d, bindings %+v; want level 1 with the registry binding", st.Level, st.Bindings)
	}
	if st.Alipay == nil || st.Alipay.Linked {
		t.Errorf("after unlinking: alipay %+v", st.Alipay)
	}
	if ev := f.Events(t, realname.ActionUnbound); len(ev) != 1 || ev[0].Actor != u.ID {
		t.Errorf("%s events: %+v", realname.ActionUnbound, ev)
	}
	// Without the binding (unlinked again, or never bound), nothing happens.
	if err := f.svc.AlipayUnlinked(ctx, u.ID); err != nil {
		t.Fatalf("AlipayUnlinked without a binding: %v", err)
	}
	if ev := f.Events(t, realname.ActionUnbound); len(ev) != 1 {
		t.Errorf("an unlink without a binding was audited: %d events", len(ev))
	}
}

func TestAlipayUnavailableWithoutAlipaySignIn(t *testing.T) {
	f := newAlipayFixture(t, false)
	u := f.citizen(t, true)
	st, err := f.svc.Status(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := alipayOffered(st); m.Method == "" || m.Available {
		t.Errorf("alipay without Alipay sign-in: %+v, want offered and not available", m)
	}
	if st.Alipay != nil {
		t.Errorf("status tells of an Alipay link without Alipay sign-in: %+v", st.Alipay)
	}
}
