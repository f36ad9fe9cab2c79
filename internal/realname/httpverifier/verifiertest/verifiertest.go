// Package verifiertest runs a loopback real-name verification service that
// speaks httpverifier's wire format and checks its signatures, for tests of
// the http provider. It passes the people it is told of and fails everyone
// else, and can misbehave on request (internal/httpsig/httpsigtest does the
// signed part).
package verifiertest

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"unid/internal/httpsig/httpsigtest"
	"unid/internal/realname/httpverifier"
)

// Misbehaviours of the next answers.
const (
	Normal    = httpsigtest.Normal
	Slow      = httpsigtest.Slow      // checks, then answers after the client gave up
	Error5xx  = httpsigtest.Error5xx  // checks, then answers 503
	Malformed = httpsigtest.Malformed // a signed answer that is not JSON
	Unsigned  = httpsigtest.Unsigned  // a good answer without a signature
	Forged    = httpsigtest.Forged    // a good answer signed with another secret
	OtherID   = httpsigtest.OtherID   // a signed answer to another request id
)

// Service is the loopback verification service.
type Service struct {
	*httpsigtest.Service
	AppID string

	mu       sync.Mutex
	people   map[string]string // ID number → name
	checks   map[string]int    // checks run, by operation
	tickets  map[string]string // ticket → result
	subjects map[string]string // ticket → ID number
}

// Start runs a service for the test; it knows people (ID number → name).
func Start(t testing.TB, people map[string]string) *Service {
	s := &Service{AppID: "unid-test", people: people, checks: map[string]int{},
		tickets: map[string]string{}, subjects: map[string]string{}}
	s.Service = httpsigtest.Start(t, []byte("loopback-secret"), s.answer)
	s.Check = func(h http.Header) bool { return h.Get(httpverifier.HeaderAppID) == s.AppID }
	return s
}

// Checks returns how many checks of op ("identity", ...) the service ran:
// a request id seen before runs none.
func (s *Service) Checks(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.checks[op]
}

// Finish records the outcome of the redirect verification of ticket, as
// the user would at the service's page.
func (s *Service) Finish(ticket, result string) {
	s.mu.Lock()
	s.tickets[ticket] = result
	s.mu.Unlock()
}

// Tickets lists the tickets of started redirect verifications.
func (s *Service) Tickets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for t := range s.tickets {
		out = append(out, t)
	}
	return out
}

func (s *Service) answer(op, id string, body []byte) ([]byte, bool) {
	var req httpverifier.Request
	_ = json.Unmarshal(body, &req)
	s.mu.Lock()
	defer s.mu.Unlock()
	a := httpverifier.Answer{ID: id, Reference: "ref-" + id[:8]}
	pass := req.RealName != "" && s.people[req.IDNumber] == req.RealName
	switch op {
	case "identity", "bank-card", "carrier":
		s.checks[op]++
		a.Result = map[bool]string{true: "pass", false: "fail"}[pass]
	case "redirects":
		s.checks[op]++
		ticket := rand.Text()
		s.tickets[ticket], s.subjects[ticket] = "pending", req.IDNumber
		a.Ticket, a.URL = ticket, s.URL+"/h5/"+ticket+"?return="+req.ReturnURL
	case "redirects/result":
		res, ok := s.tickets[req.Ticket]
		if !ok {
			res = "fail"
		}
		a.Result, a.IDNumber = res, s.subjects[req.Ticket]
	default:
		return nil, false
	}
	answer, _ := json.Marshal(a)
	return answer, op != "redirects/result"
}
