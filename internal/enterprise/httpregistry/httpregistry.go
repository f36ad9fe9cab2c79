// Package httpregistry is the enterprise registry that calls a business
// registry service over HTTP (enterprise-registry.provider: http): signed
// JSON both ways, as internal/realname/httpverifier.
//
// # Wire format
//
// unid POSTs JSON to enterprise-registry.url followed by the operation:
//
//	POST {url}/lookup     {"id","timestamp","uscc"}
//
// with the headers Content-Type: application/json, X-Unid-Timestamp (unix
// seconds, also "timestamp" in the body), X-Unid-Signature
// (v1=hex(HMAC-SHA256(enterprise-registry.secret, timestamp + "." + body)))
// and Idempotency-Key (the request id, also "id" in the body). The service
// answers 200 with JSON signed the same way:
//
//	{"id": the request id, "found": true|false,
//	 "uscc", "name", "legal_rep_name", "legal_rep_id_number",
//	 "status": "active"|"revoked"|"deregistered"}
//
// unid compares the legal representative itself. A lookup is retried (at
// most twice, with the same id) after a timeout, a broken connection or a
// 5xx answer. An answer that is unsigned, signed wrongly, of another request id, more
// than five minutes off, not 200 or not the JSON above is not believed:
// the user is told the registry is unavailable (problem
// registry_unavailable, HTTP 503).
package httpregistry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"unid/internal/enterprise"
	"unid/internal/httpsig"
)

// MaxRetries is how many times a lookup is tried again.
const MaxRetries = httpsig.MaxRetries

// MaxSkew is how far an answer's timestamp may be from unid's clock.
const MaxSkew = httpsig.MaxSkew

// Request is the JSON body unid sends.
type Request struct {
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"`
	USCC      string `json:"uscc"`
}

// Stamp sets the request id and the attempt's timestamp.
func (r *Request) Stamp(id string, timestamp int64) { r.ID, r.Timestamp = id, timestamp }

// Answer is the JSON body the service answers.
type Answer struct {
	ID    string `json:"id"`
	Found bool   `json:"found"`
	enterprise.Record
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
	c *httpsig.Client
}

var _ enterprise.Registry = (*Registry)(nil)

// New returns the registry of o.
func New(o Options) *Registry {
	return &Registry{c: httpsig.NewClient(httpsig.ClientOptions{
		Name:        "httpregistry",
		URL:         o.URL,
		Secret:      o.Secret,
		Timeout:     o.Timeout,
		Now:         o.Now,
		Backoff:     o.Backoff,
		Unavailable: enterprise.Unavailable,
	})}
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

func (r *Registry) call(ctx context.Context, op string, req Request) (Answer, error) {
	var a Answer
	if err := r.c.Call(ctx, op, &req, true, &a); err != nil {
		return Answer{}, err
	}
	return a, nil
}
