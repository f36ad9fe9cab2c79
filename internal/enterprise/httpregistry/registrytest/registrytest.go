// Package registrytest is a loopback business registry service for
// tests of the http enterprise registry: it checks request signatures,
// answers signed, deduplicates request ids, and can misbehave on demand.
package registrytest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"unid/internal/enterprise"
	"unid/internal/httpsig"
)

// Modes of the next answers (Next).
const (
	Normal    = "normal"
	Slow      = "slow"      // answers after 300ms
	Error5xx  = "5xx"       // answers 503
	Unsigned  = "unsigned"  // answers without a signature
	Forged    = "forged"    // answers signed with another secret
	OtherID   = "other_id"  // answers to another request id
	Malformed = "malformed" // answers not JSON
)

// Service is the loopback registry.
type Service struct {
	URL    string
	Secret []byte

	mu      sync.Mutex
	records map[string]enterprise.Record
	modes   []string
	seen    map[string][]byte // answers by request id
	lookups map[string]int    // distinct requests by operation
	refused int
}

// Start serves records until the test ends.
func Start(t testing.TB, records ...enterprise.Record) *Service {
	s := &Service{Secret: []byte("registry-test-secret"), records: map[string]enterprise.Record{}, seen: map[string][]byte{}, lookups: map[string]int{}}
	for _, r := range records {
		s.records[r.USCC] = r
	}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Next sets the modes of the next answers, one each.
func (s *Service) Next(modes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.modes = append(s.modes, modes...)
}

// Set puts or replaces a record.
func (s *Service) Set(r enterprise.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[r.USCC] = r
}

// Lookups returns how many distinct requests op got.
func (s *Service) Lookups(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookups[op]
}

// Refused returns how many requests were refused as unsigned.
func (s *Service) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

func (s *Service) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	if !httpsig.Verify(s.Secret, r.Header.Get(httpsig.HeaderTimestamp), body, r.Header.Get(httpsig.HeaderSignature)) {
		s.refused++
		s.mu.Unlock()
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	mode := Normal
	if len(s.modes) > 0 {
		mode, s.modes = s.modes[0], s.modes[1:]
	}
	var req struct {
		ID       string `json:"id"`
		USCC     string `json:"uscc"`
		RealName string `json:"real_name"`
		IDNumber string `json:"id_number"`
	}
	_ = json.Unmarshal(body, &req)
	op := strings.TrimPrefix(r.URL.Path, "/")
	answer, ok := s.seen[req.ID]
	if !ok {
		s.lookups[op]++
		rec, found := s.records[req.USCC]
		a := map[string]any{"id": req.ID, "found": found}
		if found {
			a["uscc"], a["name"], a["legal_rep_name"], a["legal_rep_id_number"], a["status"] = rec.USCC, rec.Name, rec.LegalRepName, rec.LegalRepID, rec.Status
			if op == "legal-rep" {
				a["is_legal_rep"] = rec.LegalRepName == req.RealName && strings.EqualFold(rec.LegalRepID, req.IDNumber)
			}
		}
		answer, _ = json.Marshal(a)
		s.seen[req.ID] = answer
	}
	s.mu.Unlock()
	secret := s.Secret
	switch mode {
	case Slow:
		time.Sleep(300 * time.Millisecond)
	case Error5xx:
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	case Forged:
		secret = []byte("another secret")
	case OtherID:
		answer = []byte(strings.Replace(string(answer), req.ID, "someone-else", 1))
	case Malformed:
		answer = []byte("<html>")
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(httpsig.HeaderTimestamp, ts)
	if mode != Unsigned {
		w.Header().Set(httpsig.HeaderSignature, httpsig.Sign(secret, ts, answer))
	}
	_, _ = w.Write(answer)
}
