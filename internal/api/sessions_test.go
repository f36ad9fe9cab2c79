package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"unid/internal/activity"
	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/config"
	"unid/internal/i18n"
	"unid/internal/store"
)

// kylinFirefox is li's browser, which nothing of zhang's uses.
const kylinFirefox = "Mozilla/5.0 (X11; Kylin; Linux x86_64; rv:102.0) Gecko/20100101 Firefox/102.0"

// agentTransport sends every request with one User-Agent.
type agentTransport struct{ ua string }

func (a agentTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", a.ua)
	return http.DefaultTransport.RoundTrip(r)
}

func sessionIDs(t testing.TB, b *apptest.Browser) []string {
	t.Helper()
	r := b.Get("/api/v1/me/sessions")
	if r.Status != http.StatusOK {
		t.Fatalf("list sessions: %d %s", r.Status, r.Body)
	}
	var body struct{ Sessions []struct{ ID string } }
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range body.Sessions {
		ids = append(ids, s.ID)
	}
	return ids
}

// TestAnotherUsersSessionIsNotFound: naming another person's session
// answers exactly as naming one that does not exist, and ends nothing.
func TestAnotherUsersSessionIsNotFound(t *testing.T) {
	srv := apptest.Start(t, nil)
	z := srv.Browser(t)
	z.MustRegister(zhang)
	l := srv.Browser(t)
	l.MustRegister(li)
	liSID := sessionIDs(t, l)[0]
	before := snapshot(t, srv)

	other := z.Do(http.MethodDelete, "/api/v1/me/sessions/"+liSID, "", nil)
	missing := z.Do(http.MethodDelete, "/api/v1/me/sessions/no-such-session-AAAAAAAAAAAAAAAA", "", nil)
	if other.Status != http.StatusNotFound || other.ErrCode(t) != "session_not_found" {
		t.Fatalf("another user's session: %d %s", other.Status, other.Body)
	}
	if missing.Status != other.Status || string(missing.Body) != string(other.Body) {
		t.Errorf("another user's session and a missing one answer differently:\n%d %s\n%d %s", other.Status, other.Body, missing.Status, missing.Body)
	}
	if snapshot(t, srv) != before {
		t.Error("naming another user's session changed the sessions")
	}
	if r := l.Get("/api/v1/me"); r.Status != http.StatusOK {
		t.Errorf("li after zhang named li's session: %d", r.Status)
	}
	if ids := sessionIDs(t, z); len(ids) != 1 || ids[0] == liSID {
		t.Errorf("zhang's list = %v; li's session %s must not be in it", ids, liSID)
	}
}

// TestSessionsNeedASignedInUser: without a session every endpoint answers
// 401 and changes nothing.
func TestSessionsNeedASignedInUser(t *testing.T) {
	srv := apptest.Start(t, nil)
	z := srv.Browser(t)
	z.MustRegister(zhang)
	sid := sessionIDs(t, z)[0]
	stranger := srv.Browser(t)
	before := snapshot(t, srv)
	for _, tt := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/me/sessions"},
		{http.MethodDelete, "/api/v1/me/sessions"},
		{http.MethodDelete, "/api/v1/me/sessions/" + sid},
		{http.MethodGet, "/api/v1/me/history"},
	} {
		r := stranger.Do(tt.method, tt.path, "", nil)
		if r.Status != http.StatusUnauthorized || r.ErrCode(t) != "not_signed_in" {
			t.Errorf("%s %s without a session: %d %s", tt.method, tt.path, r.Status, r.Body)
		}
	}
	// Another site cannot make the signed-in browser sign its devices out.
	r := z.Do(http.MethodDelete, "/api/v1/me/sessions/"+sid, "", nil, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if r.Status != http.StatusForbidden {
		t.Errorf("cross-site sign-out: %d %s", r.Status, r.Body)
	}
	if snapshot(t, srv) != before {
		t.Error("refused requests changed the sessions")
	}
}

// TestSignOutThisBrowserFromTheList: naming the asking browser's own
// session signs this browser out, cookie and all.
func TestSignOutThisBrowserFromTheList(t *testing.T) {
	srv := apptest.Start(t, nil)
	z := srv.Browser(t)
	z.MustRegister(zhang)
	sid := sessionIDs(t, z)[0]
	r := z.Do(http.MethodDelete, "/api/v1/me/sessions/"+sid, "", nil)
	if r.Status != http.StatusNoContent || !strings.Contains(r.Header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("sign out this browser: %d %q %s", r.Status, r.Header.Get("Set-Cookie"), r.Body)
	}
	if r := z.Get("/api/v1/me"); r.Status != http.StatusUnauthorized {
		t.Errorf("afterwards: %d, want 401", r.Status)
	}
}

