// Package httpsigtest runs a loopback service that speaks httpsig's signed
// JSON, for tests of its clients: it refuses requests not signed with its
// secret (or whose body "id" and "timestamp" differ from the
// Idempotency-Key and X-Unid-Timestamp headers), signs its answers, and can
// misbehave on request. What it answers is the caller's (Answerer).
package httpsigtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"unid/internal/httpsig"
)

// Misbehaviours of the next answers (Next).
const (
	Normal    = ""
	Slow      = "slow"      // answers after Delay, when the client may have given up
	Error5xx  = "5xx"       // answers 503
	Malformed = "malformed" // a signed answer that is not JSON
	Unsigned  = "unsigned"  // a good answer without a signature
	Forged    = "forged"    // a good answer signed with another secret
	OtherID   = "other_id"  // a signed answer to another request id
)

// Answerer answers a request, already checked, to op ("lookup", ...) with
// request id and body. It returns the JSON answer and whether a request
// with the same id gets it again without asking again; a nil answer is a
// 404. It runs under the service's lock.
type Answerer func(op, id string, body []byte) (answer []byte, keep bool)

// Service is the loopback service.
type Service struct {
	URL    string
	Secret []byte
	// Delay is how long a Slow answer waits; 300ms by default.
	Delay time.Duration
	// Check, if set, also judges a request's headers.
	Check func(http.Header) bool

	answer  Answerer
	mu      sync.Mutex
	modes   []string
	answers map[string][]byte // by request id: the first answer, given again
	refused int
}

// Start runs a service with secret for the test.
func Start(t testing.TB, secret []byte, answer Answerer) *Service {
	s := &Service{Secret: secret, Delay: 300 * time.Millisecond, answer: answer, answers: map[string][]byte{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Next makes the next requests misbehave, one mode each.
func (s *Service) Next(modes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.modes = append(s.modes, modes...)
}

// Refused returns how many requests were refused as not signed.
func (s *Service) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

func (s *Service) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ts := r.Header.Get(httpsig.HeaderTimestamp)
	var req struct {
		ID        string `json:"id"`
		Timestamp int64  `json:"timestamp"`
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !httpsig.Verify(s.Secret, ts, body, r.Header.Get(httpsig.HeaderSignature)) ||
		(s.Check != nil && !s.Check(r.Header)) || json.Unmarshal(body, &req) != nil ||
		req.ID == "" || req.ID != r.Header.Get(httpsig.HeaderIdempotency) || strconv.FormatInt(req.Timestamp, 10) != ts {
		s.refused++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	mode := Normal
	if len(s.modes) > 0 {
		mode, s.modes = s.modes[0], s.modes[1:]
	}
	answer, seen := s.answers[req.ID]
	if !seen {
		var keep bool
		answer, keep = s.answer(r.URL.Path[1:], req.ID, body)
		if answer == nil {
			http.NotFound(w, r)
			return
		}
		if keep {
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
		var a map[string]json.RawMessage
		_ = json.Unmarshal(answer, &a)
		a["id"] = json.RawMessage(`"another-request"`)
		out, _ = json.Marshal(a)
	}
	now := strconv.FormatInt(time.Now().Unix(), 10)
	w.Header().Set("Content-Type", "application/json")
	if mode != Unsigned {
		w.Header().Set(httpsig.HeaderTimestamp, now)
		w.Header().Set(httpsig.HeaderSignature, httpsig.Sign(secret, now, out))
	}
	_, _ = w.Write(out)
}
