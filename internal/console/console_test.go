package console_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"unid/internal/account/accounttest"
	"unid/internal/admin"
	"unid/internal/audit"
	"unid/internal/console"
	"unid/internal/flow"
	"unid/internal/httpx"
	"unid/internal/i18n"
	"unid/internal/operator"
	"unid/internal/store/sqlite"
	"unid/internal/store/sqlite/sqlitetest"
	"unid/internal/testenv/browsertest"
)

type fixture struct {
	url string
	st  *sqlite.Store
	fix *accounttest.Fixture
	ops *operator.Service
}

// noCookie is a request without a console cookie.
var noCookie = httptest.NewRequest("POST", "/api/admin/v1/sign-in", nil)

func start(t *testing.T) *fixture {
	return serve(t, func() []string { return []string{"realname.counter"} }, nil)
}

// serve starts the console's pages on a fresh store, and with api the
// operator API too, its dependencies completed by api (queues, the audit
// trail) beyond the responder and the operators.
func serve(t *testing.T, kinds func() []string, api func(*admin.ConsoleDeps, *sqlite.Store, *accounttest.Fixture)) *fixture {
	t.Helper()
	st := sqlitetest.New(t)
	fix := accounttest.New(t, st)
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	ops := operator.New(operator.Deps{Store: st, Counters: st, Hasher: fix.Hasher, Protector: fix.Protector, Audit: fix.Audit, Now: fix.Clock})
	c, err := console.New(console.Options{Catalog: cat, Operators: ops, Kinds: kinds})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	if api != nil {
		deps := admin.ConsoleDeps{Responder: httpx.NewResponder(cat, slog.New(slog.DiscardHandler), 1<<20), Operators: ops}
		api(&deps, st, fix)
		for _, r := range admin.NewConsoleAPI(deps).Routes() {
			mux.Handle(r.Pattern, r.Handler)
		}
	}
	mountPages(mux, c)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &fixture{url: srv.URL, st: st, fix: fix, ops: ops}
}

// setUpInBrowser makes an operator with role and sets their account up
// in the browser tab ctx, as they would from the set-up link: password,
// TOTP code, signed in.
func (f *fixture) setUpInBrowser(t *testing.T, ctx context.Context, login, role string) {
	t.Helper()
	token, code := f.newOperator(t, login, role)
	browsertest.Do(t, ctx, chromedp.Navigate(f.url+"/console/setup#"+token), chromedp.WaitVisible(chromedp.ID("setup-secret")),
		chromedp.SendKeys(chromedp.ID("password"), "Ops-Strong-Pass-2030"), chromedp.SendKeys(chromedp.ID("password2"), "Ops-Strong-Pass-2030"),
		chromedp.SendKeys(chromedp.ID("code"), code), chromedp.Click(chromedp.ID("setup-submit")),
		chromedp.WaitVisible(chromedp.ID("sign-out")))
}

// mountPages mounts the console's pages on mux as the app does.
func mountPages(mux *http.ServeMux, c *console.Console) {
	for _, r := range c.Routes() {
		mux.Handle(r.Pattern, r.Handler)
	}
}

