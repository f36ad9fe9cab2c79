package admin_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"unid/internal/account"
	"unid/internal/account/accounttest"
	"unid/internal/admin"
	"unid/internal/audit"
	"unid/internal/audit/audittest"
	"unid/internal/httpx"
	"unid/internal/i18n"
	"unid/internal/operator"
	"unid/internal/store"
	"unid/internal/store/sqlstore"
)

// auditServer is the console API with its audit area over st, and a
// citizen whose events the trail holds.
type auditServer struct {
	*consoleServer
	st      store.Store
	raw     *sqlstore.Store
	citizen store.User
}

// startAuditAPI starts the audit area over a new store of the backend;
// with, if given, changes its dependencies first.
func startAuditAPI(t *testing.T, backend int, with ...func(d *admin.AuditDeps, st store.Store, fix *accounttest.Fixture)) *auditServer {
	t.Helper()
	st, raw := audittest.Backends[backend].New(t)
	fix := accounttest.New(t, st)
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	ops := operator.New(operator.Deps{Store: st, Counters: st, Hasher: fix.Hasher, Protector: fix.Protector, Audit: fix.Audit, Now: fix.Clock})
	deps := admin.AuditDeps{Store: st, Log: fix.Audit, Accounts: fix.Accounts, Operators: st,
		Retention: 365 * 24 * time.Hour, Now: fix.Clock}
	for _, f := range with {
		f(&deps, st, fix)
	}
	api := admin.NewConsoleAPI(admin.ConsoleDeps{
		Responder: httpx.NewResponder(cat, slog.New(slog.DiscardHandler), 1<<20), Operators: ops, TrustProxy: true,
		Audit: deps,
	})
	mux := http.NewServeMux()
	for _, r := range api.Routes() {
		mux.Handle(r.Pattern, r.Handler)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	as := &auditServer{consoleServer: &consoleServer{url: srv.URL, ops: ops, fix: fix}, st: st, raw: raw}
	as.citizen = fix.Create(t, account.NewAccount{LoginName: "zhangsan", Password: "Citizen-Pass-2030", Phone: "13800138000"})
	ctx := context.Background()
	for i, e := range []audit.Entry{
		{Actor: audit.User(as.citizen.ID), Action: audit.ActionLogin, Result: audit.ResultOK, IP: "10.1.2.3", Client: "hall"},
		{Actor: audit.Anonymous(), Action: audit.ActionLoginFail, Result: audit.ResultFailed, IP: "10.1.9.9", Account: as.citizen.ID, Subject: "zha****"},
		{Actor: audit.User("someone-else"), Action: audit.ActionLogin, Result: audit.ResultOK, IP: "10.10.0.1"},
		{Actor: audit.User(as.citizen.ID), Action: audit.ActionLogout, Result: audit.ResultOK, IP: "192.0.2.1", Client: "tax"},
	} {
		fix.Now = accounttest.Start.Add(time.Duration(i+1) * time.Minute)
		fix.Audit.Append(ctx, e)
	}
	return as
}

// get sends a GET with an English Accept-Language.
func getEN(t *testing.T, c *http.Client, url string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept-Language", "en")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m, res.Header
}

func eventsOf(t *testing.T, body map[string]any) []map[string]any {
	t.Helper()
	raw, ok := body["events"].([]any)
	if !ok {
		t.Fatalf("no events in %v", body)
	}
	var out []map[string]any
	for _, e := range raw {
		out = append(out, e.(map[string]any))
	}
	return out
}

// TestAuditViewer: an auditor finds events by network, by a citizen's
// login name or phone, by an operator's login name; an unknown citizen is
// an empty page; bad input is a field error in the reader's language;
// pages follow one another; an event opens in full.
func TestAuditViewer(t *testing.T) {
	as := startAuditAPI(t, 0)
	c := as.operatorClient(t, "auditor1", operator.RoleAuditor)
	base := as.url + "/api/admin/v1/audit/events"
	actions := func(es []map[string]any) string {
		var out []string
		for _, e := range es {
			out = append(out, e["action"].(string)+"@"+e["ip"].(string))
		}
		return strings.Join(out, " ")
	}
	tests := []struct {
		name, query, want string
	}{
		{"a /16 network", "?ip=10.1.0.0/16", "session.login_failed@10.1.9.9 session.login@10.1.2.3"},
		{"a /24 network", "?ip=10.1.2.0/24", "session.login@10.1.2.3"},
		{"an address", "?ip=10.10.0.1", "session.login@10.10.0.1"},
		{"a citizen by login name", "?subject=ZhangSan", "session.logout@192.0.2.1 session.login_failed@10.1.9.9 session.login@10.1.2.3"},
		{"a citizen by phone", "?subject=138-0013-8000", "session.logout@192.0.2.1 session.login_failed@10.1.9.9 session.login@10.1.2.3"},
		{"a citizen and a client", "?subject=zhangsan&client=tax", "session.logout@192.0.2.1"},
		{"a citizen as actor", "?actor=zhangsan&result=ok", "session.logout@192.0.2.1 session.login@10.1.2.3"},
		{"an unknown citizen", "?subject=13900000000", ""},
		{"an unknown name", "?subject=nobody_here", ""},
		{"a time range", "?ip=10.0.0.0/8&from=" + accounttest.Start.Add(90*time.Second).Format(time.RFC3339) +
			"&to=" + accounttest.Start.Add(4*time.Minute).Format(time.RFC3339), "session.login@10.10.0.1 session.login_failed@10.1.9.9"},
	}
	for _, tt := range tests {
		st, body, _ := getEN(t, c, base+tt.query)
		if st != 200 {
			t.Errorf("%s: %d %v", tt.name, st, body)
			continue
		}
		if got := actions(eventsOf(t, body)); got != tt.want || body["next"] != "" {
			t.Errorf("%s: %q (next %v), want %q", tt.name, got, body["next"], tt.want)
		}
	}

	// An operator by login name: the auditor's own sign-in.
	st, body, _ := getEN(t, c, base+"?actor=auditor1")
	es := eventsOf(t, body)
	if st != 200 || len(es) == 0 {
		t.Fatalf("actor=auditor1: %d %v", st, body)
	}
	for _, e := range es {
		if !strings.HasPrefix(e["actor"].(string), "operator:") || e["actor"] == "operator:auditor1" {
			t.Errorf("actor=auditor1 listed %v", e)
		}
	}

	bad := []struct{ name, query, field, code, message string }{
		{"a network not on octets", "?ip=10.1.0.0/12", "ip", "audit_network_invalid", "IPv4 network on octet boundaries"},
		{"an IPv6 network", "?ip=2001:db8::/32", "ip", "audit_network_invalid", "octet"},
		{"not an address", "?ip=10.1.2", "ip", "audit_ip_invalid", "IP address"},
		{"not a time", "?from=yesterday", "from", "audit_time_invalid", "2030-01-02T15:04:05+08:00"},
		{"a range backwards", "?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z", "to", "audit_time_order", "after its start"},
		{"a bad cursor", "?before=abc", "before", "audit_cursor_invalid", "cursor"},
	}
	for _, tt := range bad {
		st, body, _ := getEN(t, c, base+tt.query)
		fields, _ := body["error"].(map[string]any)["fields"].(map[string]any)
		f, _ := fields[tt.field].(map[string]any)
		if st != 400 || f["code"] != tt.code || !strings.Contains(f["message"].(string), tt.message) {
			t.Errorf("%s: %d %v", tt.name, st, body)
		}
	}
	// The same in Chinese, the default.
	if st, body, _ := send(t, c, "GET", base+"?ip=10.1.0.0/12", ""); st != 400 || !strings.Contains(body["error"].(map[string]any)["fields"].(map[string]any)["ip"].(map[string]any)["message"].(string), "网段") {
		t.Errorf("zh-CN: %d %v", st, body)
	}

	// Pages of 50, newest first, each starting below the last.
	for i := range 60 {
		as.fix.Audit.Append(context.Background(), audit.Entry{Actor: audit.System(), Action: "test.page", Result: strconv.Itoa(i)})
	}
	_, body, _ = getEN(t, c, base+"?action=test.page")
	page1 := eventsOf(t, body)
	next, _ := body["next"].(string)
	if len(page1) != 50 || page1[0]["result"] != "59" || next == "" {
		t.Fatalf("page 1: %d events, first %v, next %q", len(page1), page1[0]["result"], next)
	}
	_, body, _ = getEN(t, c, base+"?action=test.page&before="+next)
	page2 := eventsOf(t, body)
	if len(page2) != 10 || page2[0]["result"] != "9" || page2[9]["result"] != "0" || body["next"] != "" {
		t.Fatalf("page 2: %v next %v", actions(page2), body["next"])
	}

	// One event in full.
	seq := int64(page2[0]["seq"].(float64))
	st, ev, _ := getEN(t, c, base+"/"+strconv.FormatInt(seq, 10))
	if st != 200 || ev["result"] != "9" || len(ev["hash"].(string)) != 64 || ev["prev_hash"] == "" {
		t.Errorf("event %d: %d %v", seq, st, ev)
	}
	for _, s := range []string{"999999", "0", "x"} {
		if st, body, _ := getEN(t, c, base+"/"+s); st != 404 || body["error"].(map[string]any)["code"] != "audit_event_not_found" {
			t.Errorf("event %s: %d %v", s, st, body)
		}
	}
}

// TestAuditExport: the export downloads with the range in its name and
// the head in a header and in the file, verifies offline, and is
// recorded before it streams.
func TestAuditExport(t *testing.T) {
	as := startAuditAPI(t, 0)
	c := as.operatorClient(t, "auditor1", operator.RoleAuditor)
	for _, format := range []string{"csv", "json"} {
		res, err := c.Get(as.url + "/api/admin/v1/audit/export?format=" + format + "&from=2")
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		rng := res.Header.Get("X-Audit-Range")
		if res.StatusCode != 200 || !strings.HasPrefix(rng, "2-") ||
			res.Header.Get("Content-Disposition") != `attachment; filename="audit-`+rng+`.`+format+`"` {
			t.Fatalf("%s: %d %v", format, res.StatusCode, res.Header)
		}
		sum, err := audit.VerifyExport(bytes.NewReader(data))
		if err != nil || sum.From != 2 || strconv.FormatInt(sum.To, 10) != strings.TrimPrefix(rng, "2-") {
			t.Fatalf("%s: VerifyExport = %+v, %v", format, sum, err)
		}
		head := res.Header.Get("X-Audit-Head")
		if len(head) != 64 || !strings.Contains(string(data), head) {
			t.Errorf("%s: head %q not in the file", format, head)
		}
	}
	rec, _ := as.st.QueryAudit(context.Background(), store.AuditFilter{Action: audit.ActionExported}, 0, 10)
	if len(rec) != 2 || !strings.HasPrefix(rec[0].Actor, "operator:") || !strings.Contains(rec[0].Detail, `"format":"json"`) {
		t.Errorf("exports recorded: %+v", rec)
	}
	for _, q := range []string{"?format=xml", "?from=0", "?from=5&to=3", "?from=99999"} {
		st, body, _ := getEN(t, c, as.url+"/api/admin/v1/audit/export"+q)
		if st != 400 || body["error"].(map[string]any)["fields"] == nil {
			t.Errorf("export%s: %d %v", q, st, body)
		}
	}
	if rec, _ := as.st.QueryAudit(context.Background(), store.AuditFilter{Action: audit.ActionExported}, 0, 10); len(rec) != 2 {
		t.Errorf("refused exports were recorded: %d", len(rec))
	}
	st, body, _ := getEN(t, c, as.url+"/api/admin/v1/audit/retention")
	if st != 200 || body["retention_days"] != float64(365) || body["anchor"].(map[string]any)["seq"] != float64(0) || body["oldest_seq"] != float64(1) {
		t.Errorf("retention: %d %v", st, body)
	}
}

// verifyStream posts a verification and returns its lines.
func verifyStream(t *testing.T, c *http.Client, url, body string) []map[string]any {
	t.Helper()
	res, err := c.Post(url+"/api/admin/v1/audit/verify", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/x-ndjson" {
		data, _ := io.ReadAll(res.Body)
		t.Fatalf("verify: %d %s", res.StatusCode, data)
	}
	var out []map[string]any
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// TestAuditVerifyStream, on both backends: the verification streams
// progress and the outcome, names the event changed directly in the
// database, and is recorded with its result.
func TestAuditVerifyStream(t *testing.T) {
	for i, b := range audittest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			as := startAuditAPI(t, i)
			c := as.operatorClient(t, "auditor1", operator.RoleAuditor)
			ctx := context.Background()
			n, err := audit.Verify(ctx, as.st)
			if err != nil {
				t.Fatal(err)
			}
			lines := verifyStream(t, c, as.url, `{}`)
			last := lines[len(lines)-1]
			if len(lines) < 2 || lines[0]["checked"] == nil || last["ok"] != true || last["events"] != float64(n) || len(last["head"].(string)) != 64 {
				t.Fatalf("intact chain: %v", lines)
			}
			if got := verifyStream(t, c, as.url, `{"from":2,"to":3}`); got[len(got)-1]["events"] != float64(2) {
				t.Errorf("range 2-3: %v", got)
			}
			if st, body, _ := send(t, c, "POST", as.url+"/api/admin/v1/audit/verify", `{"from":5,"to":2}`); st != 400 || body["error"].(map[string]any)["fields"].(map[string]any)["to"] == nil {
				t.Errorf("a range backwards: %d %v", st, body)
			}

			audittest.Tamper(t, as.raw, 3, `subject = '139****0000'`)
			lines = verifyStream(t, c, as.url, `{}`)
			last = lines[len(lines)-1]
			if last["ok"] != false || last["seq"] != float64(3) || last["reason"] != audit.BreakAltered {
				t.Fatalf("tampered chain: %v", lines)
			}
			rec, _ := as.st.QueryAudit(ctx, store.AuditFilter{Action: audit.ActionVerified}, 0, 10)
			if len(rec) != 3 || rec[0].Result != audit.ResultBroken || !strings.Contains(rec[0].Detail, `"seq":"3"`) ||
				rec[2].Result != audit.ResultOK || !strings.HasPrefix(rec[0].Actor, "operator:") {
				t.Errorf("verifications recorded: %+v", rec)
			}
		})
	}
}

