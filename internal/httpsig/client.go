package httpsig

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
)

// MaxRetries is how many times a Client tries an idempotent call again.
const MaxRetries = 2

// MaxSkew is how far an answer's timestamp may be from unid's clock.
const MaxSkew = 5 * time.Minute

// MaxAnswer is the most of an answer's body a Client reads.
const MaxAnswer = 64 << 10

// Stamped is a request body that carries the request id and the attempt's
// timestamp (unix seconds); a Client sets both before each attempt.
type Stamped interface {
	Stamp(id string, timestamp int64)
}

// ClientOptions configure a Client.
type ClientOptions struct {
	// Name begins every error, e.g. "httpverifier".
	Name    string
	URL     string
	Secret  []byte
	Header  http.Header   // sent with every request besides the scheme's
	Timeout time.Duration // of one attempt; 5s by default
	Now     func() time.Time
	// Backoff is the pause before a retry; 200ms by default.
	Backoff time.Duration
	// Unavailable wraps every failure of a call into the caller's
	// "service unavailable" problem.
	Unavailable func(error) error
}

// Client calls a service with signed JSON both ways: it POSTs the JSON
// body to URL/op signed with Secret, with the request id as
// Idempotency-Key, and believes only a 200 answer signed the same way,
// within MaxSkew of its clock, that echoes the request id in its "id".
type Client struct {
	o      ClientOptions
	client *http.Client
}

// NewClient returns the client of o.
func NewClient(o ClientOptions) *Client {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Backoff <= 0 {
		o.Backoff = 200 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Unavailable == nil {
		o.Unavailable = func(err error) error { return err }
	}
	o.URL = strings.TrimSuffix(o.URL, "/")
	return &Client{o: o, client: &http.Client{
		// A redirected POST would send personal data elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// retryable is a failure after which the same request may be sent again.
type retryable struct{ error }

// Call sends req to op and decodes the answer into out. An idempotent call
// is tried again (at most MaxRetries times, with the same id) after a
// timeout, a broken connection or a 5xx answer. Every failure is wrapped
// by the Unavailable of the options.
func (c *Client) Call(ctx context.Context, op string, req Stamped, idempotent bool, out any) error {
	id := strings.ToLower(rand.Text())
	attempts := 1
	if idempotent {
		attempts += MaxRetries
	}
	var last error
	for i := range attempts {
		if i > 0 {
			select {
			case <-ctx.Done():
				return c.o.Unavailable(fmt.Errorf("%s: %s: %w", c.o.Name, op, ctx.Err()))
			case <-time.After(c.o.Backoff):
			}
		}
		err := c.once(ctx, op, id, req, out)
		if err == nil {
			return nil
		}
		last = err
		if !errors.As(err, new(retryable)) {
			break
		}
	}
	return c.o.Unavailable(last)
}

// Fail wraps err as a failure of a call (for checks of the answer the
// caller makes after Call).
func (c *Client) Fail(err error) error { return c.o.Unavailable(err) }

// once sends one attempt.
func (c *Client) once(ctx context.Context, op, id string, req Stamped, out any) error {
	now := c.o.Now().Unix()
	req.Stamp(id, now)
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", c.o.Name, err)
	}
	ts := strconv.FormatInt(now, 10)
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.o.URL+"/"+op, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %s: %w", c.o.Name, op, causeOf(err))
	}
	hr.GetBody = nil // retries are this client's, with the same id, not the transport's
	hr.Header.Set("Content-Type", "application/json")
	for k, vs := range c.o.Header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	hr.Header.Set(HeaderTimestamp, ts)
	hr.Header.Set(HeaderSignature, Sign(c.o.Secret, ts, body))
	hr.Header.Set(HeaderIdempotency, id)
	res, err := c.client.Do(hr)
	if err != nil {
		return retryable{fmt.Errorf("%s: %s: %w", c.o.Name, op, causeOf(err))}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, MaxAnswer))
	if err != nil {
		return retryable{fmt.Errorf("%s: %s: read answer: %w", c.o.Name, op, causeOf(err))}
	}
	if res.StatusCode >= 500 {
		return retryable{fmt.Errorf("%s: %s: status %d", c.o.Name, op, res.StatusCode)}
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: status %d", c.o.Name, op, res.StatusCode)
	}
	ats := res.Header.Get(HeaderTimestamp)
	if !Verify(c.o.Secret, ats, data, res.Header.Get(HeaderSignature)) {
		return fmt.Errorf("%s: %s: the answer is not signed by the service", c.o.Name, op)
	}
	at, err := strconv.ParseInt(ats, 10, 64)
	if err != nil || c.o.Now().Sub(time.Unix(at, 0)).Abs() > MaxSkew {
		return fmt.Errorf("%s: %s: the answer's timestamp %q is off", c.o.Name, op, ats)
	}
	var echo struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(data, &echo); err != nil {
		return fmt.Errorf("%s: %s: malformed answer: %w", c.o.Name, op, err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: %s: malformed answer: %w", c.o.Name, op, err)
	}
	if echo.ID != id {
		return fmt.Errorf("%s: %s: the answer is to another request", c.o.Name, op)
	}
	return nil
}

// causeOf strips the *url.Error around a client error: it repeats the URL.
func causeOf(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
