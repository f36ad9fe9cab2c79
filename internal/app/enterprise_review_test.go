package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/enterprise"
	esandbox "unid/internal/enterprise/sandbox"
	"unid/internal/problem"
)

// Regression tests of the security review of the enterprise space.

// pendingGrant returns the id of b's pending grant of uscc, "" when none.
func pendingGrant(t *testing.T, b *apptest.Browser, uscc string) string {
	t.Helper()
	for _, g := range b.Get("/api/v1/enterprises").JSON(t)["grants"].([]any) {
		if g := g.(map[string]any); g["uscc"] == uscc {
			return g["id"].(string)
		}
	}
	return ""
}

func grantTo(b *apptest.Browser, uscc string, p apptest.Person, role string, extra map[string]any) apptest.Response {
	body := map[string]any{"phone": p.Phone, "real_name": p.RealName, "role": role}
	for k, v := range extra {
		body[k] = v
	}
	return b.PostJSON("/api/v1/enterprises/"+uscc+"/grants", body)
}

// TestEnterpriseGrantOutlivesNoGranter: a pending grant dies with its
// granter's role (revoked, left, lost at a recheck), and one whose
// granter no longer holds a live role that may grant it cannot be accepted.
func TestEnterpriseGrantOutlivesNoGranter(t *testing.T) {
	t.Run("revoked granter", func(t *testing.T) {
		srv := apptest.Start(t, nil)
		zb, _ := citizen(t, srv, apptest.Zhang, true)
		sb, sunID := citizen(t, srv, sunQi, false)
		lb, _ := citizen(t, srv, zhaoLiu, false)
		if r := bind(zb, acmeUSCC, acmeName); r.Status != http.StatusCreated {
			t.Fatal(r.Status, string(r.Body))
		}
		grantAndAccept(t, zb, sb, acmeUSCC, sunQi, enterprise.RoleAdmin)
		if r := grantTo(sb, acmeUSCC, zhaoLiu, enterprise.RoleHandler, nil); r.Status != http.StatusAccepted {
			t.Fatal(r.Status, string(r.Body))
		}
		id := pendingGrant(t, lb, acmeUSCC)
		if id == "" {
			t.Fatal("no grant to zhao")
		}
		if r := zb.Do(http.MethodDelete, "/api/v1/enterprises/"+acmeUSCC+"/members/"+sunID, "", nil); r.Status != http.StatusNoContent {
			t.Fatal("revoke", r.Status, string(r.Body))
		}
		if g := pendingGrant(t, lb, acmeUSCC); g != "" {
			t.Errorf("the revoked admin's grant is still pending")
		}
		before := state(t, srv)
		if r := lb.PostJSON("/api/v1/enterprise-grants/"+id+"/accept", nil); r.Status != http.StatusNotFound || !strings.Contains(string(r.Body), "enterprise_grant_not_found") {
			t.Errorf("accept after the granter was revoked: %d %s", r.Status, r.Body)
		}
		if after := state(t, srv); after != before {
			t.Errorf("the refused accept changed %q to %q", before, after)
		}
	})
	t.Run("granter left", func(t *testing.T) {
		srv := apptest.Start(t, nil)
		zb, _ := citizen(t, srv, apptest.Zhang, true)
		sb, _ := citizen(t, srv, sunQi, false)
		lb, _ := citizen(t, srv, zhaoLiu, false)
		bind(zb, acmeUSCC, acmeName)
		grantAndAccept(t, zb, sb, acmeUSCC, sunQi, enterprise.RoleAdmin)
		grantTo(sb, acmeUSCC, zhaoLiu, enterprise.RoleHandler, nil)
		id := pendingGrant(t, lb, acmeUSCC)
		if r := sb.Do(http.MethodDelete, "/api/v1/enterprises/"+acmeUSCC+"/members/me", "", nil); r.Status != http.StatusNoContent {
			t.Fatal("leave", r.Status, string(r.Body))
		}
		if r := lb.PostJSON("/api/v1/enterprise-grants/"+id+"/accept", nil); r.Status != http.StatusNotFound {
			t.Errorf("accept after the granter left: %d %s", r.Status, r.Body)
		}
	})
	t.Run("granter's role expired", func(t *testing.T) {
		srv := apptest.Start(t, nil)
		zb, _ := citizen(t, srv, apptest.Zhang, true)
		sb, _ := citizen(t, srv, sunQi, false)
		lb, _ := citizen(t, srv, zhaoLiu, false)
		bind(zb, acmeUSCC, acmeName)
		until := srv.Clock.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
		if r := grantTo(zb, acmeUSCC, sunQi, enterprise.RoleAdmin, map[string]any{"valid_until": until}); r.Status != http.StatusAccepted {
			t.Fatal(r.Status, string(r.Body))
		}
		if r := sb.PostJSON("/api/v1/enterprise-grants/"+pendingGrant(t, sb, acmeUSCC)+"/accept", nil); r.Status != http.StatusOK {
			t.Fatal(r.Status, string(r.Body))
		}
		grantTo(sb, acmeUSCC, zhaoLiu, enterprise.RoleHandler, nil)
		id := pendingGrant(t, lb, acmeUSCC)
		srv.Clock.Advance(48 * time.Hour)
		lb = srv.Browser(t)
		lb.MustLogin(zhaoLiu.Login, zhaoLiu.Password)
		if r := lb.PostJSON("/api/v1/enterprise-grants/"+id+"/accept", nil); r.Status != http.StatusNotFound {
			t.Errorf("accept after the granter's role ended: %d %s", r.Status, r.Body)
		}
		if ms := lb.Get("/api/v1/enterprises").JSON(t)["enterprises"].([]any); len(ms) != 0 {
			t.Errorf("zhao is a member: %v", ms)
		}
	})
	t.Run("old legal rep", func(t *testing.T) {
		srv := apptest.Start(t, nil)
		zb, _ := citizen(t, srv, apptest.Zhang, true)
		sb, _ := citizen(t, srv, sunQi, false)
		lb, _ := citizen(t, srv, liSi, true)
		bind(zb, acmeUSCC, acmeName)
		if r := grantTo(zb, acmeUSCC, sunQi, enterprise.RoleAdmin, nil); r.Status != http.StatusAccepted {
			t.Fatal(r.Status, string(r.Body))
		}
		id := pendingGrant(t, sb, acmeUSCC)
		srv.App.EnterpriseRegistry().(*esandbox.Registry).SetLegalRep(acmeUSCC, liSi.RealName, liSi.IDNumber)
		if err := srv.App.Enterprise.RecheckAll(context.Background()); err != nil {
			t.Fatal(err)
		}
		if r := bind(lb, acmeUSCC, acmeName); r.Status != http.StatusCreated {
			t.Fatal("new rep bind", r.Status, string(r.Body))
		}
		if g := pendingGrant(t, sb, acmeUSCC); g != "" {
			t.Error("the old legal rep's grant survived the recheck")
		}
		if r := sb.PostJSON("/api/v1/enterprise-grants/"+id+"/accept", nil); r.Status != http.StatusNotFound {
			t.Errorf("accept the old rep's admin grant: %d %s", r.Status, r.Body)
		}
		d := lb.Get("/api/v1/enterprises/" + acmeUSCC).JSON(t)
		if ms := d["members"].([]any); len(ms) != 1 {
			t.Errorf("members %v", ms)
		}
	})
}

