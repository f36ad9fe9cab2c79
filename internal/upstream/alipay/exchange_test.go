package alipay_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"unid/internal/problem"
	"unid/internal/upstream"
	"unid/internal/upstream/alipay"
	"unid/internal/upstream/alipay/alipaydev"
)

type fixture struct {
	gw   *alipaydev.Gateway
	p    *alipay.Provider
	srv  *httptest.Server
	logs *bytes.Buffer
}

func setup(t testing.TB) *fixture {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	gw, err := alipaydev.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle(alipaydev.PathPrefix, gw)
	logs := &bytes.Buffer{}
	p, err := alipay.New(gw.Config(), srv.Client(), slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{gw: gw, p: p, srv: srv, logs: logs}
}

// authorize goes through the gateway's page as a browser would and
// returns the callback's query.
func (f *fixture) authorize(t *testing.T, a upstream.Auth, button url.Values) url.Values {
	t.Helper()
	u, err := f.p.AuthURL(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.srv.Client().Get(u)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("authorize page: %v %v", res, err)
	}
	res.Body.Close()
	q, _ := url.Parse(u)
	form := q.Query()
	for k, v := range button {
		form[k] = v
	}
	c := *f.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err = c.PostForm(strings.Split(u, "?")[0], form)
	if err != nil || res.StatusCode != http.StatusFound {
		t.Fatalf("choose: %v %v", res, err)
	}
	back, _ := url.Parse(res.Header.Get("Location"))
	if !strings.HasPrefix(back.String(), a.RedirectURI) || back.Query().Get("state") != a.State {
		t.Fatalf("redirected to %s", back)
	}
	return back.Query()
}

func code(err error) string {
	var p *problem.Problem
	if errors.As(err, &p) {
		return p.Code
	}
	return ""
}

func TestExchange(t *testing.T) {
	f := setup(t)
	auth := upstream.Auth{State: "flow-1", RedirectURI: "https://unid.test/upstream/alipay/callback"}
	user := func(key string) url.Values { return url.Values{"user": {key}} }
	tests := []struct {
		name      string
		onlyID    bool
		button    url.Values
		fault     alipaydev.Fault
		openID    bool
		twice     bool // redeem the same code again
		want      upstream.Identity
		wantCode  string
		wantKind  problem.Kind
		wantInLog string
	}{
		{name: "certified user with user_id and open_id", button: user("certified"),
			want: upstream.Identity{Subject: "074aTestCertifiedOpenId0001", AlipayUserID: "2088000000000001", Nickname: "张实名（测试）", Certified: true,
				IDNumber: "11010519491231002X"}},
		{name: "uncertified user", button: user("uncertified"),
			want: upstream.Identity{Subject: "074aTestUncertifiedOpenId02", AlipayUserID: "2088000000000002", Nickname: "李未认证（测试）"}},
		{name: "user of whom the app gets open_id only", button: user("openid-only"),
			want: upstream.Identity{Subject: "074aTestOpenIdOnlyUser00003", Nickname: "王新应用（测试）"}},
		{name: "application created since 2023", button: user("certified"), openID: true,
			want: upstream.Identity{Subject: "074aTestCertifiedOpenId0001", Nickname: "张实名（测试）", Certified: true, IDNumber: "11010519491231002X"}},
		{name: "auth_base: the subject only", onlyID: true, button: user("certified"),
			want: upstream.Identity{Subject: "074aTestCertifiedOpenId0001", AlipayUserID: "2088000000000001"}},
		{name: "cancelled", button: url.Values{"cancel": {"1"}}, wantCode: upstream.CodeCancelled, wantKind: problem.Invalid},
		{name: "expired code", button: user("certified"), fault: alipaydev.FaultExpiredCode,
			wantCode: upstream.CodeExpired, wantKind: problem.Gone, wantInLog: "isv.code-invalid"},
		{name: "reused code", button: user("certified"), twice: true,
			wantCode: upstream.CodeExpired, wantKind: problem.Gone},
		{name: "answer signed with another key", button: user("certified"), fault: alipaydev.FaultBadSignature,
			wantCode: upstream.CodeUnverified, wantKind: problem.Unavailable, wantInLog: "does not verify"},
		{name: "gateway 5xx", button: user("certified"), fault: alipaydev.FaultServerError,
			wantCode: upstream.CodeUnavailable, wantKind: problem.Unavailable, wantInLog: "502"},
		{name: "insufficient token", button: user("certified"), fault: alipaydev.FaultInsufficientToken,
			wantCode: upstream.CodeExpired, wantKind: problem.Gone, wantInLog: "aop.invalid-auth-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.logs.Reset()
			f.gw.SetFault(alipaydev.FaultNone)
			f.gw.SetOpenIDOnly(tt.openID)
			a := auth
			a.OnlyID = tt.onlyID
			cb := f.authorize(t, a, tt.button)
			f.gw.SetFault(tt.fault)
			if tt.twice {
				if _, err := f.p.Exchange(t.Context(), a, cb); err != nil {
					t.Fatalf("first exchange: %v", err)
				}
			}
			id, err := f.p.Exchange(t.Context(), a, cb)
			if tt.wantCode != "" {
				var p *problem.Problem
				if !errors.As(err, &p) || p.Code != tt.wantCode || p.Kind != tt.wantKind {
					t.Fatalf("Exchange error = %v, want %s (kind %d)", err, tt.wantCode, tt.wantKind)
				}
				if !strings.Contains(f.logs.String(), tt.wantInLog) {
					t.Errorf("log %q lacks %q", f.logs.String(), tt.wantInLog)
				}
				if c := cb.Get("auth_code"); c != "" && strings.Contains(f.logs.String(), c) {
					t.Errorf("the auth code is in the log")
				}
				return
			}
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			tt.want.Provider, tt.want.App = "alipay", alipaydev.AppID
			if !tt.onlyID && !strings.HasSuffix(id.Avatar, "/dev/alipay/avatar.svg") {
				t.Errorf("avatar %q: slashes escaped as \\/ in the answer were not read back", id.Avatar)
			}
			id.Avatar = ""
			if id != tt.want {
				t.Errorf("identity\n got %+v\nwant %+v", id, tt.want)
			}
		})
	}
}