// newOperator makes an operator with roles and returns their set-up
// token and a current TOTP code of their key.
func (f *fixture) newOperator(t *testing.T, login string, roles ...string) (token, code string) {
	t.Helper()
	ctx := context.Background()
	_, token, err := f.ops.Create(ctx, login, roles, audit.Origin{Actor: audit.Operator("cli:test")})
	if err != nil {
		t.Fatal(err)
	}
	k, err := f.ops.SetupKey(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	code, _ = totp.GenerateCode(k.Secret, f.fix.Now)
	return token, code
}

// signedIn returns the console cookie of a new operator with roles.
func (f *fixture) signedIn(t *testing.T, login string, roles ...string) *http.Cookie {
	t.Helper()
	token, code := f.newOperator(t, login, roles...)
	rec := httptest.NewRecorder()
	if _, err := f.ops.Setup(context.Background(), rec, noCookie, token, "Ops-Strong-Pass-2030", code, operatorClient); err != nil {
		t.Fatal(err)
	}
	return rec.Result().Cookies()[0]
}

var operatorClient = flow.NewClient("192.0.2.1", "test")

func get(t *testing.T, url string, cookies ...*http.Cookie) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestPages(t *testing.T) {
	f := start(t)
	reviewer := f.signedIn(t, "wang", operator.RoleReviewer)
	auditor := f.signedIn(t, "li", operator.RoleAuditor)
	sysadmin := f.signedIn(t, "zhao", operator.RoleSysadmin)
	tests := []struct {
		name     string
		path     string
		cookie   *http.Cookie
		status   int
		location string
		want     []string
		not      []string
	}{
		{"sign-in page in Chinese", "/console/sign-in", nil, 200, "", []string{"管理人员登录", "动态验证码"}, nil},
		{"sign-in page in English", "/console/sign-in?lang=en", nil, 200, "", []string{"Operator sign-in", "Authenticator code"}, []string{"管理人员登录"}},
		{"sign-in after a timeout", "/console/sign-in?expired=1", nil, 200, "", []string{`id="expired"`, "15 分钟"}, nil},
		{"a foreign next is dropped", "/console/sign-in?next=https://evil.example/", nil, 200, "", []string{`data-next="/console/"`}, []string{"evil.example"}},
		{"set-up page", "/console/setup", nil, 200, "", []string{"设置管理人员账号"}, nil},
		{"queue needs a session", "/console/reviews", nil, 303, "/console/sign-in?next=%2Fconsole%2Freviews", nil, nil},
		{"home goes to the first section", "/console/", reviewer, 303, "/console/dashboard", nil, nil},
		{"reviewer's queue", "/console/reviews", reviewer, 200, "", []string{"wang", "审核员", `id="sign-out"`, "线下实名核验", `id="nav-reviews"`}, nil},
		{"auditor reads an item but cannot decide", "/console/reviews/x1", auditor, 200, "", []string{`id="read-only"`, "审计员"}, []string{`id="approve"`}},
		{"reviewer decides", "/console/reviews/x1", reviewer, 200, "", []string{`id="approve"`, `id="reject"`}, nil},
		{"sysadmin sees no queue yet", "/console/reviews", sysadmin, 403, "", []string{`id="no-section"`}, []string{`id="nav-reviews"`}},
		{"sysadmin's systems", "/console/systems", sysadmin, 200, "", []string{`id="systems-body"`, "注册业务系统", `id="nav-operators"`, "systems.js"}, []string{`id="nav-reviews"`}},
		{"sysadmin's systems in English", "/console/systems?lang=en", sysadmin, 200, "", []string{"Register a system", "Service systems"}, []string{"注册业务系统"}},
		{"sysadmin's operators", "/console/operators", sysadmin, 200, "", []string{`id="operators-body"`, "三员分立", "operators.js"}, nil},
		{"a reviewer has no systems", "/console/systems", reviewer, 403, "", []string{`id="no-section"`}, []string{`id="systems-body"`, `id="nav-systems"`}},
		{"an auditor has no operators", "/console/operators", auditor, 403, "", []string{`id="no-section"`}, []string{`id="operators-body"`}},
		{"sysadmin's home is the dashboard", "/console/", sysadmin, 303, "/console/dashboard", nil, nil},
		{"unknown console page", "/console/nope", nil, 404, "", []string{"页面不存在"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cookies []*http.Cookie
			if tt.cookie != nil {
				cookies = append(cookies, tt.cookie)
			}
			res, body := get(t, f.url+tt.path, cookies...)
			if res.StatusCode != tt.status || res.Header.Get("Location") != tt.location {
				t.Fatalf("%s = %d %q; want %d %q", tt.path, res.StatusCode, res.Header.Get("Location"), tt.status, tt.location)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("%s lacks %q", tt.path, w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(body, w) {
					t.Errorf("%s shows %q", tt.path, w)
				}
			}
			if res.StatusCode == 200 {
				csp := res.Header.Get("Content-Security-Policy")
				if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || res.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("headers = %v", res.Header)
				}
				if strings.Contains(body, "<script>") || strings.Contains(body, "style=") || strings.Contains(body, "http://") || strings.Contains(body, "https://") {
					t.Errorf("%s has inline script or style, or an outside address", tt.path)
				}
			}
		})
	}
	// 15 idle minutes later the queue sends the browser to sign in, saying why.
	f.fix.Now = f.fix.Now.Add(15 * time.Minute)
	res, _ := get(t, f.url+"/console/reviews", reviewer)
	if res.StatusCode != 303 || !strings.Contains(res.Header.Get("Location"), "expired=1") {
		t.Fatalf("after the idle timeout = %d %s", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestStatic(t *testing.T) {
	f := start(t)
	_, page := get(t, f.url+"/console/sign-in")
	i := strings.Index(page, "/console/static/console.js?v=")
	if i < 0 {
		t.Fatal("no versioned script on the page")
	}
	src := page[i:]
	src = src[:strings.IndexByte(src, '"')]
	res, body := get(t, f.url+src)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") ||
		!strings.Contains(res.Header.Get("Cache-Control"), "immutable") || !strings.Contains(body, "consoleUI") {
		t.Fatalf("script = %d %v", res.StatusCode, res.Header)
	}
	if res, _ := get(t, f.url+"/console/static/nope.js"); res.StatusCode != 404 {
		t.Fatalf("missing asset = %d", res.StatusCode)
	}
}
