package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"unid/internal/app/apptest"
	"unid/internal/operator"
	"unid/internal/testenv/browsertest"
)

// TestBrowserTokens: an operator signed in to the console opens the
// security page, is refused a token for a wrong code, creates one with a
// name, a life and a fresh code, sees it once with its warning, and a
// script (a Go HTTP client) using it is that operator on
// /api/admin/v1/me. Once dismissed the token is nowhere on the page;
// revoking it on the page stops the script.
func TestBrowserTokens(t *testing.T) {
	ctx := chromiumTab(t)
	srv := apptest.Start(t, nil)
	op := srv.ConsoleOperatorInBrowser(ctx, t, "feng", operator.RoleSecadmin)
	run := func(steps ...chromedp.Action[chromedp.Void]) { t.Helper(); browsertest.Do(t, ctx, steps...) }
	eval := func(expr string) string {
		t.Helper()
		s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		return s
	}
	waitText := func(sel, want string) string {
		t.Helper()
		var got string
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			got = eval(`(document.querySelector(` + "`" + sel + "`" + `) || {}).textContent || ""`)
			if strings.Contains(got, want) {
				return got
			}
		}
		t.Fatalf("%s never said %q; it says %q", sel, want, got)
		return ""
	}
	script := func(token string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+"/api/admin/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m
	}

	run(chromedp.Navigate(srv.URL+"/console/security"), chromedp.WaitVisible(chromedp.ID("tokens-empty")))
	waitText("#tokens-title", "API 令牌")
	// A wrong code: said on the page, nothing created.
	run(chromedp.WaitEnabled(chromedp.ID("token-add")),
		chromedp.SendKeys(chromedp.ID("token-name"), "每晚导出"), chromedp.SendKeys(chromedp.ID("token-code"), "000000"),
		chromedp.Click(chromedp.ID("token-add")))
	waitText("#token-error", "动态验证码不正确")
	if list, err := srv.App.Store.ListOperatorTokens(context.Background(), op.ID); err != nil || len(list) != 0 {
		t.Fatalf("a wrong code created %v (%v)", list, err)
	}

	run(chromedp.SetValue(chromedp.ID("token-days"), "7"),
		chromedp.SendKeys(chromedp.ID("token-code"), srv.TOTP(t, op.Secret)), chromedp.Click(chromedp.ID("token-add")))
	waitText("#tokens-status", "已创建 API 令牌“每晚导出”")
	token := eval(`document.getElementById("token-value").value`)
	if !strings.HasPrefix(token, operator.TokenPrefix) {
		t.Fatalf("the page shows %q, want a token", token)
	}
	if w := waitText("#token-warning", "只显示这一次"); eval(`String(document.getElementById("token-panel").hidden)`) != "false" {
		t.Errorf("the warning %q is not shown", w)
	}
	row := waitText("#token-0", "每晚导出")
	if !strings.Contains(row, "从未") || strings.Contains(row, token) {
		t.Errorf("new token row = %q", row)
	}
	if dir := os.Getenv("UNID_SCREENSHOTS"); dir != "" { // to look at the page
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, "console-tokens.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	st, me := script(token)
	if st != 200 || me["login_name"] != "feng" || me["id"] != op.ID {
		t.Fatalf("the script's /me: %d %v", st, me)
	}

	// Dismissed, the token is gone from the page, and a new visit does
	// not show it either.
	run(chromedp.Click(chromedp.ID("token-done")))
	if v := eval(`document.getElementById("token-value").value + String(document.getElementById("token-panel").hidden)`); v != "true" {
		t.Errorf("after done: %q", v)
	}
	run(chromedp.Navigate(srv.URL + "/console/security"))
	row = waitText("#token-0", "每晚导出")
	if strings.Contains(eval(`document.documentElement.outerHTML`), token) {
		t.Errorf("the page shows the token again")
	}
	if strings.Contains(row, "从未") {
		t.Errorf("after the script's call the row = %q", row)
	}

	// Revoked on the page: the script is refused.
	eval(`window.confirm = function () { return true; }, ""`)
	run(chromedp.Click(chromedp.CSS("#token-0 .token-revoke")))
	waitText("#tokens-status", "已撤销 API 令牌“每晚导出”")
	if st, body := script(token); st != 401 {
		t.Fatalf("a revoked token: %d %v", st, body)
	}
	if strings.Contains(srv.Logs.String(), token) {
		t.Errorf("the token is in the logs")
	}
}
