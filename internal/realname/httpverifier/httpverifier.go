// Package httpverifier is the real-name verifier that calls a verification
// service over HTTP (realname.provider: http): signed JSON both ways.
//
// # Wire format
//
// unid POSTs JSON to realname.url followed by the operation:
//
//	POST {url}/identity          {"id","app_id","timestamp","method":"registry","real_name","id_number"}
//	POST {url}/bank-card         {..., "method":"bank_card","real_name","id_number","card_number","phone"}
//	POST {url}/carrier           {..., "method":"carrier","real_name","id_number","phone"}
//	POST {url}/redirects         {..., "method":"face"|"netid"|"netid_face","real_name","id_number","return_url"}
//	POST {url}/redirects/result  {..., "ticket"}
//
// with the headers
//
//	Content-Type: application/json
//	X-Unid-App-Id: realname.app-id
//	X-Unid-Timestamp: unix seconds (also "timestamp" in the body)
//	X-Unid-Signature: v1=hex(HMAC-SHA256(realname.secret, timestamp + "." + body))
//	Idempotency-Key: the request id (also "id" in the body)
//
// The service answers 200 with JSON, signed the same way (X-Unid-Timestamp
// and X-Unid-Signature over the answer's body):
//
//	{"id": the request id, "result": "pass"|"fail"|"cancelled"|"pending",
//	 "reference": its reference of the check,
//	 "url", "ticket": of a started redirect verification,
//	 "id_number": whom a redirect verification verified}
//
// A request id seen before must get the first answer again and cost
// nothing more: unid retries the checks and the result fetch (at most
// twice, with the same id) after a timeout, a broken connection or a 5xx
// answer. Starting a redirect verification is not retried: its answer
// holds a URL the browser is about to follow. An answer that is unsigned,
// signed wrongly, of another request id, more than five minutes off, not
// 200 or not the JSON above is not believed: the user is told the service
// is unavailable (problem realname_unavailable, HTTP 503).
package httpverifier

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"unid/internal/httpsig"
	"unid/internal/realname"
)

// HeaderAppID names the application to the service.
const HeaderAppID = "X-Unid-App-Id"

// MaxRetries is how many times an idempotent call is tried again.
const MaxRetries = httpsig.MaxRetries

// MaxSkew is how far an answer's timestamp may be from unid's clock.
const MaxSkew = httpsig.MaxSkew

// Request is the JSON body unid sends.
type Request struct {
	ID         string `json:"id"`
	AppID      string `json:"app_id"`
	Timestamp  int64  `json:"timestamp"`
	Method     string `json:"method,omitempty"`
	RealName   string `json:"real_name,omitempty"`
	IDNumber   string `json:"id_number,omitempty"`
	CardNumber string `json:"card_number,omitempty"`
	Phone      string `json:"phone,omitempty"`
	ReturnURL  string `json:"return_url,omitempty"`
	Ticket     string `json:"ticket,omitempty"`
}

// Stamp sets the request id and the attempt's timestamp.
func (r *Request) Stamp(id string, timestamp int64) { r.ID, r.Timestamp = id, timestamp }

// Answer is the JSON body the service answers.
type Answer struct {
	ID        string `json:"id"`
	Result    string `json:"result"`
	Reference string `json:"reference"`
	URL       string `json:"url,omitempty"`
	Ticket    string `json:"ticket,omitempty"`
	IDNumber  string `json:"id_number,omitempty"`
}

// Options configure a Verifier.
type Options struct {
	URL     string
	AppID   string
	Secret  []byte
	Timeout time.Duration // of one attempt
	Now     func() time.Time
	// Backoff is the pause before a retry; 200ms by default.
	Backoff time.Duration
}

// Verifier calls the verification service.
type Verifier struct {
	appID string
	c     *httpsig.Client
}

var _ realname.Provider = (*Verifier)(nil)

// New returns the verifier of o.
func New(o Options) *Verifier {
	return &Verifier{appID: o.AppID, c: httpsig.NewClient(httpsig.ClientOptions{
		Name:        "httpverifier",
		URL:         o.URL,
		Secret:      o.Secret,
		Header:      http.Header{HeaderAppID: {o.AppID}},
		Timeout:     o.Timeout,
		Now:         o.Now,
		Backoff:     o.Backoff,
		Unavailable: unavailable,
	})}
}

// Name is "http".
func (v *Verifier) Name() string { return "http" }

// VerifyIdentity asks the two-element check.
func (v *Verifier) VerifyIdentity(ctx context.Context, p realname.Person) (realname.Outcome, error) {
	a, err := v.call(ctx, "identity", true, Request{Method: realname.MethodRegistry, RealName: p.RealName, IDNumber: p.IDNumber})
	return outcome(a), err
}

// VerifyBankCard asks the four-element check.
func (v *Verifier) VerifyBankCard(ctx context.Context, p realname.Person, card, phone string) (realname.Outcome, error) {
	a, err := v.call(ctx, "bank-card", true, Request{Method: realname.MethodBankCard, RealName: p.RealName, IDNumber: p.IDNumber, CardNumber: card, Phone: phone})
	return outcome(a), err
}

// VerifyCarrier asks the three-element check.
func (v *Verifier) VerifyCarrier(ctx context.Context, p realname.Person, phone string) (realname.Outcome, error) {
	a, err := v.call(ctx, "carrier", true, Request{Method: realname.MethodCarrier, RealName: p.RealName, IDNumber: p.IDNumber, Phone: phone})
	return outcome(a), err
}

// StartRedirect opens an H5 verification; it is not retried.
func (v *Verifier) StartRedirect(ctx context.Context, method string, p realname.Person, returnURL string) (realname.Started, error) {
	a, err := v.call(ctx, "redirects", false, Request{Method: method, RealName: p.RealName, IDNumber: p.IDNumber, ReturnURL: returnURL})
	if err != nil {
		return realname.Started{}, err
	}
	u, perr := url.Parse(a.URL)
	if a.Ticket == "" || perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return realname.Started{}, unavailable(errors.New("httpverifier: redirects: answer without a ticket or an absolute URL"))
	}
	return realname.Started{URL: a.URL, Ticket: a.Ticket}, nil
}

// RedirectResult asks the result of an H5 verification.
func (v *Verifier) RedirectResult(ctx context.Context, ticket string) (realname.Outcome, error) {
	a, err := v.call(ctx, "redirects/result", true, Request{Ticket: ticket})
	return outcome(a), err
}

func outcome(a Answer) realname.Outcome {
	return realname.Outcome{Result: a.Result, Reference: a.Reference, IDNumber: a.IDNumber}
}

// call sends req to op, retrying an idempotent call with the same id.
func (v *Verifier) call(ctx context.Context, op string, idempotent bool, req Request) (Answer, error) {
	req.AppID = v.appID
	var a Answer
	if err := v.c.Call(ctx, op, &req, idempotent, &a); err != nil {
		return Answer{}, err
	}
	switch a.Result {
	case realname.ResultPass, realname.ResultFail, realname.ResultCancelled, realname.ResultPending:
	case "":
		if op != "redirects" {
			return Answer{}, unavailable(fmt.Errorf("httpverifier: %s: answer without a result", op))
		}
	default:
		return Answer{}, unavailable(fmt.Errorf("httpverifier: %s: unknown result %q", op, a.Result))
	}
	return a, nil
}

func unavailable(err error) error {
	return realname.Unavailable(err)
}
