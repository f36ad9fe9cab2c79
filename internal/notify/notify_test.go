package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"unid/internal/notify"
	"unid/internal/problem"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return t0 }

func codeSMS(code string) notify.SMS {
	return notify.SMS{Phone: "13812345678", Template: notify.TemplateSMSCode, Params: map[string]string{"code": code, "minutes": "5"}}
}

func TestText(t *testing.T) {
	tests := []struct {
		name string
		m    notify.SMS
		want string
	}{
		{"code", codeSMS("123456"), "【统一身份认证】您的验证码为123456，5分钟内有效，请勿泄露给他人。"},
		{"other minutes", notify.SMS{Template: "sms_code", Params: map[string]string{"code": "000001", "minutes": "10"}}, "【统一身份认证】您的验证码为000001，10分钟内有效，请勿泄露给他人。"},
		{"unknown template", notify.SMS{Template: "nope", Params: map[string]string{"code": "1"}}, ""},
		{"account locked", notify.SMS{Template: notify.TemplateAccountLocked, Params: map[string]string{"until": "5月6日 15:24"}},
			"【统一身份认证】您的账号因连续多次密码错误已被暂时锁定，将于5月6日 15:24自动解锁。如需立即登录，请使用“找回密码”重设密码；如非本人操作，请留意账号安全。"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.Text(); got != tt.want {
				t.Errorf("Text() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSMSTime(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
		want string
	}{
		{"China Standard Time", time.Date(2030, 5, 6, 7, 23, 0, 0, time.UTC), "5月6日 15:23"},
		{"rounded up, never early", time.Date(2030, 5, 6, 7, 23, 9, 0, time.UTC), "5月6日 15:24"},
		{"next day in China", time.Date(2030, 12, 31, 16, 30, 0, 0, time.UTC), "1月1日 00:30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := notify.SMSTime(tt.t); got != tt.want {
				t.Errorf("SMSTime(%v) = %q, want %q", tt.t, got, tt.want)
			}
		})
	}
}

func TestOutbox(t *testing.T) {
	ctx := context.Background()
	o := notify.NewOutbox(fixedNow)
	if len(o.List()) != 0 {
		t.Fatal("new outbox not empty")
	}
	for i := range notify.OutboxSize + 50 {
		m := codeSMS(fmt.Sprintf("%06d", i))
		m.Phone = fmt.Sprintf("139%08d", i%3)
		if err := o.SendSMS(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	list := o.List()
	if len(list) != notify.OutboxSize {
		t.Fatalf("outbox keeps %d messages, want %d", len(list), notify.OutboxSize)
	}
	for i, m := range list {
		want := fmt.Sprintf("%06d", notify.OutboxSize+49-i) // newest first
		if m.Params["code"] != want {
			t.Fatalf("list[%d] has code %s, want %s", i, m.Params["code"], want)
		}
	}
	m := list[0]
	if m.Channel != notify.ChannelSMS || m.Template != "sms_code" || m.To != "13900000000" || !m.Time.Equal(t0) || len(m.ID) != 32 {
		t.Errorf("message %+v", m)
	}
	if !strings.Contains(m.Text, "000249") {
		t.Errorf("text %q lacks the code", m.Text)
	}
	last, ok := o.Last(notify.ChannelSMS, "13900000001")
	if !ok || last.Params["code"] != "000247" {
		t.Errorf("Last = %+v, %v; want code 000247", last, ok)
	}
	if _, ok := o.Last(notify.ChannelEmail, "13900000001"); ok {
		t.Error("Last found an email that was never sent")
	}

	// The list is a copy: changing it does not change the outbox.
	list[0].Params["code"] = "x"
	if o.List()[0].Params["code"] != "000249" {
		t.Error("List shares its params with the outbox")
	}

	b, err := json.Marshal(o.List()[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"id":`, `"time":`, `"channel":"sms"`, `"to":`, `"template":`, `"params":`, `"text":`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("json %s lacks %s", b, key)
		}
	}
}

func TestOutboxConcurrent(t *testing.T) {
	o := notify.NewOutbox(fixedNow)
	var wg sync.WaitGroup
	for i := range 300 {
		wg.Go(func() {
			o.SendSMS(context.Background(), codeSMS(strconv.Itoa(i)))
			o.List()
		})
	}
	wg.Wait()
	if n := len(o.List()); n != notify.OutboxSize {
		t.Errorf("%d messages kept, want %d", n, notify.OutboxSize)
	}
}

// gatewayServer is a loopback SMS gateway; respond decides each answer.
type gatewayServer struct {
	*httptest.Server
	secret   []byte
	requests atomic.Int32
	mu       sync.Mutex
	got      []notify.GatewayRequest
	problems []string
}

func newGateway(t *testing.T, secret []byte, respond func(w http.ResponseWriter, r *http.Request)) *gatewayServer {
	g := &gatewayServer{secret: secret}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.requests.Add(1)
		body, _ := io.ReadAll(r.Body)
		var bad []string
		if r.Method != http.MethodPost {
			bad = append(bad, "method "+r.Method)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			bad = append(bad, "content type "+ct)
		}
		ts := r.Header.Get("X-Unid-Timestamp")
		if !notify.VerifyGatewaySignature(g.secret, ts, body, r.Header.Get("X-Unid-Signature")) {
			bad = append(bad, "bad signature")
		}
		var req notify.GatewayRequest
		if err := json.Unmarshal(body, &req); err != nil {
			bad = append(bad, "body: "+err.Error())
		}
		if strconv.FormatInt(req.Timestamp, 10) != ts {
			bad = append(bad, "timestamp header "+ts+" differs from body")
		}
		if k := r.Header.Get("Idempotency-Key"); k == "" || k != req.ID {
			bad = append(bad, "idempotency key "+k+" is not the id "+req.ID)
		}
		g.mu.Lock()
		g.got = append(g.got, req)
		g.problems = append(g.problems, bad...)
		g.mu.Unlock()
		if len(bad) > 0 {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		respond(w, r)
	}))
	t.Cleanup(g.Close)
	return g
}

func TestHTTPGateway(t *testing.T) {
	secret := []byte("shared-gateway-secret")
	const code = "482913"
	tests := []struct {
		name       string
		respond    func(w http.ResponseWriter, r *http.Request)
		signWith   []byte // secret unid uses; the server checks with secret
		timeout    time.Duration
		wantErr    bool
		wantCause  string
		maxElapsed time.Duration
	}{
		{name: "accepted", respond: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) }},
		{name: "accepted with body", respond: func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"ok":true}`) }},
		{
			name: "server error",
			respond: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "carrier refused "+code+" for 13812345678", http.StatusInternalServerError)
			},
			wantErr: true, wantCause: "status 500",
		},
		{
			name: "redirect is not followed",
			respond: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
			},
			wantErr: true, wantCause: "status 307",
		},
		{
			name:     "wrong secret",
			respond:  func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) },
			signWith: []byte("other"), wantErr: true, wantCause: "status 400",
		},
		{
			name: "hangs past the timeout",
			respond: func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			},
			timeout: 200 * time.Millisecond, wantErr: true, wantCause: "deadline exceeded", maxElapsed: 3 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newGateway(t, secret, tt.respond)
			sign := secret
			if tt.signWith != nil {
				sign = tt.signWith
			}
			gw := notify.NewHTTPGateway(srv.URL+"/sms?token=url-secret", sign, tt.timeout, fixedNow)

			start := time.Now()
			err := gw.SendSMS(context.Background(), codeSMS(code))
			elapsed := time.Since(start)

			if n := srv.requests.Load(); n != 1 {
				t.Errorf("gateway got %d requests, want exactly 1", n)
			}
			if tt.signWith == nil {
				srv.mu.Lock()
				if len(srv.problems) > 0 {
					t.Errorf("gateway saw: %v", srv.problems)
				}
				if len(srv.got) == 1 {
					got := srv.got[0]
					want := codeSMS(code)
					if got.Phone != want.Phone || got.Template != want.Template || got.Params["code"] != code ||
						got.Params["minutes"] != "5" || got.Text != want.Text() || got.Timestamp != t0.Unix() || len(got.ID) != 32 {
						t.Errorf("gateway got %+v", got)
					}
				}
				srv.mu.Unlock()
			}
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("SendSMS: %v", err)
				}
				return
			}
			var p *problem.Problem
			if !errors.As(err, &p) || p.Kind != problem.Unavailable || p.Code != "sms_unavailable" {
				t.Fatalf("error %v, want Unavailable sms_unavailable", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantCause) {
				t.Errorf("error %q does not name the cause %q", msg, tt.wantCause)
			}
			for _, secretText := range []string{code, "13812345678", "carrier refused", "url-secret"} {
				if strings.Contains(msg, secretText) {
					t.Errorf("error %q contains %q", msg, secretText)
				}
			}
			if tt.maxElapsed > 0 && elapsed > tt.maxElapsed {
				t.Errorf("gave up after %v, want under %v", elapsed, tt.maxElapsed)
			}
		})
	}
}

