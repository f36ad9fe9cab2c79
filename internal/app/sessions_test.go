package app_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/store"
)

// User agents of the two browsers of the same person.
const (
	desktopChrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	phoneWeChat   = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.42(0x18002a2a) NetType/WIFI Language/zh_CN"
)

// agentTransport sends every request with one User-Agent, as one browser does.
type agentTransport struct{ ua string }

func (a agentTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", a.ua)
	return http.DefaultTransport.RoundTrip(r)
}

func browserAs(t *testing.T, srv *apptest.Server, ua string) *apptest.Browser {
	b := srv.Browser(t)
	b.Client.Transport = agentTransport{ua}
	return b
}

// casReceiver is a CAS service system that counts the single-logout
// requests it receives.
type casReceiver struct {
	mu      sync.Mutex
	logouts int
	url     string
}

func (c *casReceiver) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logouts
}

func newCASReceiver(t *testing.T, srv *apptest.Server) *casReceiver {
	rcv := &casReceiver{}
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.Contains(r.FormValue("logoutRequest"), "LogoutRequest") {
			rcv.mu.Lock()
			rcv.logouts++
			rcv.mu.Unlock()
		}
	}))
	t.Cleanup(svc.Close)
	if _, _, err := srv.App.Clients.Create(context.Background(), client.Spec{ID: "archive", Name: "档案查询", Type: store.ClientCAS,
		RedirectURIs: []string{svc.URL + "/app/*"}, Scopes: []string{"login_name"}}, audit.Origin{Actor: audit.Operator("test")}); err != nil {
		t.Fatal(err)
	}
	rcv.url = svc.URL + "/app/"
	return rcv
}

// signInTo signs browser b in to the CAS service system and has the
// system validate the ticket, so that unid will tell it of the logout.
func (c *casReceiver) signInTo(t *testing.T, b *apptest.Browser) {
	t.Helper()
	r := b.Get("/cas/login?service=" + url.QueryEscape(c.url))
	loc, _ := url.Parse(r.Location())
	ticket := loc.Query().Get("ticket")
	if ticket == "" {
		t.Fatalf("cas login: %d %q", r.Status, r.Location())
	}
	if v := b.Get("/cas/serviceValidate?" + url.Values{"service": {c.url}, "ticket": {ticket}}.Encode()); !strings.Contains(string(v.Body), "authenticationSuccess") {
		t.Fatalf("validate: %s", v.Body)
	}
}

type listedSession struct {
	ID      string `json:"id"`
	Current bool   `json:"current"`
	Browser string `json:"browser"`
	Device  string `json:"device"`
	Place   string `json:"place"`
}

func listSessions(t *testing.T, b *apptest.Browser) ([]listedSession, string) {
	t.Helper()
	r := b.Get("/api/v1/me/sessions")
	if r.Status != http.StatusOK {
		t.Fatalf("list sessions: %d %s", r.Status, r.Body)
	}
	var body struct{ Sessions []listedSession }
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	return body.Sessions, string(r.Body)
}

