package cas_test

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/claims"
	"unid/internal/client"
	"unid/internal/config"
	"unid/internal/sso/cas"
	"unid/internal/store"
)

const (
	hall      = "https://hall.example/app/"        // pattern https://hall.example/app/*
	hallLogin = "https://hall.example/app/login"   // a service under it
	tax       = "https://tax.example/cas/callback" // exact pattern
)

// signedIn starts unid with two services and a user signed in: the hall
// (every attribute) and the tax office (none).
func signedIn(t *testing.T) (*env, *browser, string) {
	t.Helper()
	e := start(t, nil)
	e.service(client.Spec{ID: "hall", RedirectURIs: []string{hall + "*"}, Scopes: claims.CASAttributes()})
	e.service(client.Spec{ID: "tax", RedirectURIs: []string{tax}})
	b := e.browser()
	userID := b.MustRegister(zhang)
	return e, b, userID
}

func TestEveryValidationEndpoint(t *testing.T) {
	e, b, userID := signedIn(t)
	ctx := context.Background()
	if _, err := e.srv.App.Store.UpdateUser(ctx, userID, func(u store.User) (store.User, error) {
		u.RealnameLevel = 2
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}

	t.Run("CAS 1.0", func(t *testing.T) {
		ticket := b.ticket(hallLogin, "")
		r := e.validate("/cas/validate", url.Values{"service": {hallLogin}, "ticket": {ticket}})
		if string(r.Body) != "yes\n"+userID+"\n" {
			t.Errorf("body %q, want yes and the user", r.Body)
		}
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
		}
		if r := e.validate("/cas/validate", url.Values{"service": {hallLogin}, "ticket": {ticket}}); string(r.Body) != "no\n\n" {
			t.Errorf("replay: %q, want no", r.Body)
		}
	})

	t.Run("CAS 2.0 XML releases no attributes", func(t *testing.T) {
		ticket := b.ticket(hallLogin, "")
		s := parseXML(t, e.validate("/cas/serviceValidate", url.Values{"service": {hallLogin}, "ticket": {ticket}, "pgtUrl": {"https://hall.example/pgt"}}))
		if s.Success == nil || s.Success.User != userID {
			t.Fatalf("success %+v, want user %s", s.Success, userID)
		}
		if s.Success.Attributes != nil {
			t.Errorf("CAS 2.0 answer has attributes")
		}
		if s.Success.PGT != nil {
			t.Errorf("pgtUrl gave a proxy-granting ticket; proxying is not supported")
		}
	})

	t.Run("CAS 2.0 JSON", func(t *testing.T) {
		ticket := b.ticket(hallLogin, "")
		j := parseJSON(t, e.validate("/cas/serviceValidate", url.Values{"service": {hallLogin}, "ticket": {ticket}, "format": {"JSON"}}))
		if s := j.ServiceResponse.Success; s == nil || s.User != userID || s.Attributes != nil {
			t.Fatalf("success %+v, want user %s and no attributes", s, userID)
		}
	})

	t.Run("CAS 3.0 XML with attributes", func(t *testing.T) {
		ticket := b.ticket(hallLogin, "")
		s := parseXML(t, e.validate("/cas/p3/serviceValidate", url.Values{"service": {hallLogin}, "ticket": {ticket}}))
		if s.Success == nil || s.Success.User != userID {
			t.Fatalf("success %+v, want user %s", s.Success, userID)
		}
		got := s.attrs(t)
		want := map[string]string{
			"login_name": "zhang_san", "realname_level": "2", "acr": "urn:unid:acr:realname:2",
			"phone": "13812345678", "name": "张三", "id_number": "11010519491231002X",
			"longTermAuthenticationRequestTokenUsed": "false", "isFromNewLogin": "false",
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("attribute %s = %q, want %q", k, got[k], v)
			}
		}
		if _, ok := got["email"]; ok {
			t.Errorf("email released though the user has none")
		}
		if _, err := time.Parse(time.RFC3339, got["authenticationDate"]); err != nil {
			t.Errorf("authenticationDate %q: %v", got["authenticationDate"], err)
		}
	})

	t.Run("CAS 3.0 JSON with attributes", func(t *testing.T) {
		ticket := b.ticket(hallLogin, "")
		j := parseJSON(t, e.validate("/cas/p3/serviceValidate", url.Values{"service": {hallLogin}, "ticket": {ticket}, "format": {"json"}}))
		s := j.ServiceResponse.Success
		if s == nil || s.User != userID {
			t.Fatalf("success %+v, want user %s", s, userID)
		}
		if s.Attributes["realname_level"] != 2.0 || s.Attributes["isFromNewLogin"] != false || s.Attributes["login_name"] != "zhang_san" || s.Attributes["name"] != "张三" {
			t.Errorf("attributes %v", s.Attributes)
		}
	})

	t.Run("a service gets only its attributes", func(t *testing.T) {
		ticket := b.ticket(tax, "")
		s := parseXML(t, e.validate("/cas/p3/serviceValidate", url.Values{"service": {tax}, "ticket": {ticket}}))
		got := s.attrs(t)
		for _, k := range []string{"login_name", "phone", "name", "id_number", "realname_level", "acr"} {
			if _, ok := got[k]; ok {
				t.Errorf("tax office, registered with no attributes, got %s", k)
			}
		}
		if got["isFromNewLogin"] != "false" {
			t.Errorf("the protocol attributes are missing: %v", got)
		}
	})

	if n := e.auditCount(cas.ActionTicketIssued); n != 6 {
		t.Errorf("%d cas.ticket_issued events, want 6", n)
	}
	for _, ev := range append(e.auditEvents(cas.ActionTicketIssued), e.auditEvents(cas.ActionTicketValidated)...) {
		if strings.Contains(ev.Detail+ev.Subject, "ST-") {
			t.Errorf("audit event %s holds a ticket: %+v", ev.Action, ev)
		}
	}
}

