package recordsapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/config"
	"unid/internal/records"
	"unid/internal/store"
)

const (
	redirect = "http://127.0.0.1/hall/callback"
	uscc     = "91370100MA3C4X0A1B"
)

var (
	writeScopes = []string{"records.cases:write", "records.consultations:write", "records.messages:write", "records.complaints:write", "records.favorites:write"}
	li          = apptest.Person{Login: "li_si", Password: apptest.GoodPassword, Phone: "13912345678"}
)

// env is a running unid with a service system (hall) and two citizens:
// zhang, who signed in to hall, and li, who did not.
type env struct {
	t         *testing.T
	srv       *apptest.Server
	hall      *system
	zhang, li string
	zb        *apptest.Browser // zhang's browser, signed in to unid
}

// system is a registered service system and its client-credentials token.
type system struct {
	id, secret, token string
}

func newEnv(t *testing.T, start func(edit func(*config.Config)) *apptest.Server, edit func(*config.Config)) *env {
	t.Helper()
	var srv *apptest.Server
	if start != nil {
		srv = start(edit)
	} else {
		srv = apptest.Start(t, edit)
	}
	e := &env{t: t, srv: srv}
	e.hall = e.system("hall", append([]string{"openid", "records.cases:read", "records.messages:read"}, writeScopes...)...)
	e.zb = srv.Browser(t)
	e.zhang = e.zb.MustRegister(apptest.Zhang)
	e.li = srv.Browser(t).MustRegister(li)
	e.signedIn(e.zhang, e.hall, "")
	return e
}

