package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"unid/internal/app/apptest"
	"unid/internal/operator"
	"unid/internal/testenv/browsertest"
)

// passkeyTab is a Chromium tab with a virtual authenticator that holds
// discoverable credentials and verifies its user (fingerprint or PIN).
func passkeyTab(t *testing.T) context.Context {
	ctx := browsertest.Tab(t)
	browsertest.Passkeys(t, ctx)
	return ctx
}

// localhost is the address of srv as passkeys know it: a browser takes no
// IP address as a relying party, so unid on 127.0.0.1 is localhost.
func localhost(srv *apptest.Server) string {
	return strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
}

// TestBrowserPasskey: an operator signs in with password + TOTP, opens the
// security page, is refused a passkey without the right code, adds one
// with a name and a fresh code, signs out, and signs in with the passkey
// button alone, whatever name the login field holds; the console opens,
// and the passkey shows as used.
func TestBrowserPasskey(t *testing.T) {
	ctx := passkeyTab(t)
	srv := apptest.Start(t, nil)
	base := localhost(srv)
	id, link := srv.CreateOperator(t, "zhou", operator.RoleAuditor)
	op := apptest.ConsoleOperator{ID: id, Login: "zhou", Password: apptest.OperatorPassword}
	op.Secret = srv.SetUpOperatorInBrowser(ctx, t, strings.Replace(link, srv.URL, base, 1))
	run := func(steps ...chromedp.Action[chromedp.Void]) { t.Helper(); browsertest.Do(t, ctx, steps...) }
	text := func(sel string) string { t.Helper(); return browsertest.Text(t, ctx, sel) }
	waitText := func(sel, want string) string {
		t.Helper()
		var got string
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			got, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector(`+"`"+sel+"`"+`) || {}).textContent || ""`))
			if strings.Contains(got, want) {
				return got
			}
		}
		t.Fatalf("%s never said %q; it says %q", sel, want, got)
		return ""
	}
	run(chromedp.WaitEnabled(chromedp.ID("sign-out")), chromedp.Click(chromedp.ID("sign-out")))
	waitText("h1", "管理人员登录")
	srv.SignInOperatorInBrowser(ctx, t, op)

	run(chromedp.Navigate(base+"/console/security"), chromedp.WaitVisible(chromedp.ID("passkeys-empty")))
	if nav := text("nav"); !strings.Contains(nav, "账号安全") {
		t.Errorf("navigation = %q", nav)
	}
	// A wrong code: said on the page, nothing added.
	run(chromedp.WaitEnabled(chromedp.ID("passkey-add")),
		chromedp.SendKeys(chromedp.ID("passkey-name"), "办公电脑"), chromedp.SendKeys(chromedp.ID("passkey-code"), "000000"),
		chromedp.Click(chromedp.ID("passkey-add")))
	waitText("#form-error", "动态验证码不正确")
	if list, err := srv.App.Store.ListOperatorPasskeys(context.Background(), id); err != nil || len(list) != 0 {
		t.Fatalf("a wrong code added %v (%v)", list, err)
	}
	run(chromedp.SendKeys(chromedp.ID("passkey-code"), srv.TOTP(t, op.Secret)), chromedp.Click(chromedp.ID("passkey-add")))
	waitText("#passkeys-status", "已添加通行密钥“办公电脑”")
	if row := waitText("#passkey-0", "办公电脑"); !strings.Contains(row, "从未") {
		t.Errorf("new passkey row = %q", row)
	}

	// Signing in with the passkey names nobody: a name left in the login
	// field, even another's, is not sent; the passkey says who signs in.
	run(chromedp.Click(chromedp.ID("sign-out")))
	waitText("h1", "管理人员登录")
	if hint := text("#passkey-area"); !strings.Contains(hint, "无需填写登录名") {
		t.Errorf("passkey hint = %q", hint)
	}
	srv.Clock.Advance(time.Minute)
	run(chromedp.SendKeys(chromedp.ID("login"), "qian"),
		chromedp.WaitEnabled(chromedp.ID("passkey-sign-in")), chromedp.Click(chromedp.ID("passkey-sign-in")))
	waitText("#operator-name", "zhou")
	run(chromedp.Navigate(base + "/console/security"))
	if row := waitText("#passkey-0", "办公电脑"); strings.Contains(row, "从未") {
		t.Errorf("after signing in with it the passkey row = %q", row)
	}
	events, err := srv.App.Store.ListAudit(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var added, failed, passkeySignIns int
	for _, e := range events {
		switch {
		case e.Action == operator.ActionPasskeyAdded && e.Result == "ok" && e.Actor == "operator:"+id:
			added++
		case e.Action == operator.ActionPasskeyAdded && e.Result != "ok":
			failed++
		case e.Action == operator.ActionSignIn && strings.Contains(e.Detail, `"method":"passkey"`):
			passkeySignIns++
		}
	}
	if added != 1 || failed != 1 || passkeySignIns != 1 {
		t.Errorf("audit: %d passkeys added, %d refused, %d passkey sign-ins; want 1, 1, 1", added, failed, passkeySignIns)
	}
}