// TestEnterpriseWithdrawGrant: the legal representative and admins
// withdraw pending grants they may give; nobody else; audited.
func TestEnterpriseWithdrawGrant(t *testing.T) {
	srv := apptest.Start(t, nil)
	zb, zhangID := citizen(t, srv, apptest.Zhang, true)
	sb, sunID := citizen(t, srv, sunQi, false)
	lb, _ := citizen(t, srv, zhaoLiu, false)
	qb, _ := citizen(t, srv, qianBa, false)
	bind(zb, acmeUSCC, acmeName)
	grantAndAccept(t, zb, sb, acmeUSCC, sunQi, enterprise.RoleAdmin)
	grantTo(zb, acmeUSCC, zhaoLiu, enterprise.RoleAdmin, nil)
	adminGrant := pendingGrant(t, lb, acmeUSCC)
	path := "/api/v1/enterprises/" + acmeUSCC + "/grants/"
	before := state(t, srv)
	for _, c := range []struct {
		name string
		b    *apptest.Browser
		url  string
		want int
	}{
		{"an admin, an admin grant", sb, path + adminGrant, http.StatusForbidden},
		{"a stranger", qb, path + adminGrant, http.StatusNotFound},
		{"the grantee", lb, path + adminGrant, http.StatusNotFound},
		{"another enterprise", zb, "/api/v1/enterprises/" + tradeUSCC + "/grants/" + adminGrant, http.StatusNotFound},
		{"unknown grant", zb, path + "nosuchgrant", http.StatusNotFound},
	} {
		if r := c.b.Do(http.MethodDelete, c.url, "", nil); r.Status != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, r.Status, r.Body, c.want)
		}
	}
	if after := state(t, srv); after != before {
		t.Errorf("refused withdrawals changed %q to %q", before, after)
	}
	if r := zb.Do(http.MethodDelete, path+adminGrant, "", nil); r.Status != http.StatusNoContent {
		t.Fatalf("withdraw: %d %s", r.Status, r.Body)
	}
	if r := lb.PostJSON("/api/v1/enterprise-grants/"+adminGrant+"/accept", nil); r.Status != http.StatusNotFound {
		t.Errorf("accept a withdrawn grant: %d %s", r.Status, r.Body)
	}
	// An admin withdraws a handler grant, the legal rep's too.
	grantTo(zb, acmeUSCC, zhaoLiu, enterprise.RoleHandler, nil)
	if r := sb.Do(http.MethodDelete, path+pendingGrant(t, lb, acmeUSCC), "", nil); r.Status != http.StatusNoContent {
		t.Errorf("an admin withdraws a handler grant: %d %s", r.Status, r.Body)
	}
	if g := pendingGrant(t, lb, acmeUSCC); g != "" {
		t.Error("the withdrawn handler grant is still pending")
	}
	events, err := srv.App.Store.ListAudit(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var by []string
	for _, e := range events {
		if e.Action == enterprise.ActionGrantWithdrawn {
			by = append(by, e.Actor)
		}
	}
	if len(by) != 2 || by[0] != zhangID || by[1] != sunID {
		t.Errorf("withdrawals by %v, want [%s %s]", by, zhangID, sunID)
	}
}

