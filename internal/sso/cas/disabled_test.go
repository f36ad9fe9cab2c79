package cas_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"unid/internal/audit"
	"unid/internal/sso/cas"
)

// TestDisabledService: a disabled CAS service gets no tickets (an error
// page, never a redirect to it), a ticket it was issued before is refused
// at validation with INVALID_SERVICE on every endpoint, and once enabled
// it signs users in as before.
func TestDisabledService(t *testing.T) {
	e, b, userID := signedIn(t)
	ctx := context.Background()
	by := audit.Origin{Actor: audit.Operator("test")}
	issued := []string{b.ticket(hallLogin, ""), b.ticket(hallLogin, ""), b.ticket(hallLogin, "")}
	if _, err := e.srv.App.Clients.Disable(ctx, "hall", by); err != nil {
		t.Fatal(err)
	}

	r := b.Get("/cas/login?service=" + url.QueryEscape(hallLogin))
	if r.Status != http.StatusForbidden || r.Location() != "" || !strings.Contains(string(r.Body), "停用") {
		t.Fatalf("/cas/login for a disabled service = %d %q %s", r.Status, r.Location(), r.Body)
	}
	for i, endpoint := range []string{"/cas/serviceValidate", "/cas/p3/serviceValidate"} {
		q := url.Values{"service": {hallLogin}, "ticket": {issued[i]}}
		if code := failureCode(t, e.validate(endpoint, q)); code != cas.CodeInvalidService {
			t.Errorf("%s with a disabled service's ticket: %q, want INVALID_SERVICE", endpoint, code)
		}
	}
	if r := e.validate("/cas/validate", url.Values{"service": {hallLogin}, "ticket": {issued[2]}}); string(r.Body) != "no\n\n" {
		t.Errorf("CAS 1.0 with a disabled service's ticket: %q", r.Body)
	}
	// Another service is not touched.
	if tk := b.ticket(tax, ""); failureCode(t, e.validate("/cas/serviceValidate", url.Values{"service": {tax}, "ticket": {tk}})) != "" {
		t.Error("another service was refused")
	}
	refused := e.auditEvents(cas.ActionTicketRefused)
	if len(refused) != 3 || refused[0].Detail != `{"reason":"service is disabled"}` {
		t.Errorf("refusals audited: %+v", refused)
	}

	if _, err := e.srv.App.Clients.Enable(ctx, "hall", by); err != nil {
		t.Fatal(err)
	}
	tk := b.ticket(hallLogin, "")
	if r := e.validate("/cas/validate", url.Values{"service": {hallLogin}, "ticket": {tk}}); string(r.Body) != "yes\n"+userID+"\n" {
		t.Errorf("after enabling: %q", r.Body)
	}
}
