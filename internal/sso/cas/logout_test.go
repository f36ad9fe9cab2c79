package cas_test

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/sso/cas"
	"unid/internal/store"
)

// logoutRequest is the SAML LogoutRequest as a CAS client reads it: by
// namespace.
type logoutRequest struct {
	XMLName      xml.Name `xml:"urn:oasis:names:tc:SAML:2.0:protocol LogoutRequest"`
	ID           string   `xml:"ID,attr"`
	Version      string   `xml:"Version,attr"`
	IssueInstant string   `xml:"IssueInstant,attr"`
	NameID       string   `xml:"urn:oasis:names:tc:SAML:2.0:assertion NameID"`
	SessionIndex string   `xml:"urn:oasis:names:tc:SAML:2.0:protocol SessionIndex"`
}

// received is one single-logout POST that a test service got.
type received struct {
	path string
	req  logoutRequest
	raw  string
}

// casService is a CAS service on loopback that records single-logout POSTs
// and answers them with status.
type casService struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	status int
	errs   []string
}

func newCASService(t *testing.T, status int) *casService {
	s := &casService{status: status}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if r.Method != http.MethodPost {
			s.errs = append(s.errs, "method "+r.Method)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			s.errs = append(s.errs, "content type "+ct)
		}
		raw := r.PostFormValue("logoutRequest")
		var lr logoutRequest
		if err := xml.Unmarshal([]byte(raw), &lr); err != nil {
			s.errs = append(s.errs, "logoutRequest: "+err.Error())
		}
		s.got = append(s.got, received{path: r.URL.Path, req: lr, raw: raw})
		w.WriteHeader(s.status)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *casService) received(t *testing.T) []received {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.errs {
		t.Errorf("single logout request: %s", e)
	}
	return append([]received(nil), s.got...)
}

func TestSingleLogout(t *testing.T) {
	e := start(t, nil)
	app := newCASService(t, http.StatusOK)
	override := newCASService(t, http.StatusOK)
	e.service(client.Spec{ID: "app", RedirectURIs: []string{app.URL + "/app/*"}})
	e.service(client.Spec{ID: "override", RedirectURIs: []string{override.URL + "/in/*"}, BackchannelLogoutURI: override.URL + "/slo"})
	b := e.browser()
	userID := b.MustRegister(zhang)

	validated := b.ticket(app.URL+"/app/a", "")
	if code := failureCode(t, e.validate("/cas/serviceValidate", url.Values{"service": {app.URL + "/app/a"}, "ticket": {validated}})); code != "" {
		t.Fatal(code)
	}
	pending := b.ticket(app.URL+"/app/b", "") // never validated
	other := b.ticket(override.URL+"/in/x", "")

	// Another browser of the same user is another session: untouched.
	b2 := e.browser()
	b2.MustLogin("zhang_san", apptest.GoodPassword)
	b2Ticket := b2.ticket(app.URL+"/app/c", "")

	r := b.Get("/cas/logout")
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "已安全退出") {
		t.Fatalf("logout page: %d %s", r.Status, r.Body)
	}
	if r := b.Get("/api/v1/me"); r.Status != http.StatusUnauthorized {
		t.Fatalf("still signed in after /cas/logout: %d", r.Status)
	}

	got := app.received(t)
	indexes := map[string]string{}
	for _, g := range got {
		indexes[g.req.SessionIndex] = g.path
		if g.req.NameID != userID || g.req.Version != "2.0" || !strings.HasPrefix(g.req.ID, "LR-") {
			t.Errorf("logoutRequest %s", g.raw)
		}
		if _, err := time.Parse(time.RFC3339, g.req.IssueInstant); err != nil {
			t.Errorf("IssueInstant %q: %v", g.req.IssueInstant, err)
		}
	}
	if indexes[validated] != "/app/a" {
		t.Errorf("no logoutRequest for the validated ticket at /app/a: %v", got)
	}
	if indexes[pending] != "/app/b" {
		t.Errorf("no logoutRequest for the unvalidated ticket at /app/b: %v", got)
	}
	if code := failureCode(t, e.validate("/cas/serviceValidate", url.Values{"service": {app.URL + "/app/b"}, "ticket": {pending}})); code != cas.CodeInvalidTicket {
		t.Errorf("a ticket of the ended session validated after the logout: %q", code)
	}
	if _, ok := indexes[b2Ticket]; ok {
		t.Errorf("the other session's ticket was logged out")
	}
	if got := override.received(t); len(got) != 1 || got[0].path != "/slo" || got[0].req.SessionIndex != other {
		t.Errorf("override service got %+v, want one logoutRequest at /slo for its ticket", got)
	}
	// The other session still works.
	b2.ticket(app.URL+"/app/c", "")
	if n := e.auditCount(cas.ActionLogoutSent); n != len(got)+1 {
		t.Errorf("%d cas.logout_sent events for %d deliveries", n, len(got)+1)
	}
	// One session.logout, by the session manager, naming CAS; each
	// delivery names the same session.
	logouts := e.auditEvents(audit.ActionLogout)
	if len(logouts) != 1 {
		t.Fatalf("session.logout events: %+v", logouts)
	}
	d, _ := audit.ParseDetail(logouts[0].Detail)
	if logouts[0].Actor != userID || d["via"] != "cas" || d["sid"] == "" {
		t.Errorf("session.logout event: %+v", logouts[0])
	}
	for _, ev := range e.auditEvents(cas.ActionLogoutSent) {
		if sent, _ := audit.ParseDetail(ev.Detail); ev.Actor != userID || sent["sid"] != d["sid"] {
			t.Errorf("cas.logout_sent %+v does not name the ended session %s", ev, d["sid"])
		}
	}
	// Signed out: /cas/login asks for the password again.
	if r := b.Get("/cas/login?service=" + url.QueryEscape(app.URL+"/app/a")); !strings.HasPrefix(r.Location(), "/login?") {
		t.Errorf("after logout /cas/login went to %q", r.Location())
	}
}