// textsTo counts the texts sent to phone so far.
func textsTo(t *testing.T, srv *apptest.Server, phone string) int {
	t.Helper()
	srv.App.Enterprise.Wait()
	n := 0
	for _, m := range srv.Outbox(t) {
		if m.To == phone {
			n++
		}
	}
	return n
}

// TestEnterpriseGrantRepeatAndLimit: a repeat grant to the same person
// replaces the pending one under a new ID without a second text, answering
// alike; withdrawing and granting again texts no one twice; a granter's
// grants are limited, in words.
func TestEnterpriseGrantRepeatAndLimit(t *testing.T) {
	srv := apptest.Start(t, nil)
	zb, _ := citizen(t, srv, apptest.Zhang, true)
	sb, _ := citizen(t, srv, sunQi, false)
	bind(zb, acmeUSCC, acmeName)
	texts := textsTo(t, srv, sunQi.Phone)
	first := grantTo(zb, acmeUSCC, sunQi, enterprise.RoleHandler, nil)
	if first.Status != http.StatusAccepted {
		t.Fatal(first.Status, string(first.Body))
	}
	if n := textsTo(t, srv, sunQi.Phone); n != texts+1 {
		t.Fatalf("%d texts to the grantee, want %d", n, texts+1)
	}
	id := pendingGrant(t, sb, acmeUSCC)
	again := grantTo(zb, acmeUSCC, sunQi, enterprise.RoleAdmin, nil)
	if again.Status != first.Status || string(again.Body) != string(first.Body) {
		t.Errorf("the repeat answers %d %s, the first %d %s", again.Status, again.Body, first.Status, first.Body)
	}
	if n := textsTo(t, srv, sunQi.Phone); n != texts+1 {
		t.Errorf("a repeat grant texted again: %d texts, want %d", n, texts+1)
	}
	gs := sb.Get("/api/v1/enterprises").JSON(t)["grants"].([]any)
	if len(gs) != 1 || gs[0].(map[string]any)["id"] == id || gs[0].(map[string]any)["role"] != enterprise.RoleAdmin {
		t.Errorf("grants after the repeat: %v (want one, under a new ID, with the new role)", gs)
	}
	// What the person saw before cannot be accepted on the new terms.
	if r := sb.PostJSON("/api/v1/enterprise-grants/"+id+"/accept", nil); r.Status != http.StatusNotFound {
		t.Errorf("accepting the replaced grant: %d %s, want 404", r.Status, r.Body)
	}
	// Withdrawn and granted again: the person is not texted again.
	newID, _ := gs[0].(map[string]any)["id"].(string)
	if r := zb.Do(http.MethodDelete, "/api/v1/enterprises/"+acmeUSCC+"/grants/"+newID, "", nil); r.Status/100 != 2 {
		t.Fatalf("withdraw: %d %s", r.Status, r.Body)
	}
	if r := grantTo(zb, acmeUSCC, sunQi, enterprise.RoleAdmin, nil); r.Status != http.StatusAccepted {
		t.Fatalf("grant again: %d %s", r.Status, r.Body)
	}
	if n := textsTo(t, srv, sunQi.Phone); n != texts+1 {
		t.Errorf("grant, withdraw, grant again texted again: %d texts, want %d", n, texts+1)
	}
	// 3 grants so far; the granter's limit is enterprise.GrantsPerGranter an hour, matched or not.
	for i := 3; i < enterprise.GrantsPerGranter; i++ {
		if r := zb.PostJSON("/api/v1/enterprises/"+acmeUSCC+"/grants", map[string]any{"phone": "1360000" + strings.Repeat("1", 3) + string(rune('0'+i%10)), "real_name": "某人", "role": "handler"}); r.Status != http.StatusAccepted {
			t.Fatalf("grant %d: %d %s", i, r.Status, r.Body)
		}
	}
	before := state(t, srv)
	r := grantTo(zb, acmeUSCC, sunQi, enterprise.RoleHandler, nil)
	if r.Status != http.StatusTooManyRequests || r.ErrCode(t) != "enterprise_grant_rate_limited" || !strings.Contains(string(r.Body), "授权次数过多") {
		t.Errorf("over the limit: %d %s", r.Status, r.Body)
	}
	if after := state(t, srv); after != before {
		t.Errorf("a refused grant changed %q to %q", before, after)
	}
	srv.Clock.Advance(enterprise.GrantWindow + time.Minute)
	zb = srv.Browser(t)
	zb.MustLogin(apptest.Zhang.Login, apptest.Zhang.Password)
	if r := grantTo(zb, acmeUSCC, sunQi, enterprise.RoleHandler, nil); r.Status != http.StatusAccepted {
		t.Errorf("an hour later: %d %s", r.Status, r.Body)
	}
}