// TestExpiresIn: Alipay writes expires_in as a number or as a string.
func TestExpiresIn(t *testing.T) {
	for _, v := range []string{`3600`, `"3600"`} {
		t.Run(v, func(t *testing.T) {
			key := testKeyPair(t)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				src := `{"access_token":"authusrBx","open_id":"o1","user_id":"2088","expires_in":` + v + `,"re_expires_in":` + v + `}`
				sig, _ := alipay.Sign(src, key.alipay)
				w.Write([]byte(`{"alipay_system_oauth_token_response":` + src + `,"sign":"` + sig + `"}`))
			}))
			defer srv.Close()
			c := key.config(srv.URL)
			p, err := alipay.New(c, srv.Client(), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			id, err := p.Exchange(t.Context(), upstream.Auth{OnlyID: true}, url.Values{"auth_code": {"c"}})
			if err != nil || id.Subject != "o1" {
				t.Fatalf("Exchange = %+v, %v", id, err)
			}
		})
	}
}

// TestRequestSignature: the gateway verifies unid's requests with the
// application's public key, and refuses them once tampered with.
func TestRequestSignature(t *testing.T) {
	f := setup(t)
	var form url.Values
	capture := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		form = r.Form
		f.gw.ServeHTTP(w, r)
	}))
	defer capture.Close()
	c := f.gw.Config()
	c.GatewayURL = capture.URL + alipaydev.PathPrefix + "gateway.do"
	p, err := alipay.New(c, capture.Client(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	code, _ := f.gw.IssueCode("certified", "auth_user")
	if _, err := p.Exchange(t.Context(), upstream.Auth{}, url.Values{"auth_code": {code}}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"app_id", "method", "format", "charset", "sign_type", "timestamp", "version", "auth_token", "sign"} {
		if form.Get(k) == "" {
			t.Errorf("request lacks %s", k)
		}
	}
	if err := alipay.Verify(alipay.SignContent(form), form.Get("sign"), f.gw.AppPublicKey()); err != nil {
		t.Errorf("the gateway's copy of the application key does not verify: %v", err)
	}
	form.Set("auth_token", form.Get("auth_token")+"x")
	if alipay.Verify(alipay.SignContent(form), form.Get("sign"), f.gw.AppPublicKey()) == nil {
		t.Error("a tampered request verifies")
	}
	res, err := http.PostForm(capture.URL+alipaydev.PathPrefix+"gateway.do", form)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	res.Body.Close()
	if !strings.Contains(b.String(), "isv.invalid-signature") {
		t.Errorf("the gateway accepted a tampered request: %s", b.String())
	}
}

// BenchmarkExchange measures the callback's work — two gateway calls to
// the loopback fake — and reports unid's own time per exchange: the
// elapsed time less the time spent in the gateway's handlers (which
// leaves unid's signing, verifying and decoding, and the loopback HTTP
// round trips).
func BenchmarkExchange(b *testing.B) {
	f := setup(b)
	auth := upstream.Auth{State: "s", RedirectURI: "https://unid.test/cb"}
	start := f.gw.HandlerTime()
	for b.Loop() {
		code, err := f.gw.IssueCode("certified", "auth_user")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.p.Exchange(b.Context(), auth, url.Values{"auth_code": {code}}); err != nil {
			b.Fatal(err)
		}
	}
	gateway := float64(f.gw.HandlerTime()-start) / float64(b.N)
	b.ReportMetric(gateway, "gateway-ns/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)-gateway, "unid-ns/op")
}
