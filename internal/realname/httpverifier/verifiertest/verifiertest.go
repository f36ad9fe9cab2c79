// Package verifiertest runs a loopback real-name verification service that
// speaks httpverifier's wire format and checks its signatures, for tests of
// the http provider. It passes the people it is told of and fails everyone
// else, and can misbehave on request.
package verifiertest

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"unid/internal/httpsig"
	"unid/internal/realname/httpverifier"
)

// Misbehaviours of the next answers.
const (
	Normal    = ""
	Slow      = "slow"      // checks, then answers after the client gave up
	Error5xx  = "5xx"       // checks, then answers 503
	Malformed = "malformed" // a signed answer that is not JSON
	Unsigned  = "unsigned"  // a good answer without a signature
	Forged    = "forged"    // a good answer signed with another secret
	OtherID   = "other_id"  // a signed answer to another request id
)

// Service is the loopback verification service.
type Service struct {
	URL    string
	Secret []byte
	AppID  string
	// Delay is how long a Slow answer waits.
	Delay time.Duration

	mu       sync.Mutex
	people   map[string]string // ID number → name
	answers  map[string][]byte // by request id: the first answer, given again
	checks   map[string]int    // checks run, by operation
	bad      int               // requests refused for a bad signature
	mode     []string          // misbehaviour of the next requests, in order
	tickets  map[string]string // ticket → result
	subjects map[string]string // ticket → ID number
}

// Start runs a service for the test; it knows people (ID number → name).
func Start(t testing.TB, people map[string]string) *Service {
	s := &Service{Secret: []byte("loopback-secret"), AppID: "unid-test", Delay: 300 * time.Millisecond,
		people: people, answers: map[string][]byte{}, checks: map[string]int{},
		tickets: map[string]string{}, subjects: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Next makes the next requests misbehave, one mode each.
func (s *Service) Next(modes ...string) {
	s.mu.Lock()
	s.mode = append(s.mode, modes...)
	s.mu.Unlock()
}

// Checks returns how many checks of op ("identity", ...) the service ran:
// a request id seen before runs none.
func (s *Service) Checks(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.checks[op]
}

// Refused returns how many requests had no valid signature.
func (s *Service) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bad
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

func (s *Service) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ts := r.Header.Get(httpsig.HeaderTimestamp)
	var req httpverifier.Request
	s.mu.Lock()
	defer s.mu.Unlock()
	if !httpsig.Verify(s.Secret, ts, body, r.Header.Get(httpsig.HeaderSignature)) ||
		r.Header.Get(httpverifier.HeaderAppID) != s.AppID || json.Unmarshal(body, &req) != nil ||
		req.ID == "" || req.ID != r.Header.Get(httpsig.HeaderIdempotency) || strconv.FormatInt(req.Timestamp, 10) != ts {
		s.bad++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	mode := Normal
	if len(s.mode) > 0 {
		mode, s.mode = s.mode[0], s.mode[1:]
	}
	answer, seen := s.answers[req.ID]
	if !seen {
		op := r.URL.Path[1:]
		a := httpverifier.Answer{ID: req.ID, Reference: "ref-" + req.ID[:8]}
		pass := req.RealName != "" && s.people[req.IDNumber] == req.RealName
		switch op {
		case "identity", "bank-card", "carrier":
			s.checks[op]++
			a.Result = map[bool]string{true: "pass", false: "fail"}[pass]
		case "redirects":
			s.checks[op]++
			ticket := rand.Text()
			s.tickets[ticket], s.subjects[ticket] = "pending", req.IDNumber
			a.Ticket, a.URL = ticket, "http://"+r.Host+"/h5/"+ticket+"?return="+req.ReturnURL
		case "redirects/result":
			res, ok := s.tickets[req.Ticket]
			if !ok {
				res = "fail"
			}
			a.Result, a.IDNumber = res, s.subjects[req.Ticket]
		default:
			http.NotFound(w, r)
			return
		}
		answer, _ = json.Marshal(a)
		if op != "redirects/result" {
			s.answers[req.ID] = answer
		}
	}
	secret, out := s.Secret, answer
	switch mode {
	case Slow:
		s.mu.Unlock()
		time.Sleep(s.Delay)
		s.mu.Lock()
	case Error5xx:
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	case Malformed:
		out = []byte("<html>oops</html>")
	case Forged:
		secret = []byte("someone else")
	case OtherID:
		var a httpverifier.Answer
		json.Unmarshal(answer, &a)
		a.ID = "another-request"
		out, _ = json.Marshal(a)
	}
	now := strconv.FormatInt(time.Now().Unix(), 10)
	w.Header().Set("Content-Type", "application/json")
	if mode != Unsigned {
		w.Header().Set(httpsig.HeaderTimestamp, now)
		w.Header().Set(httpsig.HeaderSignature, httpsig.Sign(secret, now, out))
	}
	w.Write(out)
}
