package cas_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/config"
	"unid/internal/store"
)

// env is a running unid with CAS services registered and one user.
type env struct {
	t   *testing.T
	srv *apptest.Server
}

func start(t *testing.T, edit func(*config.Config)) *env {
	t.Helper()
	return &env{t: t, srv: apptest.Start(t, edit)}
}

// service registers a CAS client.
func (e *env) service(spec client.Spec) store.Client {
	e.t.Helper()
	if spec.Name == "" {
		spec.Name = spec.ID
	}
	spec.Type = store.ClientCAS
	c, _, err := e.srv.App.Clients.Create(context.Background(), spec, audit.Origin{Actor: audit.Operator("test")})
	if err != nil {
		e.t.Fatalf("register CAS client %s: %v", spec.ID, err)
	}
	return c
}

// browser is one browser of a citizen (signing in and registering as the
// pages do), with the CAS steps on top.
type browser struct{ *apptest.Browser }

func (e *env) browser() *browser { return &browser{e.srv.Browser(e.t)} }

// zhang is the citizen these tests register.
var zhang = apptest.Zhang

var ticketRE = regexp.MustCompile(`^ST-[A-Z2-7]{26}$`)

// ticket does /cas/login for service (plus extra query) and returns the
// ticket of the redirect, failing unless the answer is service?ticket=….
func (b *browser) ticket(service, extra string) string {
	b.T.Helper()
	r := b.Get("/cas/login?service=" + url.QueryEscape(service) + extra)
	return ticketOf(b.T, r, service)
}

// ticketOf checks that r sends the browser to service with a ticket and
// returns the ticket.
func ticketOf(t testing.TB, r apptest.Response, service string) string {
	t.Helper()
	if r.Status != http.StatusFound {
		t.Fatalf("/cas/login for %s: %d, want 302; Location %q; %s", service, r.Status, r.Location(), r.Body)
	}
	loc := r.Location()
	sep := "?"
	if strings.Contains(service, "?") {
		sep = "&"
	}
	rest, ok := strings.CutPrefix(loc, service+sep+"ticket=")
	if !ok || !ticketRE.MatchString(rest) {
		t.Fatalf("redirect to %q, want %s%sticket=ST-…", loc, service, sep)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("ticket redirect has Cache-Control %q", cc)
	}
	return rest
}

// validate calls a validation endpoint as a service's back end would:
// without cookies.
func (e *env) validate(endpoint string, q url.Values) apptest.Response {
	e.t.Helper()
	res, err := http.Get(e.srv.URL + endpoint + "?" + q.Encode())
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		e.t.Fatalf("%s: status %d, want 200: %s", endpoint, res.StatusCode, data)
	}
	return apptest.Response{Status: res.StatusCode, Header: res.Header, Body: data}
}

// casNS is the CAS XML namespace; the test reads responses by namespace,
// as a namespace-aware client would, not by the "cas:" prefix.
const casNS = "http://www.yale.edu/tp/cas"

type xmlAttr struct {
	XMLName xml.Name
	Value   string `xml:",chardata"`
}

type serviceResponse struct {
	XMLName xml.Name `xml:"http://www.yale.edu/tp/cas serviceResponse"`
	Success *struct {
		User       string `xml:"http://www.yale.edu/tp/cas user"`
		Attributes *struct {
			Any []xmlAttr `xml:",any"`
		} `xml:"http://www.yale.edu/tp/cas attributes"`
		PGT *string `xml:"http://www.yale.edu/tp/cas proxyGrantingTicket"`
	} `xml:"http://www.yale.edu/tp/cas authenticationSuccess"`
	Failure *struct {
		Code string `xml:"code,attr"`
		Text string `xml:",chardata"`
	} `xml:"http://www.yale.edu/tp/cas authenticationFailure"`
}

// attrs returns the attributes by local name, checking their namespace.
func (s serviceResponse) attrs(t testing.TB) map[string]string {
	t.Helper()
	m := map[string]string{}
	if s.Success == nil || s.Success.Attributes == nil {
		return m
	}
	for _, a := range s.Success.Attributes.Any {
		if a.XMLName.Space != casNS {
			t.Errorf("attribute %s is in namespace %q", a.XMLName.Local, a.XMLName.Space)
		}
		m[a.XMLName.Local] = a.Value
	}
	return m
}

func parseXML(t testing.TB, r apptest.Response) serviceResponse {
	t.Helper()
	var s serviceResponse
	if err := xml.Unmarshal(r.Body, &s); err != nil {
		t.Fatalf("response is not CAS XML: %v\n%s", err, r.Body)
	}
	if (s.Success == nil) == (s.Failure == nil) {
		t.Fatalf("response has neither or both of success and failure:\n%s", r.Body)
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/xml") {
		t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
	}
	return s
}

// failureCode returns the code of a failed XML validation, "" on success.
func failureCode(t testing.TB, r apptest.Response) string {
	t.Helper()
	s := parseXML(t, r)
	if s.Failure == nil {
		return ""
	}
	return s.Failure.Code
}

type jsonResponse struct {
	ServiceResponse struct {
		Success *struct {
			User       string         `json:"user"`
			Attributes map[string]any `json:"attributes"`
		} `json:"authenticationSuccess"`
		Failure *struct {
			Code        string `json:"code"`
			Description string `json:"description"`
		} `json:"authenticationFailure"`
	} `json:"serviceResponse"`
}

func parseJSON(t testing.TB, r apptest.Response) jsonResponse {
	t.Helper()
	var j jsonResponse
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	if err := dec.Decode(&j); err != nil {
		t.Fatalf("response is not CAS JSON: %v\n%s", err, r.Body)
	}
	if (j.ServiceResponse.Success == nil) == (j.ServiceResponse.Failure == nil) {
		t.Fatalf("response has neither or both of success and failure:\n%s", r.Body)
	}
	return j
}

// auditCount counts the audit events with action.
func (e *env) auditCount(action string) int {
	e.t.Helper()
	events, err := e.srv.App.Store.ListAudit(context.Background(), 0, 100000)
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, ev := range events {
		if ev.Action == action {
			n++
		}
	}
	return n
}

// auditEvents returns the audit events with action.
func (e *env) auditEvents(action string) []store.AuditEvent {
	e.t.Helper()
	events, err := e.srv.App.Store.ListAudit(context.Background(), 0, 100000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []store.AuditEvent
	for _, ev := range events {
		if ev.Action == action {
			out = append(out, ev)
		}
	}
	return out
}
