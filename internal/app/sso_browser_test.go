package app_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"unid/examples/servicehall/hall"
	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/store"
)

// TestBrowserSSOAcrossServiceSystems walks the single-sign-on
// scenario of a citizen with two government service systems (the demo
// service hall, twice, as two registered clients): sign in to the first
// through unid's login page, enter the second without a password, sign out
// at unid and find both signed out (back-channel logout); then sign out from
// a service system (RP-initiated logout) and find unid and the other system
// signed out too.
func TestBrowserSSOAcrossServiceSystems(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	requireOpenIDProvider(t, srv)
	p := &page{t: t, ctx: ctx, srv: srv}
	const login, phone, password = "wang_fang", "13712345678", "Qilu#Harbor2026"
	// Registered through the JSON API, as the mobile app would.
	srv.Browser(t).MustRegister(apptest.Person{Login: login, Password: password, Phone: phone})

	hallA := startServiceHall(t, srv, "hall-a", "网上办事大厅")
	hallB := startServiceHall(t, srv, "hall-b", "不动产登记系统")

	// The first system sends the browser to unid's login page and gets back
	// a verified identity.
	p.do(chromedp.Navigate(hallA.url + "/"))
	hallA.waitSignedOut(p)
	if got := p.text("#title"); got != "网上办事大厅" {
		t.Errorf("first hall's title = %q", got)
	}
	p.click("signin")
	p.waitAt(srv.URL, "/login")
	p.fill("identifier", login)
	p.fill("password", password)
	p.solveCaptcha()
	p.click("login-submit")
	hallA.waitSignedIn(p)
	claims := p.claims()
	for name, want := range map[string]string{
		"preferred_username": login,
		"realname_level":     "0",
		"acr":                "urn:unid:acr:realname:0",
		"phone_number":       phone[1:], // with or without +86
	} {
		if !strings.Contains(claims[name], want) {
			t.Errorf("claim %s = %q, want it to contain %q (all: %v)", name, claims[name], want, claims)
		}
	}
	if claims["sub"] == "" || claims["sub"] == login {
		t.Errorf("sub = %q: want a stable opaque subject", claims["sub"])
	}
	if claims["sid"] == "" {
		t.Errorf("the ID token carries no sid, so back-channel logout cannot name the session: %v", claims)
	}
	prompts := p.loginPagesVisited()

	// The second system signs the same person in without a password prompt.
	p.do(chromedp.Navigate(hallB.url + "/"))
	hallB.waitSignedOut(p)
	if got := p.text("#title"); got != "不动产登记系统" {
		t.Errorf("second hall's title = %q", got)
	}
	p.click("signin")
	hallB.waitSignedIn(p)
	if n := p.loginPagesVisited(); n != prompts {
		t.Errorf("the second system showed unid's login page again (%d login pages, before %d)", n, prompts)
	}
	if b := p.claims(); b["sub"] != claims["sub"] || b["sid"] != claims["sid"] {
		t.Errorf("second system sees sub %q sid %q, first sub %q sid %q", b["sub"], b["sid"], claims["sub"], claims["sid"])
	}

	// Signing out at unid (the personal space) signs out of both systems.
	p.do(chromedp.Navigate(srv.URL + "/me"))
	p.waitAt(srv.URL, "/me")
	p.logout()
	for _, h := range []*serviceHall{hallA, hallB} {
		h.waitSessions(t, 0)
		p.do(chromedp.Navigate(h.url + "/"))
		h.waitSignedOut(p)
	}

	// Signing out from a service system (RP-initiated logout) ends the unid
	// session and, through it, the other system's session.
	p.do(chromedp.Navigate(hallA.url + "/"))
	p.click("signin")
	p.waitAt(srv.URL, "/login") // unid forgot the user: the password is asked again
	p.fill("identifier", phone)
	p.fill("password", password)
	p.solveCaptcha()
	p.click("login-submit")
	hallA.waitSignedIn(p)
	p.do(chromedp.Navigate(hallB.url + "/"))
	p.click("signin")
	hallB.waitSignedIn(p)
	p.do(chromedp.Navigate(hallA.url + "/"))
	hallA.waitSignedIn(p)
	p.click("signout")
	hallA.waitSignedOut(p) // back from unid's end_session_endpoint
	hallA.waitSessions(t, 0)
	hallB.waitSessions(t, 0)
	p.do(chromedp.Navigate(hallB.url + "/"))
	hallB.waitSignedOut(p)
	p.do(chromedp.Navigate(srv.URL + "/me"))
	p.waitAt(srv.URL, "/login")
}

