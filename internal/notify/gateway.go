package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"unid/internal/httpsig"
	"unid/internal/problem"
)

// Header names and the signature scheme of the gateway protocol (see the
// package doc).
const (
	HeaderTimestamp   = httpsig.HeaderTimestamp
	HeaderSignature   = httpsig.HeaderSignature
	HeaderIdempotency = httpsig.HeaderIdempotency
)

// DefaultGatewayTimeout is used when NewHTTPGateway is given no timeout.
const DefaultGatewayTimeout = 10 * time.Second

// GatewayRequest is the JSON body unid POSTs to an SMS gateway.
type GatewayRequest struct {
	ID        string            `json:"id"`
	Phone     string            `json:"phone"`
	Template  string            `json:"template"`
	Params    map[string]string `json:"params"`
	Text      string            `json:"text"`
	Timestamp int64             `json:"timestamp"`
}

// HTTPGateway sends SMS by POSTing signed JSON to a gateway that the
// deployment runs in front of its carrier (see the package doc for the wire
// format). It sends every message at most once: a retry after an unclear
// failure could text the user a second, different code.
type HTTPGateway struct {
	url     string
	secret  []byte
	timeout time.Duration
	now     func() time.Time
	client  *http.Client
}

// NewHTTPGateway returns a gateway client posting to url, signing with
// secret, and giving up on a request after timeout.
func NewHTTPGateway(url string, secret []byte, timeout time.Duration, now func() time.Time) *HTTPGateway {
	if timeout <= 0 {
		timeout = DefaultGatewayTimeout
	}
	return &HTTPGateway{
		url:     url,
		secret:  bytes.Clone(secret),
		timeout: timeout,
		now:     now,
		client: &http.Client{
			// A redirect answered with 307/308 would POST the message
			// again elsewhere; treat any redirect as a failure instead.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// SendSMS posts m to the gateway once. Any failure, including a timeout or
// an answer other than 2xx, is an Unavailable problem with code
// "sms_unavailable"; its error text never holds the message or the
// gateway's answer, since both may contain the code.
func (g *HTTPGateway) SendSMS(ctx context.Context, m SMS) error {
	text := m.Text()
	if text == "" {
		return problem.Wrap(fmt.Errorf("notify: unknown sms template %q", m.Template))
	}
	id, ts := newID(), g.now().Unix()
	body, err := json.Marshal(GatewayRequest{
		ID:        id,
		Phone:     m.Phone,
		Template:  m.Template,
		Params:    m.Params,
		Text:      text,
		Timestamp: ts,
	})
	if err != nil {
		return problem.Wrap(fmt.Errorf("notify: encode sms: %w", err))
	}
	tsText := strconv.FormatInt(ts, 10)

	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url, bytes.NewReader(body))
	if err != nil {
		return unavailable(fmt.Errorf("notify: sms gateway request: %w", causeOf(err)))
	}
	// Without GetBody the transport cannot replay the request on a reused
	// connection that broke; with the Idempotency-Key header and GetBody
	// set, net/http would silently retry the POST.
	req.GetBody = nil
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, tsText)
	req.Header.Set(HeaderSignature, GatewaySignature(g.secret, tsText, body))
	req.Header.Set(HeaderIdempotency, id)

	resp, err := g.client.Do(req)
	if err != nil {
		return unavailable(fmt.Errorf("notify: sms gateway: %w", causeOf(err)))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return unavailable(fmt.Errorf("notify: sms gateway answered status %d", resp.StatusCode))
	}
	return nil
}

// GatewaySignature returns the X-Unid-Signature header value for a request
// with the given timestamp header and body (the scheme of package httpsig).
func GatewaySignature(secret []byte, timestamp string, body []byte) string {
	return httpsig.Sign(secret, timestamp, body)
}

// VerifyGatewaySignature reports whether header (the X-Unid-Signature value)
// holds a valid v1 signature of timestamp and body under secret (see
// httpsig.Verify). It does not judge the timestamp: a gateway must also
// refuse requests whose timestamp is too far from its own clock (five
// minutes is usual) and message ids it has already seen.
func VerifyGatewaySignature(secret []byte, timestamp string, body []byte, header string) bool {
	return httpsig.Verify(secret, timestamp, body, header)
}

func unavailable(err error) error {
	return &problem.Problem{Kind: problem.Unavailable, Code: "sms_unavailable", Err: err}
}

// causeOf strips the *url.Error around a client error: it repeats the
// gateway URL, which may carry credentials in its query.
func causeOf(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
