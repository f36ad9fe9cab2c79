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

	"unid/internal/httpsig"
	"unid/internal/realname"
)

// HeaderAppID names the application to the service.
const HeaderAppID = "X-Unid-App-Id"

// MaxRetries is how many times an idempotent call is tried again.
const MaxRetries = 2

// MaxSkew is how far an answer's timestamp may be from unid's clock.
const MaxSkew = 5 * time.Minute

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
	o      Options
	client *http.Client
}

var _ realname.Provider = (*Verifier)(nil)

// New returns the verifier of o.
func New(o Options) *Verifier {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Backoff <= 0 {
		o.Backoff = 200 * time.Millisecond
	}
	o.URL = strings.TrimSuffix(o.URL, "/")
	return &Verifier{o: o, client: &http.Client{
		// A redirected POST would send personal data elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
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

// retryable is a failure after which the same request may be sent again.
type retryable struct{ error }

// call sends req to op, retrying an idempotent call with the same id.
func (v *Verifier) call(ctx context.Context, op string, idempotent bool, req Request) (Answer, error) {
	req.ID, req.AppID = strings.ToLower(rand.Text()), v.o.AppID
	attempts := 1
	if idempotent {
		attempts += MaxRetries
	}
	var last error
	for i := range attempts {
		if i > 0 {
			select {
			case <-ctx.Done():
				return Answer{}, unavailable(fmt.Errorf("httpverifier: %s: %w", op, ctx.Err()))
			case <-time.After(v.o.Backoff):
			}
		}
		a, err := v.once(ctx, op, req)
		if err == nil {
			return a, nil
		}
		last = err
		var r retryable
		if !errors.As(err, &r) {
			break
		}
	}
	return Answer{}, unavailable(last)
}

// once sends one attempt.
func (v *Verifier) once(ctx context.Context, op string, req Request) (Answer, error) {
	req.Timestamp = v.o.Now().Unix()
	body, err := json.Marshal(req)
	if err != nil {
		return Answer{}, fmt.Errorf("httpverifier: encode: %w", err)
	}
	ts := strconv.FormatInt(req.Timestamp, 10)
	ctx, cancel := context.WithTimeout(ctx, v.o.Timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, v.o.URL+"/"+op, bytes.NewReader(body))
	if err != nil {
		return Answer{}, fmt.Errorf("httpverifier: %s: %w", op, causeOf(err))
	}
	hr.GetBody = nil // retries are this package's, with the same id, not the transport's
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set(HeaderAppID, v.o.AppID)
	hr.Header.Set(httpsig.HeaderTimestamp, ts)
	hr.Header.Set(httpsig.HeaderSignature, httpsig.Sign(v.o.Secret, ts, body))
	hr.Header.Set(httpsig.HeaderIdempotency, req.ID)
	res, err := v.client.Do(hr)
	if err != nil {
		return Answer{}, retryable{fmt.Errorf("httpverifier: %s: %w", op, causeOf(err))}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return Answer{}, retryable{fmt.Errorf("httpverifier: %s: read answer: %w", op, causeOf(err))}
	}
	if res.StatusCode >= 500 {
		return Answer{}, retryable{fmt.Errorf("httpverifier: %s: status %d", op, res.StatusCode)}
	}
	if res.StatusCode != http.StatusOK {
		return Answer{}, fmt.Errorf("httpverifier: %s: status %d", op, res.StatusCode)
	}
	ats := res.Header.Get(httpsig.HeaderTimestamp)
	if !httpsig.Verify(v.o.Secret, ats, data, res.Header.Get(httpsig.HeaderSignature)) {
		return Answer{}, fmt.Errorf("httpverifier: %s: the answer is not signed by the service", op)
	}
	at, err := strconv.ParseInt(ats, 10, 64)
	if err != nil || v.o.Now().Sub(time.Unix(at, 0)).Abs() > MaxSkew {
		return Answer{}, fmt.Errorf("httpverifier: %s: the answer's timestamp %q is off", op, ats)
	}
	var a Answer
	if err := json.Unmarshal(data, &a); err != nil {
		return Answer{}, fmt.Errorf("httpverifier: %s: malformed answer: %w", op, err)
	}
	if a.ID != req.ID {
		return Answer{}, fmt.Errorf("httpverifier: %s: the answer is to another request", op)
	}
	switch a.Result {
	case realname.ResultPass, realname.ResultFail, realname.ResultCancelled, realname.ResultPending:
	case "":
		if op != "redirects" {
			return Answer{}, fmt.Errorf("httpverifier: %s: answer without a result", op)
		}
	default:
		return Answer{}, fmt.Errorf("httpverifier: %s: unknown result %q", op, a.Result)
	}
	return a, nil
}

func unavailable(err error) error {
	return realname.Unavailable(err)
}

// causeOf strips the *url.Error around a client error: it repeats the URL.
func causeOf(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
