package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/operator"
	"unid/internal/store"
)

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// tokenOperator is an operator set up over the API, with their browser
// (the console cookie) and TOTP secret.
type tokenOperator struct {
	c      *http.Client
	id     string
	login  string
	secret string
}

func setUpOperator(t *testing.T, srv *apptest.Server, login string, roles ...string) tokenOperator {
	t.Helper()
	op, b := srv.SetUpOperatorAPI(t, login, roles...)
	return tokenOperator{c: b.Client, id: op.ID, login: login, secret: op.Secret}
}

// signIn signs op in again on their browser, with a captcha and a fresh
// code.
func signIn(t *testing.T, srv *apptest.Server, op tokenOperator) {
	t.Helper()
	st, body, _ := send(t, op.c, "POST", srv.URL+"/api/v1/captchas", `{}`)
	if st != 201 {
		t.Fatalf("captcha: %d %v", st, body)
	}
	id := body["id"].(string)
	st, body, _ = send(t, op.c, "POST", srv.URL+"/api/admin/v1/sign-in", jsonOf(map[string]string{"login": op.login,
		"password": apptest.OperatorPassword, "code": srv.TOTP(t, op.secret), "captcha_id": id, "captcha_answer": srv.CaptchaAnswer(t, id)}))
	if st != 200 {
		t.Fatalf("sign in: %d %v", st, body)
	}
}

// newToken creates a token of op on the console session and returns it.
func newToken(t *testing.T, srv *apptest.Server, op tokenOperator, name string) string {
	t.Helper()
	st, body, _ := send(t, op.c, "POST", srv.URL+"/api/admin/v1/me/tokens", jsonOf(map[string]any{"name": name, "code": srv.TOTP(t, op.secret)}))
	if st != 201 {
		t.Fatalf("create token: %d %v", st, body)
	}
	return body["token"].(string)
}

// script is a call as a script makes it: no cookie, the token in the
// Authorization header. It returns the status, the body and the headers.
func script(t *testing.T, srv *apptest.Server, token, method, path, body string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept-Language", "en")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(data), res.Header
}

func errCode(body string) string {
	var m map[string]any
	_ = json.Unmarshal([]byte(body), &m)
	return code(m)
}