// TestIdleAndExpiredSessionsAreNotListed: the list follows the session
// manager's rules: a session idle past the timeout is not shown, though
// its record is still there.
func TestIdleAndExpiredSessionsAreNotListed(t *testing.T) {
	srv := apptest.Start(t, nil)
	active := srv.Browser(t)
	active.MustRegister(zhang)
	idle := srv.Browser(t)
	idle.MustLogin(zhang.Login, zhang.Password)
	if ids := sessionIDs(t, active); len(ids) != 2 {
		t.Fatalf("%d sessions listed, want 2", len(ids))
	}
	step := srv.App.Config.SessionIdle * 2 / 3
	srv.Clock.Advance(step)
	sessionIDs(t, active) // activity
	srv.Clock.Advance(step)
	if ids := sessionIDs(t, active); len(ids) != 1 {
		t.Errorf("%d sessions listed after one was idle for %v, want 1", len(ids), 2*step)
	}
	if n, _ := srv.App.Store.CountSessions(context.Background()); n != 2 {
		t.Errorf("%d sessions stored; the idle one's record stays until the janitor", n)
	}
	srv.Clock.Advance(srv.App.Config.SessionMax)
	if r := active.Get("/api/v1/me/sessions"); r.Status != http.StatusUnauthorized {
		t.Errorf("after the absolute expiry: %d, want 401", r.Status)
	}
}

type historyEvent struct {
	Action, What, Result, ResultText, Browser, Device, Place string
	OK                                                       bool
	Time                                                     time.Time
}

func history(t *testing.T, b *apptest.Browser) ([]historyEvent, string) {
	t.Helper()
	r := b.Get("/api/v1/me/history")
	if r.Status != http.StatusOK {
		t.Fatalf("history: %d %s", r.Status, r.Body)
	}
	var body struct {
		Events []struct {
			historyEvent
			ResultText string `json:"result_text"`
		}
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	var out []historyEvent
	for _, e := range body.Events {
		e.historyEvent.ResultText = e.ResultText
		out = append(out, e.historyEvent)
	}
	return out, string(r.Body)
}

// TestHistoryShowsOnlyThisPersonsEvents: zhang's history has zhang's
// sign-ins and the failed attempts on zhang's account, newest first, in
// the reader's language, and nothing of li's.
func TestHistoryShowsOnlyThisPersonsEvents(t *testing.T) {
	srv := apptest.Start(t, nil)
	z := srv.Browser(t)
	z.Lang = "en"
	id := z.MustRegister(zhang)
	z.MustLogin(zhang.Phone, zhang.Password)
	srv.Clock.Advance(time.Second)
	if r := srv.Browser(t).Login(zhang.Login, "Wrong#Password1"); r.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d %s", r.Status, r.Body)
	}
	srv.Clock.Advance(time.Second)

	// li, on a browser zhang never used, signs in, fails and signs out.
	l := srv.Browser(t)
	l.Client.Transport = agentTransport{kylinFirefox}
	l.MustRegister(li)
	l.Login(li.Login, "Wrong#Password1")
	l.MustLogin(li.Login, li.Password)
	l.Do(http.MethodDelete, "/api/v1/sessions/current", "", nil)

	// An action the history has no words for is shown generically.
	if _, err := srv.App.Store.AppendAudit(context.Background(), store.AuditEvent{Time: srv.Clock.Now(), Actor: id, Action: "account.something_new", Result: audit.ResultOK}, audit.Hash); err != nil {
		t.Fatal(err)
	}

	events, raw := history(t, z)
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action+":"+e.Result)
	}
	want := []string{"account.something_new:ok", "session.login_failed:failed", "session.login:ok"}
	if len(actions) < 3 || strings.Join(actions[:3], " ") != strings.Join(want, " ") {
		t.Errorf("history = %v, want it to start %v", actions, want)
	}
	for i := 1; i < len(events); i++ {
		if events[i].Time.After(events[i-1].Time) {
			t.Errorf("event %d is newer than the one before it", i)
		}
	}
	if e := events[0]; e.What != "Other account activity (account.something_new)" || !e.OK {
		t.Errorf("unknown action shown as %+v", e)
	}
	if e := events[1]; e.What != "Sign-in failed" || e.ResultText != "Failed" || e.OK || e.Place != "This machine's network" {
		t.Errorf("failed sign-in shown as %+v", e)
	}
	if e := events[2]; e.What != "Signed in" || e.ResultText != "Succeeded" || !e.OK {
		t.Errorf("sign-in shown as %+v", e)
	}
	for _, s := range []string{"Kylin", "Firefox", li.Login, "13912345678", "139****5678"} {
		if strings.Contains(raw, s) {
			t.Errorf("zhang's history shows %q, which is li's", s)
		}
	}
	for _, e := range events {
		if e.Action == "oidc.token_issued" || e.Action == "cas.ticket_issued" {
			t.Errorf("the history shows protocol plumbing: %+v", e)
		}
	}

	// li's own history has li's failed attempt and sign-out.
	levents, _ := history(t, func() *apptest.Browser { b := srv.Browser(t); b.MustLogin(li.Login, li.Password); return b }())
	var seen []string
	for _, e := range levents {
		seen = append(seen, e.Action)
		if e.Action == "account.something_new" {
			t.Error("li's history shows zhang's event")
		}
	}
	if !strings.Contains(strings.Join(seen, " "), "session.logout session.login session.login_failed") {
		t.Errorf("li's history = %v", seen)
	}
}

