package api_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"unid/internal/account"
	"unid/internal/account/accounttest"
	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/config"
	"unid/internal/flow/recovery"
	"unid/internal/store"
)

// missing is an identifier of each kind with no account behind it.
var missing = apptest.Person{Login: "nobody_here", Phone: "13900009999"}

// newPassword is the password recovery sets.
const newPassword = "Jinan#Spring2027"

// zhangAnswers are the security answers the tests set for Zhang, in the
// order of the questions they choose.
var zhangQuestions = []string{"birthplace", "first_pet", "primary_school"}
var zhangAnswers = []string{"Jinan", "Huang Huang", "实验小学"}

// startRecovery starts a recovery for identifier with a fresh captcha.
func startRecovery(b *apptest.Browser, identifier string) (apptest.Response, string) {
	b.T.Helper()
	id, answer := b.Captcha()
	r := b.PostJSON("/api/v1/recovery", map[string]any{"identifier": identifier, "captcha_id": id, "captcha_answer": answer})
	var v struct{ ID string }
	_ = json.Unmarshal(r.Body, &v)
	return r, v.ID
}

func mustStart(b *apptest.Browser, identifier string) string {
	b.T.Helper()
	r, id := startRecovery(b, identifier)
	if r.Status != http.StatusCreated || id == "" {
		b.T.Fatalf("start recovery for %s: %d %s", identifier, r.Status, r.Body)
	}
	return id
}

func sendRecoveryCode(b *apptest.Browser, flow string) apptest.Response {
	b.T.Helper()
	return b.PostJSON("/api/v1/recovery/"+flow+"/codes", map[string]any{"method": "phone"})
}

func prove(b *apptest.Browser, flow string, body map[string]any) apptest.Response {
	b.T.Helper()
	return b.PostJSON("/api/v1/recovery/"+flow+"/proof", body)
}

func setNewPassword(b *apptest.Browser, flow, pw string) apptest.Response {
	b.T.Helper()
	return b.PostJSON("/api/v1/recovery/"+flow+"/password", map[string]any{"password": pw, "password_confirm": pw})
}

// waitNewCode waits for a code to phone beyond the first seen messages of
// the outbox (recovery codes go out in the background).
func waitNewCode(t *testing.T, srv *apptest.Server, phone string, seen int) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		msgs := srv.Outbox(t)
		for _, m := range msgs[:len(msgs)-seen] { // newest first
			if m.To == phone && m.Params["code"] != "" {
				return m.Params["code"]
			}
		}
	}
	t.Fatalf("no new code reached %s", phone)
	return ""
}

// setQuestions sets Zhang's security questions through the API; b must
// have signed in within 5 minutes.
func setQuestions(b *apptest.Browser, qs, as []string) apptest.Response {
	b.T.Helper()
	var answers []map[string]string
	for i := range qs {
		answers = append(answers, map[string]string{"question": qs[i], "answer": as[i]})
	}
	data, _ := json.Marshal(map[string]any{"answers": answers})
	return b.Do(http.MethodPut, "/api/v1/security-questions", "application/json", strings.NewReader(string(data)))
}

// variable hides what differs between any two flows: their IDs and times.
var variable = regexp.MustCompile(`"(id|expires_at)":"[^"]*"`)

func same(body []byte) string { return variable.ReplaceAllString(string(body), `"$1":"…"`) }

// step is one request of a recovery, its answer and the password hashes
// it cost the server (what makes one answer slower than another).
type step struct {
	name   string
	status int
	body   string
	hashes uint64
}

// walk runs every step a stranger can run for identifier: start, the
// questions, a code, a wrong code, wrong answers; h is the server's hasher.
func walk(t *testing.T, b *apptest.Browser, h *account.Hasher, identifier string) []step {
	t.Helper()
	var steps []step
	timed := func(name string, f func() apptest.Response) apptest.Response {
		before := h.Runs()
		r := f()
		steps = append(steps, step{name, r.Status, same(r.Body), h.Runs() - before})
		return r
	}
	var flow string
	timed("start", func() apptest.Response { r, id := startRecovery(b, identifier); flow = id; return r })
	q := timed("questions", func() apptest.Response { return b.Get("/api/v1/recovery/" + flow + "/questions") })
	var qs struct{ Questions []struct{ ID, Text string } }
	if err := json.Unmarshal(q.Body, &qs); err != nil || len(qs.Questions) != 3 {
		t.Fatalf("%s: questions %s", identifier, q.Body)
	}
	steps[len(steps)-1].body = "3 questions" // which ones differs by design
	timed("code", func() apptest.Response { return sendRecoveryCode(b, flow) })
	timed("wrong code", func() apptest.Response { return prove(b, flow, map[string]any{"method": "phone", "code": "000000"}) })
	timed("wrong answers", func() apptest.Response {
		return prove(b, flow, map[string]any{"method": "questions", "answers": []string{"a", "b", "c"}})
	})
	timed("unknown method", func() apptest.Response { return prove(b, flow, map[string]any{"method": "pigeon", "code": "1"}) })
	return steps
}