func TestIDCardNeedsRealnameLevel(t *testing.T) {
	e, b, _ := signedIn(t) // level 0
	ticket := b.ticket(hallLogin, "")
	got := parseXML(t, e.validate("/cas/p3/serviceValidate", url.Values{"service": {hallLogin}, "ticket": {ticket}})).attrs(t)
	if _, ok := got["id_number"]; ok {
		t.Errorf("ID number released for a user of real-name level 0")
	}
	if _, ok := got["name"]; ok {
		t.Errorf("real name released for a user of real-name level 0")
	}
	if got["acr"] != "urn:unid:acr:realname:0" {
		t.Errorf("acr %q", got["acr"])
	}
}

func TestLoginThroughLoginPage(t *testing.T) {
	e := start(t, nil)
	// Straight into the store: this pattern syntax is the CAS server's own,
	// whatever the registry's checks accept.
	if err := e.srv.App.Store.CreateClient(context.Background(), store.Client{
		ID: "hall", Name: "hall", Type: store.ClientCAS, RedirectURIs: []string{hall + "*?*"},
	}); err != nil {
		t.Fatal(err)
	}
	e.browser().MustRegister(zhang) // another browser

	b := e.browser()
	r := b.Get("/cas/login?service=" + url.QueryEscape(hallLogin+"?tab=2"))
	if r.Status != http.StatusFound {
		t.Fatalf("not signed in: %d %s", r.Status, r.Body)
	}
	loc, err := url.Parse(r.Location())
	if err != nil || loc.Path != "/login" || loc.Host != "" {
		t.Fatalf("not signed in: redirect to %q, want unid's /login", r.Location())
	}
	next := loc.Query().Get("next")
	if !strings.HasPrefix(next, "/cas/login/continue?id=") || strings.Contains(next, "hall.example") {
		t.Fatalf("next=%q: want /cas/login/continue with an opaque id", next)
	}
	if page := b.Get(r.Location()); page.Status != http.StatusOK {
		t.Fatalf("login page: %d", page.Status)
	}
	// Coming back before signing in goes to the login page again.
	if r := b.Get(next); r.Status != http.StatusFound || !strings.HasPrefix(r.Location(), "/login?next=") {
		t.Fatalf("continue before signing in: %d %q", r.Status, r.Location())
	}
	b.MustLogin("zhang_san", apptest.GoodPassword)
	ticket := ticketOf(t, b.Get(next), hallLogin+"?tab=2")
	// The ticket came from a fresh login, so renew=true accepts it.
	s := parseXML(t, e.validate("/cas/p3/serviceValidate", url.Values{"service": {hallLogin + "?tab=2"}, "ticket": {ticket}, "renew": {"true"}}))
	if s.Success == nil || s.attrs(t)["isFromNewLogin"] != "true" {
		t.Fatalf("fresh-login ticket under renew: %+v", s.Failure)
	}
	// The pending login is used up.
	if r := b.Get(next); r.Status != http.StatusGone || r.Location() != "" {
		t.Errorf("continue again: %d %q, want 410 and no redirect", r.Status, r.Location())
	}
	// A signed-in browser passes straight through.
	ticketOf(t, b.Get("/cas/login?service="+url.QueryEscape(hallLogin)), hallLogin)
}

