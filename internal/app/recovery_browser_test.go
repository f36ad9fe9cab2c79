package app_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"unid/internal/app/apptest"
	"unid/internal/audit"
)

// newCode waits for a code to phone that is not among the first seen
// messages of the outbox.
func newCode(t *testing.T, srv *apptest.Server, phone string, seen int) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		msgs := srv.Outbox(t)
		for _, m := range msgs[:len(msgs)-seen] {
			if m.To == phone && m.Params["code"] != "" {
				return m.Params["code"]
			}
		}
	}
	t.Fatalf("no new code reached %s", phone)
	return ""
}

func TestBrowserSetSecurityQuestions(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	srv.Browser(t).MustRegister(apptest.Zhang)
	p := &page{t: t, ctx: ctx, srv: srv}

	p.do(chromedp.Navigate(srv.URL + "/login"))
	p.login(apptest.Zhang.Login, apptest.Zhang.Password)
	p.do(chromedp.Navigate(srv.URL + "/settings"))
	p.click("settings-questions")
	p.waitPath("/settings/questions")
	if s := eventually[string](p, `document.getElementById("questions-status").textContent`); !strings.Contains(s, "尚未设置") {
		t.Errorf("status before = %q", s)
	}
	for i, q := range []string{"birthplace", "first_pet", "primary_school"} {
		n := string(rune('1' + i))
		p.do(chromedp.SetValue(chromedp.ID("question"+n), q))
		p.fill("answer"+n, []string{"济南", "Huang Huang", "实验小学"}[i])
	}
	p.click("questions-submit")
	status := eventually[string](p, `(document.getElementById("questions-status").textContent.indexOf("已设置") >= 0) && document.getElementById("questions-status").textContent`)
	if !strings.Contains(status, "已设置") {
		t.Errorf("status after = %q", status)
	}
	// The answers are gone from the page, and nothing shows them.
	if body := p.text("main"); strings.Contains(body, "Huang Huang") {
		t.Error("the page still shows an answer")
	}
}

func TestBrowserRecoverByPhone(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	srv.Browser(t).MustRegister(apptest.Zhang)
	srv.Clock.Advance(2 * time.Minute) // past the registration code's minute
	p := &page{t: t, ctx: ctx, srv: srv}

	p.startRecovery(apptest.Zhang.Login)
	seen := srv.OutboxLen(t)
	p.click("send-code")
	code := newCode(t, srv, apptest.Zhang.Phone, seen)
	if s := eventually[string](p, `document.getElementById("code-status").textContent`); !strings.Contains(s, "如该账号绑定了手机号码，验证码已发送") {
		t.Errorf("code status = %q", s)
	}
	p.fill("code", code)
	p.click("proof-submit")
	p.finishRecovery(apptest.Zhang.Login, recoveredPassword)
}

// TestBrowserRecoveryWhoseOldSignInsRemain: when the database refuses to
// end the account's old sessions, the page still finishes the recovery
// (the password is set and the flow spent) and says what is left to do,
// instead of a form whose retry could only fail.
func TestBrowserRecoveryWhoseOldSignInsRemain(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	srv.Browser(t).MustRegister(apptest.Zhang) // signed in: a session to end
	srv.Clock.Advance(2 * time.Minute)
	db := srv.App.Store.(interface{ WriteDB() *sql.DB }).WriteDB()
	if _, err := db.ExecContext(context.Background(), `CREATE TRIGGER keep_sessions BEFORE DELETE ON sessions
		BEGIN SELECT RAISE(ABORT, 'sessions kept'); END`); err != nil {
		t.Fatal(err)
	}
	p := &page{t: t, ctx: ctx, srv: srv}
	p.startRecovery(apptest.Zhang.Login)
	seen := srv.OutboxLen(t)
	p.click("send-code")
	p.fill("code", newCode(t, srv, apptest.Zhang.Phone, seen))
	p.click("proof-submit")
	p.setRecoveredPassword(recoveredPassword)
	if s := p.text("#done-sessions-remain"); !strings.Contains(s, "密码已修改，但未能让其他设备全部退出登录") {
		t.Errorf("done status = %q", s)
	}
	if v := eventually[string](p, `String(document.getElementById("done-status").hidden)`); v != "true" {
		t.Error("the page also says every device was signed out")
	}
	if v := eventually[string](p, `document.getElementById("password").value + "|" + document.getElementById("recover-password").hidden`); v != "|true" {
		t.Errorf("the password form after the recovery: %q, want empty and hidden", v)
	}
	p.click("to-login-done")
	p.waitPath("/login")
	p.login(apptest.Zhang.Login, recoveredPassword)
}

// recoveredPassword is the new password the recovery tests set.
const recoveredPassword = "Jinan#Spring2027"

// startRecovery goes from the login page's 忘记密码 through the identifier
// and captcha to the choice of proof.
func (p *page) startRecovery(identifier string) {
	p.t.Helper()
	p.do(chromedp.Navigate(p.srv.URL + "/login"))
	p.click("forgot-password")
	p.waitPath("/recover")
	p.fill("identifier", identifier)
	p.solveCaptcha()
	p.click("start-submit")
	p.do(chromedp.WaitVisible(chromedp.ID("recover-proof")))
}

