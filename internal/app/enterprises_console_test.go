package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/store"
)

// TestConsoleEnterprises: a security administrator finds an enterprise by
// credit code and by the start of its name, sees its members, removes a
// handler with a reason (audited with the member as the account) and
// cannot remove the legal representative; other roles are refused.
func TestConsoleEnterprises(t *testing.T) {
	srv := apptest.Start(t, nil)
	ctx := context.Background()
	zhang := srv.Browser(t).MustRegister(apptest.Zhang)
	li := srv.Browser(t).MustRegister(apptest.Person{Login: "li_si", Password: apptest.GoodPassword, Phone: "13912345679"})
	const uscc = "91350100M000100Y43"
	now := srv.Clock.Now()
	e := store.Enterprise{USCC: uscc, Name: "福州示例科技有限公司", Status: "active", CheckedAt: now, CreatedAt: now}
	err := srv.App.Store.ChangeEnterprise(ctx, store.EnterpriseChange{Enterprise: &e, PutMembers: []store.EnterpriseMember{
		{USCC: uscc, UserID: zhang, Role: "legal_rep", CreatedAt: now}, {USCC: uscc, UserID: li, Role: "handler", CreatedAt: now},
	}}, store.AuditEvent{Time: now, Actor: "system", Action: "enterprise.imported", Result: "ok"}, audit.Hash)
	if err != nil {
		t.Fatal(err)
	}
	sec, actor := srv.OperatorAPI(t, "an_quan", "secadmin")
	for _, q := range []string{uscc, "福州示例", "%E7%A6%8F%E5%B7%9E"} {
		if r := sec.Get("/api/admin/v1/enterprises?q=" + q); r.Status != http.StatusOK || !strings.Contains(string(r.Body), uscc) {
			t.Errorf("find %q: %d %s", q, r.Status, r.Body)
		}
	}
	if r := sec.Get("/api/admin/v1/enterprises?q=示例科技"); !strings.Contains(string(r.Body), `"items":[]`) {
		t.Errorf("a part from the middle found: %s", r.Body)
	}
	r := sec.Get("/api/admin/v1/enterprises/" + uscc)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "legal_rep") || strings.Contains(string(r.Body), "张三") {
		t.Errorf("detail: %d %s", r.Status, r.Body)
	}
	for _, role := range []string{"reviewer", "auditor", "sysadmin"} {
		if r := operatorAPI(t, srv, "op_"+role, role).PostJSON("/api/admin/v1/enterprises/"+uscc+"/members/"+li+"/remove", map[string]string{"reason": "试试"}); r.Status != http.StatusForbidden {
			t.Errorf("%s: %d", role, r.Status)
		}
	}
	remove := func(user, reason string) apptest.Response {
		return sec.PostJSON("/api/admin/v1/enterprises/"+uscc+"/members/"+user+"/remove", map[string]string{"reason": reason})
	}
	if r := remove(li, ""); r.Status != http.StatusBadRequest {
		t.Errorf("no reason: %d", r.Status)
	}
	if r := remove(zhang, "核实"); r.Status != http.StatusConflict || r.ErrCode(t) != "enterprise_legal_rep_remove" {
		t.Errorf("legal rep: %d %s", r.Status, r.Body)
	}
	if ms, _ := srv.App.Store.ListEnterpriseMembers(ctx, uscc); len(ms) != 2 {
		t.Fatalf("members after refusals: %d", len(ms))
	}
	if r := remove(li, "企业来函要求"); r.Status != http.StatusNoContent {
		t.Fatalf("remove: %d %s", r.Status, r.Body)
	}
	if ms, _ := srv.App.Store.ListEnterpriseMembers(ctx, uscc); len(ms) != 1 || ms[0].UserID != zhang {
		t.Errorf("members after removal: %+v", ms)
	}
	evs := citizenEvents(t, srv, li)
	if len(evs) != 1 || evs[0].Actor != actor || evs[0].Action != "enterprise.member_revoked" || !strings.Contains(evs[0].Detail, "企业来函要求") {
		t.Errorf("events: %+v", evs)
	}
}