// system registers a confidential client with scopes and gets its token
// from the token endpoint.
func (e *env) system(id string, scopes ...string) *system {
	e.t.Helper()
	c, secret, err := e.srv.App.Clients.Create(context.Background(), client.Spec{
		ID: id, Name: "政务服务 " + id, Type: store.ClientOIDCConfidential, RedirectURIs: []string{redirect}, Scopes: scopes,
	}, audit.Origin{Actor: audit.Operator("test")})
	if err != nil {
		e.t.Fatal(err)
	}
	cc := clientcredentials.Config{ClientID: c.ID, ClientSecret: secret, TokenURL: e.srv.URL + "/oidc/token"}
	tok, err := cc.Token(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return &system{id: c.ID, secret: secret, token: tok.AccessToken}
}

// signedIn records a sign-in of userID to s (acting for uscc, or as the
// person), as the single sign-on protocols do: a fixture step.
func (e *env) signedIn(userID string, s *system, acting string) {
	e.t.Helper()
	err := e.srv.App.Store.AddSessionClient(context.Background(), store.SessionClient{
		SID: "fixture-" + userID + "-" + s.id + "-" + acting, ClientID: s.id, Protocol: "oidc", UserID: userID, Acting: acting, CreatedAt: e.srv.Clock.Now(),
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// do sends a request with token as its bearer token ("" none).
func (e *env) do(method, path, token, contentType string, body []byte) apptest.Response {
	e.t.Helper()
	var h []string
	if token != "" {
		h = []string{"Authorization", "Bearer " + token}
	}
	return e.srv.Browser(e.t).Do(method, path, contentType, bytes.NewReader(body), h...)
}

func (e *env) put(s *system, path string, fields map[string]any) apptest.Response {
	e.t.Helper()
	b, _ := json.Marshal(fields)
	return e.do(http.MethodPut, path, s.token, "application/json", b)
}

func caseFields(status, updated string) map[string]any {
	return map[string]any{"number": "JN-0001", "item_name": "营业执照变更登记", "item_code": "11370100MB2850001X", "department": "市场监管局",
		"status": status, "updated_at": updated, "link": "http://127.0.0.1/hall/cases/1"}
}

func at(e *env, d time.Duration) string { return e.srv.Clock.Now().Add(d).Format(time.RFC3339) }

func outcome(t *testing.T, r apptest.Response) string {
	t.Helper()
	var v struct{ Outcome string }
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	return v.Outcome
}

// count is how many records of hall's of kind the store has, of anyone.
func (e *env) count(kind store.RecordKind, ids ...string) int {
	n := 0
	for _, id := range ids {
		if _, err := e.srv.App.Store.GetSourceRecord(context.Background(), e.hall.id, kind, id); err == nil {
			n++
		} else if !errors.Is(err, store.ErrNotFound) {
			e.t.Fatal(err)
		}
	}
	return n
}

func TestUpsertOutOfOrderAndHistory(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, start func(edit func(*config.Config)) *apptest.Server) {
		e := newEnv(t, start, nil)
		path := "/api/records/v1/users/" + e.zhang + "/cases/JN-0001"
		steps := []struct {
			status  string
			updated time.Duration
			code    int
			outcome string
		}{
			{"submitted", -time.Hour, http.StatusCreated, store.UpsertCreated},
			{"submitted", -time.Hour, http.StatusOK, store.UpsertUnchanged}, // sent twice
			{"processing", -10 * time.Minute, http.StatusOK, store.UpsertUpdated},
			{"accepted", -30 * time.Minute, http.StatusOK, store.UpsertStale}, // arrives late
			{"completed", -time.Minute, http.StatusOK, store.UpsertUpdated},
		}
		for i, s := range steps {
			r := e.put(e.hall, path, caseFields(s.status, at(e, s.updated)))
			if r.Status != s.code || outcome(t, r) != s.outcome {
				t.Fatalf("step %d: %d %s, want %d %s", i, r.Status, r.Body, s.code, s.outcome)
			}
		}
		r := e.do(http.MethodGet, path, e.hall.token, "", nil)
		var got struct {
			ID      string
			User    string
			Fields  map[string]string
			History []struct{ Status string }
		}
		if err := json.Unmarshal(r.Body, &got); err != nil || r.Status != http.StatusOK {
			t.Fatalf("GET: %d %s", r.Status, r.Body)
		}
		var statuses []string
		for _, h := range got.History {
			statuses = append(statuses, h.Status)
		}
		if got.ID != "JN-0001" || got.User != e.zhang || got.Fields["status"] != "completed" || got.Fields["item_name"] != "营业执照变更登记" ||
			strings.Join(statuses, ",") != "submitted,processing,completed" {
			t.Errorf("GET: %s", r.Body)
		}
		// Under another owner's path the record is not there.
		if r := e.do(http.MethodGet, "/api/records/v1/users/"+e.li+"/cases/JN-0001", e.hall.token, "", nil); r.Status != http.StatusNotFound || r.ErrCode(t) != "record_not_found" {
			t.Errorf("GET under li: %d %s", r.Status, r.Body)
		}
		if r := e.do(http.MethodDelete, path, e.hall.token, "", nil); r.Status != http.StatusNoContent {
			t.Fatalf("DELETE: %d %s", r.Status, r.Body)
		}
		if r := e.do(http.MethodGet, path, e.hall.token, "", nil); r.Status != http.StatusNotFound {
			t.Errorf("GET after DELETE: %d", r.Status)
		}
	})
}

// TestOwnerNeverSignedInIsAMissingOwner: a system writing for a person
// who never signed in to it is answered exactly as for no such person.
func TestOwnerNeverSignedInIsAMissingOwner(t *testing.T) {
	e := newEnv(t, nil, nil)
	other := e.system("other", writeScopes...)
	e.signedIn(e.li, other, "") // li knows another system, not hall
	fields := caseFields("submitted", at(e, -time.Hour))
	never := e.put(e.hall, "/api/records/v1/users/"+e.li+"/cases/c-1", fields)
	missing := e.put(e.hall, "/api/records/v1/users/no-such-user/cases/c-1", fields)
	if never.Status != http.StatusNotFound || never.ErrCode(t) != "records_owner_unknown" {
		t.Fatalf("never signed in: %d %s", never.Status, never.Body)
	}
	if missing.Status != never.Status || !bytes.Equal(missing.Body, never.Body) {
		t.Errorf("a missing user %d %s, one who never signed in %d %s", missing.Status, missing.Body, never.Status, never.Body)
	}
	if e.count(store.RecordCase, "c-1") != 0 {
		t.Error("a refused write was stored")
	}
	// Another user's records are not another system's to read either.
	if r := e.put(other, "/api/records/v1/users/"+e.li+"/cases/c-9", fields); r.Status != http.StatusCreated {
		t.Fatalf("other for li: %d %s", r.Status, r.Body)
	}
	if r := e.do(http.MethodGet, "/api/records/v1/users/"+e.li+"/cases/c-9", e.hall.token, "", nil); r.Status != http.StatusNotFound {
		t.Errorf("hall reads other's record: %d %s", r.Status, r.Body)
	}
}

func TestTokensAndScopes(t *testing.T) {
	e := newEnv(t, nil, nil)
	messagesOnly := e.system("notices", "records.messages:write")
	e.signedIn(e.zhang, messagesOnly, "")
	path := "/api/records/v1/users/" + e.zhang + "/cases/c-1"
	body, _ := json.Marshal(caseFields("submitted", at(e, -time.Hour)))
	tests := []struct {
		name, token string
		status      int
		code, auth  string
	}{
		{"no token", "", http.StatusUnauthorized, "invalid_token", `Bearer realm="unid"`},
		{"not a token", "eyJhbGciOi.garbage.x", http.StatusUnauthorized, "invalid_token", `error="invalid_token"`},
		{"without the kind's scope", messagesOnly.token, http.StatusForbidden, "insufficient_scope", `scope="records.cases:write"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(http.MethodPut, path, tt.token, "application/json", body)
			if r.Status != tt.status || r.ErrCode(t) != tt.code || !strings.Contains(r.Header.Get("WWW-Authenticate"), tt.auth) {
				t.Errorf("%d %s %q", r.Status, r.Body, r.Header.Get("WWW-Authenticate"))
			}
		})
	}
	if e.count(store.RecordCase, "c-1") != 0 {
		t.Error("a refused write was stored")
	}
	// The scope it has works.
	b, _ := json.Marshal(map[string]any{"title": "材料补正通知", "body": "请于五个工作日内补正材料。"})
	if r := e.do(http.MethodPut, "/api/records/v1/users/"+e.zhang+"/messages/n-1", messagesOnly.token, "application/json", b); r.Status != http.StatusCreated {
		t.Errorf("message: %d %s", r.Status, r.Body)
	}
	// An expired token is refused.
	e.srv.Clock.Advance(time.Hour)
	if r := e.do(http.MethodPut, path, e.hall.token, "application/json", body); r.Status != http.StatusUnauthorized {
		t.Errorf("expired token: %d %s", r.Status, r.Body)
	}
}

func TestEnterpriseRecords(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	now := e.srv.Clock.Now()
	log := audit.New(e.srv.App.Store, e.srv.Clock.Now, nil)
	err := e.srv.App.Store.ChangeEnterprise(ctx, store.EnterpriseChange{
		Enterprise:     &store.Enterprise{USCC: uscc, Name: "济南某某有限公司", Status: "active", CheckedAt: now, CreatedAt: now},
		KeepEnterprise: true,
		PutMembers:     []store.EnterpriseMember{{USCC: uscc, UserID: e.zhang, Role: "handler", CreatedAt: now}},
	}, log.Event(audit.Entry{Actor: audit.System(), Action: "test.member_added", Result: audit.ResultOK}), audit.Hash)
	if err != nil {
		t.Fatal(err)
	}
	path := "/api/records/v1/enterprises/" + uscc + "/cases/e-1"
	fields := caseFields("submitted", at(e, -time.Hour))
	fields["handler"] = e.zhang
	// Nobody acted for the enterprise in hall yet.
	if r := e.put(e.hall, path, fields); r.Status != http.StatusNotFound || r.ErrCode(t) != "records_owner_unknown" {
		t.Fatalf("enterprise never acted for: %d %s", r.Status, r.Body)
	}
	e.signedIn(e.zhang, e.hall, uscc)
	if r := e.put(e.hall, path, fields); r.Status != http.StatusCreated {
		t.Fatalf("enterprise case: %d %s", r.Status, r.Body)
	}
	fields["handler"] = e.li // not a member
	fields["updated_at"] = at(e, -time.Minute)
	if r := e.put(e.hall, path, fields); r.Status != http.StatusBadRequest || r.ErrCode(t) != "record_handler_unknown" {
		t.Errorf("handler not a member: %d %s", r.Status, r.Body)
	}
	// Complaints are a person's only.
	if r := e.put(e.hall, "/api/records/v1/enterprises/"+uscc+"/complaints/x-1", map[string]any{"subject": "s", "status": "submitted", "updated_at": at(e, -time.Hour)}); r.Status != http.StatusBadRequest {
		t.Errorf("enterprise complaint: %d %s", r.Status, r.Body)
	}
	if r := e.do(http.MethodGet, path, e.hall.token, "", nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"handler":"`+e.zhang+`"`) {
		t.Errorf("GET: %d %s", r.Status, r.Body)
	}
}

func TestMalformedAndHugeBodiesWriteNothing(t *testing.T) {
	e := newEnv(t, nil, nil)
	path := "/api/records/v1/users/" + e.zhang + "/cases/c-1"
	huge, _ := json.Marshal(map[string]any{"item_name": "x", "status": "submitted", "updated_at": at(e, -time.Hour), "department": strings.Repeat("大", 8000)})
	tests := []struct {
		name, contentType string
		body              []byte
		status            int
		code              string
	}{
		{"huge", "application/json", huge, http.StatusRequestEntityTooLarge, "body_too_large"},
		{"malformed", "application/json", []byte(`{"item_name": "x",`), http.StatusBadRequest, "malformed_json"},
		{"two objects", "application/json", []byte(`{} {}`), http.StatusBadRequest, "malformed_json"},
		{"number for a string", "application/json", []byte(`{"item_name": 7}`), http.StatusBadRequest, "invalid_fields"},
		{"not JSON", "text/plain", []byte(`item_name=x`), http.StatusBadRequest, "content_type_json"},
		{"unknown kind", "application/json", []byte(`{}`), http.StatusNotFound, "records_kind_unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := path
			if tt.name == "unknown kind" {
				p = "/api/records/v1/users/" + e.zhang + "/licences/c-1"
			}
			r := e.do(http.MethodPut, p, e.hall.token, tt.contentType, tt.body)
			if r.Status != tt.status || r.ErrCode(t) != tt.code {
				t.Errorf("%d %s", r.Status, r.Body)
			}
		})
	}
	if e.count(store.RecordCase, "c-1") != 0 {
		t.Error("a refused body was stored")
	}
}

// bulkAnswers reads an NDJSON answer.
func bulkAnswers(t *testing.T, r apptest.Response) []map[string]any {
	t.Helper()
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-ndjson") {
		t.Fatalf("bulk: %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(r.Body))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("answer line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func line(v map[string]any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestBulk(t *testing.T) {
	e := newEnv(t, nil, nil)
	updated := at(e, -time.Hour)
	good := func(id string) string {
		return line(map[string]any{"kind": "cases", "user": e.zhang, "id": id, "item_name": "社保转移", "status": "submitted", "updated_at": updated})
	}
	body := strings.Join([]string{
		good("b-1"),
		`{"kind": "cases", "user": "` + e.zhang + `", "id": "b-2", "item_name": `, // malformed
		"", // blank: skipped, unanswered
		line(map[string]any{"kind": "cases", "user": e.zhang, "id": "b-3", "item_name": "x", "status": "done", "updated_at": updated}),
		line(map[string]any{"kind": "cases", "user": e.li, "id": "b-4", "item_name": "x", "status": "submitted", "updated_at": updated}),
		line(map[string]any{"kind": "licences", "user": e.zhang, "id": "b-5"}),
		`{"kind": "messages", "user": "` + e.zhang + `", "id": "b-6", "title": "` + strings.Repeat("长", 6000) + `"}`, // over 16 KiB
		line(map[string]any{"kind": "favorites", "user": e.zhang, "id": "b-7", "name": "公积金提取", "link": "http://127.0.0.1/hall/items/7"}),
		good("b-1"), // again: unchanged
	}, "\n") + "\n"
	answers := bulkAnswers(t, e.do(http.MethodPost, "/api/records/v1/bulk", e.hall.token, "application/x-ndjson", []byte(body)))
	want := []struct {
		line          float64
		outcome, code string
	}{
		{1, "created", ""}, {2, "", "malformed_json"}, {4, "", "invalid_fields"}, {5, "", "records_owner_unknown"},
		{6, "", "records_kind_unknown"}, {7, "", "records_line_too_long"}, {8, "created", ""}, {9, "unchanged", ""},
	}
	if len(answers) != len(want) {
		t.Fatalf("%d answers, want %d: %v", len(answers), len(want), answers)
	}
	for i, w := range want {
		a := answers[i]
		code := ""
		if m, ok := a["error"].(map[string]any); ok {
			code, _ = m["code"].(string)
			if msg, _ := m["message"].(string); msg == "" {
				t.Errorf("line %v: no message", a["line"])
			}
		}
		if a["line"] != w.line || a["outcome"] != nil && a["outcome"] != w.outcome || code != w.code {
			t.Errorf("answer %d = %v, want line %v %s%s", i, a, w.line, w.outcome, w.code)
		}
	}
	if n := e.count(store.RecordCase, "b-1", "b-2", "b-3", "b-4") + e.count(store.RecordFavorite, "b-7"); n != 2 {
		t.Errorf("%d records stored, want the 2 good ones", n)
	}

	// Over the limits: refused whole, nothing written.
	var many strings.Builder
	for i := range records.MaxBulkLines + 1 {
		many.WriteString(good(fmt.Sprintf("m-%d", i)) + "\n")
	}
	var big strings.Builder // lines of over 1 KiB: under MaxBulkLines
	for i := 0; big.Len() <= records.MaxBulkBytes; i++ {
		big.WriteString(line(map[string]any{"kind": "cases", "user": e.zhang, "id": fmt.Sprintf("g-%d", i), "item_name": "社保转移",
			"status": "submitted", "updated_at": updated, "link": "http://127.0.0.1/hall/" + strings.Repeat("x", 1000)}) + "\n")
	}
	for _, tt := range []struct {
		name, body, code string
	}{
		{"too many lines", many.String(), "records_bulk_too_many_lines"},
		{"too large", big.String(), "records_bulk_too_large"},
	} {
		r := e.do(http.MethodPost, "/api/records/v1/bulk", e.hall.token, "application/x-ndjson", []byte(tt.body))
		if r.Status != http.StatusRequestEntityTooLarge || r.ErrCode(t) != tt.code {
			t.Errorf("%s: %d %s", tt.name, r.Status, r.Body)
		}
	}
	if n := e.count(store.RecordCase, "m-0", "m-1", "g-0", "g-1"); n != 0 {
		t.Errorf("%d records of refused bulk requests stored", n)
	}
	if r := e.do(http.MethodPost, "/api/records/v1/bulk", e.hall.token, "application/json", []byte(good("j-1"))); r.Status != http.StatusBadRequest || r.ErrCode(t) != "records_content_type_ndjson" {
		t.Errorf("JSON content type: %d %s", r.Status, r.Body)
	}
}

func TestRateLimitAndCountedAudit(t *testing.T) {
	e := newEnv(t, nil, func(c *config.Config) { c.Records.Rate, c.Records.Burst = 1, 2 })
	path := "/api/records/v1/users/" + e.zhang + "/cases/c-1"
	fields := caseFields("submitted", at(e, -time.Hour))
	for i := range 2 {
		if r := e.put(e.hall, path, fields); r.Status >= 300 {
			t.Fatalf("request %d: %d %s", i, r.Status, r.Body)
		}
	}
	r := e.put(e.hall, path, fields)
	if r.Status != http.StatusTooManyRequests || r.ErrCode(t) != "records_rate_limited" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("over the burst: %d %s %v", r.Status, r.Body, r.Header)
	}
	e.srv.Clock.Advance(2 * time.Second)
	if r := e.put(e.hall, path, fields); r.Status != http.StatusOK {
		t.Fatalf("after waiting: %d %s", r.Status, r.Body)
	}
	e.put(e.hall, "/api/records/v1/users/"+e.li+"/cases/c-2", fields)
	e.srv.App.Ingest.Flush(context.Background())
	evs, err := e.srv.App.Store.ListAudit(context.Background(), 0, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	var details []audit.Detail
	for _, ev := range evs {
		if ev.Action == records.ActionIngest && ev.Actor == "client:hall" {
			d, _ := audit.ParseDetail(ev.Detail)
			details = append(details, d)
		}
	}
	if len(details) != 1 {
		t.Fatalf("%d records.ingest events, want 1", len(details))
	}
	d := details[0]
	if d["created"] != "1" || d["unchanged"] != "2" || d["rate_limited"] != "1" || d["refused.records_owner_unknown"] != "1" {
		t.Errorf("detail %v", d)
	}
}

// userToken signs b's user in to s through the authorization code flow
// (go-oidc and x/oauth2 on the system's side) with scopes, and returns
// the access token.
func (e *env) userToken(b *apptest.Browser, s *system, scopes ...string) string {
	e.t.Helper()
	ctx := gooidc.ClientContext(context.Background(), e.srv.Browser(e.t).Client)
	provider, err := gooidc.NewProvider(ctx, e.srv.URL)
	if err != nil {
		e.t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: s.id, ClientSecret: s.secret, Endpoint: provider.Endpoint(), RedirectURL: redirect, Scopes: scopes}
	u := conf.AuthCodeURL("st", gooidc.Nonce("nn"))
	for range 12 {
		if strings.HasPrefix(u, redirect) {
			back, _ := url.Parse(u)
			tok, err := conf.Exchange(ctx, back.Query().Get("code"))
			if err != nil {
				e.t.Fatal(err)
			}
			return tok.AccessToken
		}
		next, err := url.Parse(u)
		if err != nil {
			e.t.Fatal(err)
		}
		if next.Path == "/oidc/consent" {
			r := b.PostJSON("/api/v1/consents", map[string]any{"request_id": next.Query().Get("id"), "allow": true})
			var to struct {
				RedirectTo string `json:"redirect_to"`
			}
			if err := json.Unmarshal(r.Body, &to); err != nil || r.Status != http.StatusOK {
				e.t.Fatalf("consent: %d %s", r.Status, r.Body)
			}
			u = to.RedirectTo
			continue
		}
		r := b.Get(u)
		if r.Status < 300 || r.Status > 399 {
			e.t.Fatalf("the sign-in stopped at %s: %d %s", u, r.Status, r.Body)
		}
		abs, err := next.Parse(r.Location())
		if err != nil {
			e.t.Fatal(err)
		}
		u = abs.String()
	}
	e.t.Fatalf("too many redirects, last %s", u)
	return ""
}

func TestUserReadsTheirRecords(t *testing.T) {
	e := newEnv(t, nil, nil)
	// li signs in to hall for real: the sign-in lets hall write for li.
	lb := e.srv.Browser(t)
	lb.MustLogin(li.Login, li.Password)
	liToken := e.userToken(lb, e.hall, "openid", "records.cases:read")
	if r := e.put(e.hall, "/api/records/v1/users/"+e.li+"/cases/l-1", caseFields("submitted", at(e, -time.Hour))); r.Status != http.StatusCreated {
		t.Fatalf("write for li after a real sign-in: %d %s", r.Status, r.Body)
	}
	other := e.system("other", writeScopes...)
	e.signedIn(e.zhang, other, "")
	for i, s := range []*system{e.hall, other, e.hall} {
		r := e.put(s, fmt.Sprintf("/api/records/v1/users/%s/cases/z-%d", e.zhang, i), caseFields("submitted", at(e, time.Duration(i-10)*time.Minute)))
		if r.Status != http.StatusCreated {
			t.Fatalf("write %d: %d %s", i, r.Status, r.Body)
		}
	}
	zToken := e.userToken(e.zb, e.hall, "openid", "records.cases:read")
	var seen []string
	after := ""
	for page := 0; page < 5; page++ {
		r := e.do(http.MethodGet, "/api/records/v1/me/cases?limit=2&after="+url.QueryEscape(after), zToken, "", nil)
		var p struct {
			Records []struct {
				ClientID string `json:"client_id"`
				Fields   map[string]string
			}
			Next string
		}
		if err := json.Unmarshal(r.Body, &p); err != nil || r.Status != http.StatusOK {
			t.Fatalf("page %d: %d %s", page, r.Status, r.Body)
		}
		for _, rec := range p.Records {
			seen = append(seen, rec.ClientID)
		}
		if after = p.Next; after == "" {
			break
		}
	}
	if strings.Join(seen, ",") != "hall,other,hall" {
		t.Errorf("zhang's cases from %v, want hall,other,hall (newest first, every system, none of li's)", seen)
	}
	if r := e.do(http.MethodGet, "/api/records/v1/me/cases", liToken, "", nil); r.Status != http.StatusOK || strings.Count(string(r.Body), `"client_id"`) != 1 {
		t.Errorf("li's cases: %d %s", r.Status, r.Body)
	}
	tests := []struct {
		name, path, token string
		status            int
	}{
		{"another kind's scope", "/api/records/v1/me/messages", zToken, http.StatusForbidden},
		{"a system's own token", "/api/records/v1/me/cases", e.hall.token, http.StatusForbidden},
		{"a bad status", "/api/records/v1/me/cases?status=answered", zToken, http.StatusBadRequest},
		{"no token", "/api/records/v1/me/cases", "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := e.do(http.MethodGet, tt.path, tt.token, "", nil); r.Status != tt.status {
				t.Errorf("%d %s", r.Status, r.Body)
			}
		})
	}
	// A token without the read scope reads nothing.
	plain := e.userToken(e.zb, e.hall, "openid")
	if r := e.do(http.MethodGet, "/api/records/v1/me/cases", plain, "", nil); r.Status != http.StatusForbidden ||
		!strings.Contains(r.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Errorf("without records.cases:read: %d %s", r.Status, r.Body)
	}
	// A user's token does not write.
	if r := e.do(http.MethodPut, "/api/records/v1/users/"+e.zhang+"/cases/u-1", zToken, "application/json", []byte(`{}`)); r.Status != http.StatusForbidden {
		t.Errorf("a user's token writes: %d %s", r.Status, r.Body)
	}
}

// TestDeletedClientLeavesNothingToItsID: a system registered again under
// a deleted system's ID may not write for the people who signed in to
// the old one, nor read the old one's records.
func TestDeletedClientLeavesNothingToItsID(t *testing.T) {
	e := newEnv(t, nil, nil)
	old := e.system("gone", writeScopes...)
	e.signedIn(e.zhang, old, "")
	path := "/api/records/v1/users/" + e.zhang + "/cases/c-1"
	if r := e.put(old, path, caseFields("submitted", at(e, -time.Hour))); r.Status != http.StatusCreated {
		t.Fatalf("write of the old system: %d %s", r.Status, r.Body)
	}
	if err := e.srv.App.Clients.Delete(context.Background(), "gone", audit.Origin{Actor: audit.Operator("test")}); err != nil {
		t.Fatal(err)
	}
	again := e.system("gone", writeScopes...)
	if r := e.do(http.MethodGet, path, again.token, "", nil); r.Status != http.StatusNotFound || r.ErrCode(t) != "record_not_found" {
		t.Errorf("the new system reads the old one's record: %d %s", r.Status, r.Body)
	}
	if r := e.put(again, "/api/records/v1/users/"+e.zhang+"/cases/c-2", caseFields("submitted", at(e, -time.Hour))); r.Status != http.StatusNotFound || r.ErrCode(t) != "records_owner_unknown" {
		t.Errorf("the new system writes for the old one's user: %d %s", r.Status, r.Body)
	}
	if _, err := e.srv.App.Store.GetSourceRecord(context.Background(), "gone", store.RecordCase, "c-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the old system's record is still stored: %v", err)
	}
}

// TestBulkRefusedBeforeItsBody: a bulk request of a token that may write
// no kind, or of a system over its rate limit, is refused before its body
// is read, whatever the body; a body of many tiny lines is refused at the
// line after the limit, without holding the rest.
func TestBulkRefusedBeforeItsBody(t *testing.T) {
	e := newEnv(t, nil, func(c *config.Config) { c.Records.Rate, c.Records.Burst = 1, 2 })
	// Over MaxBulkBytes in lines of 4 KiB: under MaxBulkLines.
	oversized := bytes.Repeat([]byte(`{"pad": "`+strings.Repeat("x", 4084)+`"}`+"\n"), records.MaxBulkBytes/4096+1)
	bulk := func(s *system, body []byte) apptest.Response {
		t.Helper()
		return e.do(http.MethodPost, "/api/records/v1/bulk", s.token, "application/x-ndjson", body)
	}

	signInOnly := e.system("signin", "openid")
	if r := bulk(signInOnly, oversized); r.Status != http.StatusForbidden || r.ErrCode(t) != "insufficient_scope" ||
		!strings.Contains(r.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Errorf("a token without a write scope: %d %s %q", r.Status, r.Body, r.Header.Get("WWW-Authenticate"))
	}

	// The limit's first lines are good; the tiny lines after them are
	// never held.
	var b bytes.Buffer
	for i := range records.MaxBulkLines {
		b.WriteString(line(map[string]any{"kind": "messages", "user": e.zhang, "id": fmt.Sprintf("t-%d", i), "title": "t"}) + "\n")
	}
	for b.Len() < records.MaxBulkBytes-3 {
		b.WriteString("{}\n")
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := bulk(e.hall, b.Bytes())
	runtime.ReadMemStats(&after)
	if r.Status != http.StatusRequestEntityTooLarge || r.ErrCode(t) != "records_bulk_too_many_lines" {
		t.Errorf("many tiny lines: %d %s", r.Status, r.Body)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 48<<20 {
		t.Errorf("a body of %d bytes took %d MiB to refuse", b.Len(), n>>20)
	}
	if n := e.count(store.RecordMessage, "t-0", "t-1", fmt.Sprintf("t-%d", records.MaxBulkLines-1)); n != 0 {
		t.Errorf("%d records of a refused bulk request stored", n)
	}

	// That request took one of the burst of two, the next one oversized
	// body the other: the third is refused before its body.
	if r := bulk(e.hall, oversized); r.Status != http.StatusRequestEntityTooLarge || r.ErrCode(t) != "records_bulk_too_large" {
		t.Fatalf("oversized: %d %s", r.Status, r.Body)
	}
	for _, body := range [][]byte{oversized, []byte(line(map[string]any{"kind": "messages", "user": e.zhang, "id": "late", "title": "t"}) + "\n")} {
		if r := bulk(e.hall, body); r.Status != http.StatusTooManyRequests || r.ErrCode(t) != "records_rate_limited" || r.Header.Get("Retry-After") == "" {
			t.Errorf("over the limit, a body of %d bytes: %d %s", len(body), r.Status, r.Body)
		}
	}
}

// TestLinkMustBeOnTheSystemsSite: a record's link leads to the writing
// system's own site (the host of its redirect URI), not anywhere else.
func TestLinkMustBeOnTheSystemsSite(t *testing.T) {
	e := newEnv(t, nil, nil)
	path := "/api/records/v1/users/" + e.zhang + "/cases/c-1"
	fields := caseFields("submitted", at(e, -time.Hour))
	fields["link"] = "https://pay.example.com/hall/cases/1"
	r := e.put(e.hall, path, fields)
	var body struct {
		Error struct {
			Fields map[string]struct{ Code, Message string }
		}
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || r.Status != http.StatusBadRequest ||
		body.Error.Fields["link"].Code != "record_link_invalid" || body.Error.Fields["link"].Message == "" {
		t.Fatalf("a link elsewhere: %d %s", r.Status, r.Body)
	}
	if e.count(store.RecordCase, "c-1") != 0 {
		t.Error("a write with a link elsewhere was stored")
	}
	fields["link"] = "http://127.0.0.1/hall/cases/1"
	if r := e.put(e.hall, path, fields); r.Status != http.StatusCreated {
		t.Errorf("a link on its site: %d %s", r.Status, r.Body)
	}
}

// TestUserReadsAreRateLimited: reading a user's records with the user's
// token costs the system holding it as its writes do.
func TestUserReadsAreRateLimited(t *testing.T) {
	e := newEnv(t, nil, func(c *config.Config) { c.Records.Rate, c.Records.Burst = 1, 2 })
	tok := e.userToken(e.zb, e.hall, "openid", "records.cases:read")
	if r := e.put(e.hall, "/api/records/v1/users/"+e.zhang+"/cases/c-1", caseFields("submitted", at(e, -time.Hour))); r.Status != http.StatusCreated {
		t.Fatalf("write: %d %s", r.Status, r.Body)
	}
	if r := e.do(http.MethodGet, "/api/records/v1/me/cases", tok, "", nil); r.Status != http.StatusOK {
		t.Fatalf("read within the burst: %d %s", r.Status, r.Body)
	}
	r := e.do(http.MethodGet, "/api/records/v1/me/cases", tok, "", nil)
	if r.Status != http.StatusTooManyRequests || r.ErrCode(t) != "records_rate_limited" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("read over the burst: %d %s", r.Status, r.Body)
	}
	e.srv.Clock.Advance(2 * time.Second)
	if r := e.do(http.MethodGet, "/api/records/v1/me/cases", tok, "", nil); r.Status != http.StatusOK {
		t.Errorf("read after waiting: %d %s", r.Status, r.Body)
	}
}
