package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"unid/internal/admin"
	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/config"
	"unid/internal/operator"
	"unid/internal/store"
)

// signedInOperator creates an operator with roles as the command line
// does, sets them up over the API and returns their browser and ID.
func signedInOperator(t *testing.T, srv *apptest.Server, login string, roles ...string) (*http.Client, string) {
	t.Helper()
	op, b := srv.SetUpOperatorAPI(t, login, roles...)
	return b.Client, op.ID
}

// registry is the whole registry as the store holds it, to prove that a
// refused call changed nothing.
func registry(t *testing.T, srv *apptest.Server) []store.Client {
	t.Helper()
	l, err := srv.App.Clients.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func operators(t *testing.T, srv *apptest.Server) []store.Operator {
	t.Helper()
	l, err := srv.App.Operators.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

const casSpec = `{"id":"archive","name":"档案系统","type":"cas","redirect_uris":["https://archive.example.gov.cn/*"],"scopes":["login_name"],"min_realname_level":2}`

// TestSystemsRoles is the role × route table of the client registry over
// the console session: a system administrator may do everything, every
// other role gets 403 and nobody signed in 401, and no refused call
// changes the registry.
func TestSystemsRoles(t *testing.T) {
	srv := apptest.Start(t, nil)
	ctx := context.Background()
	if _, _, err := srv.App.Clients.Create(ctx, client.Spec{ID: "hall", Name: "办事大厅", Type: store.ClientOIDCConfidential,
		RedirectURIs: []string{"https://hall.example.gov.cn/cb"}}, audit.Origin{Actor: audit.Operator("cli:test")}); err != nil {
		t.Fatal(err)
	}
	callers := map[string]*http.Client{"nobody": srv.Client()}
	for _, role := range []string{operator.RoleSecadmin, operator.RoleAuditor, operator.RoleReviewer} {
		callers[role], _ = signedInOperator(t, srv, role+"1", role)
	}
	routes := []struct{ method, path, body string }{
		{"GET", "/api/admin/v1/clients", ""},
		{"POST", "/api/admin/v1/clients", casSpec},
		{"POST", "/api/admin/v1/clients/validate", casSpec},
		{"GET", "/api/admin/v1/clients/hall", ""},
		{"PATCH", "/api/admin/v1/clients/hall", `{"name":"改名"}`},
		{"DELETE", "/api/admin/v1/clients/hall", ""},
		{"POST", "/api/admin/v1/clients/hall/secret", ""},
		{"POST", "/api/admin/v1/clients/hall/disable", ""},
		{"POST", "/api/admin/v1/clients/hall/enable", ""},
		{"GET", "/api/admin/v1/operators", ""},
		{"POST", "/api/admin/v1/operators", `{"login":"new1","roles":["reviewer"]}`},
	}
	before, ops := registry(t, srv), operators(t, srv)
	for _, rt := range routes {
		for who, c := range callers {
			t.Run(rt.method+" "+rt.path+" as "+who, func(t *testing.T) {
				st, body, _ := send(t, c, rt.method, srv.URL+rt.path, rt.body)
				want, codes := 403, []string{"operator_role_forbidden", "operator_read_only"}
				if who == "nobody" {
					want, codes = 401, []string{"operator_sign_in_required"}
				}
				if st != want || !contains(codes, code(body)) {
					t.Fatalf("= %d %v; want %d %v", st, body, want, codes)
				}
			})
		}
	}
	if got := registry(t, srv); !reflect.DeepEqual(got, before) {
		t.Fatalf("refused calls changed the registry:\n%+v\n%+v", got, before)
	}
	if got := operators(t, srv); len(got) != len(ops) {
		t.Fatalf("refused calls created operators: %d, was %d", len(got), len(ops))
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// TestSystemsAsSysadmin: a system administrator registers, checks, edits,
// disables, enables, rotates and deletes through the console session;
// bad input gets field errors and changes nothing; every change is
// audited by the registry with the operator as the actor.
func TestSystemsAsSysadmin(t *testing.T) {
	srv := apptest.Start(t, nil)
	sys, sysID := signedInOperator(t, srv, "sys1", operator.RoleSysadmin)
	u := srv.URL + "/api/admin/v1/clients"
	before := registry(t, srv)

	// Live validation: every field problem at once, nothing created.
	st, body, _ := send(t, sys, "POST", u+"/validate", `{"id":"Bad ID","name":"","type":"cas","redirect_uris":["https://*"],"scopes":["phone_number"],"min_realname_level":4}`)
	fields, _ := body["error"].(map[string]any)["fields"].(map[string]any)
	for _, f := range []string{"id", "name", "redirect_uris", "scopes", "min_realname_level"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("validate: no problem on %s: %v", f, body)
		}
	}
	if st != 400 || code(body) != "invalid_fields" {
		t.Fatalf("validate bad = %d %v", st, body)
	}
	if msg := fields["redirect_uris"].(map[string]any)["message"].(string); !strings.Contains(msg, "地址") {
		t.Errorf("the field message is not in Chinese: %q", msg)
	}
	if st, body, _ := send(t, sys, "POST", u+"/validate", casSpec); st != 200 || body["valid"] != true {
		t.Fatalf("validate good = %d %v", st, body)
	}
	if got := registry(t, srv); !reflect.DeepEqual(got, before) {
		t.Fatal("validation changed the registry")
	}
	for _, bad := range []string{
		`{"name":"x","type":"cas","redirect_uris":["http://archive.example.gov.cn/*"]}`,
		`{"name":"x","type":"oidc_public","redirect_uris":["https://a.example/cb"],"min_enterprise_role":"boss"}`,
	} {
		if st, body, _ := send(t, sys, "POST", u, bad); st != 400 || code(body) != "invalid_fields" {
			t.Fatalf("create %s = %d %v", bad, st, body)
		}
	}
	if got := registry(t, srv); !reflect.DeepEqual(got, before) {
		t.Fatal("a refused create changed the registry")
	}

	if st, body, _ := send(t, sys, "POST", u, casSpec); st != 201 || body["id"] != "archive" || body["client_secret"] != nil {
		t.Fatalf("create = %d %v", st, body)
	}
	// The ID is taken now: validation says so on the field.
	if st, body, _ := send(t, sys, "POST", u+"/validate", casSpec); st != 400 || body["error"].(map[string]any)["fields"].(map[string]any)["id"].(map[string]any)["code"] != "client_id_taken" {
		t.Fatalf("validate a taken id = %d %v", st, body)
	}

	// Edit: a bad change changes nothing; the ID and type never change.
	archive := func() store.Client {
		c, err := srv.App.Clients.Get(context.Background(), "archive")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	was := archive()
	for _, bad := range []struct{ body, code string }{
		{`{"redirect_uris":["https://*"]}`, "invalid_fields"},
		{`{"min_realname_level":9}`, "invalid_fields"},
		{`{"type":"oidc_public"}`, "unknown_field"},
		{`{"id":"other"}`, "unknown_field"},
	} {
		if st, body, _ := send(t, sys, "PATCH", u+"/archive", bad.body); st != 400 || code(body) != bad.code {
			t.Fatalf("patch %s = %d %v", bad.body, st, body)
		}
	}
	if !reflect.DeepEqual(archive(), was) {
		t.Fatal("a refused edit changed the client")
	}
	st, body, _ = send(t, sys, "PATCH", u+"/archive", `{"name":"档案查询","redirect_uris":["https://archive.example.gov.cn/app/*"],"min_realname_level":3,"min_enterprise_role":"handler","first_party":true}`)
	if st != 200 || body["name"] != "档案查询" || body["min_realname_level"] != 3.0 || body["min_enterprise_role"] != "handler" || body["first_party"] != true {
		t.Fatalf("patch = %d %v", st, body)
	}
	if c := archive(); c.RedirectURIs[0] != "https://archive.example.gov.cn/app/*" || c.Scopes[0] != "login_name" {
		t.Fatalf("after the edit: %+v", c)
	}
	if st, body, _ := send(t, sys, "PATCH", u+"/nope", `{"name":"x"}`); st != 404 || code(body) != "client_not_found" {
		t.Fatalf("patch unknown = %d %v", st, body)
	}

	// Disable and enable.
	if st, body, _ := send(t, sys, "POST", u+"/archive/disable", ""); st != 200 || body["disabled"] != true || !archive().Disabled {
		t.Fatalf("disable = %d %v", st, body)
	}
	if st, body, _ := send(t, sys, "GET", u, ""); st != 200 || !strings.Contains(string(mustJSON(body)), `"disabled":true`) || body["scopes"] == nil {
		t.Fatalf("list = %d %v", st, body)
	}
	if st, body, _ := send(t, sys, "POST", u+"/archive/enable", ""); st != 200 || body["disabled"] != false || archive().Disabled {
		t.Fatalf("enable = %d %v", st, body)
	}

	// A confidential client: its secret shown once, then rotated.
	st, body, _ = send(t, sys, "POST", u, `{"id":"bdc","name":"不动产登记","type":"oidc_confidential","redirect_uris":["https://bdc.example.gov.cn/cb"]}`)
	secret, _ := body["client_secret"].(string)
	if st != 201 || len(secret) < 43 {
		t.Fatalf("create confidential = %d %v", st, body)
	}
	if st, body, _ := send(t, sys, "GET", u+"/bdc", ""); st != 200 || body["client_secret"] != nil {
		t.Fatalf("get shows a secret: %d %v", st, body)
	}
	st, body, _ = send(t, sys, "POST", u+"/bdc/secret", "")
	if st != 200 || body["client_secret"] == secret {
		t.Fatalf("rotate = %d %v", st, body)
	}
	if _, err := srv.App.Clients.Authenticate(context.Background(), "bdc", secret); err == nil {
		t.Fatal("the old secret still works")
	}
	if st, _, _ := send(t, sys, "DELETE", u+"/bdc", ""); st != 204 {
		t.Fatalf("delete = %d", st)
	}

	var got []string
	events, _ := srv.App.Store.ListAudit(context.Background(), 0, 500)
	for _, e := range events {
		if strings.HasPrefix(e.Action, "admin.client") && e.Subject != "demo-servicehall" {
			got = append(got, e.Actor+" "+e.Action+" "+e.Subject)
		}
	}
	op := "operator:" + sysID
	want := []string{op + " admin.client_create archive", op + " admin.client_update archive", op + " admin.client_disable archive",
		op + " admin.client_enable archive", op + " admin.client_create bdc", op + " admin.client_secret_rotate bdc", op + " admin.client_delete bdc"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("audit:\n got %v\nwant %v", got, want)
	}
}

// TestToolDisablesClient: the operator-tool path reaches the new
// endpoints too, with the tool as the actor; a tool cannot disable
// itself, and a disabled tool is refused.
func TestToolDisablesClient(t *testing.T) {
	srv := apptest.Start(t, nil)
	ctx := context.Background()
	by := audit.Origin{Actor: audit.Operator("cli:test")}
	_, opSecret, err := srv.App.Clients.Create(ctx, client.Spec{ID: "ops", Name: "运维工具", Type: store.ClientOIDCConfidential, RedirectURIs: []string{"https://ops.example.gov.cn/cb"}, Scopes: []string{"unid.admin"}}, by)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := srv.App.Clients.Create(ctx, client.Spec{ID: "archive", Name: "档案", Type: store.ClientCAS, RedirectURIs: []string{"https://archive.example.gov.cn/*"}}, by); err != nil {
		t.Fatal(err)
	}
	if st, body := (call{"POST", "/api/admin/v1/clients/archive/disable", "", "ops", opSecret}).do(t, srv); st != 200 || body["disabled"] != true {
		t.Fatalf("tool disables = %d %v", st, body)
	}
	if st, body := (call{"PATCH", "/api/admin/v1/clients/archive", `{"name":"档案馆"}`, "ops", opSecret}).do(t, srv); st != 200 || body["name"] != "档案馆" {
		t.Fatalf("tool edits = %d %v", st, body)
	}
	if st, body := (call{"POST", "/api/admin/v1/clients/ops/disable", "", "ops", opSecret}).do(t, srv); st != 409 || code(body) != "client_disable_self" {
		t.Fatalf("tool disables itself = %d %v", st, body)
	}
	events, _ := srv.App.Store.ListAudit(ctx, 0, 500)
	var found bool
	for _, e := range events {
		found = found || e.Action == client.ActionDisable && e.Actor == "client:ops" && e.Subject == "archive"
	}
	if !found {
		t.Fatal("the tool's change is not audited with the tool as actor")
	}
	if _, err := srv.App.Clients.Disable(ctx, "ops", by); err != nil {
		t.Fatal(err)
	}
	if st, body := (call{"GET", "/api/admin/v1/clients", "", "ops", opSecret}).do(t, srv); st != 401 || code(body) != "invalid_client" {
		t.Fatalf("a disabled tool = %d %v", st, body)
	}
}

// TestOperatorsRules: a system administrator creates, disables, enables
// and resets operators; never an auditor, never themselves; every refusal
// changes nothing.
func TestOperatorsRules(t *testing.T) {
	srv := apptest.Start(t, nil)
	sys, sysID := signedInOperator(t, srv, "sys1", operator.RoleSysadmin)
	audID, _ := srv.CreateOperator(t, "aud1", operator.RoleAuditor)
	secID, _ := srv.CreateOperator(t, "sec1", operator.RoleSecadmin)
	u := srv.URL + "/api/admin/v1/operators"
	snapshot := func() []store.Operator { return operators(t, srv) }
	before := snapshot()

	refused := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"an auditor is never made here", "POST", "", `{"login":"aud2","roles":["auditor"]}`, 400, "invalid_fields"},
		{"an auditor among others", "POST", "", `{"login":"aud2","roles":["reviewer","auditor"]}`, 400, "invalid_fields"},
		{"a security administrator is never made here", "POST", "", `{"login":"sec2","roles":["secadmin"]}`, 400, "invalid_fields"},
		{"two of the three at once", "POST", "", `{"login":"sec2","roles":["sysadmin","secadmin"]}`, 400, "invalid_fields"},
		{"no role", "POST", "", `{"login":"rev2","roles":[]}`, 400, "invalid_fields"},
		{"bad login", "POST", "", `{"login":"a b","roles":["reviewer"]}`, 400, "invalid_fields"},
		{"a login in use", "POST", "", `{"login":"SYS1","roles":["reviewer"]}`, 400, "operator_login_taken"},
		{"disable oneself", "POST", "/" + sysID + "/disable", "", 403, "operator_self_forbidden"},
		{"reset oneself", "POST", "/" + sysID + "/reset", "", 403, "operator_self_forbidden"},
		{"one's own roles", "PUT", "/" + sysID + "/roles", `{"roles":["sysadmin","reviewer"]}`, 403, "operator_self_forbidden"},
		{"reset a security administrator", "POST", "/" + secID + "/reset", "", 403, "operator_secadmin_protected"},
		{"a security administrator's roles", "PUT", "/" + secID + "/roles", `{"roles":["reviewer"]}`, 403, "operator_secadmin_protected"},
		{"disable a security administrator", "POST", "/" + secID + "/disable", "", 403, "operator_secadmin_protected"},
		{"disable an auditor", "POST", "/" + audID + "/disable", "", 403, "operator_auditor_protected"},
		{"reset an auditor", "POST", "/" + audID + "/reset", "", 403, "operator_auditor_protected"},
		{"an auditor's roles", "PUT", "/" + audID + "/roles", `{"roles":["reviewer"]}`, 403, "operator_auditor_protected"},
		{"unknown operator", "POST", "/nobody/disable", "", 404, "operator_unknown"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			st, body, _ := send(t, sys, tt.method, u+tt.path, tt.body)
			if st != tt.status || code(body) != tt.code {
				t.Fatalf("= %d %v; want %d %s", st, body, tt.status, tt.code)
			}
			if !reflect.DeepEqual(snapshot(), before) {
				t.Fatal("a refused call changed the operators")
			}
		})
	}
	st, body, _ := send(t, sys, "POST", u, `{"login":"rev1","roles":["reviewer"]}`)
	link, _ := body["setup_link"].(string)
	if st != 201 || !strings.HasPrefix(link, srv.URL+"/console/setup#") || body["set_up"] != false {
		t.Fatalf("create = %d %v", st, body)
	}
	revID := body["id"].(string)
	st, body, _ = send(t, sys, "GET", u, "")
	if st != 200 || !strings.Contains(string(mustJSON(body)), `"login_name":"rev1"`) || strings.Contains(string(mustJSON(body)), "setup_hash") {
		t.Fatalf("list = %d %v", st, body)
	}
	if st, body, _ := send(t, sys, "POST", u+"/"+revID+"/disable", ""); st != 200 || body["status"] != "disabled" {
		t.Fatalf("disable = %d %v", st, body)
	}
	if st, body, _ := send(t, sys, "POST", u+"/"+revID+"/enable", ""); st != 200 || body["status"] != "active" {
		t.Fatalf("enable = %d %v", st, body)
	}
	st, body, _ = send(t, sys, "POST", u+"/"+revID+"/reset", "")
	if newLink, _ := body["setup_link"].(string); st != 200 || newLink == link || !strings.Contains(newLink, "/console/setup#") {
		t.Fatalf("reset = %d %v", st, body)
	}
	if st, body, _ := send(t, sys, "PUT", u+"/"+revID+"/roles", `{"roles":["sysadmin"]}`); st != 200 || body["roles"].([]any)[0] != "sysadmin" {
		t.Fatalf("roles = %d %v", st, body)
	}
	if st, body, _ := send(t, sys, "PUT", u+"/"+revID+"/roles", `{"roles":["auditor"]}`); st != 400 || code(body) != "operator_role_not_grantable" {
		t.Fatalf("roles to auditor = %d %v", st, body)
	}
	var got []string
	events, _ := srv.App.Store.ListAudit(context.Background(), 0, 500)
	for _, e := range events {
		if strings.HasPrefix(e.Action, "operator.") && e.Actor == "operator:"+sysID && e.Subject == "rev1" {
			got = append(got, e.Action)
		}
	}
	if want := []string{operator.ActionCreated, operator.ActionDisabled, operator.ActionEnabled, operator.ActionReset, operator.ActionRolesChanged}; !reflect.DeepEqual(got, want) {
		t.Fatalf("audit = %v; want %v", got, want)
	}
}

// TestConsoleAllowlist: with UNID_CONSOLE_ALLOW set, the console and
// every operator endpoint (sign-in included) refuse another address with
// 403 and run nothing; an allowed address, and the citizens' pages, are
// served as before.
func TestConsoleAllowlist(t *testing.T) {
	refusing := apptest.Start(t, func(c *config.Config) { c.ConsoleAllow = "10.20.0.0/16, 192.168.5.7" })
	_, opSecret, err := refusing.App.Clients.Create(context.Background(), client.Spec{ID: "ops", Name: "运维工具", Type: store.ClientOIDCConfidential,
		RedirectURIs: []string{"https://ops.example.gov.cn/cb"}, Scopes: []string{"unid.admin"}}, audit.Origin{Actor: audit.Operator("cli:test")})
	if err != nil {
		t.Fatal(err)
	}
	_, link := refusing.CreateOperator(t, "sys1", operator.RoleSysadmin)
	token := link[strings.Index(link, "#")+1:]
	events := func() int {
		l, _ := refusing.App.Store.ListAudit(context.Background(), 0, 1000)
		return len(l)
	}
	n := events()
	for _, p := range []string{"/console/", "/console/sign-in", "/console/systems", "/console/static/console.js", "/console/nope"} {
		res, err := http.Get(refusing.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 403 || !strings.Contains(string(b), `id="address-forbidden"`) || !strings.Contains(string(b), "网络地址") {
			t.Fatalf("%s = %d %s", p, res.StatusCode, b)
		}
	}
	for _, c := range []call{
		{"POST", "/api/admin/v1/sign-in", `{"login":"sys1","password":"x","code":"123456"}`, "", ""},
		{"POST", "/api/admin/v1/setup", `{"token":"` + token + `","password":"` + apptest.OperatorPassword + `","code":"123456"}`, "", ""},
		{"GET", "/api/admin/v1/me", "", "", ""},
		{"GET", "/api/admin/v1/clients", "", "ops", opSecret},
		{"GET", "/api/admin/v1/nope", "", "", ""},
	} {
		if st, body := c.do(t, refusing); st != 403 || code(body) != "operator_address_forbidden" {
			t.Fatalf("%s %s = %d %v", c.method, c.path, st, body)
		}
	}
	if events() != n {
		t.Fatal("a refused request reached a service (the audit log grew)")
	}
	// The set-up token was not used by the refused set-up.
	if st, _ := (call{"POST", "/api/admin/v1/setup/key", `{"token":"` + token + `"}`, "", ""}).do(t, refusing); st != 403 {
		t.Fatalf("setup key from outside = %d", st)
	}
	if res, err := http.Get(refusing.URL + "/login"); err != nil || res.StatusCode != 200 {
		t.Fatalf("the citizens' login page = %v %v", res, err)
	}

	allowing := apptest.Start(t, func(c *config.Config) { c.ConsoleAllow = "127.0.0.0/8,::1" })
	if res, err := http.Get(allowing.URL + "/console/sign-in"); err != nil || res.StatusCode != 200 {
		t.Fatalf("allowed console page = %v %v", res, err)
	}
	if st, body := (call{"GET", "/api/admin/v1/me", "", "", ""}).do(t, allowing); st != 401 || code(body) != "operator_sign_in_required" {
		t.Fatalf("allowed API = %d %v", st, body)
	}

	// Behind a proxy the address is the one X-Forwarded-For names.
	proxied := apptest.Start(t, func(c *config.Config) { c.ConsoleAllow = "10.20.0.0/16"; c.TrustProxy = true })
	for _, tt := range []struct {
		xff    string
		status int
	}{{"10.20.3.4", 401}, {"10.21.3.4", 403}, {"", 403}} {
		req, _ := http.NewRequest("GET", proxied.URL+"/api/admin/v1/me", nil)
		if tt.xff != "" {
			req.Header.Set("X-Forwarded-For", tt.xff)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tt.status {
			t.Fatalf("from %q = %d; want %d", tt.xff, res.StatusCode, tt.status)
		}
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func TestParseAllowlist(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "intranet", "10.0.0.1-10.0.0.9"} {
		if _, err := admin.ParseAllowlist(bad, false); err == nil {
			t.Errorf("ParseAllowlist(%q) accepted it", bad)
		}
	}
	tests := []struct {
		list, remote string
		ok           bool
	}{
		{"", "203.0.113.9:1234", true},
		{"10.20.0.0/16", "10.20.255.1:1", true},
		{"10.20.0.0/16", "10.21.0.1:1", false},
		{" 192.168.5.7 ,10.0.0.0/8", "192.168.5.7:1", true},
		{"192.168.5.7", "192.168.5.8:1", false},
		{"2001:db8::/32", "[2001:db8::1]:1", true},
		{"10.0.0.0/8", "[::ffff:10.1.2.3]:1", true},
		{"10.0.0.0/8", "garbage", false},
	}
	for _, tt := range tests {
		a, err := admin.ParseAllowlist(tt.list, false)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := http.NewRequest("GET", "/console/", nil)
		r.RemoteAddr = tt.remote
		if got := a.Allows(r); got != tt.ok {
			t.Errorf("%q allows %s = %v; want %v", tt.list, tt.remote, got, tt.ok)
		}
	}
}
