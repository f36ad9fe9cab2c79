package admin_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/go-webauthn/webauthn/protocol"
	gowebauthn "github.com/go-webauthn/webauthn/webauthn"

	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/operator"
	"unid/internal/store"
	"unid/internal/testenv/browsertest"
)

// pkJS drives the passkey endpoints from the page, with the virtual
// authenticator of the tab: add(code, name), begin(), get(begin's
// answer) and finish(ceremony, credential) each give {status, code, data}.
const pkJS = `
const from = s => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), c => c.charCodeAt(0)).buffer;
const to = b => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const call = async (method, url, body) => {
  const r = await fetch(url, {method, headers: {'Content-Type': 'application/json'}, body: body === undefined ? undefined : JSON.stringify(body)});
  let data = null; try { data = await r.json(); } catch (e) {}
  return {status: r.status, code: data && data.error ? data.error.code : '', data};
};
const add = async (code, name) => {
  const b = await call('POST', '/api/admin/v1/me/passkeys/begin', {code});
  if (b.status !== 200) { return b; }
  const pk = b.data.options.publicKey;
  pk.challenge = from(pk.challenge); pk.user.id = from(pk.user.id);
  (pk.excludeCredentials || []).forEach(c => { c.id = from(c.id); });
  const c = await navigator.credentials.create({publicKey: pk});
  return call('POST', '/api/admin/v1/me/passkeys/finish', {ceremony: b.data.ceremony, name, credential: {
    id: c.id, rawId: to(c.rawId), type: c.type, clientExtensionResults: {},
    response: {clientDataJSON: to(c.response.clientDataJSON), attestationObject: to(c.response.attestationObject)}}});
};
const begin = () => call('POST', '/api/admin/v1/sign-in/passkey/begin', {});
const get = async b => {
  const pk = b.data.options.publicKey;
  pk.challenge = from(pk.challenge);
  (pk.allowCredentials || []).forEach(c => { c.id = from(c.id); });
  const c = await navigator.credentials.get({publicKey: pk});
  return {id: c.id, rawId: to(c.rawId), type: c.type, clientExtensionResults: {}, response: {
    clientDataJSON: to(c.response.clientDataJSON), authenticatorData: to(c.response.authenticatorData),
    signature: to(c.response.signature), userHandle: c.response.userHandle ? to(c.response.userHandle) : undefined}};
};
const finish = (ceremony, credential) => call('POST', '/api/admin/v1/sign-in/passkey/finish', {ceremony, credential});
`

type pkResult struct {
	Status int            `json:"status"`
	Code   string         `json:"code"`
	Data   map[string]any `json:"data"`
}