func TestPendingLoginExpires(t *testing.T) {
	e := start(t, nil)
	e.service(client.Spec{ID: "hall", RedirectURIs: []string{hall + "*"}})
	b := e.browser()
	b.MustRegister(zhang)
	r := b.Get("/cas/login?renew=true&service=" + url.QueryEscape(hallLogin))
	loc, _ := url.Parse(r.Location())
	next := loc.Query().Get("next")
	e.srv.Clock.Advance(cas.DefaultLoginTTL + time.Second)
	b.MustLogin("zhang_san", apptest.GoodPassword)
	if r := b.Get(next); r.Status != http.StatusGone || r.Location() != "" {
		t.Fatalf("expired pending login: %d %q", r.Status, r.Location())
	}
	for _, bad := range []string{"/cas/login/continue", "/cas/login/continue?id=x", "/cas/login/continue?id=" + strings.Repeat("A", 26)} {
		if r := b.Get(bad); r.Location() != "" || r.Status < 400 {
			t.Errorf("%s: %d %q", bad, r.Status, r.Location())
		}
	}
}

func TestGateway(t *testing.T) {
	e := start(t, nil)
	e.service(client.Spec{ID: "hall", RedirectURIs: []string{hall + "*"}})
	b := e.browser()
	// Not signed in: straight back to the service, without a ticket.
	r := b.Get("/cas/login?gateway=true&service=" + url.QueryEscape(hallLogin))
	if r.Status != http.StatusFound || r.Location() != hallLogin {
		t.Fatalf("gateway, not signed in: %d %q, want 302 to %s", r.Status, r.Location(), hallLogin)
	}
	// Gateway to an unregistered service is still refused.
	r = b.Get("/cas/login?gateway=true&service=" + url.QueryEscape("https://evil.example/"))
	if r.Status != http.StatusBadRequest || r.Location() != "" {
		t.Fatalf("gateway to an unregistered service: %d %q", r.Status, r.Location())
	}
	// Signed in: a ticket.
	b.MustRegister(zhang)
	b.ticket(hallLogin, "&gateway=true")
}