// requireOpenIDProvider fails the test early, with a clear message, when
// unid does not serve OpenID Connect discovery.
func requireOpenIDProvider(t *testing.T, srv *apptest.Server) {
	t.Helper()
	res, err := http.Get(srv.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /.well-known/openid-configuration: %d: the OpenID provider is not mounted", res.StatusCode)
	}
}

// serviceHall is a demo service system registered in unid as a confidential
// first-party client with back-channel logout.
type serviceHall struct {
	url  string
	hall *hall.Hall
}

func startServiceHall(t *testing.T, srv *apptest.Server, clientID, title string) *serviceHall {
	t.Helper()
	return startHall(t, srv, clientID, title, true)
}

// startHall starts a demo service system; a system that is not first-party
// asks the user's consent.
func startHall(t *testing.T, srv *apptest.Server, clientID, title string, firstParty bool) *serviceHall {
	t.Helper()
	return startHallWith(t, srv, clientID, title, firstParty, []string{"openid", "profile", "phone"})
}

// startHallWith starts a demo service system registered with scopes.
func startHallWith(t *testing.T, srv *apptest.Server, clientID, title string, firstParty bool, scopes []string) *serviceHall {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	_, secret, err := srv.App.Clients.Create(context.Background(), client.Spec{
		ID: clientID, Name: title, Type: store.ClientOIDCConfidential,
		RedirectURIs: []string{base + "/callback"}, PostLogoutRedirectURIs: []string{base + "/"},
		Scopes: scopes, FirstParty: firstParty,
		BackchannelLogoutURI: base + "/backchannel-logout",
	}, audit.Origin{Actor: audit.Operator("test")})
	if err != nil {
		ln.Close()
		t.Fatalf("register %s: %v", clientID, err)
	}
	h, err := hall.New(hall.Config{Issuer: srv.URL, ClientID: clientID, ClientSecret: secret, BaseURL: base, Title: title})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	hs := &httptest.Server{Listener: ln, Config: &http.Server{Handler: h}}
	hs.Start()
	t.Cleanup(hs.Close)
	return &serviceHall{url: base, hall: h}
}

// waitSignedIn waits until the tab shows this hall's claims page.
func (h *serviceHall) waitSignedIn(p *page) {
	p.t.Helper()
	p.waitAt(h.url, "/")
	eventually[bool](p, `!!document.getElementById("signed-in")`)
}

// waitSignedOut waits until the tab shows this hall's sign-in button.
func (h *serviceHall) waitSignedOut(p *page) {
	p.t.Helper()
	p.waitAt(h.url, "/")
	eventually[bool](p, `!!document.getElementById("signed-out")`)
}

// waitSessions waits until the hall holds n signed-in sessions: unid may
// deliver back-channel logouts after its answer to the browser.
func (h *serviceHall) waitSessions(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for h.hall.Sessions() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %d sessions, want %d: back-channel logout did not arrive", h.url, h.hall.Sessions(), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitAt waits until the tab has loaded path on origin.
func (p *page) waitAt(origin, path string) {
	p.t.Helper()
	eventually[bool](p, `location.origin === `+strconv.Quote(origin)+` && location.pathname === `+strconv.Quote(path)+` && document.readyState === "complete"`)
}

// claims reads the hall's claims table: claim name → value.
func (p *page) claims() map[string]string {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries(Array.from(document.querySelectorAll("#claims tr[data-claim]"), tr => [tr.dataset.claim, tr.querySelector(".value").textContent]))`))
	if err != nil {
		p.t.Fatalf("claims table: %v", err)
	}
	return v
}

// loginPagesVisited counts unid login pages in the tab's history.
func (p *page) loginPagesVisited() int {
	p.t.Helper()
	h, err := chromedp.Run(p.ctx, chromedp.NavigationEntries())
	if err != nil {
		p.t.Fatalf("history: %v", err)
	}
	n := 0
	for _, e := range h.Entries {
		if strings.HasPrefix(e.URL, p.srv.URL+"/login") {
			n++
		}
	}
	return n
}
