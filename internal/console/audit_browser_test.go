package console_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"unid/internal/account/accounttest"
	"unid/internal/admin"
	"unid/internal/audit"
	"unid/internal/operator"
	"unid/internal/store/sqlite"
	"unid/internal/testenv/browsertest"
)

// TestBrowserAudit: an auditor filters the trail by a network, opens an
// event, and verifies the chain, which the page reports intact with the
// number of events checked.
func TestBrowserAudit(t *testing.T) {
	ctx := chromiumTab(t)
	f := serve(t, func() []string { return nil }, func(d *admin.ConsoleDeps, st *sqlite.Store, fix *accounttest.Fixture) {
		d.Audit = admin.AuditDeps{Store: st, Log: fix.Audit, Accounts: fix.Accounts, Operators: st, Retention: 365 * 24 * time.Hour, Now: fix.Clock}
	})
	for i, ip := range []string{"10.1.2.3", "10.10.0.1", "10.1.200.7", "192.0.2.1"} {
		f.fix.Audit.Append(context.Background(), audit.Entry{Actor: audit.User("u" + strconv.Itoa(i)), Action: audit.ActionLogin, Result: audit.ResultOK, IP: ip, Subject: "138****567" + strconv.Itoa(i)})
	}
	f.setUpInBrowser(t, ctx, "shen", operator.RoleAuditor)
	run := func(steps ...chromedp.Action[chromedp.Void]) { t.Helper(); browsertest.Do(t, ctx, steps...) }
	text := func(sel string) string { t.Helper(); return browsertest.Text(t, ctx, sel) }
	rows := func() string {
		s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.prototype.map.call(document.querySelectorAll("#audit-body tr"), function (r) { return r.cells[4].textContent; }).join(" ")`))
		return s
	}
	waitRows := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if rows() == want {
				return
			}
		}
		t.Fatalf("rows show %q, want %q", rows(), want)
	}
	run(chromedp.Navigate(f.url+"/console/audit"), chromedp.WaitVisible(chromedp.ID("audit-filter")))
	if hint := text("#f-subject-hint"); !strings.Contains(hint, "加密") {
		t.Errorf("subject hint = %q", hint)
	}

	// A network not on octet boundaries is refused with the field's message.
	run(chromedp.SendKeys(chromedp.ID("f-ip"), "10.1.0.0/12"), chromedp.Click(chromedp.ID("audit-search")), chromedp.WaitVisible(chromedp.ID("audit-error")))
	if msg := text("#audit-error"); !strings.Contains(msg, "网段") {
		t.Errorf("error for 10.1.0.0/12 = %q", msg)
	}
	run(chromedp.SetValue(chromedp.ID("f-ip"), "10.1.0.0/16"), chromedp.Click(chromedp.ID("audit-search")))
	waitRows("10.1.200.7 10.1.2.3")

	run(chromedp.Click(chromedp.CSS("#audit-body tr:first-child")), chromedp.WaitVisible(chromedp.ID("audit-detail")))
	if d := text("#audit-detail-fields"); !strings.Contains(d, "10.1.200.7") || !strings.Contains(d, "138****5672") || !strings.Contains(d, "session.login") {
		t.Errorf("detail = %q", d)
	}

	n, err := audit.Verify(context.Background(), f.st)
	if err != nil {
		t.Fatal(err)
	}
	run(chromedp.Click(chromedp.ID("audit-verify")), chromedp.WaitVisible(chromedp.ID("verify-intact")))
	// The page reads the trail after the count above, and the verification
	// itself is recorded after it has run.
	if msg := text("#verify-intact"); !strings.Contains(msg, "哈希链完整") || !strings.Contains(msg, "已校验 "+strconv.FormatInt(n, 10)+" 条") {
		t.Errorf("verification = %q (want %d events)", msg, n)
	}
}
