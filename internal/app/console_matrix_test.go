package app_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"unid/internal/app/apptest"
	"unid/internal/operator"
	"unid/internal/store"
)

// consoleState is what any action of the operator API could change,
// read straight from the store: the audit chain's length (every
// operator action is audited by the service that does it), and the
// records the API manages.
type consoleState struct {
	auditEvents int64
	users       int64
	clients     int
	operators   string
	sessions    int64
}

func readConsoleState(t *testing.T, st store.Store) consoleState {
	t.Helper()
	ctx := context.Background()
	var s consoleState
	var err error
	last, err := st.QueryAudit(ctx, store.AuditFilter{}, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(last) == 1 {
		s.auditEvents = last[0].Seq
	}
	if s.users, err = st.CountUsers(ctx); err != nil {
		t.Fatal(err)
	}
	cs, err := st.ListClients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.clients = len(cs)
	ops, err := st.ListOperators(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range ops {
		s.operators += o.LoginName + ":" + strings.Join(o.Roles, ",") + ":" + o.Status + " "
	}
	if s.sessions, err = st.CountSessions(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// TestConsoleRoleMatrix holds each role to its part (三员分立): every
// endpoint of the operator API that names roles is called by an operator
// of each other role, and without a session; each is refused (403, or
// 401 without a session) and nothing changes, not even the audit log.
func TestConsoleRoleMatrix(t *testing.T) {
	srv := apptest.Start(t, nil)
	citizen := srv.Browser(t).MustRegister(apptest.Zhang)
	callers := map[string]*apptest.Browser{"none": srv.Browser(t)}
	for _, role := range operator.Roles {
		callers[role] = operatorAPI(t, srv, "matrix-"+role, role)
	}
	st := srv.App.Store
	checked := 0
	for _, a := range srv.App.ConsoleAccess() {
		if len(a.Roles) == 0 {
			continue // anyone, or any signed-in operator
		}
		method, path, _ := strings.Cut(a.Pattern, " ")
		path = pathParam.ReplaceAllString(path, citizen)
		for _, caller := range append([]string{"none"}, operator.Roles...) {
			if slices.Contains(a.Roles, caller) {
				continue
			}
			before := readConsoleState(t, st)
			r := callers[caller].Do(method, path, "application/json",
				strings.NewReader(`{"reason":"matrix check of roles","login":"matrix-new","roles":["sysadmin"]}`))
			want := 403
			if caller == "none" {
				want = 401
			}
			if r.Status != want {
				t.Errorf("%s as %s: %d, want %d (%s)", a.Pattern, caller, r.Status, want, r.Body)
			}
			if after := readConsoleState(t, st); after != before {
				t.Errorf("%s as %s changed the store: %+v → %+v", a.Pattern, caller, before, after)
			}
			checked++
		}
	}
	if checked < 100 {
		t.Fatalf("only %d refusals checked: the operator API lists too few role-bound endpoints", checked)
	}
	t.Logf("%d refusals checked", checked)

	// An operator's own actions are the auditor's to see.
	if r := callers[operator.RoleSecadmin].PostJSON("/api/admin/v1/citizens/"+citizen+"/sign-out",
		map[string]string{"reason": "the citizen called the hotline"}); r.Status != 200 {
		t.Fatalf("secadmin signs the citizen out: %d %s", r.Status, r.Body)
	}
	r := callers[operator.RoleAuditor].Get("/api/admin/v1/audit/events?subject=" + citizen)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"account.signed_out"`) || !strings.Contains(string(r.Body), `operator:`) {
		t.Errorf("the auditor does not see the secadmin's action: %d %s", r.Status, r.Body)
	}

	// No operator grants themselves a role, not even a system
	// administrator; and none edits the audit trail, for which no route
	// exists.
	me := callers[operator.RoleSysadmin].Get("/api/admin/v1/me").JSON(t)
	before := readConsoleState(t, st)
	r = callers[operator.RoleSysadmin].SendJSON("PUT", "/api/admin/v1/operators/"+me["id"].(string)+"/roles",
		map[string]any{"roles": []string{"sysadmin", "secadmin"}})
	if r.Status != 403 || readConsoleState(t, st) != before {
		t.Errorf("a sysadmin changed their own roles: %d %s", r.Status, r.Body)
	}
	for _, method := range []string{"PUT", "PATCH", "DELETE"} {
		if r := callers[operator.RoleAuditor].Do(method, "/api/admin/v1/audit/events/1", "application/json", strings.NewReader(`{}`)); r.Status != 404 && r.Status != 405 {
			t.Errorf("%s of an audit event: %d, want no such route", method, r.Status)
		}
	}
	if readConsoleState(t, st) != before {
		t.Error("an attempt to edit the audit trail changed something")
	}
}
