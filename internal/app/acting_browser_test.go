package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/store"
)

// TestBrowserIdentityPage: a CAS service registered for the attribute
// enterprise; the citizen signs in on unid's login page, the identity page
// offers themselves and their enterprise, they pick the enterprise and
// press Continue (identity.js posts the choice), and the service's ticket
// carries that enterprise.
func TestBrowserIdentityPage(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	p := &page{t: t, ctx: ctx, srv: srv}
	userID := srv.Browser(t).MustRegister(apptest.Zhang)
	uscc := tradeUSCC // active in the sandbox registry, which acting for an imported enterprise asks
	if err := srv.App.Enterprise.ImportHandler(context.Background(), userID, uscc, tradeName, audit.Origin{Actor: audit.Operator("import")}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var tickets []string
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tk := r.URL.Query().Get("ticket"); tk != "" { // not the favicon
			mu.Lock()
			tickets = append(tickets, tk)
			mu.Unlock()
		}
		io.WriteString(w, "<!doctype html><title>企业服务</title><p id=done>ok</p>")
	}))
	t.Cleanup(svc.Close)
	service := svc.URL + "/in"
	if _, _, err := srv.App.Clients.Create(context.Background(), client.Spec{ID: "qiye", Name: "企业服务", Type: store.ClientCAS,
		RedirectURIs: []string{svc.URL + "/*"}, Scopes: []string{"enterprise"}}, audit.Origin{Actor: audit.Operator("test")}); err != nil {
		t.Fatal(err)
	}

	p.do(chromedp.Navigate(srv.URL + "/cas/login?service=" + url.QueryEscape(service)))
	p.waitAt(srv.URL, "/login")
	p.fill("identifier", "zhang_san")
	p.fill("password", apptest.GoodPassword)
	p.solveCaptcha()
	p.click("login-submit")
	p.waitAt(srv.URL, "/sso/identity")
	if got := p.text("#identity-choices"); !strings.Contains(got, tradeName) || !strings.Contains(got, "本人") {
		t.Fatalf("identity page choices: %q", got)
	}
	p.do(chromedp.Click(chromedp.CSS(`input[value="` + uscc + `"]`)))
	p.click("identity-continue")
	p.waitAt(svc.URL, "/in")

	mu.Lock()
	if len(tickets) != 1 {
		t.Fatalf("the service received tickets %v; want one", tickets)
	}
	ticket := tickets[0]
	mu.Unlock()
	res, err := http.Get(srv.URL + "/cas/p3/serviceValidate?" + url.Values{"service": {service}, "ticket": {ticket}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), "<cas:enterprise_uscc>"+uscc+"</cas:enterprise_uscc>") ||
		!strings.Contains(string(body), "<cas:enterprise_role>handler</cas:enterprise_role>") {
		t.Fatalf("ticket validation:\n%s", body)
	}
}
