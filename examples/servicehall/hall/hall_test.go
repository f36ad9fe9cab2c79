package hall_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"unid/examples/servicehall/hall"
)

// fakeUnid is just enough of an OpenID provider to sign a hall in: discovery,
// JWKS, authorize (always consenting), token with PKCE, userinfo and
// end_session. It is not unid; unid's own browser test drives the hall
// against the real one.
type fakeUnid struct {
	t      *testing.T
	srv    *httptest.Server
	key    *ecdsa.PrivateKey
	client string
	secret string

	mu        sync.Mutex
	codes     map[string]authRequest
	badNonce  bool       // the next ID token carries a wrong nonce
	endedWith url.Values // the last end_session request
}

type authRequest struct {
	challenge, nonce string
}

const (
	clientID     = "hall-test"
	clientSecret = "s3cret-s3cret-s3cret"
	sid          = "sid-123"
	subject      = "user-42"
)

func newFakeUnid(t *testing.T) *fakeUnid {
	t.Helper()
	f := &fakeUnid{t: t, key: newKey(t), client: clientID, secret: clientSecret, codes: map[string]authRequest{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		u := f.srv.URL
		writeJSON(w, map[string]any{
			"issuer": u, "authorization_endpoint": u + "/authorize", "token_endpoint": u + "/token",
			"userinfo_endpoint": u + "/userinfo", "jwks_uri": u + "/jwks", "end_session_endpoint": u + "/end-session",
			"id_token_signing_alg_values_supported": []string{"ES256"},
			"response_types_supported":              []string{"code"}, "subject_types_supported": []string{"public"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &f.key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != f.client || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
			q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" || !strings.Contains(q.Get("scope"), "openid") {
			t.Errorf("authorization request lacks something: %v", q)
		}
		code := rand.Text()
		f.mu.Lock()
		f.codes[code] = authRequest{challenge: q.Get("code_challenge"), nonce: q.Get("nonce")}
		f.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, _ := r.BasicAuth()
		if id == "" {
			id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
		}
		if id != f.client || secret != f.secret {
			writeError(w, http.StatusUnauthorized, "invalid_client")
			return
		}
		f.mu.Lock()
		req, ok := f.codes[r.PostFormValue("code")]
		delete(f.codes, r.PostFormValue("code"))
		badNonce := f.badNonce
		f.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != req.challenge {
			writeError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
		nonce := req.nonce
		if badNonce {
			nonce = "not-the-nonce"
		}
		now := time.Now()
		idToken := sign(t, f.key, map[string]any{
			"iss": f.srv.URL, "aud": f.client, "sub": subject, "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
			"nonce": nonce, "sid": sid, "acr": "urn:unid:acr:realname:1", "realname_level": 1,
		})
		writeJSON(w, map[string]any{"access_token": "at-" + subject, "token_type": "Bearer", "expires_in": 600, "id_token": idToken})
	})
	mux.HandleFunc("GET /userinfo", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer at-"+subject {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		writeJSON(w, map[string]any{"sub": subject, "preferred_username": "li_ming", "phone_number": "+8613912345678", "name": "李明"})
	})
	mux.HandleFunc("GET /end-session", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.endedWith = r.URL.Query()
		f.mu.Unlock()
		http.Redirect(w, r, r.URL.Query().Get("post_logout_redirect_uri"), http.StatusFound)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// sign makes a compact JWS (ES256, kid k1) of claims.
func sign(t *testing.T, key *ecdsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func writeError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// startHall serves a hall against issuer on a loopback listener.
func startHall(t *testing.T, issuer string) (*hall.Hall, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	h, err := hall.New(hall.Config{Issuer: issuer, ClientID: clientID, ClientSecret: clientSecret, BaseURL: base, Title: "不动产登记系统"})
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: h}}
	srv.Start()
	t.Cleanup(srv.Close)
	return h, base
}

// browser is one user agent with cookies that follows redirects.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar}}
}

func (b *browser) get(u string) (int, string) {
	b.t.Helper()
	return b.send(http.MethodGet, u, nil)
}

func (b *browser) send(method, u string, form url.Values) (int, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return res.StatusCode, string(data)
}

// signIn goes through the whole code flow and checks the claims page.
func signIn(t *testing.T, b *browser, base string) {
	t.Helper()
	status, page := b.get(base + "/login")
	if status != http.StatusOK || !strings.Contains(page, `id="signed-in"`) {
		t.Fatalf("after sign-in: %d\n%s", status, page)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	good := hall.Config{Issuer: "http://127.0.0.1:8080", ClientID: "demo", ClientSecret: "x", BaseURL: "http://127.0.0.1:8081"}
	tests := []struct {
		name string
		edit func(*hall.Config)
		want string // in the error; "" for no error
	}{
		{"good", func(*hall.Config) {}, ""},
		{"trailing slash is fine", func(c *hall.Config) { c.Issuer += "/"; c.BaseURL += "/" }, ""},
		{"no issuer", func(c *hall.Config) { c.Issuer = "" }, "issuer is missing"},
		{"issuer not http", func(c *hall.Config) { c.Issuer = "ftp://127.0.0.1" }, "must be an absolute http"},
		{"issuer relative", func(c *hall.Config) { c.Issuer = "127.0.0.1:8080" }, "must be an absolute http"},
		{"issuer with query", func(c *hall.Config) { c.Issuer = "http://127.0.0.1:8080/?x=1" }, "without query"},
		{"no base URL", func(c *hall.Config) { c.BaseURL = "" }, "base URL is missing"},
		{"base URL with fragment", func(c *hall.Config) { c.BaseURL = "http://127.0.0.1:8081/#x" }, "without query or fragment"},
		{"no client id", func(c *hall.Config) { c.ClientID = " " }, "client id is missing"},
		{"no secret", func(c *hall.Config) { c.ClientSecret = "" }, "client secret is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.edit(&c)
			_, err := hall.New(c)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("New error = %v, want one about %q", err, tt.want)
			}
		})
	}
	_, err := hall.New(hall.Config{})
	if err == nil || !strings.Contains(err.Error(), "issuer") || !strings.Contains(err.Error(), "client id") {
		t.Errorf("an empty config should name every missing field, got %v", err)
	}
}

func TestUnreachableUnidGivesAnErrorPage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	_, base := startHall(t, dead)
	b := newBrowser(t)
	if status, page := b.get(base + "/"); status != http.StatusOK || !strings.Contains(page, `id="signin"`) || !strings.Contains(page, "不动产登记系统") {
		t.Errorf("home without unid: %d\n%s", status, page)
	}
	status, page := b.get(base + "/login")
	if status != http.StatusBadGateway || !strings.Contains(page, "无法连接统一身份认证平台") || !strings.Contains(page, "go run ./cmd/unid serve --dev") {
		t.Errorf("sign-in without unid: %d\n%s", status, page)
	}
}

