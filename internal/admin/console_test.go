package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"unid/internal/account"
	"unid/internal/account/accounttest"
	"unid/internal/admin"
	"unid/internal/audit"
	"unid/internal/captcha"
	"unid/internal/httpx"
	"unid/internal/i18n"
	"unid/internal/operator"
	"unid/internal/problem"
	"unid/internal/review"
	"unid/internal/store/sqlite/sqlitetest"
)

// testQueue is a review queue held in memory: the real one is the
// real-name service's, built elsewhere. It records who opened and decided
// what, as the real one audits.
type testQueue struct {
	mu      sync.Mutex
	items   map[string]review.Item
	png     []byte
	opened  []string // "<item> by <actor>"
	decided []string
}

func newTestQueue(t *testing.T) *testQueue {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	q := &testQueue{items: map[string]review.Item{}, png: buf.Bytes()}
	for _, id := range []string{"item1", "item2"} {
		q.items[id] = review.Item{ID: id, Kind: "realname.counter", State: review.StatePending, Reference: "K7Q2M" + id[4:],
			UserID: "user-" + id, Subject: "*三 1101**********002X", CreatedAt: accounttest.Start}
	}
	return q
}

var errMissing = problem.New(problem.NotFound, "review_not_found")

func (q *testQueue) Kinds() []string { return []string{"realname.counter"} }

func (q *testQueue) List(_ context.Context, p review.Page) ([]review.Item, string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []review.Item
	for _, id := range []string{"item1", "item2"} {
		if it := q.items[id]; it.State == p.State && id > p.After {
			out = append(out, it)
		}
	}
	return out, "", nil
}

func (q *testQueue) Open(_ context.Context, id string, by audit.Origin) (review.Detail, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	it, ok := q.items[id]
	if !ok {
		return review.Detail{}, errMissing
	}
	q.opened = append(q.opened, id+" by "+by.Actor.String())
	return review.Detail{Item: it, Fields: []review.Field{{Label: "console.reviews.subject", Value: "张三 11010519491231002X"}},
		Files: []review.File{{ID: "photo", Label: "id_photo", ContentType: "image/png", Size: len(q.png)}}}, nil
}

func (q *testQueue) File(_ context.Context, id, fileID string, by audit.Origin) (review.File, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.items[id]; !ok || fileID != "photo" {
		return review.File{}, errMissing
	}
	q.opened = append(q.opened, id+"/"+fileID+" by "+by.Actor.String())
	return review.File{ID: "photo", ContentType: "image/png", Data: q.png}, nil
}

func (q *testQueue) Decide(_ context.Context, id string, approve bool, reason string, by audit.Origin) (review.Item, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	it, ok := q.items[id]
	if !ok {
		return review.Item{}, errMissing
	}
	if it.State != review.StatePending {
		return review.Item{}, problem.New(problem.Conflict, "review_not_found")
	}
	it.State, it.Reason, it.DecidedBy = review.StateRejected, reason, by.Actor.ID
	if approve {
		it.State = review.StateApproved
	}
	q.items[id] = it
	q.decided = append(q.decided, id+" by "+by.Actor.String())
	return it, nil
}

// testCorrector records corrections.
type testCorrector struct{ calls []string }

func (c *testCorrector) Correct(_ context.Context, userID, realName, idNumber, reason string, by audit.Origin) error {
	c.calls = append(c.calls, userID+" by "+by.Actor.String())
	return nil
}

type consoleServer struct {
	url   string
	ops   *operator.Service
	queue *testQueue
	fix   *accounttest.Fixture
	corr  *testCorrector
	capt  *captcha.Service
}

func startConsoleAPI(t *testing.T) *consoleServer {
	t.Helper()
	return startConsoleAPIWith(t, nil)
}