func TestRecoveryLooksTheSameWithAndWithoutAnAccount(t *testing.T) {
	srv := apptest.Start(t, func(c *config.Config) { c.CaptchaPerIPMinute = 1000 })
	b := srv.Browser(t)
	b.MustRegister(zhang)
	if r := setQuestions(b, zhangQuestions, zhangAnswers); r.Status != http.StatusOK {
		t.Fatalf("set questions: %d %s", r.Status, r.Body)
	}
	stranger := srv.Browser(t)
	pairs := []struct{ name, have, lack string }{
		{"login name", zhang.Login, missing.Login},
		{"phone", zhang.Phone, missing.Phone},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			// A phone gets one code a minute, whatever it is for.
			srv.Clock.Advance(2 * time.Minute)
			before := srv.OutboxLen(t)
			have := walk(t, stranger, srv.App.Hasher, p.have)
			lack := walk(t, stranger, srv.App.Hasher, p.lack)
			for i := range have {
				h, l := have[i], lack[i]
				if h.status != l.status || h.body != l.body {
					t.Errorf("%s differs:\n account: %d %s\n none:    %d %s", h.name, h.status, h.body, l.status, l.body)
				}
				// The same work: a password hash is what would make one
				// answer measurably slower than the other.
				if h.hashes != l.hashes || h.name == "wrong answers" && h.hashes == 0 {
					t.Errorf("%s: %d password hashes with an account, %d without", h.name, h.hashes, l.hashes)
				}
			}
			if want := []int{201, 200, 202, 400, 400, 400}; !reflect.DeepEqual(statuses(have), want) {
				t.Errorf("statuses %v, want %v", statuses(have), want)
			}
			// Only the real phone received anything.
			waitNewCode(t, srv, zhang.Phone, before)
			for _, m := range srv.Outbox(t) {
				if m.To == missing.Phone {
					t.Errorf("a text went to a phone with no account: %s", m.Text)
				}
			}
		})
	}
	// The decoy questions of an identifier stay the same.
	one := func() string {
		id := mustStart(stranger, missing.Login)
		return string(stranger.Get("/api/v1/recovery/" + id + "/questions").Body)
	}
	if a, b := one(), one(); a != b {
		t.Errorf("decoy questions changed between two starts:\n%s\n%s", a, b)
	}
}

func statuses(steps []step) []int {
	var out []int
	for _, s := range steps {
		out = append(out, s.status)
	}
	return out
}

