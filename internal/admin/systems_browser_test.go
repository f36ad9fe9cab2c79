package admin_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/operator"
	"unid/internal/store"
	"unid/internal/testenv/browsertest"
)

func chromiumTab(t *testing.T) context.Context { return browsertest.Tab(t) }

// page drives one tab.
type page struct {
	t   *testing.T
	ctx context.Context
}

func (p page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	browsertest.Do(p.t, p.ctx, steps...)
}

// until evaluates expr until it is a non-empty string or true, and
// returns it.
func (p page) until(expr string) string {
	p.t.Helper()
	return browsertest.Until(p.t, p.ctx, expr)
}

// typeInto empties the field id and types v, as the operator would.
func (p page) typeInto(id, v string) {
	p.t.Helper()
	p.until(`(document.getElementById(` + strconv.Quote(id) + `).value = "") === ""`)
	p.do(chromedp.SendKeys(chromedp.ID(id), v))
}

// TestBrowserSystems: a system administrator registers a CAS service,
// seeing the live check refuse a bad pattern first, and gives an OIDC
// client a new secret, which the page shows once.
func TestBrowserSystems(t *testing.T) {
	ctx := chromiumTab(t)
	srv := apptest.Start(t, nil)
	if _, _, err := srv.App.Clients.Create(context.Background(), client.Spec{ID: "bdc", Name: "不动产登记", Type: store.ClientOIDCConfidential,
		RedirectURIs: []string{"https://bdc.example.gov.cn/cb"}}, audit.Origin{Actor: audit.Operator("cli:test")}); err != nil {
		t.Fatal(err)
	}
	p := page{t, ctx}
	srv.ConsoleOperatorInBrowser(ctx, t, "sys1", operator.RoleSysadmin)
	p.do(chromedp.Click(chromedp.ID("nav-systems")))
	p.until(`location.pathname === "/console/systems" && !!document.getElementById("system-bdc")`)
	// Nobody has signed in to the system yet: the dashboard's counts say 0.
	if got := p.until(`document.querySelector("#system-bdc .count-today").textContent !== "…" && document.querySelector("#system-bdc .count-today").textContent`); got != "0" {
		t.Errorf("sign-ins today = %q, want 0", got)
	}
	row := p.until(`document.getElementById("system-bdc").textContent`)
	if !strings.Contains(row, "不动产登记") || !strings.Contains(row, "OIDC 机密客户端") {
		t.Errorf("row = %q", row)
	}

	// Register a CAS service; the bad pattern is refused while typing.
	p.do(chromedp.Click(chromedp.ID("system-new")), chromedp.WaitVisible(chromedp.ID("system-form")))
	p.until(`(function(){var s=document.getElementById("sys-type"); s.value="cas"; s.dispatchEvent(new Event("change")); return !document.getElementById("label-patterns").hidden})()`)
	p.typeInto("sys-name", "档案查询系统")
	p.typeInto("sys-id", "archive")
	p.typeInto("sys-redirects", "https://*")
	msg := p.until(`(function(){var e=document.getElementById("err-redirect_uris"); return e.hidden ? "" : e.textContent})()`)
	if !strings.Contains(msg, "地址") {
		t.Errorf("live validation says %q", msg)
	}
	if _, err := srv.App.Clients.Get(context.Background(), "archive"); err == nil {
		t.Fatal("validation registered the service")
	}
	p.typeInto("sys-redirects", "https://archive.example.gov.cn/*")
	p.until(`document.getElementById("err-redirect_uris").hidden && !document.getElementById("form-valid").hidden`)
	p.until(`(function(){var b=document.getElementById("scope-login-name"); if (!b.checked) { b.click(); } return b.checked})()`)
	p.do(chromedp.Click(chromedp.ID("system-save")))
	p.until(`location.search === "?id=archive" && document.getElementById("system-detail").textContent.indexOf("archive.example.gov.cn") >= 0`)
	c, err := srv.App.Clients.Get(context.Background(), "archive")
	if err != nil || c.Type != store.ClientCAS || c.Name != "档案查询系统" || c.RedirectURIs[0] != "https://archive.example.gov.cn/*" || c.Scopes[0] != "login_name" {
		t.Fatalf("registered %+v, %v", c, err)
	}
	if p.until(`String(document.getElementById("system-rotate").hidden)`) != "true" {
		t.Error("a CAS service is offered a secret")
	}

	// A new secret for the OIDC client, shown once.
	p.do(chromedp.Navigate(srv.URL + "/console/systems?id=bdc"))
	p.until(`!document.getElementById("system-rotate").hidden && document.getElementById("system-detail").textContent.indexOf("bdc") >= 0`)
	p.do(chromedp.Click(chromedp.ID("system-rotate")), chromedp.WaitVisible(chromedp.ID("rotate-confirm-button")),
		chromedp.Click(chromedp.ID("rotate-confirm-button")), chromedp.WaitVisible(chromedp.ID("secret-panel")))
	secret := p.until(`document.getElementById("secret-value").value`)
	if _, err := srv.App.Clients.Authenticate(context.Background(), "bdc", secret); err != nil {
		t.Fatalf("the secret shown does not authenticate: %v", err)
	}
	if warn := p.until(`document.getElementById("secret-warning").textContent`); !strings.Contains(warn, "只显示这一次") {
		t.Errorf("warning = %q", warn)
	}
	p.do(chromedp.Click(chromedp.ID("secret-copy")))
	p.until(`!document.getElementById("secret-copied").hidden`)
	p.do(chromedp.Click(chromedp.ID("secret-done")))
	p.until(`document.readyState === "complete" && location.search === "?id=bdc" && document.getElementById("secret-panel").hidden && document.getElementById("system-detail").textContent.indexOf("bdc") >= 0`)
	if html := p.until(`document.documentElement.outerHTML`); strings.Contains(html, secret) {
		t.Fatal("the secret is shown again")
	}
	if st, body, _ := send(t, srv.Client(), "GET", srv.URL+"/api/admin/v1/clients/bdc", ""); st != 401 || strings.Contains(string(mustJSON(body)), secret) {
		t.Fatalf("get = %d %v", st, body)
	}
}