// startConsoleAPIWith is startConsoleAPI with the operators' passwords
// hashed by h (nil: the fixture's cheap hasher).
func startConsoleAPIWith(t *testing.T, h *account.Hasher) *consoleServer {
	t.Helper()
	st := sqlitetest.New(t)
	fix := accounttest.New(t, st)
	if h == nil {
		h = fix.Hasher
	}
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	cs := &consoleServer{fix: fix, queue: newTestQueue(t), corr: &testCorrector{}}
	cs.capt = captcha.New(st, fix.Clock, captcha.Options{})
	cs.ops = operator.New(operator.Deps{Store: st, Counters: st, Captchas: cs.capt, Hasher: h, Protector: fix.Protector, Audit: fix.Audit, Now: fix.Clock})
	api := admin.NewConsoleAPI(admin.ConsoleDeps{
		Responder: httpx.NewResponder(cat, slog.New(slog.DiscardHandler), 1<<20), Operators: cs.ops, TrustProxy: true,
		Queues: []review.Queue{cs.queue}, Realname: cs.corr,
	})
	mux := http.NewServeMux()
	for _, r := range api.Routes() {
		mux.Handle(r.Pattern, r.Handler)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cs.url = srv.URL
	return cs
}

// operatorClient creates an operator with roles, sets them up through the
// API and returns a browser signed in as them.
func (cs *consoleServer) operatorClient(t *testing.T, login string, roles ...string) *http.Client {
	t.Helper()
	ctx := context.Background()
	_, token, err := cs.ops.Create(ctx, login, roles, audit.Origin{Actor: audit.Operator("cli:test")})
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	st, body, _ := send(t, c, "POST", cs.url+"/api/admin/v1/setup/key", `{"token":"`+token+`"}`)
	if st != 200 {
		t.Fatalf("setup key: %d %v", st, body)
	}
	code, _ := totp.GenerateCode(body["secret"].(string), cs.fix.Now)
	st, body, _ = send(t, c, "POST", cs.url+"/api/admin/v1/setup", `{"token":"`+token+`","password":"Ops-Strong-Pass-2030","code":"`+code+`"}`)
	if st != 200 {
		t.Fatalf("setup: %d %v", st, body)
	}
	return c
}

func send(t *testing.T, c *http.Client, method, url, body string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return res.StatusCode, m, res.Header
}

// TestConsoleAuthorization is the role × route table of the review API:
// a reviewer decides, an auditor reads and is refused every decision with
// operator_read_only, any other role gets operator_role_forbidden, and
// nobody signed in gets 401. No refused call reaches the queue.
func TestConsoleAuthorization(t *testing.T) {
	cs := startConsoleAPI(t)
	anon := &http.Client{}
	callers := map[string]*http.Client{
		"nobody":   anon,
		"reviewer": cs.operatorClient(t, "reviewer1", operator.RoleReviewer),
		"auditor":  cs.operatorClient(t, "auditor1", operator.RoleAuditor),
		"sysadmin": cs.operatorClient(t, "sysadmin1", operator.RoleSysadmin),
		"secadmin": cs.operatorClient(t, "secadmin1", operator.RoleSecadmin),
	}
	type want struct {
		status int
		code   string
	}
	ok := func(s int) want { return want{s, ""} }
	no := want{401, "operator_sign_in_required"}
	forbidden := want{403, "operator_role_forbidden"}
	readOnly := want{403, "operator_read_only"}
	routes := []struct {
		name, method, path, body string
		want                     map[string]want
	}{
		{"list", "GET", "/api/admin/v1/reviews?kind=realname.counter", "",
			map[string]want{"nobody": no, "reviewer": ok(200), "auditor": ok(200), "sysadmin": forbidden, "secadmin": forbidden}},
		{"open", "GET", "/api/admin/v1/reviews/item1", "",
			map[string]want{"nobody": no, "reviewer": ok(200), "auditor": ok(200), "sysadmin": forbidden, "secadmin": forbidden}},
		{"file", "GET", "/api/admin/v1/reviews/item1/files/photo", "",
			map[string]want{"nobody": no, "reviewer": ok(200), "auditor": ok(200), "sysadmin": forbidden, "secadmin": forbidden}},
		{"decide", "POST", "/api/admin/v1/reviews/item1/decision", `{"approve":true,"reason":"核验一致"}`,
			map[string]want{"nobody": no, "auditor": readOnly, "sysadmin": forbidden, "secadmin": forbidden}},
		{"correct", "POST", "/api/admin/v1/users/u1/realname-correction", `{"real_name":"张三","id_number":"11010519491231002X","reason":"户籍更正"}`,
			map[string]want{"nobody": no, "auditor": readOnly, "sysadmin": forbidden, "secadmin": forbidden}},
	}
	for _, rt := range routes {
		for who, w := range rt.want {
			t.Run(rt.name+"/"+who, func(t *testing.T) {
				st, body, _ := send(t, callers[who], rt.method, cs.url+rt.path, rt.body)
				if st != w.status || (w.code != "" && code(body) != w.code) {
					t.Fatalf("%s %s as %s = %d %v; want %d %s", rt.method, rt.path, who, st, body, w.status, w.code)
				}
			})
		}
	}
	if len(cs.queue.decided) != 0 || len(cs.corr.calls) != 0 {
		t.Fatalf("refused calls reached the domain: decided %v, corrections %v", cs.queue.decided, cs.corr.calls)
	}
	// Every opening named its operator.
	for _, o := range cs.queue.opened {
		if !strings.Contains(o, " by operator:") {
			t.Fatalf("opening without an operator: %v", cs.queue.opened)
		}
	}
	if len(cs.queue.opened) != 4 { // open and file, by the reviewer and the auditor
		t.Fatalf("openings = %v", cs.queue.opened)
	}

	// The reviewer decides; bad input changes nothing first.
	rev := callers["reviewer"]
	for _, tt := range []struct{ body, code string }{
		{`{"approve":true,"reason":"  "}`, "review_reason_required"},
		{`{"approve":true}`, "review_reason_required"},
		{`{"reason":"核验一致"}`, "review_decision_required"},
		{`{"approve":true,"reason":"` + strings.Repeat("长", 501) + `"}`, "review_reason_too_long"},
		// The queues keep 200: a longer reason the console let through would come back from the service.
		{`{"approve":true,"reason":"` + strings.Repeat("长", review.MaxReason+1) + `"}`, "review_reason_too_long"},
	} {
		if st, body, _ := send(t, rev, "POST", cs.url+"/api/admin/v1/reviews/item1/decision", tt.body); st != 400 || code(body) != tt.code {
			t.Errorf("decision %s = %d %v; want 400 %s", tt.body, st, body, tt.code)
		}
	}
	if len(cs.queue.decided) != 0 {
		t.Fatalf("a refused decision reached the queue: %v", cs.queue.decided)
	}
	if st, body, _ := send(t, rev, "POST", cs.url+"/api/admin/v1/reviews/nope/decision", `{"approve":true,"reason":"x"}`); st != 404 || code(body) != "review_not_found" {
		t.Fatalf("decision on a missing item = %d %v", st, body)
	}
	st, body, _ := send(t, rev, "POST", cs.url+"/api/admin/v1/reviews/item1/decision", `{"approve":true,"reason":"核验一致"}`)
	if st != 200 || body["state"] != "approved" || len(cs.queue.decided) != 1 {
		t.Fatalf("reviewer's decision = %d %v", st, body)
	}
	st, body, _ = send(t, rev, "POST", cs.url+"/api/admin/v1/users/u1/realname-correction", `{"real_name":"张三","id_number":"11010519491231002X","reason":"户籍更正"}`)
	if st != 204 || len(cs.corr.calls) != 1 || !strings.HasPrefix(cs.corr.calls[0], "u1 by operator:") {
		t.Fatalf("reviewer's correction = %d %v %v", st, body, cs.corr.calls)
	}
	if st, body, _ := send(t, rev, "POST", cs.url+"/api/admin/v1/users/u1/realname-correction", `{"real_name":"张三","id_number":"1","reason":""}`); st != 400 || code(body) != "review_reason_required" || len(cs.corr.calls) != 1 {
		t.Fatalf("correction without a reason = %d %v", st, body)
	}
}

func TestConsoleReviewFileHeaders(t *testing.T) {
	cs := startConsoleAPI(t)
	c := cs.operatorClient(t, "reviewer1", operator.RoleReviewer)
	res, err := c.Get(cs.url + "/api/admin/v1/reviews/item1/files/photo")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	h := res.Header
	if res.StatusCode != 200 || h.Get("Content-Type") != "image/png" || h.Get("Content-Disposition") != "inline" ||
		h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "no-store" || !bytes.Equal(data, cs.queue.png) {
		t.Fatalf("file = %d %v", res.StatusCode, h)
	}
	if st, body, _ := send(t, c, "GET", cs.url+"/api/admin/v1/reviews/item1/files/other", ""); st != 404 || code(body) != "review_not_found" {
		t.Fatalf("missing file = %d %v", st, body)
	}
}

func TestConsoleSessionAPI(t *testing.T) {
	cs := startConsoleAPI(t)
	c := cs.operatorClient(t, "Reviewer1", operator.RoleReviewer, operator.RoleAuditor)
	st, body, _ := send(t, c, "GET", cs.url+"/api/admin/v1/me", "")
	if st != 200 || body["login_name"] != "Reviewer1" || body["idle_seconds"] != float64(900) {
		t.Fatalf("me = %d %v", st, body)
	}
	// Filters are checked.
	if st, body, _ := send(t, c, "GET", cs.url+"/api/admin/v1/reviews?kind=enterprise.appeal", ""); st != 400 || code(body) != "review_kind_unknown" {
		t.Fatalf("unknown kind = %d %v", st, body)
	}
	if st, body, _ := send(t, c, "GET", cs.url+"/api/admin/v1/reviews?state=lost", ""); st != 400 || code(body) != "review_state_unknown" {
		t.Fatalf("unknown state = %d %v", st, body)
	}
	if st, body, _ := send(t, c, "GET", cs.url+"/api/admin/v1/reviews", ""); st != 200 || len(body["items"].([]any)) != 2 {
		t.Fatalf("list = %d %v", st, body)
	}
	// 15 idle minutes end it, and the API says so.
	cs.fix.Now = cs.fix.Now.Add(15 * time.Minute)
	if st, body, _ := send(t, c, "GET", cs.url+"/api/admin/v1/me", ""); st != 401 || code(body) != "operator_session_expired" {
		t.Fatalf("after 15 idle minutes = %d %v", st, body)
	}
	// Sign in again (a new code), then sign out.
	cs.fix.Now = cs.fix.Now.Add(time.Minute)
	if st, body, _ := send(t, c, "POST", cs.url+"/api/admin/v1/sign-in", cs.signInBody(t, "reviewer1", "Wrong-Pass-2030", "123456")); st != 401 || code(body) != "operator_sign_in_failed" {
		t.Fatalf("wrong sign-in = %d %v", st, body)
	}
	if st, _, _ := send(t, c, "POST", cs.url+"/api/admin/v1/sign-out", "{}"); st != 204 {
		t.Fatalf("sign-out = %d", st)
	}
	if st, body, _ := send(t, c, "GET", cs.url+"/api/admin/v1/me", ""); st != 401 || code(body) != "operator_sign_in_required" {
		t.Fatalf("after sign-out = %d %v", st, body)
	}
}