// everything is what a refused call must leave as it was: the
// registry, the operators, the citizens' accounts and every token.
func everything(t *testing.T, srv *apptest.Server) string {
	t.Helper()
	ctx := context.Background()
	var tokens []store.OperatorToken
	for _, o := range operators(t, srv) {
		l, err := srv.App.Store.ListOperatorTokens(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i := range l {
			l[i].LastUsedAt = time.Time{} // a refused call may still be a use
		}
		tokens = append(tokens, l...)
	}
	ops := operators(t, srv)
	for i := range ops {
		ops[i].TOTPLastStep = 0
	}
	users, err := srv.App.Store.ListUsers(ctx, store.UserCursor{}, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	return jsonOf([]any{registry(t, srv), ops, users, tokens})
}

// TestTokenScripts: a script with a token acts as its operator, with the
// operator's roles of the moment, on the routes of those roles only; a
// system administrator's token works on the client registry too. Every
// refused call changes nothing.
func TestTokenScripts(t *testing.T) {
	srv := apptest.Start(t, nil)
	srv.Browser(t).MustRegister(apptest.Zhang)
	sec := setUpOperator(t, srv, "zhao", operator.RoleSecadmin)
	sys := setUpOperator(t, srv, "li", operator.RoleSysadmin)
	secToken, sysToken := newToken(t, srv, sec, "citizen search"), newToken(t, srv, sys, "registry sync")

	st, body, _ := script(t, srv, secToken, "GET", "/api/admin/v1/citizens?q="+apptest.Zhang.Phone, "")
	if st != 200 || !strings.Contains(body, `"login_name":"zhang_san"`) || strings.Contains(body, apptest.Zhang.Phone) {
		t.Fatalf("a secadmin's token finds a citizen: %d %s", st, body)
	}
	before := everything(t, srv)
	refused := []struct {
		name, token, method, path, body string
		status                          int
		code                            string
	}{
		{"a secadmin's token on the registry", secToken, "POST", "/api/admin/v1/clients", casSpec, 403, "operator_role_forbidden"},
		{"a secadmin's token on the operators", secToken, "PUT", "/api/admin/v1/operators/" + sec.id + "/roles", `{"roles":["sysadmin"]}`, 403, "operator_role_forbidden"},
		{"a secadmin's token on the audit log", secToken, "GET", "/api/admin/v1/audit/events", "", 403, "operator_role_forbidden"},
		{"a sysadmin's token on a citizen", sysToken, "GET", "/api/admin/v1/citizens?q=" + apptest.Zhang.Phone, "", 403, "operator_role_forbidden"},
		{"a token listing tokens", secToken, "GET", "/api/admin/v1/me/tokens", "", 403, "operator_token_not_allowed"},
		{"a token making a token", secToken, "POST", "/api/admin/v1/me/tokens", `{"name":"more","code":"123456"}`, 403, "operator_token_not_allowed"},
		{"a token revoking a token", sysToken, "DELETE", "/api/admin/v1/me/tokens/x", "", 403, "operator_token_not_allowed"},
		{"a token adding a passkey", secToken, "POST", "/api/admin/v1/me/passkeys/begin", `{"code":"123456"}`, 403, "operator_token_not_allowed"},
		{"a token making an operator", sysToken, "POST", "/api/admin/v1/operators", `{"login":"ops2","roles":["sysadmin"]}`, 403, "operator_token_not_allowed"},
		{"a token resetting an operator", sysToken, "POST", "/api/admin/v1/operators/x/reset", "", 403, "operator_token_not_allowed"},
		{"a token removing a passkey", secToken, "DELETE", "/api/admin/v1/me/passkeys/x", "", 403, "operator_token_not_allowed"},
		{"an unknown token", operator.TokenPrefix + strings.Repeat("A", 43), "POST", "/api/admin/v1/clients", casSpec, 401, "operator_token_invalid"},
		{"an empty token", "", "GET", "/api/admin/v1/me", "", 401, "operator_token_invalid"},
		{"a made-up token", "secret", "GET", "/api/admin/v1/me", "", 401, "operator_token_invalid"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			st, body, h := script(t, srv, tt.token, tt.method, tt.path, tt.body)
			if st != tt.status || errCode(body) != tt.code {
				t.Fatalf("%d %s, want %d %s", st, body, tt.status, tt.code)
			}
			if st == 401 && !strings.Contains(h.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("WWW-Authenticate %q", h.Get("WWW-Authenticate"))
			}
			if after := everything(t, srv); after != before {
				t.Errorf("a refused call changed something:\n%s\n%s", before, after)
			}
		})
	}

	// The system administrator's token on the registry: its console path
	// goes through the same check, and the change is the operator's.
	st, body, _ = script(t, srv, sysToken, "POST", "/api/admin/v1/clients", casSpec)
	if st != 201 || !strings.Contains(body, `"id":"archive"`) {
		t.Fatalf("a sysadmin's token registers a system: %d %s", st, body)
	}
	events, _ := srv.App.Store.QueryAudit(context.Background(), store.AuditFilter{Actor: "operator:" + sys.id, Action: client.ActionCreate}, 0, 10)
	if len(events) == 0 {
		t.Errorf("the registration is not audited as the operator")
	}

	// Roles follow the operator: a reviewer made a system administrator
	// (by the system administrator's script) manages operators with the
	// same token and no longer reads the review queues.
	rev := setUpOperator(t, srv, "wu", operator.RoleReviewer)
	revToken := newToken(t, srv, rev, "queue watch")
	if st, body, _ := script(t, srv, revToken, "GET", "/api/admin/v1/reviews", ""); st != 200 {
		t.Fatalf("a reviewer's token on the review queues: %d %s", st, body)
	}
	if st, body, _ := script(t, srv, revToken, "GET", "/api/admin/v1/operators", ""); st != 403 {
		t.Fatalf("a reviewer's token on the operators: %d %s", st, body)
	}
	// A token does not promote anyone; a system administrator signed in
	// to the console does.
	st, body, _ = script(t, srv, sysToken, "PUT", "/api/admin/v1/operators/"+rev.id+"/roles", `{"roles":["sysadmin"]}`)
	if st != 403 {
		t.Fatalf("set roles with a token: %d %s", st, body)
	}
	if _, err := srv.App.Store.UpdateOperator(context.Background(), rev.id, func(o store.Operator) (store.Operator, error) {
		o.Roles = []string{operator.RoleSysadmin}
		return o, nil
	}); err != nil {
		t.Fatal(err)
	}
	if st, body, _ := script(t, srv, revToken, "GET", "/api/admin/v1/operators", ""); st != 200 {
		t.Errorf("the token of a new system administrator on the operators: %d %s", st, body)
	}
	if st, body, _ := script(t, srv, revToken, "GET", "/api/admin/v1/reviews", ""); st != 403 {
		t.Errorf("a former reviewer's token on the review queues: %d %s", st, body)
	}

	// A disabled operator's token stops working, and changes nothing:
	// disabled in the console, or on the command line.
	st, body, _ = script(t, srv, sysToken, "POST", "/api/admin/v1/operators/"+rev.id+"/disable", "")
	if st != 200 {
		t.Fatalf("disable: %d %s", st, body)
	}
	if _, err := srv.App.Operators.Disable(context.Background(), "zhao", audit.Origin{Actor: audit.Operator("cli:test")}); err != nil {
		t.Fatal(err)
	}
	before = everything(t, srv)
	for _, tt := range []struct{ token, method, path, body string }{
		{revToken, "POST", "/api/admin/v1/clients", strings.Replace(casSpec, "archive", "second", 1)},
		{secToken, "GET", "/api/admin/v1/citizens?q=" + apptest.Zhang.Phone, ""},
	} {
		if st, body, _ := script(t, srv, tt.token, tt.method, tt.path, tt.body); st != 401 || errCode(body) != "operator_token_invalid" {
			t.Errorf("a disabled operator's token on %s: %d %s", tt.path, st, body)
		}
	}
	if after := everything(t, srv); after != before {
		t.Errorf("a disabled operator's call changed something")
	}

	// Every token the test made stays out of the logs, the audit log and
	// the lists.
	_, list, _ := send(t, sys.c, "GET", srv.URL+"/api/admin/v1/me/tokens", "")
	all, _ := srv.App.Store.ListAudit(context.Background(), 0, 10000)
	for _, tok := range []string{secToken, sysToken, revToken} {
		if strings.Contains(srv.Logs.String(), tok) || strings.Contains(jsonOf(list), tok) || strings.Contains(jsonOf(all), tok) {
			t.Errorf("a token was logged, audited or listed")
		}
		if strings.Contains(srv.Logs.String(), tok[len(operator.TokenPrefix):len(operator.TokenPrefix)+12]) {
			t.Errorf("part of a token was logged")
		}
	}
}

// TestTokenLifecycle: a token is made on the console session with a
// fresh TOTP code (a replayed one is refused), listed without the token,
// and refused once expired or revoked, those refusals changing nothing.
func TestTokenLifecycle(t *testing.T) {
	srv := apptest.Start(t, nil)
	op := setUpOperator(t, srv, "wang", operator.RoleAuditor)
	url := srv.URL + "/api/admin/v1/me/tokens"

	first := srv.TOTP(t, op.secret)
	st, body, _ := send(t, op.c, "POST", url, `{"name":"audit export","days":2,"code":"`+first+`"}`)
	if st != 201 {
		t.Fatalf("create: %d %v", st, body)
	}
	token, id := body["token"].(string), body["id"].(string)
	if !strings.HasPrefix(token, operator.TokenPrefix) {
		t.Fatalf("token %q", token[:8])
	}
	bad := []struct {
		name, body, code string
	}{
		{"a replayed code", `{"name":"again","code":"` + first + `"}`, "operator_code_wrong"},
		{"no code", `{"name":"again"}`, "operator_code_required"},
		{"no name", `{"name":"","code":"` + srv.TOTP(t, op.secret) + `"}`, "operator_token_name_invalid"},
		{"0 days", `{"name":"x","days":0,"code":"` + srv.TOTP(t, op.secret) + `"}`, "operator_token_days_invalid"},
		{"91 days", `{"name":"x","days":91,"code":"` + srv.TOTP(t, op.secret) + `"}`, "operator_token_days_invalid"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			st, body, _ := send(t, op.c, "POST", url, tt.body)
			if st != 400 || !strings.Contains(jsonOf(body["error"]), `"`+tt.code+`"`) {
				t.Fatalf("%d %v, want 400 %s", st, body, tt.code)
			}
		})
	}
	st, body, _ = send(t, op.c, "GET", url, "")
	items, _ := body["items"].([]any)
	if st != 200 || len(items) != 1 || strings.Contains(jsonOf(body), token) {
		t.Fatalf("list: %d %v", st, body)
	}
	item := items[0].(map[string]any)
	if item["name"] != "audit export" || item["id"] != id || item["last_used_at"] != nil || item["expired"] != false {
		t.Fatalf("listed %v", item)
	}

	if st, body, _ := script(t, srv, token, "GET", "/api/admin/v1/me", ""); st != 200 || !strings.Contains(body, `"login_name":"wang"`) {
		t.Fatalf("me by token: %d %s", st, body)
	}
	_, body, _ = send(t, op.c, "GET", url, "")
	if used := body["items"].([]any)[0].(map[string]any)["last_used_at"]; used == nil {
		t.Errorf("last use not recorded")
	}

	// Expired after two days.
	srv.Clock.Advance(2 * 24 * time.Hour)
	if st, body, h := script(t, srv, token, "GET", "/api/admin/v1/audit/events", ""); st != 401 || errCode(body) != "operator_token_invalid" ||
		!strings.Contains(h.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("an expired token: %d %s", st, body)
	}
	signIn(t, srv, op) // the console session has long ended
	_, body, _ = send(t, op.c, "GET", url, "")
	if body["items"].([]any)[0].(map[string]any)["expired"] != true {
		t.Errorf("the list does not say expired: %v", body)
	}

	// Revoked: refused at once, and revoking is audited with the token's
	// id and name.
	fresh := newToken(t, srv, op, "second")
	if st, _, _ := script(t, srv, fresh, "GET", "/api/admin/v1/audit/events", ""); st != 200 {
		t.Fatalf("fresh token: %d", st)
	}
	_, body, _ = send(t, op.c, "GET", url, "")
	freshID := body["items"].([]any)[1].(map[string]any)["id"].(string)
	if st, body, _ := send(t, op.c, "DELETE", url+"/"+freshID, ""); st != 204 {
		t.Fatalf("revoke: %d %v", st, body)
	}
	if st, body, _ := script(t, srv, fresh, "GET", "/api/admin/v1/audit/events", ""); st != 401 || errCode(body) != "operator_token_invalid" {
		t.Fatalf("a revoked token: %d %s", st, body)
	}
	if st, body, _ := send(t, op.c, "DELETE", url+"/"+freshID, ""); st != 404 || code(body) != "operator_token_not_found" {
		t.Fatalf("revoke twice: %d %v", st, body)
	}
	if !auditHas(t, srv, operator.ActionTokenRevoked, `"token_id":"`+freshID+`"`) || !auditHas(t, srv, operator.ActionTokenRevoked, "second") {
		t.Errorf("revocation not audited with the token's id and name")
	}
	if !auditHas(t, srv, operator.ActionTokenCreated, `"token_id":"`+id+`"`) {
		t.Errorf("creation not audited with the token's id")
	}
	if strings.Contains(srv.Logs.String(), token) || strings.Contains(srv.Logs.String(), fresh) {
		t.Errorf("a token is in the logs")
	}
}

