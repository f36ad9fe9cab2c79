package cas_test

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"unid/internal/app/apptest"
	"unid/internal/client"
	"unid/internal/testenv"
)

// Environment variables of the Apache test. scripts/test sets UNID_APACHE
// after installing apache2 and libapache2-mod-auth-cas.
const (
	apacheVar        = "UNID_APACHE"         // the apache2 binary
	apacheModulesVar = "UNID_APACHE_MODULES" // its modules; default /usr/lib/apache2/modules
)

// apacheBinary finds apache2 and mod_auth_cas, or ends the test through
// testenv.Unavailable.
func apacheBinary(t *testing.T) (bin, modules string) {
	t.Helper()
	bin = os.Getenv(apacheVar)
	if bin == "" {
		for _, c := range []string{"/usr/sbin/apache2", "/usr/sbin/httpd"} {
			if _, err := os.Stat(c); err == nil {
				bin = c
				break
			}
		}
	}
	if bin == "" {
		testenv.Unavailable(t, "Apache is not installed (set %s, or run scripts/test as root to install apache2 and libapache2-mod-auth-cas)", apacheVar)
		return "", ""
	}
	modules = os.Getenv(apacheModulesVar)
	if modules == "" {
		modules = "/usr/lib/apache2/modules"
	}
	if _, err := os.Stat(filepath.Join(modules, "mod_auth_cas.so")); err != nil {
		testenv.Unavailable(t, "mod_auth_cas is not installed in %s (Debian: libapache2-mod-auth-cas)", modules)
		return "", ""
	}
	return bin, modules
}

// whoami is the protected page: a CGI script that prints what Apache knows
// of the user after mod_auth_cas let the request through.
const whoami = `#!/bin/sh
printf 'Content-Type: text/plain\n\n'
printf 'REMOTE_USER=%s\n' "$REMOTE_USER"
`

type apacheConfig struct {
	Dir, Modules, UnidURL, User, Group string
	Port                               int
}