// TestSignOutAnotherDevice: a person signed in on a computer and a phone
// sees both, the computer's marked as this device, and signs the phone out
// from the computer: the phone's next request is refused, the service
// system the phone signed in to receives the logout, and the logout is
// audited with the person as the actor.
func TestSignOutAnotherDevice(t *testing.T) {
	ctx := context.Background()
	srv := apptest.Start(t, nil)
	rcv := newCASReceiver(t, srv)
	computer := browserAs(t, srv, desktopChrome)
	computer.Lang = "zh-CN"
	id := computer.MustRegister(apptest.Zhang)
	phone := browserAs(t, srv, phoneWeChat)
	phone.MustLogin(apptest.Zhang.Phone, apptest.Zhang.Password)
	rcv.signInTo(t, phone)

	list, raw := listSessions(t, computer)
	if len(list) != 2 {
		t.Fatalf("%d sessions listed, want 2: %s", len(list), raw)
	}
	this, other := list[0], list[1]
	if !this.Current || other.Current {
		t.Fatalf("the asking browser's session is not the one marked current, first: %s", raw)
	}
	if this.Browser != "Chrome 120" || this.Device != "Windows 电脑" || this.Place != "本机网络" {
		t.Errorf("this device shown as %+v", this)
	}
	if other.Browser != "微信 8" || other.Device != "iOS 17.2 手机" || other.Place != "本机网络" {
		t.Errorf("the phone shown as %+v", other)
	}
	stored, err := srv.App.Store.ListUserSessions(ctx, id, srv.Clock.Now(), srv.Clock.Now().Add(-srv.App.Config.SessionIdle))
	if err != nil || len(stored) != 2 {
		t.Fatalf("stored sessions: %v, %v", stored, err)
	}
	for _, s := range stored {
		if s.SID != this.ID && s.SID != other.ID {
			t.Errorf("listed ids %q, %q are not the SIDs", this.ID, other.ID)
		}
		for _, secret := range []string{hex.EncodeToString(s.TokenHash), base64.RawURLEncoding.EncodeToString(s.TokenHash), base64.StdEncoding.EncodeToString(s.TokenHash)} {
			if strings.Contains(raw, secret) {
				t.Error("the list shows a token hash")
			}
		}
	}
	for _, ua := range []string{"Mozilla", "MicroMessenger", "AppleWebKit"} {
		if strings.Contains(raw, ua) {
			t.Errorf("the list shows the raw user agent (%s): %s", ua, raw)
		}
	}

	if r := computer.Do(http.MethodDelete, "/api/v1/me/sessions/"+other.ID, "", nil); r.Status != http.StatusNoContent {
		t.Fatalf("sign out the phone: %d %s", r.Status, r.Body)
	}
	if r := phone.Get("/api/v1/me"); r.Status != http.StatusUnauthorized {
		t.Errorf("the phone after it was signed out: %d, want 401", r.Status)
	}
	if n := rcv.count(); n != 1 {
		t.Errorf("%d single logouts reached the service system, want 1", n)
	}
	if r := computer.Get("/api/v1/me"); r.Status != http.StatusOK {
		t.Errorf("the computer after signing the phone out: %d, want 200", r.Status)
	}
	if list, raw := listSessions(t, computer); len(list) != 1 || !list[0].Current {
		t.Errorf("after signing the phone out: %s", raw)
	}
	logouts, err := srv.App.Store.ListActorAudit(ctx, id, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range logouts {
		d, _ := audit.ParseDetail(e.Detail)
		if e.Action == audit.ActionLogout && d["sid"] == other.ID && d["via"] == "session_list" && e.UserAgent == desktopChrome {
			found = true
		}
	}
	if !found {
		t.Errorf("no session.logout of the phone by the user from the computer in %+v", logouts)
	}
	// Once ended, the id is not found.
	if r := computer.Do(http.MethodDelete, "/api/v1/me/sessions/"+other.ID, "", nil); r.Status != http.StatusNotFound || r.ErrCode(t) != "session_not_found" {
		t.Errorf("sign out the phone again: %d %s", r.Status, r.Body)
	}
}

// TestSignOutAllOtherDevices: "sign out all others" ends every session of
// the person but the asking browser's, and tells their service systems.
func TestSignOutAllOtherDevices(t *testing.T) {
	srv := apptest.Start(t, nil)
	rcv := newCASReceiver(t, srv)
	computer := browserAs(t, srv, desktopChrome)
	computer.MustRegister(apptest.Zhang)
	var others []*apptest.Browser
	for range 2 {
		b := browserAs(t, srv, phoneWeChat)
		b.MustLogin(apptest.Zhang.Login, apptest.Zhang.Password)
		rcv.signInTo(t, b)
		others = append(others, b)
	}
	// Another person's session is not among the others.
	li := srv.Browser(t)
	li.MustRegister(apptest.Person{Login: "li_si", Password: apptest.GoodPassword, Phone: "13912345678"})

	r := computer.Do(http.MethodDelete, "/api/v1/me/sessions", "", nil)
	if r.Status != http.StatusOK || r.JSON(t)["ended"] != float64(2) {
		t.Fatalf("sign out all others: %d %s", r.Status, r.Body)
	}
	for i, b := range others {
		if r := b.Get("/api/v1/me"); r.Status != http.StatusUnauthorized {
			t.Errorf("other device %d afterwards: %d, want 401", i, r.Status)
		}
	}
	if n := rcv.count(); n != 2 {
		t.Errorf("%d single logouts reached the service system, want 2", n)
	}
	for name, b := range map[string]*apptest.Browser{"the asking browser": computer, "another person": li} {
		if r := b.Get("/api/v1/me"); r.Status != http.StatusOK {
			t.Errorf("%s afterwards: %d, want 200", name, r.Status)
		}
	}
	if r := computer.Do(http.MethodDelete, "/api/v1/me/sessions", "", nil); r.Status != http.StatusOK || r.JSON(t)["ended"] != float64(0) {
		t.Errorf("sign out all others again: %d %s", r.Status, r.Body)
	}
}