// TestEnterpriseImportedRechecked: an enterprise created by the legacy
// import is checked in the registry at the first sign-in and by the
// daily recheck; one deregistered or unknown there is not acted for.
func TestEnterpriseImportedRechecked(t *testing.T) {
	const unknownUSCC = "91350100M000100Y43" // a valid code the sandbox does not know
	srv := apptest.Start(t, nil)
	ctx := context.Background()
	sb, sunID := citizen(t, srv, sunQi, false)
	imp := audit.Origin{Actor: audit.Operator("import")}
	for uscc, name := range map[string]string{diningUSCC: "演示餐饮", tradeUSCC: "样例贸易（旧名）", unknownUSCC: "不存在的公司"} {
		if err := srv.App.Enterprise.ImportHandler(ctx, sunID, uscc, name, imp); err != nil {
			t.Fatal(err)
		}
		if e, err := srv.App.Store.GetEnterprise(ctx, uscc); err != nil || !e.CheckedAt.IsZero() {
			t.Errorf("%s imported as checked: %+v %v", uscc, e, err)
		}
	}
	// At sign-in (Acting), the never-checked enterprise is checked at once.
	if m, err := srv.App.Enterprise.Acting(ctx, sunID, diningUSCC); err == nil || problem.As(err).Code != "enterprise_not_member" {
		t.Errorf("acting for a deregistered enterprise: %+v %v", m, err)
	}
	if m, err := srv.App.Enterprise.Acting(ctx, sunID, tradeUSCC); err != nil || m.Name != tradeName || m.Role != enterprise.RoleHandler {
		t.Errorf("acting for an active enterprise: %+v %v", m, err)
	}
	// The daily recheck covers enterprises without a legal representative.
	if err := srv.App.Enterprise.RecheckAll(ctx); err != nil {
		t.Fatal(err)
	}
	if e, _ := srv.App.Store.GetEnterprise(ctx, unknownUSCC); e.Status != enterprise.StatusUnknown || e.CheckedAt.IsZero() {
		t.Errorf("an enterprise the registry does not know: %+v", e)
	}
	if _, err := srv.App.Enterprise.Acting(ctx, sunID, unknownUSCC); err == nil {
		t.Error("acting for an enterprise the registry does not know")
	}
	ms := sb.Get("/api/v1/enterprises").JSON(t)["enterprises"].([]any)
	if len(ms) != 1 || ms[0].(map[string]any)["uscc"] != tradeUSCC {
		t.Errorf("memberships shown: %v", ms)
	}
	// The registry comes to know it (a gap in its data, closed): the next
	// sign-in after RecheckEvery asks again and lets the handler act.
	srv.App.EnterpriseRegistry().(*esandbox.Registry).Put(enterprise.Record{USCC: unknownUSCC, Name: "补录企业", Status: enterprise.StatusActive})
	if _, err := srv.App.Enterprise.Acting(ctx, sunID, unknownUSCC); err == nil {
		t.Error("acted before the recheck was due")
	}
	srv.Clock.Advance(enterprise.RecheckEvery + time.Minute)
	if m, err := srv.App.Enterprise.Acting(ctx, sunID, unknownUSCC); err != nil || m.Name != "补录企业" {
		t.Errorf("acting once the registry knows the enterprise: %+v %v", m, err)
	}
}