// startApache renders testdata/apache.conf.tmpl and runs Apache in the
// foreground on a free loopback port until the test ends. It returns the
// base URL and a function that reads the error log.
func startApache(t *testing.T, unidURL string, unidCert []byte) (string, func() string) {
	t.Helper()
	bin, modules := apacheBinary(t)
	dir := t.TempDir()
	cfg := apacheConfig{Dir: dir, Modules: modules, UnidURL: unidURL, Port: testenv.FreePort(t)}
	if os.Geteuid() == 0 {
		// Apache refuses to serve as root: its children run as an
		// unprivileged user, who must read the pages and write the
		// mod_auth_cas cookie directory.
		u, err := user.Lookup("www-data")
		if err != nil {
			testenv.Unavailable(t, "running as root and there is no www-data user for Apache's children")
			return "", nil
		}
		g, err := user.LookupGroupId(u.Gid)
		if err != nil {
			t.Fatal(err)
		}
		cfg.User, cfg.Group = u.Username, g.Name
		for _, d := range []string{filepath.Dir(dir), dir} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, d := range []string{"htdocs", "cgi/zhang", "cas-cookies"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "cas-cookies"), 0o777); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"cgi/whoami.cgi", "cgi/zhang/whoami.cgi"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(whoami), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "unid-cert.pem"), unidCert, 0o644); err != nil {
		t.Fatal(err)
	}
	tmpl, err := template.ParseFiles("testdata/apache.conf.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	var conf bytes.Buffer
	if err := tmpl.Execute(&conf, cfg); err != nil {
		t.Fatal(err)
	}
	confPath := filepath.Join(dir, "apache.conf")
	if err := os.WriteFile(confPath, conf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	errorLog := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		return string(b)
	}

	// Output goes to a file, not a pipe: Apache's children inherit it, and
	// a pipe would keep Wait waiting for them.
	outPath := filepath.Join(dir, "stdout.log")
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	output := func() string {
		b, _ := os.ReadFile(outPath)
		return string(b) + errorLog()
	}
	cmd := exec.Command(bin, "-f", confPath, "-DFOREGROUND")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its own group, to stop the children with it
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Apache: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM) // Apache's "stop": ends its children, then itself
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the group this test started
			<-exited
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", cfg.Port)
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("Apache exited: %v\n%s", err, output())
		default:
		}
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", cfg.Port), time.Second)
		if err == nil {
			c.Close()
			return base, errorLog
		}
		if time.Now().After(deadline) {
			t.Fatalf("Apache did not listen within 15 s:\n%s", output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestApacheModAuthCAS signs in to a page behind Apache's mod_auth_cas, a
// CAS client this project did not write: Apache sends the browser to
// /cas/login, unid sends it back with a ticket, Apache validates the
// ticket at /cas/p3/serviceValidate over TLS and serves the page as the
// user. mod_auth_cas validates only over HTTPS, so unid listens on TLS with
// httptest's self-signed loopback certificate, which Apache is told to
// trust.
func TestApacheModAuthCAS(t *testing.T) {
	e := start(t, nil)
	ts := httptest.NewUnstartedServer(e.srv.App.Handler)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})

	apache, errorLog := startApache(t, ts.URL, certPEM)
	defer func() {
		if t.Failed() {
			t.Logf("Apache error log:\n%s", errorLog())
		}
	}()
	e.service(client.Spec{
		ID: "apache", Name: "Apache 测试页", RedirectURIs: []string{apache + "/protected/*", apache + "/renew/*", apache + "/level3/*"},
		Scopes: []string{"login_name", "realname_level", "acr"},
	})
	userID := e.browser().MustRegister(zhang)

	// The browser trusts unid's certificate and keeps cookies of both sites.
	jar, _ := cookiejar.New(nil)
	tr := ts.Client().Transport.(*http.Transport).Clone()
	browser := &http.Client{Jar: jar, Transport: tr, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// api is the same browser on unid's JSON API, signing in as the login
	// page does.
	api := &apptest.Browser{T: t, Srv: e.srv, Client: browser, Base: ts.URL}
	get := func(target string) (int, string, string) {
		t.Helper()
		res, err := browser.Get(target)
		if err != nil {
			t.Fatalf("GET %s: %v", target, err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Location"), string(body)
	}
	// follow goes from target through redirects, stopping at the first
	// answer that is not one; it returns that answer and the URLs visited.
	follow := func(target string) (int, string, []string) {
		t.Helper()
		var visited []string
		for range 10 {
			visited = append(visited, target)
			status, loc, body := get(target)
			if status < 300 || status > 399 {
				return status, body, visited
			}
			next, err := url.Parse(loc)
			if err != nil {
				t.Fatalf("redirect to %q: %v", loc, err)
			}
			base, _ := url.Parse(target)
			target = base.ResolveReference(next).String()
		}
		t.Fatalf("too many redirects: %v", visited)
		return 0, "", nil
	}

	// 1. Not signed in at unid: Apache → /cas/login → unid's login page.
	page := apache + "/protected/whoami.cgi"
	status, loc, _ := get(page)
	if status != http.StatusFound || !strings.HasPrefix(loc, ts.URL+"/cas/login?service=") {
		t.Fatalf("protected page without a session: %d %q, want a redirect to unid's /cas/login", status, loc)
	}
	status, body, visited := follow(page)
	last := visited[len(visited)-1]
	if status != http.StatusOK || !strings.HasPrefix(last, ts.URL+"/login?next=") {
		t.Fatalf("ended at %s (%d), want unid's login page; visited %v", last, status, visited)
	}
	next, _ := url.Parse(last)

	// 2. Sign in as the login page does (JSON API, captcha, password).
	api.MustLogin("zhang_san", apptest.GoodPassword)

	// 3. Back to /cas/login/continue: ticket → Apache validates → page.
	status, body, visited = follow(ts.URL + next.Query().Get("next"))
	if status != http.StatusOK || !strings.Contains(body, "REMOTE_USER="+userID+"\n") {
		t.Fatalf("protected page after signing in: %d %q; visited %v", status, body, visited)
	}
	if !containsPrefix(visited, apache+"/protected/whoami.cgi?ticket=ST-") {
		t.Errorf("no visit to the page with a ticket: %v", visited)
	}

	// 4. Single sign-on: another location, no password, straight through;
	// mod_auth_cas authorizes on the CAS 3.0 attribute login_name.
	status, body, visited = follow(apache + "/protected/zhang/whoami.cgi")
	if status != http.StatusOK || !strings.Contains(body, "REMOTE_USER="+userID+"\n") {
		t.Fatalf("attribute-protected page: %d %q; visited %v", status, body, visited)
	}
	// An attribute the user lacks (realname_level 3): forbidden by Apache.
	if status, _, visited := follow(apache + "/level3/whoami.cgi"); status != http.StatusForbidden {
		t.Errorf("page requiring realname_level 3: %d, want 403; visited %v", status, visited)
	}

	// 5. renew: the unid session is not enough; the login page comes back.
	e.srv.Clock.Advance(time.Second)
	status, _, visited = follow(apache + "/renew/whoami.cgi")
	last = visited[len(visited)-1]
	if status != http.StatusOK || !strings.HasPrefix(last, ts.URL+"/login?next=") {
		t.Fatalf("renew page: ended at %s (%d), want unid's login page; visited %v", last, status, visited)
	}
	if !containsPrefix(visited, ts.URL+"/cas/login?service=") || !strings.Contains(strings.Join(visited, " "), "renew=true") {
		t.Errorf("mod_auth_cas did not ask for renew: %v", visited)
	}
	next, _ = url.Parse(last)
	e.srv.Clock.Advance(time.Second)
	api.MustLogin("zhang_san", apptest.GoodPassword)
	status, body, visited = follow(ts.URL + next.Query().Get("next"))
	if status != http.StatusOK || !strings.Contains(body, "REMOTE_USER="+userID+"\n") {
		t.Fatalf("renew page after signing in again: %d %q; visited %v", status, body, visited)
	}

	// One validation per mod_auth_cas cookie scope: /protected/ (which
	// covers /protected/zhang/), /level3/ and /renew/.
	issued := e.auditEvents("cas.ticket_validated")
	if len(issued) != 3 {
		t.Errorf("%d validations audited, want 3", len(issued))
	}
	for _, ev := range issued {
		if ev.Subject != "apache" || ev.Actor != userID {
			t.Errorf("validation audited as %+v", ev)
		}
	}

	// 6. Single logout: signing out at unid ends mod_auth_cas's sessions
	// (it answers the logout request with a redirect, which counts as
	// delivered), so the protected page asks unid again.
	req, _ := http.NewRequest(http.MethodDelete, ts.URL+"/api/v1/sessions/current", nil)
	res, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	if failed := e.auditEvents("cas.logout_failed"); len(failed) != 0 {
		t.Errorf("single logout audited as failed %d times: %+v", len(failed), failed)
	}
	if sent := e.auditEvents("cas.logout_sent"); len(sent) != 3 {
		t.Errorf("%d single logouts audited as delivered, want 3 (one per ticket)", len(sent))
	}
	if strings.Contains(e.srv.Logs.String(), "single logout not delivered") {
		t.Errorf("a delivered single logout was logged as a failure:\n%s", e.srv.Logs.String())
	}
	if status, loc, _ := get(page); status != http.StatusFound || !strings.HasPrefix(loc, ts.URL+"/cas/login?service=") {
		t.Errorf("protected page after single logout: %d %q, want a redirect to unid's /cas/login", status, loc)
	}
}

func containsPrefix(l []string, prefix string) bool {
	for _, s := range l {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// TestApacheEnterpriseAttributes: mod_auth_cas reads the enterprise the
// user chose on the identity page from unid's CAS 3.0 attributes and
// authorizes on the role.
func TestApacheEnterpriseAttributes(t *testing.T) {
	e := start(t, nil)
	ts := httptest.NewUnstartedServer(e.srv.App.Handler)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	apache, errorLog := startApache(t, ts.URL, certPEM)
	defer func() {
		if t.Failed() {
			t.Logf("Apache error log:\n%s", errorLog())
		}
	}()
	e.service(client.Spec{
		ID: "apache", Name: "企业服务", RedirectURIs: []string{apache + "/handler/*", apache + "/admin/*"}, Scopes: []string{"enterprise"},
	})
	userID := e.browser().MustRegister(zhang)
	e.addMember(userID, acme, "handler", []string{"财务"}, true)

	jar, _ := cookiejar.New(nil)
	tr := ts.Client().Transport.(*http.Transport).Clone()
	browser := &http.Client{Jar: jar, Transport: tr, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	api := &apptest.Browser{T: t, Srv: e.srv, Client: browser, Base: ts.URL}
	api.MustLogin("zhang_san", apptest.GoodPassword)
	follow := func(target string) (int, string, []string) {
		t.Helper()
		var visited []string
		for range 10 {
			visited = append(visited, target)
			res, err := browser.Get(target)
			if err != nil {
				t.Fatalf("GET %s: %v", target, err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			loc := res.Header.Get("Location")
			if res.StatusCode < 300 || res.StatusCode > 399 || loc == "" {
				return res.StatusCode, string(body), visited
			}
			next, err := url.Parse(loc)
			if err != nil {
				t.Fatal(err)
			}
			base, _ := url.Parse(target)
			target = base.ResolveReference(next).String()
		}
		t.Fatalf("too many redirects: %v", visited)
		return 0, "", nil
	}

	// The identity page first; the choice is posted as the page does.
	status, _, visited := follow(apache + "/handler/whoami.cgi")
	last, _ := url.Parse(visited[len(visited)-1])
	if status != http.StatusOK || last.Path != "/sso/identity" {
		t.Fatalf("ended at %s (%d), want the identity page; visited %v", last, status, visited)
	}
	if r := api.PostJSON("/api/v1/sessions/current/acting", map[string]string{"uscc": acme.uscc}); r.Status != http.StatusOK {
		t.Fatalf("choose: %d %s", r.Status, r.Body)
	}
	status, body, visited := follow(ts.URL + last.Query().Get("next"))
	if status != http.StatusOK || !strings.Contains(body, "REMOTE_USER="+userID+"\n") {
		t.Fatalf("handler page as acme's handler: %d %q; visited %v", status, body, visited)
	}
	// The administrator's page: no identity page again, and Apache refuses
	// a handler.
	if status, _, visited := follow(apache + "/admin/whoami.cgi"); status != http.StatusForbidden || containsPrefix(visited, ts.URL+"/sso/identity") {
		t.Fatalf("admin page as a handler: %d; visited %v", status, visited)
	}
}
