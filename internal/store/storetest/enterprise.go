package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"unid/internal/store"
)

func testEnterprises(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)
	events := 0
	event := func() store.AuditEvent { events++; return newEvent(events) }
	refused := func(store.AuditEvent) []byte { return []byte("short") }
	zhang, li, wang := newUser(), newUser(), newUser()
	for _, u := range []store.User{zhang, li, wang} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	const uscc, other = "91350100M000100Y43", "91310115000000000Q"
	ent := store.Enterprise{USCC: uscc, Name: "示例有限公司", LegalRepName: store.Sealed{Cipher: randBytes(20)}, LegalRepID: sealed(),
		Status: "active", CheckedAt: base, CreatedAt: base}
	member := func(u store.User, usccOf, role string) store.EnterpriseMember {
		return store.EnterpriseMember{USCC: usccOf, UserID: u.ID, Role: role, CreatedAt: base}
	}
	roles := func(t *testing.T, usccOf string) map[string]string {
		t.Helper()
		ms, err := s.ListEnterpriseMembers(ctx, usccOf)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, m := range ms {
			out[m.UserID] = m.Role
		}
		return out
	}

	t.Run("a refused audit event writes nothing", func(t *testing.T) {
		err := s.ChangeEnterprise(ctx, store.EnterpriseChange{Enterprise: &ent,
			PutMembers: []store.EnterpriseMember{member(zhang, uscc, "legal_rep")}}, newEvent(events+1), refused)
		if err == nil {
			t.Fatal("no error")
		}
		if _, err := s.GetEnterprise(ctx, uscc); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("enterprise after the failed change: %v", err)
		}
		if ms, _ := s.ListUserMemberships(ctx, zhang.ID); len(ms) != 0 {
			t.Errorf("memberships after the failed change: %+v", ms)
		}
	})

	t.Run("bind the legal rep, one per enterprise", func(t *testing.T) {
		if err := s.ChangeEnterprise(ctx, store.EnterpriseChange{Enterprise: &ent,
			PutMembers: []store.EnterpriseMember{member(zhang, uscc, "legal_rep")}}, event(), seal); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetEnterprise(ctx, uscc)
		if err != nil || got.Name != ent.Name || string(got.LegalRepID.Index) != string(ent.LegalRepID.Index) ||
			string(got.LegalRepName.Cipher) != string(ent.LegalRepName.Cipher) || !got.CheckedAt.Equal(base) || got.Status != "active" {
			t.Errorf("GetEnterprise = %+v, %v", got, err)
		}
		err = s.ChangeEnterprise(ctx, store.EnterpriseChange{PutMembers: []store.EnterpriseMember{member(li, uscc, "legal_rep")}}, event(), seal)
		wantConflict(t, "a second legal rep", err, "legal_rep")
		if r := roles(t, uscc); len(r) != 1 || r[zhang.ID] != "legal_rep" {
			t.Errorf("members %v", r)
		}
	})

	t.Run("approve an application: membership, decision, audit in one; rollback", func(t *testing.T) {
		app := store.EnterpriseApplication{ID: randID(), USCC: uscc, UserID: li.ID, Reason: "办理业务", State: "pending", CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
		if err := s.ChangeEnterprise(ctx, store.EnterpriseChange{Application: &app}, event(), seal); err != nil {
			t.Fatal(err)
		}
		dup := app
		dup.ID = randID()
		wantConflict(t, "a second pending application", s.ChangeEnterprise(ctx, store.EnterpriseChange{Application: &dup}, event(), seal), "application_pending")
		if as, err := s.ListPendingApplications(ctx, uscc, base); err != nil || len(as) != 1 || as[0].ID != app.ID {
			t.Errorf("pending %+v %v", as, err)
		}
		if as, _ := s.ListPendingApplications(ctx, uscc, base.Add(time.Hour)); len(as) != 0 {
			t.Errorf("expired application listed: %+v", as)
		}
		approve := store.EnterpriseChange{
			ApplicationDecision: &store.EnterpriseDecision{ID: app.ID, State: "approved", DecidedAt: base.Add(time.Minute), DecidedBy: zhang.ID, Reason: "ok"},
			PutMembers:          []store.EnterpriseMember{{USCC: uscc, UserID: li.ID, Role: "handler", Labels: []string{"财务"}, GrantedBy: zhang.ID, CreatedAt: base}},
			KeepMembers:         true,
		}
		if err := s.ChangeEnterprise(ctx, approve, newEvent(events+1), refused); err == nil {
			t.Fatal("approve with a refused seal: no error")
		}
		if a, _ := s.GetEnterpriseApplication(ctx, app.ID); a.State != "pending" {
			t.Errorf("application %s after the rollback", a.State)
		}
		if r := roles(t, uscc); r[li.ID] != "" {
			t.Errorf("membership after the rollback: %v", r)
		}
		if err := s.ChangeEnterprise(ctx, approve, event(), seal); err != nil {
			t.Fatal(err)
		}
		a, err := s.GetEnterpriseApplication(ctx, app.ID)
		if err != nil || a.State != "approved" || a.DecidedBy != zhang.ID || a.DecisionReason != "ok" || !a.DecidedAt.Equal(base.Add(time.Minute)) {
			t.Errorf("application %+v %v", a, err)
		}
		m, err := s.GetEnterpriseMember(ctx, uscc, li.ID)
		if err != nil || m.Role != "handler" || !slices.Equal(m.Labels, []string{"财务"}) || m.GrantedBy != zhang.ID {
			t.Errorf("member %+v %v", m, err)
		}
		if err := s.ChangeEnterprise(ctx, approve, event(), seal); !errors.Is(err, store.ErrConflict) {
			t.Errorf("deciding twice: %v, want ErrConflict", err)
		}
		if as, _ := s.ListUserApplications(ctx, li.ID); len(as) != 1 {
			t.Errorf("user applications %+v", as)
		}
	})

	t.Run("grants and defaults", func(t *testing.T) {
		g := store.EnterpriseGrant{ID: randID(), USCC: uscc, UserID: wang.ID, Role: "admin", GrantedBy: zhang.ID, CreatedAt: base,
			ExpiresAt: base.Add(time.Hour), ValidUntil: base.Add(24 * time.Hour)}
		if err := s.ChangeEnterprise(ctx, store.EnterpriseChange{Grant: &g}, event(), seal); err != nil {
			t.Fatal(err)
		}
		if gs, err := s.ListUserGrants(ctx, wang.ID, base); err != nil || len(gs) != 1 || gs[0].ID != g.ID || !gs[0].ValidUntil.Equal(g.ValidUntil) {
			t.Errorf("user grants %+v %v", gs, err)
		}
		if gs, _ := s.ListEnterpriseGrants(ctx, uscc, base.Add(time.Hour)); len(gs) != 0 {
			t.Errorf("expired grant listed: %+v", gs)
		}
		accept := store.EnterpriseChange{DeleteGrants: []string{g.ID}, PutMembers: []store.EnterpriseMember{{USCC: uscc, UserID: wang.ID, Role: "admin",
			ValidUntil: g.ValidUntil, GrantedBy: zhang.ID, CreatedAt: base}}, KeepMembers: true}
		if err := s.ChangeEnterprise(ctx, accept, event(), seal); err != nil {
			t.Fatal(err)
		}
		wantNotFound(t, "accepting twice", s.ChangeEnterprise(ctx, accept, event(), seal))
		// A second enterprise, and defaults.
		o := ent
		o.USCC = other
		if err := s.ChangeEnterprise(ctx, store.EnterpriseChange{Enterprise: &o, PutMembers: []store.EnterpriseMember{member(wang, other, "handler")}}, event(), seal); err != nil {
			t.Fatal(err)
		}
		if err := s.SetDefaultEnterprise(ctx, wang.ID, other, event(), seal); err != nil {
			t.Fatal(err)
		}
		if err := s.SetDefaultEnterprise(ctx, wang.ID, uscc, event(), seal); err != nil {
			t.Fatal(err)
		}
		ms, err := s.ListUserMemberships(ctx, wang.ID)
		if err != nil || len(ms) != 2 || ms[0].USCC != uscc || !ms[0].Default || ms[1].Default {
			t.Errorf("memberships %+v %v", ms, err)
		}
		wantNotFound(t, "default of a non-member", s.SetDefaultEnterprise(ctx, li.ID, other, event(), seal))
		if err := s.SetDefaultEnterprise(ctx, wang.ID, "", event(), seal); err != nil {
			t.Fatal(err)
		}
		if ms, _ := s.ListUserMemberships(ctx, wang.ID); ms[0].Default || ms[1].Default {
			t.Errorf("a default after clearing: %+v", ms)
		}
		// Import keeps what exists.
		if err := s.ChangeEnterprise(ctx, store.EnterpriseChange{Enterprise: &store.Enterprise{USCC: uscc, Name: "旧名", Status: "active", CreatedAt: base},
			KeepEnterprise: true, PutMembers: []store.EnterpriseMember{member(wang, uscc, "handler")}, KeepMembers: true}, event(), seal); err != nil {
			t.Fatal(err)
		}
		if e, _ := s.GetEnterprise(ctx, uscc); e.Name != ent.Name {
			t.Errorf("KeepEnterprise renamed it: %q", e.Name)
		}
		if m, _ := s.GetEnterpriseMember(ctx, uscc, wang.ID); m.Role != "admin" {
			t.Errorf("KeepMembers changed the role to %q", m.Role)
		}
	})

	t.Run("revoke, unbind", func(t *testing.T) {
		wantNotFound(t, "revoking a non-member", s.ChangeEnterprise(ctx, store.EnterpriseChange{RemoveMembers: []store.MemberKey{{USCC: other, UserID: zhang.ID}}}, event(), seal))
		if err := s.ChangeEnterprise(ctx, store.EnterpriseChange{RemoveMembers: []store.MemberKey{{USCC: uscc, UserID: li.ID}}}, event(), seal); err != nil {
			t.Fatal(err)
		}
		if err := s.ChangeEnterprise(ctx, store.EnterpriseChange{RemoveAllMembers: uscc, DeleteAllGrants: uscc}, newEvent(events+1), refused); err == nil {
			t.Fatal("unbind with a refused seal: no error")
		}
		if r := roles(t, uscc); len(r) != 2 {
			t.Errorf("members after the failed unbind: %v", r)
		}
		if err := s.ChangeEnterprise(ctx, store.EnterpriseChange{RemoveAllMembers: uscc, DeleteAllGrants: uscc}, event(), seal); err != nil {
			t.Fatal(err)
		}
		if r := roles(t, uscc); len(r) != 0 {
			t.Errorf("members after unbinding: %v", r)
		}
		if r := roles(t, other); len(r) != 1 {
			t.Errorf("the other enterprise lost members: %v", r)
		}
	})

	t.Run("closing an account removes its memberships, grants and applications", func(t *testing.T) {
		g := store.EnterpriseGrant{ID: randID(), USCC: other, UserID: wang.ID, Role: "handler", CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
		a := store.EnterpriseApplication{ID: randID(), USCC: uscc, UserID: wang.ID, Reason: "x", State: "pending", CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
		if err := s.ChangeEnterprise(ctx, store.EnterpriseChange{Grant: &g, Application: &a}, event(), seal); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CloseUser(ctx, wang.ID, base, base.Add(time.Hour), event(), seal); err != nil {
			t.Fatal(err)
		}
		if ms, _ := s.ListUserMemberships(ctx, wang.ID); len(ms) != 0 {
			t.Errorf("memberships %+v", ms)
		}
		if gs, _ := s.ListUserGrants(ctx, wang.ID, base); len(gs) != 0 {
			t.Errorf("grants %+v", gs)
		}
		if as, _ := s.ListUserApplications(ctx, wang.ID); len(as) != 0 {
			t.Errorf("applications %+v", as)
		}
	})

	t.Run("a grant outlives no granter; one pending grant per person", func(t *testing.T) {
		const third = "91440300000000000E"
		x, y := newUser(), newUser()
		for _, u := range []store.User{x, y} {
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		e3 := ent
		e3.USCC = third
		admin := member(li, third, "admin")
		admin.ValidUntil = base.Add(time.Hour)
		if err := s.ChangeEnterprise(ctx, store.EnterpriseChange{Enterprise: &e3, PutMembers: []store.EnterpriseMember{member(zhang, third, "legal_rep"), admin}}, event(), seal); err != nil {
			t.Fatal(err)
		}
		if cs, err := s.ListMemberEnterprises(ctx); err != nil || len(cs) != 1 || cs[0] != third {
			t.Errorf("member enterprises %v %v", cs, err)
		}
		g := store.EnterpriseGrant{ID: randID(), USCC: third, UserID: x.ID, Role: "handler", GrantedBy: li.ID, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
		if err := s.ChangeEnterprise(ctx, store.EnterpriseChange{Grant: &g}, event(), seal); err != nil {
			t.Fatal(err)
		}
		again := g
		again.ID, again.Role, again.ExpiresAt = randID(), "admin", base.Add(2*time.Hour)
		if err := s.ChangeEnterprise(ctx, store.EnterpriseChange{Grant: &again}, event(), seal); err != nil {
			t.Fatal(err)
		}
		if gs, _ := s.ListUserGrants(ctx, x.ID, base); len(gs) != 1 || gs[0].ID != again.ID || gs[0].Role != "admin" {
			t.Errorf("a repeat grant: %+v", gs)
		}
		accept := func(roles []string, now time.Time) store.EnterpriseChange {
			return store.EnterpriseChange{Granter: &store.GranterCheck{USCC: third, UserID: li.ID, Roles: roles, Now: now},
				DeleteGrants: []string{again.ID}, PutMembers: []store.EnterpriseMember{member(x, third, "handler")}, KeepMembers: true}
		}
		wantNotFound(t, "a granter without the role", s.ChangeEnterprise(ctx, accept([]string{"legal_rep"}, base), event(), seal))
		wantNotFound(t, "a granter whose role ended", s.ChangeEnterprise(ctx, accept([]string{"legal_rep", "admin"}, base.Add(2*time.Hour)), event(), seal))
		if r := roles(t, third); len(r) != 2 {
			t.Errorf("refused accepts wrote members: %v", r)
		}
		if gs, _ := s.ListUserGrants(ctx, x.ID, base); len(gs) != 1 {
			t.Errorf("refused accepts dropped the grant: %+v", gs)
		}
		if err := s.ChangeEnterprise(ctx, store.EnterpriseChange{RemoveMembers: []store.MemberKey{{USCC: third, UserID: li.ID}}}, event(), seal); err != nil {
			t.Fatal(err)
		}
		if gs, _ := s.ListUserGrants(ctx, x.ID, base); len(gs) != 0 {
			t.Errorf("the removed granter's grant stays: %+v", gs)
		}
		gy := store.EnterpriseGrant{ID: randID(), USCC: third, UserID: y.ID, Role: "admin", GrantedBy: zhang.ID, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
		if err := s.ChangeEnterprise(ctx, store.EnterpriseChange{Grant: &gy}, event(), seal); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CloseUser(ctx, zhang.ID, base, base.Add(time.Hour), event(), seal); err != nil {
			t.Fatal(err)
		}
		if gs, _ := s.ListUserGrants(ctx, y.ID, base); len(gs) != 0 {
			t.Errorf("the closed granter's grant stays: %+v", gs)
		}
	})
}