// TestAuditDenied: only auditors reach the audit routes; every other
// role gets 403 and nobody signed in 401, and none of those calls writes
// to the trail. No route changes or deletes an event.
func TestAuditDenied(t *testing.T) {
	as := startAuditAPI(t, 0)
	clients := map[string]*http.Client{
		"nobody":   {},
		"secadmin": as.operatorClient(t, "secadmin1", operator.RoleSecadmin),
		"sysadmin": as.operatorClient(t, "sysadmin1", operator.RoleSysadmin),
		"reviewer": as.operatorClient(t, "reviewer1", operator.RoleReviewer),
	}
	auditor := as.operatorClient(t, "auditor1", operator.RoleAuditor)
	ctx := context.Background()
	before, _ := as.st.ListAudit(ctx, 0, 10_000)
	routes := []struct{ method, path, body string }{
		{"GET", "/api/admin/v1/audit/events", ""},
		{"GET", "/api/admin/v1/audit/events?ip=10.1.0.0/16", ""},
		{"GET", "/api/admin/v1/audit/events/1", ""},
		{"POST", "/api/admin/v1/audit/verify", `{}`},
		{"GET", "/api/admin/v1/audit/export?format=csv", ""},
		{"GET", "/api/admin/v1/audit/retention", ""},
	}
	for name, c := range clients {
		for _, rt := range routes {
			st, body, _ := send(t, c, rt.method, as.url+rt.path, rt.body)
			want := 403
			if name == "nobody" {
				want = 401
			}
			if st != want {
				t.Errorf("%s %s %s: %d %v", name, rt.method, rt.path, st, body)
			}
		}
	}
	for _, m := range []string{"PUT", "PATCH", "DELETE", "POST"} {
		for _, p := range []string{"/api/admin/v1/audit/events/1", "/api/admin/v1/audit/events"} {
			if st, _, _ := send(t, auditor, m, as.url+p, `{"result":"ok"}`); st != http.StatusMethodNotAllowed {
				t.Errorf("auditor %s %s: %d", m, p, st)
			}
		}
	}
	after, _ := as.st.ListAudit(ctx, 0, 10_000)
	if len(after) != len(before) {
		t.Errorf("refused calls wrote %d events: %+v", len(after)-len(before), after[len(before):])
	}
	if _, err := audit.VerifyLog(ctx, as.st); err != nil {
		t.Errorf("chain after the refused calls: %v", err)
	}
}