func TestSignInShowsClaimsAndSignOutGoesThroughUnid(t *testing.T) {
	op := newFakeUnid(t)
	h, base := startHall(t, op.srv.URL)
	b := newBrowser(t)
	status, page := b.get(base + "/login")
	if status != http.StatusOK {
		t.Fatalf("sign-in: %d\n%s", status, page)
	}
	for _, want := range []string{`data-claim="sub"`, subject, "li_ming", "李明", "13912345678", "urn:unid:acr:realname:1", "初级", sid, "退出登录"} {
		if !strings.Contains(page, want) {
			t.Errorf("claims page lacks %q:\n%s", want, page)
		}
	}
	if h.Sessions() != 1 {
		t.Errorf("sessions = %d, want 1", h.Sessions())
	}

	status, page = b.send(http.MethodPost, base+"/logout", url.Values{})
	if status != http.StatusOK || !strings.Contains(page, `id="signed-out"`) {
		t.Errorf("after sign-out: %d\n%s", status, page)
	}
	op.mu.Lock()
	ended := op.endedWith
	op.mu.Unlock()
	if ended.Get("id_token_hint") == "" || ended.Get("post_logout_redirect_uri") != base+"/" || ended.Get("client_id") != clientID {
		t.Errorf("end_session request = %v", ended)
	}
	if h.Sessions() != 0 {
		t.Errorf("sessions after sign-out = %d", h.Sessions())
	}
}

func TestCallbackRefusesWhatItDidNotAskFor(t *testing.T) {
	t.Run("wrong nonce", func(t *testing.T) {
		op := newFakeUnid(t)
		op.badNonce = true
		h, base := startHall(t, op.srv.URL)
		status, page := newBrowser(t).get(base + "/login")
		if status != http.StatusBadGateway || !strings.Contains(page, "ID 令牌校验失败") || !strings.Contains(page, "nonce") || h.Sessions() != 0 {
			t.Errorf("wrong nonce: %d, %d sessions\n%s", status, h.Sessions(), page)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		op := newFakeUnid(t)
		op.secret = "another-secret"
		h, base := startHall(t, op.srv.URL)
		status, page := newBrowser(t).get(base + "/login")
		if status != http.StatusBadGateway || !strings.Contains(page, "client secret") || h.Sessions() != 0 {
			t.Errorf("wrong secret: %d, %d sessions\n%s", status, h.Sessions(), page)
		}
	})
	t.Run("forged state", func(t *testing.T) {
		op := newFakeUnid(t)
		h, base := startHall(t, op.srv.URL)
		b := newBrowser(t)
		b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		b.get(base + "/login") // a flow cookie, not followed to unid
		status, page := b.get(base + "/callback?code=abc&state=forged")
		if status != http.StatusBadRequest || !strings.Contains(page, "state") || h.Sessions() != 0 {
			t.Errorf("forged state: %d, %d sessions\n%s", status, h.Sessions(), page)
		}
	})
	t.Run("callback without a flow", func(t *testing.T) {
		op := newFakeUnid(t)
		h, base := startHall(t, op.srv.URL)
		status, page := newBrowser(t).get(base + "/callback?code=abc&state=abc")
		if status != http.StatusBadRequest || !strings.Contains(page, "请重新登录") || h.Sessions() != 0 {
			t.Errorf("no flow: %d, %d sessions\n%s", status, h.Sessions(), page)
		}
	})
	t.Run("error from unid", func(t *testing.T) {
		op := newFakeUnid(t)
		_, base := startHall(t, op.srv.URL)
		status, page := newBrowser(t).get(base + "/callback?error=access_denied&error_description=no")
		if status != http.StatusForbidden || !strings.Contains(page, "access_denied") {
			t.Errorf("error answer: %d\n%s", status, page)
		}
	})
}

// logoutClaims are the claims of a valid logout token for the fake unid.
func logoutClaims(op *fakeUnid) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": op.srv.URL, "aud": clientID, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti": rand.Text(), "sid": sid, "sub": subject,
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
	}
}

