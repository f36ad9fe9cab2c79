package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/store"
)

type call struct {
	method, path, body string
	id, secret         string // Basic credentials; none when id is ""
}

func (c call) do(t *testing.T, srv *apptest.Server) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.id != "" {
		req.SetBasicAuth(c.id, c.secret)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return res.StatusCode, m
}

func code(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func TestOperatorAPI(t *testing.T) {
	srv := apptest.Start(t, nil)
	ctx := context.Background()
	_, opSecret, err := srv.App.Clients.Create(ctx, client.Spec{ID: "ops", Name: "运维工具", Type: store.ClientOIDCConfidential, RedirectURIs: []string{"https://ops.example.gov.cn/cb"}, Scopes: []string{"unid.admin"}}, audit.Origin{Actor: audit.Operator("test")})
	if err != nil {
		t.Fatal(err)
	}
	_, plainSecret, err := srv.App.Clients.Create(ctx, client.Spec{ID: "hall", Name: "办事大厅", Type: store.ClientOIDCConfidential, RedirectURIs: []string{"https://hall.example.gov.cn/cb"}}, audit.Origin{Actor: audit.Operator("test")})
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		l, err := srv.App.Clients.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(l)
	}
	spec := `{"id":"archive","name":"档案系统","type":"cas","redirect_uris":["https://archive.example.gov.cn/*"],"scopes":["login_name"],"min_realname_level":2}`

	refused := []struct {
		name   string
		c      call
		status int
		code   string
	}{
		// Without Basic credentials the caller is taken for the console,
		// which has no session: no Basic challenge, or browsers would ask.
		{"no credentials", call{"GET", "/api/admin/v1/clients", "", "", ""}, 401, "operator_sign_in_required"},
		{"wrong secret", call{"GET", "/api/admin/v1/clients", "", "ops", opSecret + "x"}, 401, "invalid_client"},
		{"unknown client", call{"GET", "/api/admin/v1/clients", "", "nobody", opSecret}, 401, "invalid_client"},
		{"not an operator", call{"POST", "/api/admin/v1/clients", spec, "hall", plainSecret}, 403, "operator_scope_required"},
		{"malformed json", call{"POST", "/api/admin/v1/clients", `{"name":`, "ops", opSecret}, 400, "malformed_json"},
		{"unknown field", call{"POST", "/api/admin/v1/clients", `{"name":"x","secret_hash":"AAAA"}`, "ops", opSecret}, 400, "unknown_field"},
		{"wrong type", call{"POST", "/api/admin/v1/clients", `{"name":"x","redirect_uris":"https://a.example/cb"}`, "ops", opSecret}, 400, "wrong_type"},
		{"open redirect pattern", call{"POST", "/api/admin/v1/clients", `{"name":"x","type":"cas","redirect_uris":["https://*"]}`, "ops", opSecret}, 400, "invalid_fields"},
		{"minimum level above 高级", call{"POST", "/api/admin/v1/clients", `{"name":"x","type":"cas","redirect_uris":["https://a.example/"],"min_realname_level":4}`, "ops", opSecret}, 400, "invalid_fields"},
		{"injection in id", call{"POST", "/api/admin/v1/clients", `{"id":"x'; DROP TABLE clients;--","name":"x","type":"cas","redirect_uris":["https://a.example/"]}`, "ops", opSecret}, 400, "invalid_fields"},
		{"huge body", call{"POST", "/api/admin/v1/clients", `{"name":"` + strings.Repeat("名", 1<<19) + `"}`, "ops", opSecret}, 413, "body_too_large"},
		{"delete itself", call{"DELETE", "/api/admin/v1/clients/ops", "", "ops", opSecret}, 409, "client_delete_self"},
		// Operator tools are registered and given secrets only on the
		// server: a tool's secret is a standing credential.
		{"register a tool", call{"POST", "/api/admin/v1/clients", `{"name":"t2","type":"oidc_confidential","redirect_uris":["https://t.example/cb"],"scopes":["unid.admin"]}`, "ops", opSecret}, 403, "client_tool_cli_only"},
		{"make a system a tool", call{"PATCH", "/api/admin/v1/clients/hall", `{"scopes":["openid","unid.admin"]}`, "ops", opSecret}, 403, "client_tool_cli_only"},
		{"new secret for a tool", call{"POST", "/api/admin/v1/clients/ops/secret", "", "ops", opSecret}, 403, "client_tool_cli_only"},
		{"change a tool", call{"PATCH", "/api/admin/v1/clients/ops", `{"name":"renamed"}`, "ops", opSecret}, 403, "client_tool_cli_only"},
		{"enable a tool", call{"POST", "/api/admin/v1/clients/ops/enable", "", "ops", opSecret}, 403, "client_tool_cli_only"},
		{"unknown client id", call{"GET", "/api/admin/v1/clients/..%2Fetc", "", "ops", opSecret}, 404, "client_not_found"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			before := count()
			status, body := tt.c.do(t, srv)
			if status != tt.status || code(body) != tt.code {
				t.Fatalf("got %d %v, want %d %s", status, body, tt.status, tt.code)
			}
			if count() != before {
				t.Fatal("a refused request changed the registry")
			}
		})
	}

	status, created := call{"POST", "/api/admin/v1/clients", spec, "ops", opSecret}.do(t, srv)
	if status != 201 || created["id"] != "archive" || created["client_secret"] != nil || created["min_realname_level"] != 2.0 {
		t.Fatalf("create CAS client: %d %v", status, created)
	}
	status, created = call{"POST", "/api/admin/v1/clients", `{"name":"不动产登记","type":"oidc_confidential","redirect_uris":["https://bdc.example.gov.cn/cb"],"scopes":["profile"]}`, "ops", opSecret}.do(t, srv)
	secret, _ := created["client_secret"].(string)
	if status != 201 || len(secret) < 43 {
		t.Fatalf("create OIDC client: %d %v", status, created)
	}
	id := created["id"].(string)
	if _, err := srv.App.Clients.Authenticate(ctx, id, secret); err != nil {
		t.Fatalf("the returned secret does not authenticate: %v", err)
	}
	if status, got := (call{"GET", "/api/admin/v1/clients/" + id, "", "ops", opSecret}).do(t, srv); status != 200 || got["client_secret"] != nil || got["min_realname_level"] != 0.0 {
		t.Fatalf("get: %d %v", status, got)
	}
	status, rotated := call{"POST", "/api/admin/v1/clients/" + id + "/secret", "", "ops", opSecret}.do(t, srv)
	if status != 200 || rotated["client_secret"] == secret {
		t.Fatalf("rotate: %d %v", status, rotated)
	}
	if status, _ := (call{"DELETE", "/api/admin/v1/clients/archive", "", "ops", opSecret}).do(t, srv); status != 204 {
		t.Fatalf("delete: %d", status)
	}
	status, list := call{"GET", "/api/admin/v1/clients", "", "ops", opSecret}.do(t, srv)
	if status != 200 || len(list["clients"].([]any)) != 4 { // ops, hall, the new one, and the dev demo client
		t.Fatalf("list: %d %v", status, list)
	}
	events, _ := srv.App.Store.ListAudit(ctx, 0, 100)
	var actions []string
	for _, e := range events {
		if strings.HasPrefix(e.Action, "admin.") {
			actions = append(actions, e.Actor+" "+e.Action+" "+e.Subject)
			if e.Actor == "client:ops" && e.IP == "" {
				t.Errorf("event %d does not say where the operator called from", e.Seq)
			}
		}
	}
	// The registry writes one event per change, whoever asks: unid seeding
	// the demo client, the test's own set-up, and the operator API.
	want := "system admin.client_create demo-servicehall|operator:test admin.client_create ops|operator:test admin.client_create hall|" +
		"client:ops admin.client_create archive|client:ops admin.client_create " + id + "|client:ops admin.client_secret_rotate " + id + "|client:ops admin.client_delete archive"
	if strings.Join(actions, "|") != want {
		t.Fatalf("audit:\n got %v\nwant %s", actions, want)
	}
}
