package httpverifier_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"unid/internal/problem"
	"unid/internal/realname"
	"unid/internal/realname/httpverifier"
	"unid/internal/realname/httpverifier/verifiertest"
)

var zhang = realname.Person{RealName: "张三", IDNumber: "11010519491231002X"}

func newVerifier(svc *verifiertest.Service, secret []byte) *httpverifier.Verifier {
	return httpverifier.New(httpverifier.Options{URL: svc.URL, AppID: svc.AppID, Secret: secret,
		Timeout: 100 * time.Millisecond, Backoff: time.Millisecond, Now: time.Now})
}

// unavailable reports whether err is the answer the user gets when the
// service cannot be believed or reached.
func unavailable(err error) bool {
	p := problem.As(err)
	return p.Kind == problem.Unavailable && p.Code == "realname_unavailable"
}

// TestHTTPVerifier runs the http provider against a loopback service that
// checks its signatures and deduplicates request ids.
func TestHTTPVerifier(t *testing.T) {
	tests := []struct {
		name    string
		person  realname.Person
		modes   []string
		secret  string // the client's, when not the service's
		result  string // "" for unavailable
		checks  int    // checks the service ran
		refused int    // requests the service refused as unsigned
	}{
		{"pass", zhang, nil, "", realname.ResultPass, 1, 0},
		{"fail", realname.Person{RealName: "李四", IDNumber: zhang.IDNumber}, nil, "", realname.ResultFail, 1, 0},
		{"a timeout, then the same request id again: one check", zhang, []string{verifiertest.Slow}, "", realname.ResultPass, 1, 0},
		{"a 5xx, then the same request id again: one check", zhang, []string{verifiertest.Error5xx}, "", realname.ResultPass, 1, 0},
		{"5xx three times: at most two retries", zhang, []string{verifiertest.Error5xx, verifiertest.Error5xx, verifiertest.Error5xx, verifiertest.Normal}, "", "", 1, 0},
		{"timeouts three times", zhang, []string{verifiertest.Slow, verifiertest.Slow, verifiertest.Slow}, "", "", 1, 0},
		{"a malformed answer is not retried", zhang, []string{verifiertest.Malformed}, "", "", 1, 0},
		{"an unsigned answer is refused", zhang, []string{verifiertest.Unsigned}, "", "", 1, 0},
		{"a forged answer is refused", zhang, []string{verifiertest.Forged}, "", "", 1, 0},
		{"an answer to another request is refused", zhang, []string{verifiertest.OtherID}, "", "", 1, 0},
		{"a wrong secret: the service refuses", zhang, nil, "wrong", "", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := verifiertest.Start(t, map[string]string{zhang.IDNumber: zhang.RealName})
			svc.Next(tt.modes...)
			secret := svc.Secret
			if tt.secret != "" {
				secret = []byte(tt.secret)
			}
			out, err := newVerifier(svc, secret).VerifyIdentity(context.Background(), tt.person)
			switch {
			case tt.result == "" && !unavailable(err):
				t.Errorf("got %+v, %v; want realname_unavailable", out, err)
			case tt.result != "" && (err != nil || out.Result != tt.result || out.Reference == ""):
				t.Errorf("got %+v, %v; want %s", out, err, tt.result)
			}
			if n := svc.Checks("identity"); n != tt.checks {
				t.Errorf("the service ran %d checks, want %d", n, tt.checks)
			}
			if n := svc.Refused(); n != tt.refused {
				t.Errorf("the service refused %d requests, want %d", n, tt.refused)
			}
		})
	}
}

// TestHTTPVerifierRedirect: starting is never retried (its URL is about to
// be followed); the result is fetched with the ticket.
func TestHTTPVerifierRedirect(t *testing.T) {
	ctx := context.Background()
	svc := verifiertest.Start(t, map[string]string{zhang.IDNumber: zhang.RealName})
	v := newVerifier(svc, svc.Secret)
	svc.Next(verifiertest.Error5xx)
	if _, err := v.StartRedirect(ctx, realname.MethodFace, zhang, "http://unid.test/realname/callback?flow=F"); !unavailable(err) {
		t.Fatalf("start after a 5xx: %v, want realname_unavailable", err)
	}
	if n := svc.Checks("redirects"); n != 1 {
		t.Errorf("start was sent %d times, want once", n)
	}
	st, err := v.StartRedirect(ctx, realname.MethodFace, zhang, "http://unid.test/realname/callback?flow=F")
	if err != nil || st.Ticket == "" || st.URL == "" {
		t.Fatalf("start: %+v %v", st, err)
	}
	if out, err := v.RedirectResult(ctx, st.Ticket); err != nil || out.Result != realname.ResultPending {
		t.Errorf("result before the user finished: %+v %v", out, err)
	}
	svc.Finish(st.Ticket, realname.ResultPass)
	svc.Next(verifiertest.Error5xx)
	if out, err := v.RedirectResult(ctx, st.Ticket); err != nil || out.Result != realname.ResultPass || out.IDNumber != zhang.IDNumber {
		t.Errorf("result after a 5xx: %+v %v", out, err)
	}
}

// TestHTTPVerifierDown: a service that does not answer at all.
func TestHTTPVerifierDown(t *testing.T) {
	srv := httptest.NewServer(nil)
	url := srv.URL
	srv.Close()
	v := httpverifier.New(httpverifier.Options{URL: url, Secret: []byte("s"), Timeout: 100 * time.Millisecond, Backoff: time.Millisecond, Now: time.Now})
	if _, err := v.VerifyIdentity(context.Background(), zhang); !unavailable(err) {
		t.Errorf("down: %v", err)
	}
}
