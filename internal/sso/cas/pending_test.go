package cas_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"unid/internal/client"
)

// TestLoginPageNamesTheService: the login page of a CAS sign-in names the
// registered service and links back to the service URL, without a ticket;
// once the pending login is gone, it does neither.
func TestLoginPageNamesTheService(t *testing.T) {
	e := start(t, nil)
	const service = "https://estate.example.gov.cn/app/home"
	e.service(client.Spec{ID: "estate", Name: "不动产登记系统", RedirectURIs: []string{"https://estate.example.gov.cn/app/*"}})
	b := e.browser()
	r := b.Get("/cas/login?service=" + url.QueryEscape(service))
	if r.Status != http.StatusFound || !strings.HasPrefix(r.Location(), "/login?next=") {
		t.Fatalf("/cas/login: %d %q", r.Status, r.Location())
	}
	login := r.Location()
	page := html.UnescapeString(string(b.Get(login).Body))
	for _, want := range []string{"登录以继续使用 不动产登记系统", `id="login-back" href="` + service + `"`, "返回 不动产登记系统"} {
		if !strings.Contains(page, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	if strings.Contains(page, "ticket=") {
		t.Error("the way back carries a ticket")
	}

	e.srv.Clock.Advance(time.Hour) // the pending login expires
	page = string(b.Get(login).Body)
	if strings.Contains(page, `id="login-client"`) || strings.Contains(page, `id="login-back"`) {
		t.Error("an expired sign-in still names the service")
	}
}