func TestRenew(t *testing.T) {
	e, b, _ := signedIn(t)
	// An SSO ticket is refused by validation with renew=true…
	ticket := b.ticket(hallLogin, "")
	r := e.validate("/cas/serviceValidate", url.Values{"service": {hallLogin}, "ticket": {ticket}, "renew": {"true"}})
	if code := failureCode(t, r); code != cas.CodeInvalidTicket {
		t.Fatalf("SSO ticket under renew: %q, want INVALID_TICKET", code)
	}
	ticket = b.ticket(hallLogin, "")
	if r := e.validate("/cas/validate", url.Values{"service": {hallLogin}, "ticket": {ticket}, "renew": {"true"}}); string(r.Body) != "no\n\n" {
		t.Fatalf("SSO ticket under renew, CAS 1.0: %q", r.Body)
	}

	// …and /cas/login with renew asks for the password although signed in.
	e.srv.Clock.Advance(time.Minute)
	r = b.Get("/cas/login?renew=true&service=" + url.QueryEscape(hallLogin))
	if r.Status != http.StatusFound || !strings.HasPrefix(r.Location(), "/login?next=") {
		t.Fatalf("renew while signed in: %d %q, want the login page", r.Status, r.Location())
	}
	loc, _ := url.Parse(r.Location())
	next := loc.Query().Get("next")
	// Skipping the login page does not help.
	if r := b.Get(next); r.Status != http.StatusFound || !strings.HasPrefix(r.Location(), "/login?next=") {
		t.Fatalf("renew without signing in again: %d %q", r.Status, r.Location())
	}
	e.srv.Clock.Advance(time.Second)
	b.MustLogin("zhang_san", apptest.GoodPassword)
	ticket = ticketOf(t, b.Get(next), hallLogin)
	if code := failureCode(t, e.validate("/cas/serviceValidate", url.Values{"service": {hallLogin}, "ticket": {ticket}, "renew": {"true"}})); code != "" {
		t.Fatalf("renewed ticket under renew: %s", code)
	}
}

func TestReplayAndOtherService(t *testing.T) {
	e, b, _ := signedIn(t)
	ticket := b.ticket(hallLogin, "")
	q := url.Values{"service": {hallLogin}, "ticket": {ticket}}
	if code := failureCode(t, e.validate("/cas/serviceValidate", q)); code != "" {
		t.Fatalf("first validation: %s", code)
	}
	if code := failureCode(t, e.validate("/cas/serviceValidate", q)); code != cas.CodeInvalidTicket {
		t.Fatalf("replay: %q, want INVALID_TICKET", code)
	}
	if code := failureCode(t, e.validate("/cas/p3/serviceValidate", q)); code != cas.CodeInvalidTicket {
		t.Fatalf("replay at another endpoint: %q, want INVALID_TICKET", code)
	}

	// A ticket presented for another service is refused and used up.
	ticket = b.ticket(hallLogin, "")
	for _, other := range []string{tax, hall + "other", hallLogin + "?x=1"} {
		t.Run(other, func(t *testing.T) {
			ticket := b.ticket(hallLogin, "")
			if code := failureCode(t, e.validate("/cas/serviceValidate", url.Values{"service": {other}, "ticket": {ticket}})); code != cas.CodeInvalidService {
				t.Fatalf("ticket for %s presented for %s: %q, want INVALID_SERVICE", hallLogin, other, code)
			}
			if code := failureCode(t, e.validate("/cas/serviceValidate", url.Values{"service": {hallLogin}, "ticket": {ticket}})); code != cas.CodeInvalidTicket {
				t.Fatalf("the same ticket then for its own service: %q, want INVALID_TICKET", code)
			}
		})
	}
	refused := e.auditEvents(cas.ActionTicketRefused)
	if len(refused) != 3 || refused[0].Result != cas.CodeInvalidService || refused[0].Detail != `{"reason":"ticket was issued for another service"}` {
		t.Errorf("refusals audited: %+v, want 3 INVALID_SERVICE", refused)
	}
}

func TestExpiredTicket(t *testing.T) {
	e, b, _ := signedIn(t)
	ticket := b.ticket(hallLogin, "")
	e.srv.Clock.Advance(9 * time.Second)
	if code := failureCode(t, e.validate("/cas/serviceValidate", url.Values{"service": {hallLogin}, "ticket": {ticket}})); code != "" {
		t.Fatalf("ticket after 9 s: %s", code)
	}
	ticket = b.ticket(hallLogin, "")
	e.srv.Clock.Advance(10 * time.Second)
	r := e.validate("/cas/serviceValidate", url.Values{"service": {hallLogin}, "ticket": {ticket}})
	if s := parseXML(t, r); s.Failure == nil || s.Failure.Code != cas.CodeInvalidTicket || !strings.Contains(s.Failure.Text, "expired") {
		t.Fatalf("ticket after 10 s: %s", r.Body)
	}
}