// TestTokenRoleMatrix holds tokens to their operator's part as the
// console session is held: every endpoint of the operator API that names
// roles is called with a token of each other role, and with a token that
// is not one; each is refused (403, or 401) and nothing changes, not even
// the audit log.
func TestTokenRoleMatrix(t *testing.T) {
	srv := apptest.Start(t, nil)
	citizen := srv.Browser(t).MustRegister(apptest.Zhang)
	tokens := map[string]string{"unknown": operator.TokenPrefix + strings.Repeat("x", 43)}
	for _, role := range operator.Roles {
		tokens[role] = newToken(t, srv, setUpOperator(t, srv, "matrix-"+role, role), "matrix")
	}
	auditHead := func() int64 {
		last, err := srv.App.Store.QueryAudit(context.Background(), store.AuditFilter{}, 0, 1)
		if err != nil || len(last) != 1 {
			t.Fatalf("audit head: %v %v", last, err)
		}
		return last[0].Seq
	}
	checked := 0
	for _, a := range srv.App.ConsoleAccess() {
		if len(a.Roles) == 0 {
			continue
		}
		method, path, _ := strings.Cut(a.Pattern, " ")
		path = pathParam.ReplaceAllString(path, citizen)
		for _, caller := range append([]string{"unknown"}, operator.Roles...) {
			if slices.Contains(a.Roles, caller) {
				continue
			}
			before, head := everything(t, srv), auditHead()
			st, body, _ := script(t, srv, tokens[caller], method, path, `{"reason":"matrix check of roles","login":"matrix-new","roles":["sysadmin"]}`)
			want := 403
			if caller == "unknown" {
				want = 401
			}
			if st != want {
				t.Errorf("%s with a token of %s: %d, want %d (%s)", a.Pattern, caller, st, want, body)
			}
			if everything(t, srv) != before || auditHead() != head {
				t.Errorf("%s with a token of %s changed something", a.Pattern, caller)
			}
			checked++
		}
	}
	if checked < 100 {
		t.Fatalf("only %d refusals checked", checked)
	}
}