// TestPasskeyRefusals: what the passkey endpoints refuse, each refusal
// changing nothing — adding without the right code, a ceremony used twice
// or expired, a passkey from another origin, one removed, one of a
// disabled operator, one whose sign count went backwards — and that an
// operator removes only their own.
func TestPasskeyRefusals(t *testing.T) {
	ctx, auth := newPasskeyTab(t)
	srv := apptest.Start(t, nil)
	base := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	id, link := srv.CreateOperator(t, "wu", operator.RoleReviewer)
	op := apptest.ConsoleOperator{ID: id, Login: "wu", Password: apptest.OperatorPassword}
	op.Secret = srv.SetUpOperatorInBrowser(ctx, t, strings.Replace(link, srv.URL, base, 1))

	js := func(expr string) pkResult {
		t.Helper()
		r, err := chromedp.Run(ctx, chromedp.Evaluate[pkResult](`(async () => {`+pkJS+`; return `+expr+`; })()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return r
	}
	want := func(what string, r pkResult, status int, code string) {
		t.Helper()
		if r.Status != status || r.Code != code {
			t.Errorf("%s = %d %s; want %d %s", what, r.Status, r.Code, status, code)
		}
	}
	passkeys := func() int {
		t.Helper()
		list, err := srv.App.Store.ListOperatorPasskeys(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}

	// Adding: a code is needed, the current one, and once.
	want("add without a code", js(`add("", "key")`), 400, "operator_code_required")
	want("add with a wrong code", js(`add("000000", "key")`), 400, "operator_code_wrong")
	code := srv.TOTP(t, op.Secret)
	want("add with a bad name", js(`add("`+code+`", "  ")`), 400, "operator_passkey_name_invalid")
	want("add with a used code", js(`add("`+code+`", "key")`), 400, "operator_code_wrong")
	if n := passkeys(); n != 0 {
		t.Fatalf("refused additions stored %d passkeys", n)
	}
	want("add", js(`add("`+srv.TOTP(t, op.Secret)+`", "工作笔记本")`), 201, "")
	if n := passkeys(); n != 1 {
		t.Fatalf("%d passkeys after adding one", n)
	}

	// A ceremony is used once.
	r := js(`(async () => { const b = await begin(); const c = await get(b); const one = await finish(b.data.ceremony, c);
		const two = await finish(b.data.ceremony, c); return two.status === 410 ? one : {status: 0, code: "second finish: " + two.status + " " + two.code}; })()`)
	want("sign in with the passkey", r, 200, "")
	if r.Data["login_name"] != "wu" {
		t.Errorf("signed in as %v", r.Data)
	}
	// An expired ceremony is said so.
	js(`(async () => { const b = await begin(); window.__c = [b.data.ceremony, await get(b)]; return b; })()`)
	srv.Clock.Advance(operator.CeremonyTTL + time.Second)
	want("finish after 5 minutes", js(`finish(window.__c[0], window.__c[1])`), 410, "operator_passkey_expired")
	want("finish of no ceremony", js(`finish("nope", {})`), 410, "operator_passkey_expired")
	want("a malformed credential", js(`(async () => { const b = await begin(); return finish(b.data.ceremony, {id: "x"}); })()`), 401, "operator_sign_in_failed")

	// Another origin (another port) is refused, whatever it carries.
	other := httptest.NewServer(srv.App.Handler)
	t.Cleanup(other.Close)
	otherBase := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	if err := chromedp.Do(ctx, chromedp.Navigate(otherBase+"/console/sign-in")); err != nil {
		t.Fatal(err)
	}
	want("a passkey used from another origin", js(`(async () => { const b = await begin(); return finish(b.data.ceremony, await get(b)); })()`), 401, "operator_sign_in_failed")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/console/sign-in")); err != nil {
		t.Fatal(err)
	}

	// A cloned authenticator: its sign count goes backwards.
	creds, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: auth})
	if err != nil || len(creds.Credentials) != 1 {
		t.Fatalf("virtual credentials = %+v, %v", creds, err)
	}
	cred := creds.Credentials[0]
	want("sign in again", js(`(async () => { const b = await begin(); return finish(b.data.ceremony, await get(b)); })()`), 200, "")
	cred.SignCount = 0
	if _, err := chromedp.Call(ctx, webauthn.RemoveCredential, webauthn.RemoveCredentialParams{AuthenticatorID: auth, CredentialID: cred.CredentialID}); err != nil {
		t.Fatal(err)
	}
	putCredential(t, ctx, auth, cred)
	want("a cloned passkey", js(`(async () => { const b = await begin(); return finish(b.data.ceremony, await get(b)); })()`), 401, "operator_sign_in_failed")
	if !auditHas(t, srv, operator.ActionSignInFailed, `"reason":"cloned"`) {
		t.Error("the cloned passkey is not audited")
	}

	// A disabled operator is refused with the same answer.
	if _, err := srv.App.Operators.Disable(context.Background(), "wu", audit.Origin{Actor: audit.Operator("cli:test")}); err != nil {
		t.Fatal(err)
	}
	cred.SignCount = 100
	chromedp.Call(ctx, webauthn.RemoveCredential, webauthn.RemoveCredentialParams{AuthenticatorID: auth, CredentialID: cred.CredentialID})
	putCredential(t, ctx, auth, cred)
	want("a disabled operator's passkey", js(`(async () => { const b = await begin(); return finish(b.data.ceremony, await get(b)); })()`), 401, "operator_sign_in_failed")
	if _, err := srv.App.Operators.Enable(context.Background(), "wu", audit.Origin{Actor: audit.Operator("cli:test")}); err != nil {
		t.Fatal(err)
	}

	// Removing: another operator cannot; the operator can, and the passkey
	// then is unknown.
	srv.SignInOperatorInBrowser(ctx, t, op)
	mine := js(`call("GET", "/api/admin/v1/me/passkeys")`)
	items, _ := mine.Data["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("list = %+v", mine)
	}
	pid := items[0].(map[string]any)["id"].(string)
	if items[0].(map[string]any)["last_used_at"] == nil {
		t.Errorf("a used passkey lists no last use: %v", items[0])
	}
	other2 := apptest.ConsoleOperator{Login: "zheng", Password: apptest.OperatorPassword}
	_, link2 := srv.CreateOperator(t, "zheng", operator.RoleSysadmin)
	js(`call("POST", "/api/admin/v1/sign-out", {})`)
	other2.Secret = srv.SetUpOperatorInBrowser(ctx, t, strings.Replace(link2, srv.URL, base, 1))
	want("another operator removes it", js(`call("DELETE", "/api/admin/v1/me/passkeys/`+pid+`")`), 404, "operator_passkey_not_found")
	if n := passkeys(); n != 1 {
		t.Fatalf("another operator's removal left %d passkeys", n)
	}
	js(`call("POST", "/api/admin/v1/sign-out", {})`)
	srv.SignInOperatorInBrowser(ctx, t, op)
	want("remove", js(`call("DELETE", "/api/admin/v1/me/passkeys/`+pid+`")`), 204, "")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/console/sign-in")); err != nil {
		t.Fatal(err)
	}
	want("a removed passkey", js(`(async () => { const b = await begin(); return finish(b.data.ceremony, await get(b)); })()`), 401, "operator_sign_in_failed")
	if !auditHas(t, srv, operator.ActionPasskeyRemoved, pid) || !auditHas(t, srv, operator.ActionSignInFailed, `"reason":"unknown_credential"`) {
		t.Error("removal or the unknown passkey not audited")
	}
}

// putCredential gives the virtual authenticator cred, as it was but for
// its sign count. (The protocol's own parameters name the CMTG extension,
// which this authenticator refuses even when unset.)
func putCredential(t *testing.T, ctx context.Context, auth webauthn.AuthenticatorID, cred *webauthn.Credential) {
	t.Helper()
	type credential struct {
		CredentialID         []byte  `json:"credentialId"`
		IsResidentCredential bool    `json:"isResidentCredential"`
		RpID                 string  `json:"rpId"`
		PrivateKey           []byte  `json:"privateKey"`
		UserHandle           []byte  `json:"userHandle"`
		SignCount            float64 `json:"signCount"`
	}
	type params struct {
		AuthenticatorID webauthn.AuthenticatorID `json:"authenticatorId"`
		Credential      credential               `json:"credential"`
	}
	add := cdp.Command[params, cdp.Empty]{Method: webauthn.CommandAddCredential}
	if _, err := chromedp.Call(ctx, add, params{AuthenticatorID: auth, Credential: credential{
		CredentialID: cred.CredentialID, IsResidentCredential: cred.IsResidentCredential, RpID: cred.RpID,
		PrivateKey: cred.PrivateKey, UserHandle: cred.UserHandle, SignCount: cred.SignCount,
	}}); err != nil {
		t.Fatal(err)
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func auditHas(t *testing.T, srv *apptest.Server, action, detail string) bool {
	t.Helper()
	events, err := srv.App.Store.ListAudit(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Action == action && strings.Contains(e.Detail, detail) {
			return true
		}
	}
	return false
}

// newPasskeyTab is a Chromium tab with a virtual authenticator that holds
// discoverable credentials and verifies its user.
func newPasskeyTab(t *testing.T) (context.Context, webauthn.AuthenticatorID) {
	ctx := browsertest.Tab(t)
	return ctx, browsertest.Passkeys(t, ctx)
}

// TestPasskeySignInBeginNamesNobody: the start of a passkey sign-in is
// the same — but for its challenge — whatever login name it is sent, that
// of an operator with passkeys, one nobody holds, or none: it asks for a
// discoverable passkey and names no credential.
func TestPasskeySignInBeginNamesNobody(t *testing.T) {
	srv := apptest.Start(t, nil)
	b, actor := srv.OperatorAPI(t, "wu", operator.RoleReviewer)
	id := strings.TrimPrefix(actor, "operator:")
	raw, _ := json.Marshal(gowebauthn.Credential{ID: []byte("0123456789abcdef"), Transport: []protocol.AuthenticatorTransport{protocol.USB}})
	if err := srv.App.Store.CreateOperatorPasskey(context.Background(), store.OperatorPasskey{CredentialID: []byte("0123456789abcdef"),
		OperatorID: id, Name: "安全密钥", Credential: raw, CreatedAt: srv.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
	b.PostJSON("/api/admin/v1/sign-out", map[string]any{})
	tests := []struct {
		name string
		body map[string]any
	}{
		{"an operator with passkeys", map[string]any{"login": "wu"}},
		{"a name nobody holds", map[string]any{"login": "nobody"}},
		{"no name", map[string]any{}},
	}
	var first string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.PostJSON("/api/admin/v1/sign-in/passkey/begin", tt.body)
			if r.Status != 200 {
				t.Fatalf("begin = %d %s", r.Status, r.Body)
			}
			var got struct {
				Ceremony string         `json:"ceremony"`
				Options  map[string]any `json:"options"`
			}
			if err := json.Unmarshal(r.Body, &got); err != nil || got.Ceremony == "" {
				t.Fatalf("begin answered %s (%v)", r.Body, err)
			}
			pk, _ := got.Options["publicKey"].(map[string]any)
			if len(pk["challenge"].(string)) < 22 {
				t.Errorf("challenge = %v", pk["challenge"])
			}
			if allow, ok := pk["allowCredentials"].([]any); ok && len(allow) > 0 {
				t.Errorf("begin names credentials: %v", allow)
			}
			pk["challenge"] = "…"
			shape := jsonOf(got.Options)
			if first == "" {
				first = shape
			} else if shape != first {
				t.Errorf("begin answered %s\nwhere for %q it answered %s", shape, tests[0].name, first)
			}
		})
	}
}

// TestPasskeySignInBeginCapped: starting passkey sign-ins counts on the
// client address's minute, as password sign-ins do, so that nobody fills
// the store with ceremonies: over the cap the answer is
// operator_sign_in_rate_limited, and the next minute it starts again.
func TestPasskeySignInBeginCapped(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	for i := range 20 {
		if r := b.PostJSON("/api/admin/v1/sign-in/passkey/begin", map[string]any{}); r.Status != 200 {
			t.Fatalf("begin %d = %d %s", i+1, r.Status, r.Body)
		}
	}
	r := b.PostJSON("/api/admin/v1/sign-in/passkey/begin", map[string]any{})
	if r.Status != 429 || r.ErrCode(t) != "operator_sign_in_rate_limited" || r.Header.Get("Retry-After") == "" {
		t.Errorf("the 21st begin in a minute = %d %s", r.Status, r.Body)
	}
	srv.Clock.Advance(time.Minute)
	if r := b.PostJSON("/api/admin/v1/sign-in/passkey/begin", map[string]any{}); r.Status != 200 {
		t.Errorf("begin the next minute = %d %s", r.Status, r.Body)
	}
}