func TestTicketTTLIsConfigurable(t *testing.T) {
	// Through the flag, as an operator sets it (UNID_CAS_TICKET_TTL works the same way).
	e := start(t, func(c *config.Config) {
		parsed, err := config.Parse("test", []string{"--dev", "--data", c.DataDir, "--cas-ticket-ttl=1m"}, func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		parsed.LogLevel = c.LogLevel
		*c = parsed
	})
	e.service(client.Spec{ID: "hall", RedirectURIs: []string{hall + "*"}})
	b := e.browser()
	b.MustRegister(zhang)
	ticket := b.ticket(hallLogin, "")
	e.srv.Clock.Advance(59 * time.Second)
	if code := failureCode(t, e.validate("/cas/serviceValidate", url.Values{"service": {hallLogin}, "ticket": {ticket}})); code != "" {
		t.Fatalf("ticket after 59 s of a 1 min lifetime: %s", code)
	}
	ticket = b.ticket(hallLogin, "")
	e.srv.Clock.Advance(time.Minute)
	if code := failureCode(t, e.validate("/cas/serviceValidate", url.Values{"service": {hallLogin}, "ticket": {ticket}})); code != cas.CodeInvalidTicket {
		t.Fatalf("ticket after 1 min of a 1 min lifetime: %q", code)
	}
}

func TestBadValidationRequests(t *testing.T) {
	e, b, _ := signedIn(t)
	good := b.ticket(hallLogin, "")
	tests := []struct {
		name  string
		query string
		code  string
	}{
		{"no parameters", "", cas.CodeInvalidRequest},
		{"no ticket", "service=" + url.QueryEscape(hallLogin), cas.CodeInvalidRequest},
		{"no service", "ticket=ST-AAAAAAAAAAAAAAAAAAAAAAAAAA", cas.CodeInvalidRequest},
		{"two services", "service=" + url.QueryEscape(hallLogin) + "&service=" + url.QueryEscape(tax) + "&ticket=" + good, cas.CodeInvalidRequest},
		{"two tickets", "service=" + url.QueryEscape(hallLogin) + "&ticket=" + good + "&ticket=" + good, cas.CodeInvalidRequest},
		{"oversize service", "service=" + url.QueryEscape(hall+strings.Repeat("a", 3000)) + "&ticket=ST-AAAAAAAAAAAAAAAAAAAAAAAAAA", cas.CodeInvalidRequest},
		{"oversize query", "service=" + url.QueryEscape(hallLogin) + "&ticket=ST-AAAAAAAAAAAAAAAAAAAAAAAAAA&x=" + strings.Repeat("a", 7000), cas.CodeInvalidRequest},
		{"bad format", "service=" + url.QueryEscape(hallLogin) + "&ticket=ST-AAAAAAAAAAAAAAAAAAAAAAAAAA&format=YAML", cas.CodeInvalidRequest},
		{"malformed query", "service=%zz&ticket=ST-AAAAAAAAAAAAAAAAAAAAAAAAAA", cas.CodeInvalidRequest},
		{"unknown ticket", "service=" + url.QueryEscape(hallLogin) + "&ticket=ST-AAAAAAAAAAAAAAAAAAAAAAAAAA", cas.CodeInvalidTicket},
		{"malformed ticket", "service=" + url.QueryEscape(hallLogin) + "&ticket=" + url.QueryEscape("ST-<x>&amp;"), cas.CodeInvalidTicket},
		{"lower-case ticket", "service=" + url.QueryEscape(hallLogin) + "&ticket=" + strings.ToLower(good), cas.CodeInvalidTicket},
		{"huge ticket", "service=" + url.QueryEscape(hallLogin) + "&ticket=ST-" + strings.Repeat("A", 3000), cas.CodeInvalidTicket},
		{"proxy ticket", "service=" + url.QueryEscape(hallLogin) + "&ticket=PT-AAAAAAAAAAAAAAAAAAAAAAAAAA", cas.CodeInvalidTicket},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := http.Get(e.srv.URL + "/cas/serviceValidate?" + tt.query)
			if err != nil {
				t.Fatal(err)
			}
			r := readResponse(t, res)
			if r.Status != http.StatusOK {
				t.Fatalf("status %d", r.Status)
			}
			if code := failureCode(t, r); code != tt.code {
				t.Fatalf("code %q, want %q\n%s", code, tt.code, r.Body)
			}
			res, err = http.Get(e.srv.URL + "/cas/validate?" + tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if r := readResponse(t, res); string(r.Body) != "no\n\n" {
				t.Errorf("CAS 1.0: %q, want no", r.Body)
			}
		})
	}
	// The good ticket was presented (twice, with repeated parameters) and
	// is used up: a malformed request still counts as the one attempt.
	if code := failureCode(t, e.validate("/cas/serviceValidate", url.Values{"service": {hallLogin}, "ticket": {good}})); code != cas.CodeInvalidTicket {
		t.Fatalf("ticket after a malformed validation: %q", code)
	}
	if r := e.validate("/cas/serviceValidate", url.Values{"service": {hallLogin}, "ticket": {"ST-x"}, "format": {"JSON"}}); parseJSON(t, r).ServiceResponse.Failure.Code != cas.CodeInvalidTicket {
		t.Errorf("JSON failure: %s", r.Body)
	}
}