// TestHistoryIsTheLast50: a long history is cut at the newest 50.
func TestHistoryIsTheLast50(t *testing.T) {
	srv := apptest.Start(t, nil)
	z := srv.Browser(t)
	id := z.MustRegister(zhang)
	for i := range 60 {
		srv.App.Store.AppendAudit(context.Background(), store.AuditEvent{Time: srv.Clock.Now(), Actor: id, Action: audit.ActionLoginFail, Result: audit.ResultFailed, Subject: string(rune('a' + i%26))}, audit.Hash)
	}
	if events, _ := history(t, z); len(events) != 50 || events[0].Action != audit.ActionLoginFail {
		t.Errorf("%d events, want the newest 50", len(events))
	}
}

// TestEveryDescriptionHasWords: each browser, system, form and place the
// parser can name, and each result and action the history describes, has
// a message in every language.
func TestEveryDescriptionHasWords(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, b := range activity.Browsers {
		keys = append(keys, "activity.browser."+b)
	}
	for _, o := range activity.OSes {
		keys = append(keys, "activity.os."+o)
	}
	for _, f := range []string{activity.FormPhone, activity.FormTablet, activity.FormDesktop} {
		keys = append(keys, "activity.form."+f)
	}
	for _, p := range []string{activity.PlaceLocal, activity.PlacePrivate, activity.PlaceUnknown} {
		keys = append(keys, "activity.place."+p)
	}
	for _, a := range []string{audit.ActionRegister, audit.ActionLogin, audit.ActionLoginFail, audit.ActionLockout, audit.ActionLogout, "account.password_changed"} {
		keys = append(keys, "activity.action."+a)
	}
	for _, k := range keys {
		if !cat.Has(k) {
			t.Errorf("no message %s", k)
		}
	}
}

// BenchmarkListMySessions measures GET /api/v1/me/sessions through the real
// HTTP stack for a person with 50 live sessions: the session check, the
// list query, and parsing and describing 50 user agents and addresses; on
// SQLite and on PostgreSQL.
func BenchmarkListMySessions(b *testing.B) {
	for _, be := range apptest.Backends {
		b.Run(be.Name, func(b *testing.B) {
			benchListMySessions(b, apptest.Start(b, func(c *config.Config) { be.Use(b, c) }))
		})
	}
}

func benchListMySessions(b *testing.B, srv *apptest.Server) {
	br := srv.Browser(b)
	id := br.MustRegister(zhang)
	agents := []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 16_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.42(0x18002a2a) NetType/WIFI Language/zh_CN",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
		"Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/86.0.4240.198 Safari/537.36 QIHU 360SE",
		kylinFirefox,
	}
	ips := []string{"203.0.113.7", "10.20.30.40", "2001:db8:85a3::7334", "127.0.0.1"}
	now := srv.Clock.Now().UTC().Truncate(time.Millisecond)
	for i := range 49 {
		s := store.Session{
			TokenHash: []byte(strings.Repeat(string(rune('A'+i%26)), 16) + string(rune('a'+i/26)) + strings.Repeat("x", 15)),
			SID:       "bench-" + string(rune('A'+i%26)) + string(rune('a'+i/26)), UserID: id,
			AuthTime: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour),
			IP: ips[i%len(ips)], UserAgent: agents[i%len(agents)],
		}
		if err := srv.App.Store.CreateSession(context.Background(), s); err != nil {
			b.Fatal(err)
		}
	}
	if ids := sessionIDs(b, br); len(ids) != 50 {
		b.Fatalf("%d sessions listed, want 50", len(ids))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if r := br.Get("/api/v1/me/sessions"); r.Status != http.StatusOK {
			b.Fatalf("list: %d", r.Status)
		}
	}
}
