// Package httpregistry is the enterprise registry that calls a business
// registry service over HTTP (enterprise-registry.provider: http): signed
// JSON both ways, as internal/realname/httpverifier.
//
// # Wire format
//
// unid POSTs JSON to enterprise-registry.url followed by the operation:
//
//	POST {url}/lookup     {"id","timestamp","uscc"}
//	POST {url}/legal-rep  {"id","timestamp","uscc","real_name","id_number"}
//
// with the headers Content-Type: application/json, X-Unid-Timestamp (unix
// seconds, also "timestamp" in the body), X-Unid-Signature
// (v1=hex(HMAC-SHA256(enterprise-registry.secret, timestamp + "." + body)))
// and Idempotency-Key (the request id, also "id" in the body). The service
// answers 200 with JSON signed the same way:
//
//	{"id": the request id, "found": true|false,
//	 "uscc", "name", "legal_rep_name", "legal_rep_id_number",
//	 "status": "active"|"revoked"|"deregistered",   (lookup)
//	 "is_legal_rep": true|false}                    (legal-rep)
//
// Both operations are lookups: unid retries them (at most twice, with the
// same id) after a timeout, a broken connection or a 5xx answer. An
// answer that is unsigned, signed wrongly, of another request id, more
// than five minutes off, not 200 or not the JSON above is not believed:
// the user is told the registry is unavailable (problem
// registry_unavailable, HTTP 503).
package httpregistry

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"unid/internal/enterprise"
	"unid/internal/httpsig"
)

// MaxRetries is how many times a lookup is tried again.
const MaxRetries = 2

// MaxSkew is how far an answer's timestamp may be from unid's clock.
const MaxSkew = 5 * time.Minute

// Request is the JSON body unid sends.
type Request struct {
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"`
	USCC      string `json:"uscc"`
	RealName  string `json:"real_name,omitempty"`
	IDNumber  string `json:"id_number,omitempty"`
}

// Answer is the JSON body the service answers.
type Answer struct {
	ID    string `json:"id"`
	Found bool   `json:"found"`
	enterprise.Record
	IsLegalRep bool `json:"is_legal_rep,omitempty"`
}

// Options configure a Registry.
type Options struct {
	URL     string
	Secret  []byte
	Timeout time.Duration // of one attempt
	Now     func() time.Time
	Backoff time.Duration // pause before a retry; 200ms by default
}

// Registry calls the registry service.
type Registry struct {
	o      Options
	client *http.Client
}

var _ enterprise.Registry = (*Registry)(nil)

// New returns the registry of o.
func New(o Options) *Registry {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Backoff <= 0 {
		o.Backoff = 200 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.URL = strings.TrimSuffix(o.URL, "/")
	return &Registry{o: o, client: &http.Client{
		// A redirected POST would send personal data elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Name is "http".
func (r *Registry) Name() string { return "http" }

// Lookup asks the registry's record of uscc.
func (r *Registry) Lookup(ctx context.Context, uscc string) (enterprise.Record, bool, error) {
	a, err := r.call(ctx, "lookup", Request{USCC: uscc})
	if err != nil {
		return enterprise.Record{}, false, err
	}
	if !a.Found {
		return enterprise.Record{}, false, nil
	}
	switch a.Status {
	case enterprise.StatusActive, enterprise.StatusRevoked, enterprise.StatusDeregistered:
	default:
		return enterprise.Record{}, false, enterprise.Unavailable(fmt.Errorf("httpregistry: lookup: unknown status %q", a.Status))
	}
	if a.USCC != "" && a.USCC != uscc {
		return enterprise.Record{}, false, enterprise.Unavailable(errors.New("httpregistry: lookup: the answer is about another enterprise"))
	}
	a.Record.USCC = uscc
	return a.Record, true, nil
}

// IsLegalRep asks whether the registry names the person.
func (r *Registry) IsLegalRep(ctx context.Context, uscc, name, idNumber string) (bool, error) {
	a, err := r.call(ctx, "legal-rep", Request{USCC: uscc, RealName: name, IDNumber: idNumber})
	return err == nil && a.Found && a.IsLegalRep, err
}

type retryable struct{ error }

func (r *Registry) call(ctx context.Context, op string, req Request) (Answer, error) {
	req.ID = strings.ToLower(rand.Text())
	var last error
	for i := range 1 + MaxRetries {
		if i > 0 {
			select {
			case <-ctx.Done():
				return Answer{}, enterprise.Unavailable(fmt.Errorf("httpregistry: %s: %w", op, ctx.Err()))
			case <-time.After(r.o.Backoff):
			}
		}
		a, err := r.once(ctx, op, req)
		if err == nil {
			return a, nil
		}
		last = err
		if !errors.As(err, new(retryable)) {
			break
		}
	}
	return Answer{}, enterprise.Unavailable(last)
}

func (r *Registry) once(ctx context.Context, op string, req Request) (Answer, error) {
	req.Timestamp = r.o.Now().Unix()
	body, err := json.Marshal(req)
	if err != nil {
		return Answer{}, fmt.Errorf("httpregistry: encode: %w", err)
	}
	ts := strconv.FormatInt(req.Timestamp, 10)
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, r.o.URL+"/"+op, bytes.NewReader(body))
	if err != nil {
		return Answer{}, fmt.Errorf("httpregistry: %s: %w", op, causeOf(err))
	}
	hr.GetBody = nil
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set(httpsig.HeaderTimestamp, ts)
	hr.Header.Set(httpsig.HeaderSignature, httpsig.Sign(r.o.Secret, ts, body))
	hr.Header.Set(httpsig.HeaderIdempotency, req.ID)
	res, err := r.client.Do(hr)
	if err != nil {
		return Answer{}, retryable{fmt.Errorf("httpregistry: %s: %w", op, causeOf(err))}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return Answer{}, retryable{fmt.Errorf("httpregistry: %s: read answer: %w", op, causeOf(err))}
	}
	if res.StatusCode >= 500 {
		return Answer{}, retryable{fmt.Errorf("httpregistry: %s: status %d", op, res.StatusCode)}
	}
	if res.StatusCode != http.StatusOK {
		return Answer{}, fmt.Errorf("httpregistry: %s: status %d", op, res.StatusCode)
	}
	ats := res.Header.Get(httpsig.HeaderTimestamp)
	if !httpsig.Verify(r.o.Secret, ats, data, res.Header.Get(httpsig.HeaderSignature)) {
		return Answer{}, fmt.Errorf("httpregistry: %s: the answer is not signed by the service", op)
	}
	at, err := strconv.ParseInt(ats, 10, 64)
	if err != nil || r.o.Now().Sub(time.Unix(at, 0)).Abs() > MaxSkew {
		return Answer{}, fmt.Errorf("httpregistry: %s: the answer's timestamp %q is off", op, ats)
	}
	var a Answer
	if err := json.Unmarshal(data, &a); err != nil {
		return Answer{}, fmt.Errorf("httpregistry: %s: malformed answer: %w", op, err)
	}
	if a.ID != req.ID {
		return Answer{}, fmt.Errorf("httpregistry: %s: the answer is to another request", op)
	}
	return a, nil
}

func causeOf(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