func readResponse(t testing.TB, res *http.Response) apptest.Response {
	t.Helper()
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return apptest.Response{Status: res.StatusCode, Header: res.Header, Body: data}
}

func TestDisabledUser(t *testing.T) {
	e, b, userID := signedIn(t)
	ticket := b.ticket(hallLogin, "")
	if _, err := e.srv.App.Store.UpdateUser(context.Background(), userID, func(u store.User) (store.User, error) {
		u.Status = store.UserDisabled
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
	if code := failureCode(t, e.validate("/cas/serviceValidate", url.Values{"service": {hallLogin}, "ticket": {ticket}})); code != cas.CodeInvalidTicket {
		t.Fatalf("ticket of a disabled account: %q", code)
	}
	r := b.Get("/cas/login?service=" + url.QueryEscape(hallLogin))
	if r.Status != http.StatusFound || !strings.HasPrefix(r.Location(), "/login?") {
		t.Fatalf("disabled account at /cas/login: %d %q, want the login page", r.Status, r.Location())
	}
}

// TestTicketOfASignInThatNoLongerStands: a ticket whose session was ended
// or switched to another identity before its validation, without the
// logout finding the ticket (a password change or a switch that read the
// session's services while the ticket was being issued), is refused.
func TestTicketOfASignInThatNoLongerStands(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		change func(st store.Store, s store.Session) error
	}{
		{"the session was ended", func(st store.Store, s store.Session) error {
			_, err := st.DeleteUserSessions(ctx, s.UserID)
			return err
		}},
		{"the session switched to an enterprise", func(st store.Store, s store.Session) error {
			return st.SetSessionActing(ctx, s.TokenHash, "91350100M000100Y4X")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, b, userID := signedIn(t)
			st := e.srv.App.Store
			ss, err := st.ListUserSessions(ctx, userID, time.Time{}, time.Time{})
			if err != nil || len(ss) != 1 {
				t.Fatalf("the user's sessions: %v, %v", ss, err)
			}
			ticket := b.ticket(hallLogin, "")
			if err := tt.change(st, ss[0]); err != nil {
				t.Fatal(err)
			}
			if code := failureCode(t, e.validate("/cas/serviceValidate", url.Values{"service": {hallLogin}, "ticket": {ticket}})); code != cas.CodeInvalidTicket {
				t.Fatalf("the ticket: %q, want INVALID_TICKET", code)
			}
		})
	}
}

func TestDeletedService(t *testing.T) {
	e, b, _ := signedIn(t)
	ticket := b.ticket(tax, "")
	if err := e.srv.App.Clients.Delete(context.Background(), "tax", audit.Origin{Actor: audit.Operator("test")}); err != nil {
		t.Fatal(err)
	}
	if code := failureCode(t, e.validate("/cas/serviceValidate", url.Values{"service": {tax}, "ticket": {ticket}})); code != cas.CodeInvalidService {
		t.Fatalf("ticket of a deleted service: %q, want INVALID_SERVICE", code)
	}
	if r := b.Get("/cas/login?service=" + url.QueryEscape(tax)); r.Status != http.StatusBadRequest || r.Location() != "" {
		t.Fatalf("deleted service at /cas/login: %d %q", r.Status, r.Location())
	}
}

// TestUnregisteredServices checks that /cas/login never redirects to a
// service no pattern allows, and issues nothing for it.
func TestUnregisteredServices(t *testing.T) {
	e := start(t, nil)
	e.service(client.Spec{ID: "hall", RedirectURIs: []string{"https://hall.example/app/*"}})
	e.service(client.Spec{ID: "exact", RedirectURIs: []string{"https://exact.example/cb"}})
	b := e.browser()
	b.MustRegister(zhang)
	bad := []string{
		"https://hall.example.evil/app/x",
		"https://evil.example/app/x",
		"https://hall.example/application",
		"https://hall.example/app",
		"https://hall.example/",
		"https://user@hall.example/app/x",
		"https://hall.example@evil.example/app/x",
		"http://hall.example/app/x",
		"https://hall.example:8443/app/x",
		"https://hall.example:443/app/x",
		"https://hall.example/app/../admin",
		"https://hall.example/app/%2e%2e/admin",
		"https://hall.example/app/..;/admin",
		"https://hall.example/app/%2fevil",
		"https://hall.example/app/x#frag",
		"https://hall.example/app/x?y=1", // no "?*" in the pattern
		"https://hall.example\\@evil.example/app/x",
		"https://hall.example/app/x y",
		"//hall.example/app/x",
		"/app/x",
		"hall.example/app/x",
		"javascript:alert(1)//hall.example/app/",
		"https://exact.example/cb/",
		"https://exact.example/cb?x",
		"https://exact.example/c",
		"https://exact.example/cbx",
		"https://hall.example/app/" + strings.Repeat("a", 3000),
	}
	issued := e.auditCount(cas.ActionTicketIssued)
	for _, service := range bad {
		for _, lang := range []string{"zh-CN", "en"} {
			b.Lang = lang
			r := b.Get("/cas/login?service=" + url.QueryEscape(service))
			if r.Status != http.StatusBadRequest || r.Location() != "" {
				t.Errorf("service %q: %d %q, want 400 and no redirect", service, r.Status, r.Location())
				continue
			}
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || r.Header.Get("Content-Security-Policy") == "" {
				t.Errorf("service %q: error page headers %v", service, r.Header)
			}
			wantText := map[string]string{"zh-CN": "无法完成登录", "en": "Cannot complete sign-in"}[lang]
			if !strings.Contains(string(r.Body), wantText) {
				t.Errorf("service %q in %s: page does not say %q:\n%s", service, lang, wantText, r.Body)
			}
			if strings.Contains(string(r.Body), "evil") || strings.Contains(string(r.Body), "<script") {
				t.Errorf("error page echoes the service: %s", r.Body)
			}
		}
	}
	b.Lang = ""
	// gateway and renew do not change that.
	for _, extra := range []string{"&gateway=true", "&renew=true"} {
		r := b.Get("/cas/login?service=" + url.QueryEscape("https://evil.example/") + extra)
		if r.Status != http.StatusBadRequest || r.Location() != "" {
			t.Errorf("unregistered service with %s: %d %q", extra, r.Status, r.Location())
		}
	}
	if n := e.auditCount(cas.ActionTicketIssued); n != issued {
		t.Errorf("%d tickets issued for unregistered services", n-issued)
	}
	// And the good ones work.
	b.ticket("https://hall.example/app/", "")
	b.ticket("https://HALL.example/app/x/y", "")
	b.ticket("https://exact.example/cb", "")
}

func TestOversizeAndRepeatedParameters(t *testing.T) {
	e := start(t, nil)
	e.service(client.Spec{ID: "hall", RedirectURIs: []string{hall + "*"}})
	b := e.browser()
	b.MustRegister(zhang)
	for _, q := range []string{
		"service=" + url.QueryEscape(hallLogin) + "&service=" + url.QueryEscape("https://evil.example/"),
		"service=" + url.QueryEscape(hallLogin) + "&x=" + strings.Repeat("a", 7000),
		"service=" + url.QueryEscape(hall+strings.Repeat("a", 3000)),
		"service=%zz",
	} {
		r := b.Get("/cas/login?" + q)
		if r.Status != http.StatusBadRequest || r.Location() != "" {
			t.Errorf("/cas/login?%.60s…: %d %q, want 400 and no redirect", q, r.Status, r.Location())
		}
	}
	if n := e.auditCount(cas.ActionTicketIssued); n != 0 {
		t.Errorf("%d tickets issued on bad input", n)
	}
}

func TestLoginWithoutService(t *testing.T) {
	e := start(t, nil)
	b := e.browser()
	if r := b.Get("/cas/login"); r.Status != http.StatusFound || r.Location() != "/me" {
		t.Fatalf("/cas/login without service: %d %q", r.Status, r.Location())
	}
}

// TestHeadUsesNothingUp: a HEAD (a link checker, a prefetch) gets 405 and
// neither signs in nor uses up a ticket.
func TestHeadUsesNothingUp(t *testing.T) {
	e, b, _ := signedIn(t)
	ticket := b.ticket(hallLogin, "")
	q := url.Values{"service": {hallLogin}, "ticket": {ticket}}
	for _, path := range []string{"/cas/serviceValidate?" + q.Encode(), "/cas/login?service=" + url.QueryEscape(hallLogin), "/cas/logout"} {
		if r := b.Do("HEAD", path, "", nil); r.Status != http.StatusMethodNotAllowed {
			t.Errorf("HEAD %s: %d, want 405", path, r.Status)
		}
	}
	if code := failureCode(t, e.validate("/cas/serviceValidate", q)); code != "" {
		t.Fatalf("ticket after a HEAD: %s", code)
	}
	if r := b.Get("/api/v1/me"); r.Status != http.StatusOK {
		t.Errorf("HEAD /cas/logout signed the user out: %d", r.Status)
	}
}

func TestPendingLoginsAreLimitedPerAddress(t *testing.T) {
	e := start(t, func(c *config.Config) { c.CASLoginsPerIPMinute = 3 })
	e.service(client.Spec{ID: "hall", RedirectURIs: []string{hall + "*"}})
	b := e.browser()
	target := "/cas/login?service=" + url.QueryEscape(hallLogin)
	countPending := func() int {
		var n int
		if err := e.srv.App.Store.(interface{ DB() *sql.DB }).DB().QueryRow(`SELECT count(*) FROM flows WHERE kind = 'cas_login'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := 0; i < 3; i++ {
		if r := b.Get(target); r.Status != http.StatusFound || !strings.HasPrefix(r.Location(), "/login?next=") {
			t.Fatalf("sign-in %d: %d %s", i, r.Status, r.Location())
		}
	}
	r := b.Get(target)
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || r.Location() != "" {
		t.Fatalf("4th sign-in in a minute: %d %q %q", r.Status, r.Header.Get("Retry-After"), r.Location())
	}
	if n := countPending(); n != 3 {
		t.Fatalf("%d pending logins stored, want 3", n)
	}
	e.srv.Clock.Advance(time.Minute)
	if r := b.Get(target); r.Status != http.StatusFound {
		t.Fatalf("a minute later: %d", r.Status)
	}
}
