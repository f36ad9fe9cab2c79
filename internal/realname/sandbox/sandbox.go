// Package sandbox is the offline real-name verifier for development and
// tests (realname.provider: sandbox). It answers from people.json, a
// fixture of fictitious people shipped with unid and marked TEST DATA:
// someone not in it is "not in the registry". Its redirect verifications
// (face, netid, netid_face) go to its own H5 page, which unid serves in dev
// mode under /dev/realname/: the buttons 通过/pass, 不通过/fail and 取消/cancel
// record the outcome here and send the browser back to unid's callback,
// which then asks Result server to server, as with a real service. Pressing
// pass for someone whose fixture face outcome is "fail" fails.
package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"unid/internal/i18n"
	"unid/internal/realname"
)

//go:embed people.json
var peopleJSON []byte

// Card is a bank card of a fixture person and its reserved phone.
type Card struct {
	Number string `json:"number"`
	Phone  string `json:"phone"`
}

// Person is a fictitious person of the fixture.
type Person struct {
	RealName string   `json:"real_name"`
	IDNumber string   `json:"id_number"`
	Phones   []string `json:"phones"` // registered to the person at a carrier
	Cards    []Card   `json:"cards"`
	Face     string   `json:"face"` // "pass" or "fail"
}

// People returns the fixture: fictitious test data.
func People() []Person {
	var doc struct{ People []Person }
	if err := json.Unmarshal(peopleJSON, &doc); err != nil {
		panic("sandbox: people.json: " + err.Error()) // embedded; a test parses it
	}
	return doc.People
}

// PathPrefix is where Handler serves the H5 page.
const PathPrefix = "/dev/realname/"

// session is one redirect verification.
type session struct {
	method    string
	idNumber  string
	returnURL string
	result    string
}

// Provider is the sandbox verifier.
type Provider struct {
	people  map[string]Person // by ID number
	baseURL string            // of the unid serving Handler
	cat     *i18n.Catalog

	mu       sync.Mutex
	sessions map[string]*session // by ticket
	pages    map[string]*session // by the handle in the page's URL
	page     *template.Template
}

var _ realname.Provider = (*Provider)(nil)

// New returns the sandbox verifier; its H5 page is at baseURL+PathPrefix.
func New(baseURL string, cat *i18n.Catalog) *Provider {
	p := &Provider{people: map[string]Person{}, baseURL: strings.TrimSuffix(baseURL, "/"), cat: cat,
		sessions: map[string]*session{}, pages: map[string]*session{}, page: template.Must(template.New("h5").Parse(pageHTML))}
	for _, x := range People() {
		p.people[x.IDNumber] = x
	}
	return p
}

// Name is "sandbox".
func (p *Provider) Name() string { return "sandbox" }

func ref() string { return "sbx-" + strings.ToLower(rand.Text()[:12]) }

func outcome(pass bool) realname.Outcome {
	if pass {
		return realname.Outcome{Result: realname.ResultPass, Reference: ref()}
	}
	return realname.Outcome{Result: realname.ResultFail, Reference: ref()}
}

// match returns the fixture person with x's ID number and name.
func (p *Provider) match(x realname.Person) (Person, bool) {
	f, ok := p.people[x.IDNumber]
	return f, ok && f.RealName == x.RealName
}

// VerifyIdentity passes a name and ID number of the same fixture person.
func (p *Provider) VerifyIdentity(ctx context.Context, x realname.Person) (realname.Outcome, error) {
	_, ok := p.match(x)
	return outcome(ok), nil
}

// VerifyBankCard passes a card of the person with its reserved phone.
func (p *Provider) VerifyBankCard(ctx context.Context, x realname.Person, card, phone string) (realname.Outcome, error) {
	f, ok := p.match(x)
	pass := false
	for _, c := range f.Cards {
		pass = pass || ok && c.Number == card && c.Phone == phone
	}
	return outcome(pass), nil
}

// VerifyCarrier passes a phone registered to the person.
func (p *Provider) VerifyCarrier(ctx context.Context, x realname.Person, phone string) (realname.Outcome, error) {
	f, ok := p.match(x)
	pass := false
	for _, ph := range f.Phones {
		pass = pass || ok && ph == phone
	}
	return outcome(pass), nil
}

// StartRedirect opens a verification on the sandbox page. The page is
// found by a handle of its own, not by the ticket: the browser never sees
// the ticket.
func (p *Provider) StartRedirect(ctx context.Context, method string, x realname.Person, returnURL string) (realname.Started, error) {
	ticket, handle := rand.Text(), rand.Text()
	p.mu.Lock()
	s := &session{method: method, idNumber: x.IDNumber, returnURL: returnURL, result: realname.ResultPending}
	p.sessions[ticket], p.pages[handle] = s, s
	p.mu.Unlock()
	return realname.Started{URL: p.baseURL + PathPrefix + handle, Ticket: ticket}, nil
}

// RedirectResult answers the outcome the page recorded; an unknown ticket
// fails.
func (p *Provider) RedirectResult(ctx context.Context, ticket string) (realname.Outcome, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.sessions[ticket]
	if !ok {
		return realname.Outcome{Result: realname.ResultFail}, nil
	}
	return realname.Outcome{Result: s.result, Reference: "sbx-" + strings.ToLower(ticket[:12]), IDNumber: s.idNumber}, nil
}

// ServeHTTP serves the H5 page: GET shows the buttons, POST records the
// choice and sends the browser back to unid.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := strings.TrimPrefix(r.URL.Path, PathPrefix)
	p.mu.Lock()
	s, ok := p.pages[h]
	p.mu.Unlock()
	if !ok || h == "" || strings.Contains(h, "/") {
		http.NotFound(w, r)
		return
	}
	lang := i18n.Negotiate(r)
	switch r.Method {
	case http.MethodGet:
		var b bytes.Buffer
		t := func(key string) string { return p.cat.T(lang, key) }
		if err := p.page.Execute(&b, map[string]any{"T": t, "Lang": string(lang),
			"Title": t("sandbox.realname.title." + s.method), "Action": PathPrefix + h}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(b.Bytes())
	case http.MethodPost:
		choice := r.PostFormValue("outcome")
		p.mu.Lock()
		if s.result == realname.ResultPending {
			switch choice {
			case "pass":
				s.result = realname.ResultPass
				f, known := p.people[s.idNumber]
				if !known || (s.method != realname.MethodNetID && f.Face != "pass") {
					s.result = realname.ResultFail
				}
			case "fail":
				s.result = realname.ResultFail
			case "cancel":
				s.result = realname.ResultCancelled
			}
		}
		back := s.returnURL
		p.mu.Unlock()
		if _, err := url.Parse(back); err != nil {
			http.Error(w, fmt.Sprint(err), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, back, http.StatusSeeOther)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
	}
}

const pageHTML = `<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title></head>
<body style="font-family: sans-serif; max-width: 28rem; margin: 2rem auto; padding: 0 1rem">
<p style="background:#fff3cd;padding:.5rem">{{call .T "sandbox.realname.banner"}}</p>
<h1>{{.Title}}</h1>
<p>{{call .T "sandbox.realname.intro"}}</p>
<form method="post" action="{{.Action}}">
<button name="outcome" value="pass">{{call .T "sandbox.realname.pass"}}</button>
<button name="outcome" value="fail">{{call .T "sandbox.realname.fail"}}</button>
<button name="outcome" value="cancel">{{call .T "sandbox.realname.cancel"}}</button>
</form></body></html>`