// finishRecovery sets password once the proof is accepted, follows the
// page to the login and signs in with it.
func (p *page) finishRecovery(identifier, password string) {
	p.t.Helper()
	p.setRecoveredPassword(password)
	if s := p.text("#done-status"); !strings.Contains(s, "密码已重设") {
		p.t.Errorf("done status = %q", s)
	}
	p.click("to-login-done")
	p.waitPath("/login")
	p.login(identifier, password)
}

// setRecoveredPassword sets password once the proof is accepted, and
// waits for the page to say it is done.
func (p *page) setRecoveredPassword(password string) {
	p.t.Helper()
	p.do(chromedp.WaitVisible(chromedp.ID("recover-password")))
	p.fill("password", password)
	p.fill("password_confirm", password)
	p.click("password-submit")
	p.do(chromedp.WaitVisible(chromedp.ID("recover-done")))
}

// TestBrowserRecoverByQuestions recovers by the security questions at phone
// width: the page shows the account's three questions, says so when an
// answer is wrong, and takes the right ones.
func TestBrowserRecoverByQuestions(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	b.MustRegister(apptest.Zhang)
	set := map[string]any{"answers": []map[string]string{
		{"question": "birthplace", "answer": "济南"},
		{"question": "first_pet", "answer": "Huang Huang"},
		{"question": "primary_school", "answer": "实验小学"},
	}}
	if r := b.Do(http.MethodPut, "/api/v1/security-questions", "application/json", strings.NewReader(mustJSON(t, set))); r.Status != http.StatusOK {
		t.Fatalf("set questions: %d %s", r.Status, r.Body)
	}
	p := &page{t: t, ctx: ctx, srv: srv}

	p.startRecovery(apptest.Zhang.Login)
	p.click("method-questions")
	p.do(chromedp.WaitVisible(chromedp.ID("answer1")))
	// The phone's code is not asked for: the answers alone prove the account.
	if visible := eventually[string](p, `String(!document.getElementById("code-block").hidden)`); visible != "false" {
		t.Error("the code field shows beside the questions")
	}
	for i, want := range []string{"您的出生地是哪里？", "您的第一个宠物叫什么名字？", "您就读的小学叫什么名字？"} {
		n := string(rune('1' + i))
		if got := eventually[string](p, `document.getElementById("question`+n+`-label").textContent`); got != want {
			t.Errorf("question %s = %q, want %q", n, got, want)
		}
	}

	// One wrong answer: the page says so next to the form, and stays.
	p.fill("answer1", "青岛")
	p.fill("answer2", "Huang Huang")
	p.fill("answer3", "实验小学")
	p.click("proof-submit")
	if msg := eventually[string](p, `document.getElementById("form-error").textContent`); !strings.Contains(msg, "密保问题的答案不正确") {
		t.Errorf("wrong answers message = %q", msg)
	}
	p.screenshot("recover-questions-wrong")
	if hidden := eventually[string](p, `String(document.getElementById("recover-password").hidden)`); hidden != "true" {
		t.Fatal("wrong answers led on to the new password")
	}

	p.refill("answer1", "济南")
	p.click("proof-submit")
	p.finishRecovery(apptest.Zhang.Login, recoveredPassword)
}

// TestBrowserRecoverByEmail recovers by a code mailed to the bound address
// at phone width, read from the dev outbox as a person reads their mail.
func TestBrowserRecoverByEmail(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	userID := srv.Browser(t).MustRegister(apptest.Zhang)
	const email = "zhang@example.com"
	if err := srv.App.Accounts.SetEmail(context.Background(), userID, email, audit.User(userID)); err != nil {
		t.Fatal(err)
	}
	srv.Clock.Advance(2 * time.Minute) // past the registration code's minute
	p := &page{t: t, ctx: ctx, srv: srv}

	p.startRecovery(apptest.Zhang.Login)
	p.click("method-email")
	// The page tells where the code goes: to the mailbox, not the phone.
	if s := eventually[string](p, `document.getElementById("code-label").textContent`); s != "邮箱验证码" {
		t.Errorf("code label = %q, want 邮箱验证码", s)
	}
	if s := p.text("#code-hint"); !strings.Contains(s, "电子邮箱") || strings.Contains(s, "手机") {
		t.Errorf("code hint = %q", s)
	}
	p.click("send-code")
	if s := eventually[string](p, `document.getElementById("code-status").textContent`); !strings.Contains(s, "如该账号绑定了电子邮箱，验证码已发送") {
		t.Errorf("code status = %q", s)
	}
	p.screenshot("recover-email-sent")
	p.fill("code", mailedCode(t, srv, email))
	p.click("proof-submit")
	p.finishRecovery(apptest.Zhang.Login, recoveredPassword)
}

// mailedCode waits for a code mailed to address; mails go out in the
// background.
func mailedCode(t *testing.T, srv *apptest.Server, address string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, m := range srv.Outbox(t) {
			if m.To == address && m.Params["code"] != "" {
				return m.Params["code"]
			}
		}
	}
	t.Fatalf("no code reached %s", address)
	return ""
}

// refill replaces what was typed in the input with id: chromedp.Clear only
// resets the value attribute, not what a person typed, so it empties the
// input by script, then types as a person would.
func (p *page) refill(id, v string) {
	p.t.Helper()
	eventually[bool](p, `(document.getElementById("`+id+`").value = "") === ""`)
	p.do(chromedp.SendKeys(chromedp.ID(id), v))
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