// grant gives the user an OpenID Connect grant with a refresh token.
func grant(t *testing.T, srv *apptest.Server, userID string) store.RefreshToken {
	t.Helper()
	ctx := context.Background()
	st := srv.App.Store
	now := srv.Clock.Now()
	if err := st.CreateClient(ctx, store.Client{ID: "hall", Name: "办事大厅", Type: store.ClientOIDCPublic,
		RedirectURIs: []string{"https://hall.example.gov.cn/cb"}, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	g := store.Grant{ID: "grant-" + userID, ClientID: "hall", UserID: userID, SID: "sid", Scopes: []string{"openid", "offline_access"},
		AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
	rt := store.RefreshToken{TokenHash: []byte("refresh-token-hash-32-bytes.....")[:32], GrantID: g.ID, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
	if err := st.CreateGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateRefreshToken(ctx, rt); err != nil {
		t.Fatal(err)
	}
	return rt
}

// lockedOut registers Zhang, signed in in old and with a grant, and locks
// the account out of this network with wrong passwords.
func lockedOut(t *testing.T, srv *apptest.Server) (old *apptest.Browser, userID string, rt store.RefreshToken) {
	t.Helper()
	old = srv.Browser(t)
	userID = old.MustRegister(zhang)
	rt = grant(t, srv, userID)
	for range 5 {
		old.Login(zhang.Login, "Wrong#Password1")
	}
	if r := srv.Browser(t).Login(zhang.Login, zhang.Password); r.Status != http.StatusUnauthorized {
		t.Fatalf("locked account signed in: %d %s", r.Status, r.Body)
	}
	return old, userID, rt
}

func revoked(t *testing.T, srv *apptest.Server, rt store.RefreshToken) bool {
	t.Helper()
	g, err := srv.App.Store.GetGrant(context.Background(), rt.GrantID)
	if err != nil {
		t.Fatal(err)
	}
	return !g.RevokedAt.IsZero()
}

func TestRecoverByPhone(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, start func(func(*config.Config)) *apptest.Server) {
		srv := start(nil)
		old, userID, rt := lockedOut(t, srv)

		srv.Clock.Advance(2 * time.Minute) // past the registration code's minute
		b := srv.Browser(t)
		flow := mustStart(b, zhang.Phone)
		seen := srv.OutboxLen(t)
		if r := sendRecoveryCode(b, flow); r.Status != http.StatusAccepted {
			t.Fatalf("send code: %d %s", r.Status, r.Body)
		}
		code := waitNewCode(t, srv, zhang.Phone, seen)

		// The password step before the proof is refused.
		if r := setNewPassword(b, flow, newPassword); r.Status != http.StatusGone || r.ErrCode(t) != "flow_expired" {
			t.Fatalf("password before proof: %d %s", r.Status, r.Body)
		}
		if r := prove(b, flow, map[string]any{"method": "phone", "code": wrong(code)}); r.Status != http.StatusBadRequest || r.ErrCode(t) != "sms_code_wrong" {
			t.Fatalf("wrong code: %d %s", r.Status, r.Body)
		}
		if r := prove(b, flow, map[string]any{"method": "phone", "code": code}); r.Status != http.StatusOK {
			t.Fatalf("right code: %d %s", r.Status, r.Body)
		}
		// Proven once: the proof cannot be replayed, nor a code sent.
		if r := prove(b, flow, map[string]any{"method": "phone", "code": code}); r.Status != http.StatusGone || r.ErrCode(t) != "flow_expired" {
			t.Errorf("proof replayed: %d %s", r.Status, r.Body)
		}
		if r := sendRecoveryCode(b, flow); r.Status != http.StatusGone {
			t.Errorf("code after proof: %d %s", r.Status, r.Body)
		}
		// A password under the policy, else nothing changes.
		if r := setNewPassword(b, flow, "short"); r.Status != http.StatusBadRequest {
			t.Fatalf("weak password: %d %s", r.Status, r.Body)
		}
		if r := b.PostJSON("/api/v1/recovery/"+flow+"/password", map[string]any{"password": newPassword, "password_confirm": newPassword + "x"}); r.Status != http.StatusBadRequest {
			t.Fatalf("mismatch: %d %s", r.Status, r.Body)
		}
		if r := setNewPassword(b, flow, newPassword); r.Status != http.StatusNoContent {
			t.Fatalf("set password: %d %s", r.Status, r.Body)
		}
		if r := setNewPassword(b, flow, "Another#Pass2028"); r.Status != http.StatusGone {
			t.Errorf("finished flow replayed: %d %s", r.Status, r.Body)
		}
		// A code used once does not prove a new flow.
		again := mustStart(b, zhang.Login)
		if r := prove(b, again, map[string]any{"method": "phone", "code": code}); r.Status == http.StatusOK {
			t.Error("a used code proved another flow")
		}

		// Every old way in is closed; the new password works, lock or not.
		if r := old.Get("/api/v1/me"); r.Status != http.StatusUnauthorized {
			t.Errorf("old session still signed in: %d", r.Status)
		}
		if !revoked(t, srv, rt) {
			t.Error("the refresh token's grant was not revoked")
		}
		if r := srv.Browser(t).Login(zhang.Login, zhang.Password); r.Status != http.StatusUnauthorized {
			t.Errorf("old password signed in: %d", r.Status)
		}
		srv.Browser(t).MustLogin(zhang.Login, newPassword)
		var told bool
		for _, m := range srv.Outbox(t) {
			told = told || m.To == zhang.Phone && strings.Contains(m.Text, "密码已修改")
		}
		if !told {
			t.Error("the owner was not told of the new password")
		}
		for _, action := range []string{recovery.ActionStarted, recovery.ActionCodeSent, recovery.ActionFailed, recovery.ActionProven, recovery.ActionCompleted} {
			if n := countEvents(t, srv, action, userID); n == 0 {
				t.Errorf("no %s event with the user as actor", action)
			}
		}
	})
}

func wrong(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func TestRecoveryCodesExpireAndFlowsExpire(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	b.MustRegister(zhang)
	srv.Clock.Advance(2 * time.Minute)

	flow := mustStart(b, zhang.Login)
	seen := srv.OutboxLen(t)
	sendRecoveryCode(b, flow)
	code := waitNewCode(t, srv, zhang.Phone, seen)
	srv.Clock.Advance(6 * time.Minute) // codes live 5 minutes
	if r := prove(b, flow, map[string]any{"method": "phone", "code": code}); r.Status != http.StatusGone || r.ErrCode(t) != "sms_code_expired" {
		t.Errorf("expired code: %d %s", r.Status, r.Body)
	}
	srv.Clock.Advance(10 * time.Minute) // the flow lives 15
	for name, r := range map[string]apptest.Response{
		"questions": b.Get("/api/v1/recovery/" + flow + "/questions"),
		"code":      sendRecoveryCode(b, flow),
		"proof":     prove(b, flow, map[string]any{"method": "phone", "code": code}),
		"password":  setNewPassword(b, flow, newPassword),
		"unknown":   setNewPassword(b, "NOSUCHFLOW", newPassword),
	} {
		if r.Status != http.StatusGone || r.ErrCode(t) != "flow_expired" {
			t.Errorf("%s on an expired flow: %d %s", name, r.Status, r.Body)
		}
	}
	// Bad input at the start is refused with every field and changes nothing.
	r := b.PostJSON("/api/v1/recovery", map[string]any{"identifier": " "})
	if r.Status != http.StatusBadRequest || r.ErrCode(t) != "invalid_fields" {
		t.Errorf("empty start: %d %s", r.Status, r.Body)
	}
	if n := countEvents(t, srv, recovery.ActionStarted, ""); n != 0 {
		t.Errorf("%d anonymous starts recorded for refused requests", n)
	}
}

func TestRecoveryByQuestions(t *testing.T) {
	srv := apptest.Start(t, func(c *config.Config) { c.CaptchaPerIPMinute = 1000 })
	b := srv.Browser(t)
	userID := b.MustRegister(zhang)
	if r := setQuestions(b, zhangQuestions, zhangAnswers); r.Status != http.StatusOK {
		t.Fatalf("set questions: %d %s", r.Status, r.Body)
	}
	stranger := srv.Browser(t)
	flow := mustStart(stranger, zhang.Login)
	r := stranger.Get("/api/v1/recovery/" + flow + "/questions")
	var qs struct{ Questions []struct{ ID string } }
	_ = json.Unmarshal(r.Body, &qs)
	for i, q := range qs.Questions {
		if q.ID != zhangQuestions[i] {
			t.Fatalf("questions %s, want %v", r.Body, zhangQuestions)
		}
	}
	// Answers as typed differently: full width, case, spaces.
	typed := []string{" ＪＩＮＡＮ ", "huang   huang", "实验小学"}
	if r := prove(stranger, flow, map[string]any{"method": "questions", "answers": typed}); r.Status != http.StatusOK {
		t.Fatalf("right answers: %d %s", r.Status, r.Body)
	}
	if r := setNewPassword(stranger, flow, newPassword); r.Status != http.StatusNoContent {
		t.Fatalf("set password: %d %s", r.Status, r.Body)
	}
	srv.Browser(t).MustLogin(zhang.Phone, newPassword)
	if n := countNotices(t, srv, zhang.Phone, "回答密保问题"); n != 1 {
		t.Errorf("%d questions notices, want 1", n)
	}
	if countEvents(t, srv, recovery.ActionProven, userID) != 1 {
		t.Error("no proven event")
	}
}

// countNotices waits briefly for background notices and counts those to
// phone whose text contains s.
func countNotices(t *testing.T, srv *apptest.Server, phone, s string) int {
	t.Helper()
	n := 0
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		n = 0
		for _, m := range srv.Outbox(t) {
			if m.To == phone && strings.Contains(m.Text, s) {
				n++
			}
		}
		if n > 0 {
			time.Sleep(50 * time.Millisecond)
		}
		if n > 0 {
			break
		}
	}
	return n
}

func TestQuestionBruteForceLocksFor24Hours(t *testing.T) {
	srv := apptest.Start(t, func(c *config.Config) { c.CaptchaPerIPMinute = 1000 })
	b := srv.Browser(t)
	b.MustRegister(zhang)
	if r := setQuestions(b, zhangQuestions, zhangAnswers); r.Status != http.StatusOK {
		t.Fatalf("set questions: %d %s", r.Status, r.Body)
	}
	attacker := srv.Browser(t)
	try := func(identifier string, answers []string) apptest.Response {
		return prove(attacker, mustStart(attacker, identifier), map[string]any{"method": "questions", "answers": answers})
	}
	guess := []string{"北京", "旺财", "第一小学"}
	var have, lack []string
	for i := 1; i <= 6; i++ {
		h, l := try(zhang.Login, guess), try(missing.Login, guess)
		if h.Status != l.Status || h.ErrCode(t) != l.ErrCode(t) {
			t.Errorf("try %d: %d %s with an account, %d %s without", i, h.Status, h.Body, l.Status, l.Body)
		}
		have, lack = append(have, h.ErrCode(t)), append(lack, l.ErrCode(t))
	}
	want := []string{"recovery_answers_wrong", "recovery_answers_wrong", "recovery_answers_wrong", "recovery_answers_wrong",
		"recovery_questions_locked", "recovery_questions_locked"}
	if !reflect.DeepEqual(have, want) {
		t.Errorf("answers %v, want %v", have, want)
	}
	// Locked: even the right answers are refused, from any flow.
	if r := try(zhang.Phone, zhangAnswers); r.Status != http.StatusTooManyRequests || r.ErrCode(t) != "recovery_questions_locked" {
		t.Errorf("right answers while locked: %d %s", r.Status, r.Body)
	}
	if n := countNotices(t, srv, zhang.Phone, "回答密保问题"); n != 1 {
		t.Errorf("%d notices that the questions were tried, want 1 (when the lock set in), not one per guess", n)
	}
	srv.Clock.Advance(23 * time.Hour)
	if r := try(zhang.Login, zhangAnswers); r.Status != http.StatusTooManyRequests {
		t.Errorf("lock lifted after 23 h: %d %s", r.Status, r.Body)
	}
	srv.Clock.Advance(time.Hour + time.Minute)
	if r := try(zhang.Login, zhangAnswers); r.Status != http.StatusOK {
		t.Errorf("right answers after the lock: %d %s", r.Status, r.Body)
	}
}

func TestQuestionsWithCode(t *testing.T) {
	srv := apptest.Start(t, func(c *config.Config) {
		c.CaptchaPerIPMinute = 1000
		c.Recovery.Questions = config.RecoveryQuestionsWithCode
	})
	b := srv.Browser(t)
	b.MustRegister(zhang)
	if r := setQuestions(b, zhangQuestions, zhangAnswers); r.Status != http.StatusOK {
		t.Fatalf("set questions: %d %s", r.Status, r.Body)
	}
	srv.Clock.Advance(2 * time.Minute)
	flow := mustStart(b, zhang.Login)
	if r := prove(b, flow, map[string]any{"method": "questions", "answers": zhangAnswers}); r.Status != http.StatusBadRequest || r.ErrCode(t) != "sms_code_required" {
		t.Errorf("answers without a code: %d %s", r.Status, r.Body)
	}
	seen := srv.OutboxLen(t)
	sendRecoveryCode(b, flow)
	code := waitNewCode(t, srv, zhang.Phone, seen)
	if r := prove(b, flow, map[string]any{"method": "questions", "answers": zhangAnswers, "code": wrong(code)}); r.ErrCode(t) != "sms_code_wrong" {
		t.Errorf("answers with a wrong code: %d %s", r.Status, r.Body)
	}
	if r := prove(b, flow, map[string]any{"method": "questions", "answers": []string{"x", "y", "z"}, "code": code}); r.ErrCode(t) != "recovery_answers_wrong" {
		t.Errorf("wrong answers with the code: %d %s", r.Status, r.Body)
	}
	if r := prove(b, flow, map[string]any{"method": "questions", "answers": zhangAnswers, "code": code}); r.Status != http.StatusOK {
		t.Fatalf("answers and code: %d %s", r.Status, r.Body)
	}
	if r := setNewPassword(b, flow, newPassword); r.Status != http.StatusNoContent {
		t.Fatalf("set password: %d %s", r.Status, r.Body)
	}
	// The start says which mode the page must ask for.
	r, _ := startRecovery(b, missing.Login)
	if !strings.Contains(string(r.Body), `"questions_mode":"with_code"`) {
		t.Errorf("start: %s", r.Body)
	}
}

func TestSettingSecurityQuestions(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	userID := b.MustRegister(zhang)
	status := func() map[string]any {
		r := b.Get("/api/v1/security-questions")
		if r.Status != http.StatusOK {
			t.Fatalf("get: %d %s", r.Status, r.Body)
		}
		return r.JSON(t)
	}
	if s := status(); s["set"] != false || s["set_at"] != nil || len(s["questions"].([]any)) < 10 {
		t.Fatalf("fresh status %v", s)
	}
	tests := []struct {
		name    string
		qs, as  []string
		code    string
		field   string
		fieldIs string
	}{
		{"two", zhangQuestions[:2], zhangAnswers[:2], "questions_count", "answers", "questions_count"},
		{"repeated", []string{"birthplace", "birthplace", "first_pet"}, zhangAnswers, "invalid_fields", "question2", "question_repeated"},
		{"unknown", []string{"birthplace", "favourite_colour", "first_pet"}, zhangAnswers, "invalid_fields", "question2", "question_unknown"},
		{"blank answer", zhangQuestions, []string{"Jinan", "　 ", "x"}, "invalid_fields", "answer2", "answer_required"},
		{"long answer", zhangQuestions, []string{"Jinan", strings.Repeat("长", 65), "x"}, "invalid_fields", "answer2", "answer_too_long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := setQuestions(b, tt.qs, tt.as)
			var e struct {
				Error struct {
					Code   string
					Fields map[string]struct{ Code string }
				}
			}
			_ = json.Unmarshal(r.Body, &e)
			if r.Status != http.StatusBadRequest || e.Error.Code != tt.code || e.Error.Fields[tt.field].Code != tt.fieldIs {
				t.Errorf("%d %s; want %s with %s %s", r.Status, r.Body, tt.code, tt.field, tt.fieldIs)
			}
		})
	}
	if s := status(); s["set"] != false {
		t.Fatalf("bad input changed the status: %v", s)
	}
	r := setQuestions(b, zhangQuestions, zhangAnswers)
	if r.Status != http.StatusOK || r.JSON(t)["set"] != true {
		t.Fatalf("set: %d %s", r.Status, r.Body)
	}
	s := status()
	if s["set"] != true || s["set_at"] == nil {
		t.Errorf("status after set %v", s)
	}
	for _, leak := range append(zhangAnswers, `"chosen"`) {
		if strings.Contains(string(b.Get("/api/v1/security-questions").Body), leak) {
			t.Errorf("status shows %q", leak)
		}
	}
	// Stored only as hashes.
	a, err := srv.App.Store.GetSecurityAnswers(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range a.Hashes {
		if !strings.HasPrefix(h, "$argon2id$") {
			t.Errorf("answer stored as %q", h)
		}
	}
	// The owner is told: questions recover the password.
	if n := countNotices(t, srv, zhang.Phone, "密保问题已设置"); n == 0 {
		t.Error("the owner was not told that the security questions were set")
	}
	// Six minutes after sign-in the password must be entered again.
	srv.Clock.Advance(6 * time.Minute)
	if r := setQuestions(b, zhangQuestions, []string{"a", "b", "c"}); r.Status != http.StatusUnauthorized || r.ErrCode(t) != "reauthentication_required" {
		t.Errorf("stale sign-in: %d %s", r.Status, r.Body)
	}
	if r := setQuestions(srv.Browser(t), zhangQuestions, zhangAnswers); r.Status != http.StatusUnauthorized || r.ErrCode(t) != "not_signed_in" {
		t.Errorf("signed out: %d %s", r.Status, r.Body)
	}
	if _, err := srv.App.Store.GetSecurityAnswers(context.Background(), "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("answers of nobody: %v", err)
	}
}

// TestRecoverByEmail: the bound email address proves the account too; an
// account without one, and a missing account, answer the email method the
// same way, and nothing is mailed for them.
func TestRecoverByEmail(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	userID := b.MustRegister(zhang)
	if err := srv.App.Accounts.SetEmail(context.Background(), userID, "zhang@example.com", audit.User(userID)); err != nil {
		t.Fatal(err)
	}
	noEmail := apptest.Person{Login: "li_si", Password: zhang.Password, Phone: "13900000009"}
	srv.Browser(t).MustRegister(noEmail)
	srv.Clock.Advance(2 * time.Minute)

	send := func(identifier string) (string, apptest.Response) {
		r := srv.Browser(t)
		flow := mustStart(r, identifier)
		return flow, r.PostJSON("/api/v1/recovery/"+flow+"/codes", map[string]any{"method": "email"})
	}
	flow, withEmail := send(zhang.Login)
	_, without := send(noEmail.Login)
	_, missing := send("nobody_here")
	for name, r := range map[string]apptest.Response{"an account with an email": withEmail, "an account without": without, "no account": missing} {
		if r.Status != http.StatusAccepted || same(r.Body) != same(withEmail.Body) {
			t.Errorf("%s: %d %s, want the answer of %s", name, r.Status, r.Body, withEmail.Body)
		}
	}
	var code string
	for deadline := time.Now().Add(10 * time.Second); code == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, m := range srv.Outbox(t) {
			if m.To == "zhang@example.com" && m.Params["code"] != "" {
				code = m.Params["code"]
			}
		}
	}
	if code == "" {
		t.Fatal("no recovery mail reached the bound address")
	}
	if r := b.PostJSON("/api/v1/recovery/"+flow+"/proof", map[string]any{"method": "email", "code": code}); r.Status != http.StatusOK {
		t.Fatalf("prove by email: %d %s", r.Status, r.Body)
	}
	if r := b.PostJSON("/api/v1/recovery/"+flow+"/password", map[string]any{"password": newPassword, "password_confirm": newPassword}); r.Status != http.StatusNoContent {
		t.Fatalf("set password: %d %s", r.Status, r.Body)
	}
	srv.Browser(t).MustLogin(zhang.Login, newPassword)
	srv.App.Close() // waits for every mail and text still being handed over
	for _, m := range srv.App.Outbox.List() {
		if m.Params["code"] != "" && m.To != "zhang@example.com" && m.To != zhang.Phone && m.To != noEmail.Phone {
			t.Errorf("a code went to %s", m.To)
		}
	}
}

// TestProofsPerFlowAreLimited: a flow takes five tries (codes or answers);
// the sixth ends it, and the person starts again with a new captcha.
func TestProofsPerFlowAreLimited(t *testing.T) {
	srv := apptest.Start(t, nil)
	srv.Browser(t).MustRegister(zhang)
	b := srv.Browser(t)
	flow := mustStart(b, zhang.Login)
	for i := 1; i <= 5; i++ {
		if r := prove(b, flow, map[string]any{"method": "phone", "code": "000000"}); r.Status/100 != 4 || r.ErrCode(t) == "flow_expired" {
			t.Fatalf("try %d: %d %s, want the code refused and the flow still open", i, r.Status, r.Body)
		}
	}
	if r := prove(b, flow, map[string]any{"method": "phone", "code": "000000"}); r.Status != http.StatusGone || r.ErrCode(t) != "flow_expired" {
		t.Fatalf("sixth try: %d %s, want the flow over", r.Status, r.Body)
	}
	if r := sendRecoveryCode(b, flow); r.Status != http.StatusGone {
		t.Errorf("a code for the spent flow: %d %s", r.Status, r.Body)
	}
}

// startWithZhangsQuestions starts a server that can be put in a burst of
// hashes (busyConfig) and registers zhang with security questions; it
// returns the server and a browser of nobody's, for the recovery.
func startWithZhangsQuestions(t *testing.T) (*apptest.Server, *apptest.Browser) {
	srv := apptest.Start(t, func(c *config.Config) { busyConfig(c); c.CaptchaPerIPMinute = 1000 })
	b := srv.Browser(t)
	b.MustRegister(zhang)
	if r := setQuestions(b, zhangQuestions, zhangAnswers); r.Status != http.StatusOK {
		t.Fatalf("set questions: %d %s", r.Status, r.Body)
	}
	return srv, srv.Browser(t)
}

// TestRecoveryWhileTheHashQueueIsFull: answering the security questions
// and setting the new password, each of which hashes, are told "busy" in a
// burst before anything counts, alike for an account and for none: more
// refused answers than a flow allows leave it open, and a refused new
// password leaves it proven. A made-up flow, or one with no try left, is
// told it has expired, as outside a burst: it holds no place in the queue.
func TestRecoveryWhileTheHashQueueIsFull(t *testing.T) {
	srv, stranger := startWithZhangsQuestions(t)
	flow := mustStart(stranger, zhang.Login)
	nobody := mustStart(stranger, missing.Login)
	spent := mustStart(stranger, zhang.Login) // every try of it used up
	for range recovery.MaxProofs {
		prove(stranger, spent, map[string]any{"method": "phone", "code": "000000"})
	}
	stop := accounttest.Burst(t, srv.App.Hasher, 50)
	wrongAnswers := map[string]any{"method": "questions", "answers": []string{"Qingdao", "Mimi", "二小"}}
	for i := range recovery.MaxProofs + 1 {
		r := prove(stranger, flow, wrongAnswers)
		wantStatus(t, "answers in the burst", r, http.StatusServiceUnavailable, "busy")
		if i == 0 {
			if n := prove(stranger, nobody, wrongAnswers); n.Status != r.Status || busyText(n) != busyText(r) {
				t.Errorf("answers for no account in the burst: %d %s, for an account %d %s", n.Status, n.Body, r.Status, r.Body)
			}
			wantStatus(t, "answers to a made-up flow in the burst", prove(stranger, "k7q2m4x9v3b8n6c1k7q2m4x9v3", wrongAnswers), http.StatusGone, "flow_expired")
			wantStatus(t, "answers to a flow with no try left in the burst", prove(stranger, spent, wrongAnswers), http.StatusGone, "flow_expired")
		}
	}
	stop()
	if r := prove(stranger, flow, map[string]any{"method": "questions", "answers": zhangAnswers}); r.Status != http.StatusOK {
		t.Fatalf("right answers after the burst: %d %s", r.Status, r.Body)
	}
	stop = accounttest.Burst(t, srv.App.Hasher, 50)
	wantStatus(t, "new password in the burst", setNewPassword(stranger, flow, newPassword), http.StatusServiceUnavailable, "busy")
	stop()
	if r := setNewPassword(stranger, flow, newPassword); r.Status != http.StatusNoContent {
		t.Fatalf("new password after the burst: %d %s", r.Status, r.Body)
	}
	srv.Browser(t).MustLogin(zhang.Phone, newPassword)
}

// TestProofsPerAddressAreLimited: one address tries at most
// recovery.ProofsPerAddressHour proofs an hour over all its flows; the
// next is told to wait, in a burst of hashes too (not busy: it holds no
// place in the queue), and a refused proof counts nothing in its flow,
// which another address can still prove.
func TestProofsPerAddressAreLimited(t *testing.T) {
	srv, stranger := startWithZhangsQuestions(t)
	for n := 0; n < recovery.ProofsPerAddressHour; {
		f := mustStart(stranger, missing.Login)
		for range recovery.MaxProofs {
			if n++; n > recovery.ProofsPerAddressHour {
				break
			}
			if r := prove(stranger, f, map[string]any{"method": "phone", "code": "000000"}); r.Status/100 != 4 || r.Status == http.StatusTooManyRequests {
				t.Fatalf("proof %d: %d %s, want the code refused", n, r.Status, r.Body)
			}
		}
	}
	flow := mustStart(stranger, zhang.Login)
	answers := map[string]any{"method": "questions", "answers": zhangAnswers}
	r := prove(stranger, flow, answers)
	wantStatus(t, "the right answers past the address's proofs", r, http.StatusTooManyRequests, "recovery_rate_limited")
	if r.Header.Get("Retry-After") == "" {
		t.Error("the address's limit answered without Retry-After")
	}
	stop := accounttest.Burst(t, srv.App.Hasher, 50)
	for range recovery.MaxProofs {
		wantStatus(t, "answers past the address's proofs in a burst", prove(stranger, flow, answers), http.StatusTooManyRequests, "recovery_rate_limited")
	}
	stop()
	body, _ := json.Marshal(answers)
	other := stranger.Do("POST", "/api/v1/recovery/"+flow+"/proof", "application/json", bytes.NewReader(body), "X-Forwarded-For", "203.0.113.7")
	if other.Status != http.StatusOK {
		t.Fatalf("the same flow from another address, after %d refused proofs: %d %s", recovery.MaxProofs+1, other.Status, other.Body)
	}
}

// TestRecoveryWhoseOldSignInsCannotAllBeEnded: the new password is set
// even when what the old one signed in to cannot all be ended (here the
// database refuses to revoke the grant). The answer says so instead of
// asking for a retry, which would only find the flow spent; the lockout
// is lifted, the recovery recorded and the owner told what is left to do.
func TestRecoveryWhoseOldSignInsCannotAllBeEnded(t *testing.T) {
	srv := apptest.Start(t, nil)
	old, userID, rt := lockedOut(t, srv)
	db := srv.App.Store.(interface{ WriteDB() *sql.DB }).WriteDB()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TRIGGER refuse_revocation BEFORE UPDATE ON oauth_grants
		BEGIN SELECT RAISE(ABORT, 'revocation refused'); END`); err != nil {
		t.Fatal(err)
	}

	srv.Clock.Advance(2 * time.Minute)
	b := srv.Browser(t)
	flow := mustStart(b, zhang.Phone)
	seen := srv.OutboxLen(t)
	if r := sendRecoveryCode(b, flow); r.Status != http.StatusAccepted {
		t.Fatalf("send code: %d %s", r.Status, r.Body)
	}
	if r := prove(b, flow, map[string]any{"method": "phone", "code": waitNewCode(t, srv, zhang.Phone, seen)}); r.Status != http.StatusOK {
		t.Fatalf("proof: %d %s", r.Status, r.Body)
	}
	r := setNewPassword(b, flow, newPassword)
	if r.Status != http.StatusInternalServerError || r.ErrCode(t) != "password_changed_sessions_remain" || !strings.Contains(string(r.Body), "密码已修改") {
		t.Fatalf("set password with the grant unrevokable: %d %s", r.Status, r.Body)
	}
	if r := setNewPassword(b, flow, "Another#Pass2028"); r.Status != http.StatusGone {
		t.Errorf("the spent flow set a password again: %d %s", r.Status, r.Body)
	}
	if revoked(t, srv, rt) {
		t.Fatal("the trigger let the grant be revoked: the test tests nothing")
	}

	// The password is the new one, the lockout gone, the old session ended.
	if r := srv.Browser(t).Login(zhang.Login, zhang.Password); r.Status != http.StatusUnauthorized {
		t.Errorf("old password signed in: %d", r.Status)
	}
	srv.Browser(t).MustLogin(zhang.Login, newPassword)
	if r := old.Get("/api/v1/me"); r.Status != http.StatusUnauthorized {
		t.Errorf("old session still signed in: %d", r.Status)
	}
	if n := countEvents(t, srv, recovery.ActionCompleted, userID); n != 1 {
		t.Errorf("%d %s events, want 1", n, recovery.ActionCompleted)
	}
	if countNotices(t, srv, zhang.Phone, "部分已登录的设备未能退出") == 0 {
		t.Error("the owner was not told that some sign-ins remain")
	}
}