// heldLog holds the first read of the trail's events until released.
type heldLog struct {
	store.Store
	once             sync.Once
	reading, release chan struct{}
}

func (h *heldLog) ListAudit(ctx context.Context, after int64, limit int) ([]store.AuditEvent, error) {
	h.once.Do(func() {
		close(h.reading)
		<-h.release
	})
	return h.Store.ListAudit(ctx, after, limit)
}

// ScanAudit holds like ListAudit: verification reads by ScanAudit, export
// by ListAudit.
func (h *heldLog) ScanAudit(ctx context.Context, from, to int64, fn func(store.AuditEvent) error) error {
	h.once.Do(func() {
		close(h.reading)
		<-h.release
	})
	return h.Store.ScanAudit(ctx, from, to, fn)
}

// TestAuditOneStreamAtATime: while a verification runs, another
// verification or an export on the same instance is refused with 429
// and a message in the reader's language, and records nothing; once it
// ends, the next one runs.
func TestAuditOneStreamAtATime(t *testing.T) {
	held := &heldLog{reading: make(chan struct{}), release: make(chan struct{})}
	as := startAuditAPI(t, 0, func(d *admin.AuditDeps, st store.Store, fix *accounttest.Fixture) {
		held.Store = st
		d.Store, d.Log = held, audit.New(held, fix.Clock, slog.New(slog.DiscardHandler))
	})
	c := as.operatorClient(t, "auditor1", operator.RoleAuditor)
	done := make(chan []map[string]any)
	go func() { done <- verifyStream(t, c, as.url, `{}`) }()
	<-held.reading
	ctx := context.Background()
	before, _ := as.st.ListAudit(ctx, 0, 10_000)
	for _, rt := range []struct{ method, path, body string }{
		{"POST", "/api/admin/v1/audit/verify", `{}`},
		{"GET", "/api/admin/v1/audit/export?format=csv", ""},
	} {
		req, _ := http.NewRequest(rt.method, as.url+rt.path, strings.NewReader(rt.body))
		req.Header.Set("Accept-Language", "en")
		if rt.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		e, _ := body["error"].(map[string]any)
		if res.StatusCode != http.StatusTooManyRequests || e["code"] != "audit_busy" || !strings.Contains(e["message"].(string), "Another verification or export") {
			t.Errorf("%s %s during a verification: %d %v", rt.method, rt.path, res.StatusCode, body)
		}
	}
	if st, body, _ := send(t, c, "POST", as.url+"/api/admin/v1/audit/verify", `{}`); st != 429 || !strings.Contains(body["error"].(map[string]any)["message"].(string), "审计日志验证或导出") {
		t.Errorf("zh-CN: %d %v", st, body)
	}
	if after, _ := as.st.ListAudit(ctx, 0, 10_000); len(after) != len(before) {
		t.Errorf("refused streams recorded %d events", len(after)-len(before))
	}
	close(held.release)
	if lines := <-done; lines[len(lines)-1]["ok"] != true {
		t.Fatalf("the verification that ran: %v", lines)
	}
	if lines := verifyStream(t, c, as.url, `{}`); lines[len(lines)-1]["ok"] != true {
		t.Errorf("the next verification: %v", lines)
	}
	if res, err := c.Get(as.url + "/api/admin/v1/audit/export?format=csv"); err != nil || res.StatusCode != 200 {
		t.Errorf("the next export: %v, %v", res, err)
	} else {
		res.Body.Close()
	}
}

// TestAuditStreamEndsWhenItsReaderStalls: a stream keeps a write
// deadline, pushed on by every write; one whose writes cannot reach the
// reader in time (here: no time at all) ends cut short instead of
// holding the connection, and the next stream runs.
func TestAuditStreamEndsWhenItsReaderStalls(t *testing.T) {
	as := startAuditAPI(t, 0, func(d *admin.AuditDeps, _ store.Store, _ *accounttest.Fixture) { d.StreamIdle = time.Nanosecond })
	c := as.operatorClient(t, "auditor1", operator.RoleAuditor)
	for i := range 2 {
		res, err := c.Post(as.url+"/api/admin/v1/audit/verify", "application/json", strings.NewReader(`{}`))
		if err == nil {
			data, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if strings.Contains(string(data), `"ok"`) {
				t.Fatalf("verification %d ran to its end past its deadline: %d %s", i, res.StatusCode, data)
			}
		}
	}
	res, err := c.Get(as.url + "/api/admin/v1/audit/export?format=json")
	if err == nil {
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if _, verr := audit.VerifyExport(bytes.NewReader(data)); verr == nil {
			t.Fatalf("export ran to its end past its deadline: %d %s", res.StatusCode, data)
		}
	}
}
