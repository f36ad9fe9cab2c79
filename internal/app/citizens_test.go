package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"unid/internal/account"
	"unid/internal/app/apptest"
	"unid/internal/config"
	"unid/internal/store"
	"unid/internal/store/postgres/pgtest"
)

// lockSoon makes five wrong passwords lock the account for every network,
// so that the console shows the lock.
func lockSoon(c *config.Config) { c.LockoutThreshold, c.LockoutAccountThreshold = 5, 5 }

// operatorAPI sets up an operator with roles through the operator API and
// returns a browser signed in to the console with them.
func operatorAPI(t *testing.T, srv *apptest.Server, login string, roles ...string) *apptest.Browser {
	b, _ := srv.OperatorAPI(t, login, roles...)
	return b
}

// citizenEvents returns the audit events that name the account as the
// one an operator acted on.
func citizenEvents(t *testing.T, srv *apptest.Server, userID string) []store.AuditEvent {
	return accountEvents(t, srv, userID, false)
}

// accountEvents returns the events naming the account as the one an
// operator acted on, and with reads the operators' searches and looks.
func accountEvents(t *testing.T, srv *apptest.Server, userID string, reads bool) []store.AuditEvent {
	t.Helper()
	all, err := srv.App.Store.ListAudit(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditEvent
	for _, e := range all {
		read := e.Action == account.ActionSearched || e.Action == account.ActionViewed
		if e.Account == userID && (reads || !read) {
			out = append(out, e)
		}
	}
	return out
}

func status(t *testing.T, srv *apptest.Server, userID string) string {
	t.Helper()
	u, err := srv.App.Store.GetUser(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	return u.Status
}

// TestConsoleCitizens: a security administrator finds a citizen by what
// the citizen reads out, sees the account masked, reveals one field with
// a reason, unlocks a locked sign-in, disables and enables the account,
// signs it out everywhere and texts where to recover the password; every
// action is audited with the operator as actor and the citizen as the
// account. Other roles, bad input and unknown accounts change nothing.
func TestConsoleCitizens(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, start func(edit func(*config.Config)) *apptest.Server) {
		srv := start(lockSoon)
		citizen := srv.Browser(t)
		zhang := citizen.MustRegister(apptest.Zhang)
		li := apptest.Person{Login: "li_si", Password: apptest.GoodPassword, Phone: "13912345679"}
		srv.Clock.Advance(time.Second)
		liID := srv.Browser(t).MustRegister(li)
		sec, actor := srv.OperatorAPI(t, "an_quan", "secadmin")
		base := "/api/admin/v1/citizens/" + zhang

		// Exact lookups through the blind index; never a part.
		find := func(q string) []map[string]any {
			t.Helper()
			r := sec.Get("/api/admin/v1/citizens?q=" + q)
			if r.Status != http.StatusOK {
				t.Fatalf("find %q: %d %s", q, r.Status, r.Body)
			}
			var out struct{ Items []map[string]any }
			json.Unmarshal(r.Body, &out)
			return out.Items
		}
		for _, q := range []string{"13812345678", "ZHANG_SAN", zhang, "+86%20138%201234%205678"} {
			if got := find(q); len(got) != 1 || got[0]["id"] != zhang || got[0]["phone"] != "138****5678" {
				t.Errorf("find %q = %v", q, got)
			}
		}
		for _, q := range []string{"1381234", "zhang", "5678"} {
			if got := find(q); len(got) != 0 {
				t.Errorf("find %q (a part) = %v; want nothing", q, got)
			}
		}
		if r := sec.Get("/api/admin/v1/citizens?q=%20"); r.Status != http.StatusBadRequest || r.ErrCode(t) != "citizen_query_required" {
			t.Errorf("empty query: %d %s", r.Status, r.Body)
		}
		// The newest accounts first.
		r := sec.Get("/api/admin/v1/citizens")
		var list struct {
			Items []map[string]any
			Next  string
		}
		json.Unmarshal(r.Body, &list)
		if r.Status != http.StatusOK || len(list.Items) != 2 || list.Items[0]["id"] != liID || list.Items[1]["id"] != zhang || list.Next != "" {
			t.Errorf("list: %d %s", r.Status, r.Body)
		}
		if r := sec.Get("/api/admin/v1/citizens?status=disabled"); !strings.Contains(string(r.Body), `"items":[]`) {
			t.Errorf("disabled list: %s", r.Body)
		}

		// The account, masked, with the citizen's live session.
		r = sec.Get(base)
		if r.Status != http.StatusOK || strings.Contains(string(r.Body), "13812345678") || !strings.Contains(string(r.Body), "138****5678") {
			t.Fatalf("detail: %d %s", r.Status, r.Body)
		}
		var detail struct {
			Profile  map[string]any
			Sessions []map[string]any
			Lock     struct{ Locked bool }
			Events   []map[string]any
		}
		json.Unmarshal(r.Body, &detail)
		if len(detail.Sessions) != 1 || detail.Lock.Locked || len(detail.Events) == 0 {
			t.Errorf("detail: %s", r.Body)
		}

		// The secadmin's search and look were recorded, by kind, never
		// the number typed.
		var searched, viewed bool
		for _, e := range accountEvents(t, srv, zhang, true) {
			searched = searched || e.Action == account.ActionSearched && strings.Contains(e.Detail, `"kind":"phone"`) && !strings.Contains(e.Detail, "13812345678")
			viewed = viewed || e.Action == account.ActionViewed
		}
		if !searched || !viewed {
			t.Errorf("search and view not recorded")
		}

		// Other roles are refused and change nothing.
		for _, role := range []string{"reviewer", "auditor", "sysadmin"} {
			other := operatorAPI(t, srv, "op_"+role, role)
			for _, call := range []func() apptest.Response{
				func() apptest.Response { return other.Get("/api/admin/v1/citizens?q=13812345678") },
				func() apptest.Response { return other.Get(base) },
				func() apptest.Response { return other.PostJSON(base+"/disable", map[string]string{"reason": "试试"}) },
				func() apptest.Response {
					return other.PostJSON(base+"/reveal", map[string]string{"field": "phone", "reason": "试试"})
				},
				func() apptest.Response {
					return other.PostJSON(base+"/sign-out", map[string]string{"reason": "试试"})
				},
			} {
				if r := call(); r.Status != http.StatusForbidden {
					t.Errorf("%s: %d %s", role, r.Status, r.Body)
				}
			}
		}
		if got := status(t, srv, zhang); got != store.UserActive || len(citizenEvents(t, srv, zhang)) != 0 {
			t.Fatalf("after refused calls: %s, %d events", got, len(citizenEvents(t, srv, zhang)))
		}
		if r := citizen.Get("/api/v1/me"); r.Status != http.StatusOK {
			t.Fatalf("the citizen was signed out by a refused call: %d", r.Status)
		}

		// Bad input: a clear error in the operator's language, nothing changes.
		tests := []struct {
			name, path string
			body       map[string]string
			lang       string
			status     int
			code, msg  string
		}{
			{"no reason", base + "/disable", map[string]string{}, "zh-CN", 400, "review_reason_required", "请填写理由"},
			{"no reason, English", base + "/sign-out", map[string]string{"reason": "  "}, "en", 400, "review_reason_required", "reason"},
			{"long reason", base + "/unlock", map[string]string{"reason": strings.Repeat("理", 201)}, "zh-CN", 400, "review_reason_too_long", ""},
			{"unknown field", base + "/reveal", map[string]string{"field": "password", "reason": "核实"}, "zh-CN", 400, "validation", "手机号"},
			{"unknown account", "/api/admin/v1/citizens/nobody/disable", map[string]string{"reason": "核实"}, "zh-CN", 404, "citizen_not_found", "没有这个账号"},
			{"unknown account, reveal", "/api/admin/v1/citizens/nobody/reveal", map[string]string{"field": "phone", "reason": "核实"}, "en", 404, "citizen_not_found", "no such account"},
		}
		for _, tt := range tests {
			sec.Lang = tt.lang
			r := sec.PostJSON(tt.path, tt.body)
			if r.Status != tt.status || (tt.code != "validation" && r.ErrCode(t) != tt.code) || !strings.Contains(string(r.Body), tt.msg) {
				t.Errorf("%s: %d %s", tt.name, r.Status, r.Body)
			}
		}
		sec.Lang = ""
		if got := status(t, srv, zhang); got != store.UserActive || len(citizenEvents(t, srv, zhang)) != 0 {
			t.Fatalf("after bad input: %s, %d events", got, len(citizenEvents(t, srv, zhang)))
		}
		if r := sec.Get("/api/admin/v1/citizens/nobody"); r.Status != http.StatusNotFound {
			t.Errorf("unknown account: %d", r.Status)
		}

		// Reveal: the value once, the event names the field only.
		r = sec.PostJSON(base+"/reveal", map[string]string{"field": "phone", "reason": "市民来电核实身份"})
		if r.Status != http.StatusOK || r.JSON(t)["value"] != "13812345678" {
			t.Fatalf("reveal: %d %s", r.Status, r.Body)
		}
		evs := citizenEvents(t, srv, zhang)
		if len(evs) != 1 || evs[0].Action != account.ActionRevealed || evs[0].Actor != actor ||
			!strings.Contains(evs[0].Detail, "phone") || strings.Contains(evs[0].Detail, "13812345678") || !strings.Contains(evs[0].Detail, "市民来电核实身份") {
			t.Errorf("reveal events: %+v", evs)
		}

		// Locked by wrong passwords; unlocked, the right one signs in.
		other := srv.Browser(t)
		for range 5 {
			other.Login("13812345678", "Wrong#Password1")
		}
		if r := other.Login("13812345678", apptest.GoodPassword); r.Status != http.StatusUnauthorized {
			t.Fatalf("a locked account signed in: %d", r.Status)
		}
		json.Unmarshal(sec.Get(base).Body, &detail)
		if !detail.Lock.Locked {
			t.Errorf("the console does not show the lock")
		}
		if r := sec.PostJSON(base+"/unlock", map[string]string{"reason": "本人来电，已核实身份"}); r.Status != http.StatusNoContent {
			t.Fatalf("unlock: %d %s", r.Status, r.Body)
		}
		other.MustLogin("13812345678", apptest.GoodPassword)
		json.Unmarshal(sec.Get(base).Body, &detail)
		if detail.Lock.Locked {
			t.Errorf("still shown locked after unlocking")
		}
		// The detail's security events show what the operator did, by them.
		if body := string(sec.Get(base).Body); !strings.Contains(body, `"action":"account.unlocked","result":"ok"`) ||
			!strings.Contains(body, `"by":"operator:`) {
			t.Errorf("the unlock is not among the citizen's events: %s", body)
		}

		// Disable: every session ends, sign-in is refused; enable lets it in.
		if r := sec.PostJSON(base+"/disable", map[string]string{"reason": "疑似被盗"}); r.Status != http.StatusNoContent {
			t.Fatalf("disable: %d %s", r.Status, r.Body)
		}
		if r := citizen.Get("/api/v1/me"); r.Status != http.StatusUnauthorized {
			t.Errorf("a session of a disabled account: %d", r.Status)
		}
		if r := other.Login("13812345678", apptest.GoodPassword); r.Status != http.StatusForbidden || r.ErrCode(t) != "account_disabled" {
			t.Errorf("sign-in to a disabled account: %d %s", r.Status, r.Body)
		}
		if r := sec.PostJSON(base+"/enable", map[string]string{"reason": "本人确认"}); r.Status != http.StatusNoContent {
			t.Fatalf("enable: %d %s", r.Status, r.Body)
		}
		citizen.MustLogin("zhang_san", apptest.GoodPassword)

		// Sign out everywhere.
		r = sec.PostJSON(base+"/sign-out", map[string]string{"reason": "本人要求"})
		if r.Status != http.StatusOK || r.JSON(t)["sessions"] != float64(1) {
			t.Errorf("sign-out: %d %s", r.Status, r.Body)
		}
		if r := citizen.Get("/api/v1/me"); r.Status != http.StatusUnauthorized {
			t.Errorf("a session after sign-out: %d", r.Status)
		}

		// The recovery text, within the phone's limits.
		srv.Clock.Advance(2 * time.Minute) // past the code sent at registration
		before := srv.OutboxLen(t)
		if r := sec.PostJSON(base+"/recovery-sms", map[string]string{"reason": "本人来电忘记密码"}); r.Status != http.StatusNoContent {
			t.Fatalf("recovery sms: %d %s", r.Status, r.Body)
		}
		if msgs := srv.Outbox(t); srv.OutboxLen(t) != before+1 || msgs[0].To != "13812345678" || !strings.Contains(msgs[0].Text, "找回密码") {
			t.Errorf("outbox: %+v", msgs)
		}
		if r := sec.PostJSON(base+"/recovery-sms", map[string]string{"reason": "再发一次"}); r.Status != http.StatusTooManyRequests || r.ErrCode(t) != "sms_rate_limited" {
			t.Errorf("a second text at once: %d %s", r.Status, r.Body)
		}
		if srv.OutboxLen(t) != before+1 {
			t.Errorf("a refused text was sent")
		}

		want := []string{account.ActionRevealed, account.ActionUnlocked, account.ActionDisabled, account.ActionEnabled, account.ActionSignedOut, account.ActionRecoveryHint}
		var got []string
		for _, e := range citizenEvents(t, srv, zhang) {
			if e.Actor == actor {
				got = append(got, e.Action)
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("operator events on the account = %v; want %v", got, want)
		}
		if r := sec.Get("/api/admin/v1/citizens/" + liID); r.Status != http.StatusOK || len(citizenEvents(t, srv, liID)) != 0 {
			t.Errorf("the other citizen was touched")
		}
	})
}

// TestConsoleCitizensTwoInstances: on two instances over one PostgreSQL,
// an unlock on one lets the citizen sign in through the other at once,
// and signing the citizen out on one ends the session a browser holds at
// the other.
func TestConsoleCitizensTwoInstances(t *testing.T) {
	url := pgtest.NewDatabase(t)
	keys := filepath.Join(t.TempDir(), "unid.key")
	shared := func(c *config.Config) { c.DatabaseURL.Value, c.KeyFile = url, keys; lockSoon(c) }
	a := apptest.Start(t, shared)
	b := apptest.Start(t, shared)
	atB := b.Browser(t)
	zhang := atB.MustRegister(apptest.Zhang)
	sec := operatorAPI(t, a, "an_quan", "secadmin")

	other := b.Browser(t)
	for range 5 {
		other.Login("zhang_san", "Wrong#Password1")
	}
	if r := other.Login("zhang_san", apptest.GoodPassword); r.Status != http.StatusUnauthorized {
		t.Fatalf("not locked at B: %d", r.Status)
	}
	if r := sec.PostJSON("/api/admin/v1/citizens/"+zhang+"/unlock", map[string]string{"reason": "本人来电"}); r.Status != http.StatusNoContent {
		t.Fatalf("unlock at A: %d %s", r.Status, r.Body)
	}
	other.MustLogin("zhang_san", apptest.GoodPassword)

	if r := atB.Get("/api/v1/me"); r.Status != http.StatusOK {
		t.Fatalf("no session at B: %d", r.Status)
	}
	if r := sec.PostJSON("/api/admin/v1/citizens/"+zhang+"/sign-out", map[string]string{"reason": "本人要求"}); r.Status != http.StatusOK {
		t.Fatalf("sign-out at A: %d %s", r.Status, r.Body)
	}
	for _, br := range []*apptest.Browser{atB, other} {
		if r := br.Get("/api/v1/me"); r.Status != http.StatusUnauthorized {
			t.Errorf("a session at B after sign-out at A: %d", r.Status)
		}
	}
}

// TestConsoleRevealLimit: an operator reveals at most RevealsPerDay fields
// in 24 hours; the next is refused, shows nothing and records nothing.
func TestConsoleRevealLimit(t *testing.T) {
	srv := apptest.Start(t, nil)
	zhang := srv.Browser(t).MustRegister(apptest.Zhang)
	sec := operatorAPI(t, srv, "sec_limit", "secadmin")
	reveal := func() apptest.Response {
		return sec.PostJSON("/api/admin/v1/citizens/"+zhang+"/reveal", map[string]string{"field": "phone", "reason": "核实身份"})
	}
	for i := 0; i < account.RevealsPerDay; i++ {
		if r := reveal(); r.Status != http.StatusOK {
			t.Fatalf("reveal %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	before := len(citizenEvents(t, srv, zhang))
	r := reveal()
	if r.Status != http.StatusTooManyRequests || r.ErrCode(t) != "citizen_reveal_limit" || strings.Contains(string(r.Body), "13812345678") {
		t.Fatalf("reveal over the limit: %d %s", r.Status, r.Body)
	}
	if after := len(citizenEvents(t, srv, zhang)); after != before {
		t.Errorf("a refused reveal was recorded as one: %d → %d", before, after)
	}
}