// TestLogoutBeforeValidation: a ticket issued just before the logout must
// not sign the user in to the service after it.
func TestLogoutBeforeValidation(t *testing.T) {
	e := start(t, nil)
	svc := newCASService(t, http.StatusOK)
	e.service(client.Spec{ID: "app", RedirectURIs: []string{svc.URL + "/app/*"}})
	b := e.browser()
	b.MustRegister(zhang)
	ticket := b.ticket(svc.URL+"/app/a", "")
	b.Get("/cas/logout")
	if code := failureCode(t, e.validate("/cas/serviceValidate", url.Values{"service": {svc.URL + "/app/a"}, "ticket": {ticket}})); code != cas.CodeInvalidTicket {
		t.Fatalf("ticket issued before the logout, validated after: %q, want INVALID_TICKET", code)
	}
}

// TestLogoutThroughAPI: the session is shared, so signing out through the
// JSON API (or any other way of ending the session) logs out CAS services.
func TestLogoutThroughAPI(t *testing.T) {
	e := start(t, nil)
	svc := newCASService(t, http.StatusOK)
	e.service(client.Spec{ID: "app", RedirectURIs: []string{svc.URL + "/app/*"}})
	b := e.browser()
	b.MustRegister(zhang)
	ticket := b.ticket(svc.URL+"/app/a", "")
	e.validate("/cas/serviceValidate", url.Values{"service": {svc.URL + "/app/a"}, "ticket": {ticket}})
	if r := b.Do("DELETE", "/api/v1/sessions/current", "", nil); r.Status != http.StatusNoContent {
		t.Fatalf("API logout: %d", r.Status)
	}
	if got := svc.received(t); len(got) != 1 || got[0].req.SessionIndex != ticket {
		t.Fatalf("service got %+v, want one logoutRequest", got)
	}
}

func TestLogoutFailuresAreLoggedNotShown(t *testing.T) {
	e := start(t, nil)
	broken := newCASService(t, http.StatusInternalServerError)
	if err := e.srv.App.Store.CreateClient(context.Background(), store.Client{
		ID: "broken", Name: "broken", Type: store.ClientCAS, RedirectURIs: []string{broken.URL + "/app/*?*"},
	}); err != nil {
		t.Fatal(err)
	}
	gone := newCASService(t, http.StatusOK)
	e.service(client.Spec{ID: "gone", RedirectURIs: []string{gone.URL + "/app/*"}})
	b := e.browser()
	b.MustRegister(zhang)
	t1 := b.ticket(broken.URL+"/app/a?secret=42", "")
	t2 := b.ticket(gone.URL+"/app/a", "")
	gone.Close() // connection refused
	if r := b.Get("/cas/logout"); r.Status != http.StatusOK {
		t.Fatalf("logout with failing services: %d", r.Status)
	}
	if n := e.auditCount(cas.ActionLogoutFailed); n != 2 {
		t.Errorf("%d cas.logout_failed events, want 2", n)
	}
	logs := e.srv.Logs.String()
	for _, leak := range []string{t1, t2, "secret=42", "/app/a"} {
		if strings.Contains(logs, leak) {
			t.Errorf("logs contain %q", leak)
		}
	}
	if !strings.Contains(logs, "client=broken") || !strings.Contains(logs, "client=gone") {
		t.Errorf("logs do not name the clients that failed:\n%s", logs)
	}
}

func TestLogoutRedirect(t *testing.T) {
	e := start(t, nil)
	e.service(client.Spec{ID: "hall", RedirectURIs: []string{hall + "*"}})
	for _, tt := range []struct {
		service, want string
	}{
		{hallLogin, hallLogin},
		{"https://evil.example/", ""},
		{"https://hall.example.evil/app/", ""},
		{"https://user@hall.example/app/", ""},
		{"", ""},
	} {
		b := e.browser()
		b.Lang = "en"
		q := ""
		if tt.service != "" {
			q = "?service=" + url.QueryEscape(tt.service)
		}
		r := b.Get("/cas/logout" + q)
		if tt.want != "" {
			if r.Status != http.StatusFound || r.Location() != tt.want {
				t.Errorf("logout?service=%s: %d %q, want 302 to it", tt.service, r.Status, r.Location())
			}
			continue
		}
		if r.Status != http.StatusOK || r.Location() != "" || !strings.Contains(string(r.Body), "Signed out") {
			t.Errorf("logout?service=%s: %d %q, want the signed-out page", tt.service, r.Status, r.Location())
		}
	}
	// The CAS 2.0 url parameter is ignored.
	if r := e.browser().Get("/cas/logout?url=" + url.QueryEscape("https://evil.example/")); r.Location() != "" {
		t.Errorf("logout?url= redirected to %q", r.Location())
	}
}

func TestSingleLogoutSkipsDeletedClients(t *testing.T) {
	e := start(t, nil)
	svc := newCASService(t, http.StatusOK)
	e.service(client.Spec{ID: "app", RedirectURIs: []string{svc.URL + "/app/*"}})
	b := e.browser()
	b.MustRegister(zhang)
	b.ticket(svc.URL+"/app/a", "")
	if err := e.srv.App.Clients.Delete(context.Background(), "app", audit.Origin{Actor: audit.Operator("test")}); err != nil {
		t.Fatal(err)
	}
	b.Get("/cas/logout")
	if got := svc.received(t); len(got) != 0 {
		t.Errorf("a deleted client got %d logout requests", len(got))
	}
}