// A gateway that drops the connection after reading a request on a reused
// keep-alive connection must not receive the message twice: net/http
// replays such POSTs when they carry an Idempotency-Key and can rewind
// their body.
func TestHTTPGatewayNoReplayOnReusedConnection(t *testing.T) {
	secret := []byte("s")
	var n atomic.Int32
	srv := newGateway(t, secret, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusOK) // first message: fine, keep-alive
			return
		}
		// Second message: read it, then hang up without answering.
		hj, ok := w.(http.Hijacker)
		if !ok {
			t.Error("no hijacker")
			return
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			conn.Close()
		}
	})
	gw := notify.NewHTTPGateway(srv.URL, secret, 2*time.Second, fixedNow)
	if err := gw.SendSMS(context.Background(), codeSMS("111111")); err != nil {
		t.Fatal(err)
	}
	err := gw.SendSMS(context.Background(), codeSMS("222222"))
	if err == nil {
		t.Fatal("SendSMS to a gateway that hung up: no error")
	}
	if got := srv.requests.Load(); got != 2 {
		t.Errorf("gateway got %d requests for 2 messages", got)
	}
}

func TestVerifyGatewaySignature(t *testing.T) {
	secret := []byte("k")
	body := []byte(`{"id":"1"}`)
	good := notify.GatewaySignature(secret, "1767225600", body)
	tests := []struct {
		name   string
		ts     string
		body   []byte
		header string
		want   bool
	}{
		{"valid", "1767225600", body, good, true},
		{"one of several", "1767225600", body, "v1=00ff, " + good, true},
		{"other timestamp", "1767225601", body, good, false},
		{"other body", "1767225600", []byte(`{"id":"2"}`), good, false},
		{"other version", "1767225600", body, "v2=" + strings.TrimPrefix(good, "v1="), false},
		{"not hex", "1767225600", body, "v1=zz", false},
		{"empty", "1767225600", body, "", false},
		{"truncated", "1767225600", body, good[:len(good)-2], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := notify.VerifyGatewaySignature(secret, tt.ts, tt.body, tt.header); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if !strings.HasPrefix(good, "v1=") || len(good) != 3+64 {
		t.Errorf("signature %q is not v1= and 64 hex digits", good)
	}
}