func TestBackchannelLogoutRefusesBadTokens(t *testing.T) {
	op := newFakeUnid(t)
	h, base := startHall(t, op.srv.URL)
	b := newBrowser(t)
	signIn(t, b, base)
	server := newBrowser(t) // unid calls from its server: no cookies

	with := func(edit func(map[string]any)) string {
		c := logoutClaims(op)
		edit(c)
		return sign(t, op.key, c)
	}
	unsigned := func() string {
		enc := base64.RawURLEncoding.EncodeToString
		payload, _ := json.Marshal(logoutClaims(op))
		return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(payload) + "."
	}
	tests := []struct {
		name  string
		token string
	}{
		{"missing", ""},
		{"not a JWT", "not.a.jwt"},
		{"signed by another key", sign(t, newKey(t), logoutClaims(op))},
		{"alg none", unsigned()},
		{"without events", with(func(c map[string]any) { delete(c, "events") })},
		{"with another event", with(func(c map[string]any) { c["events"] = map[string]any{"http://example.com/other": map[string]any{}} })},
		{"event not an object", with(func(c map[string]any) {
			c["events"] = map[string]any{"http://schemas.openid.net/event/backchannel-logout": true}
		})},
		{"with a nonce", with(func(c map[string]any) { c["nonce"] = "n" })},
		{"for another client", with(func(c map[string]any) { c["aud"] = "another-client" })},
		{"from another issuer", with(func(c map[string]any) { c["iss"] = "http://127.0.0.1:1" })},
		{"neither sid nor sub", with(func(c map[string]any) { delete(c, "sid"); delete(c, "sub") })},
		{"expired", with(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() })},
		{"without jti", with(func(c map[string]any) { delete(c, "jti") })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := server.send(http.MethodPost, base+"/backchannel-logout", url.Values{"logout_token": {tt.token}})
			if status != http.StatusBadRequest {
				t.Errorf("status %d, want 400: %s", status, body)
			}
			if h.Sessions() != 1 {
				t.Fatalf("a refused token ended the session")
			}
		})
	}
	if _, page := b.get(base + "/"); !strings.Contains(page, `id="signed-in"`) {
		t.Fatalf("still signed in after refused tokens? page:\n%s", page)
	}

	// The same session, a good token: signed out.
	status, body := server.send(http.MethodPost, base+"/backchannel-logout", url.Values{"logout_token": {sign(t, op.key, logoutClaims(op))}})
	if status != http.StatusOK {
		t.Fatalf("good logout token: %d %s", status, body)
	}
	if _, page := b.get(base + "/"); !strings.Contains(page, `id="signed-out"`) || h.Sessions() != 0 {
		t.Errorf("still signed in after a good logout token:\n%s", page)
	}
}

func TestBackchannelLogoutEndsOnlyTheNamedSession(t *testing.T) {
	op := newFakeUnid(t)
	h, base := startHall(t, op.srv.URL)
	a, b := newBrowser(t), newBrowser(t)
	signIn(t, a, base)
	signIn(t, b, base) // the fake gives both the same sid; sub-only tokens are tested below
	other := logoutClaims(op)
	other["sid"] = "another-sid"
	server := newBrowser(t)
	if status, _ := server.send(http.MethodPost, base+"/backchannel-logout", url.Values{"logout_token": {sign(t, op.key, other)}}); status != http.StatusOK {
		t.Fatalf("logout of an unknown sid: %d", status)
	}
	if h.Sessions() != 2 {
		t.Fatalf("a logout of another sid ended %d sessions", 2-h.Sessions())
	}
	bySub := logoutClaims(op)
	delete(bySub, "sid")
	if status, _ := server.send(http.MethodPost, base+"/backchannel-logout", url.Values{"logout_token": {sign(t, op.key, bySub)}}); status != http.StatusOK {
		t.Fatalf("logout by sub: %d", status)
	}
	if h.Sessions() != 0 {
		t.Errorf("a logout by sub left %d sessions", h.Sessions())
	}
}

func TestCrossSiteSignOutIsRefused(t *testing.T) {
	op := newFakeUnid(t)
	h, base := startHall(t, op.srv.URL)
	b := newBrowser(t)
	signIn(t, b, base)
	req, _ := http.NewRequest(http.MethodPost, base+"/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden || h.Sessions() != 1 {
		t.Errorf("cross-site sign-out: %d, %d sessions", res.StatusCode, h.Sessions())
	}
}
