package oidcup_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/config"
	"unid/internal/problem"
	"unid/internal/store"
	"unid/internal/upstream"
	"unid/internal/upstream/oidcup"
)

// callback is where the provider under test sends the browser back; the
// walk stops there and hands its query to Exchange.
const callback = "http://127.0.0.1/upstream/gov/callback"

// Modes of the issuer's front door.
const (
	up   = iota
	down // answers 503 to everything
	hang // answers nothing until the caller gives up
	// forge passes everything on but swaps the ID token's signature for
	// that of another token of the provider.
	forge
	// otherSub passes everything on but says userinfo is about someone else.
	otherSub
)

// op is a second unid acting as the OpenID provider, behind a front door
// that can take it down. The front door's URL is its issuer.
type op struct {
	t      *testing.T
	srv    *apptest.Server
	URL    string
	mode   atomic.Int32
	client store.Client
	secret string
	// again signs the person of b in again when the provider's login page
	// comes up in a walk; nil: it must not come up.
	again func(b *apptest.Browser)
}

func startOP(t *testing.T) *op {
	t.Helper()
	front := httptest.NewUnstartedServer(nil)
	o := &op{t: t, URL: "http://" + front.Listener.Addr().String()}
	o.srv = apptest.Start(t, func(c *config.Config) { c.PublicURL = o.URL })
	target, err := url.Parse(o.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(res *http.Response) error {
		switch path, mode := res.Request.URL.Path, o.mode.Load(); {
		case res.StatusCode != http.StatusOK:
		case mode == forge && path == "/oidc/token":
			return rewriteJSON(res, forgeIDToken)
		case mode == otherSub && path == "/oidc/userinfo":
			return rewriteJSON(res, func(body map[string]any) error {
				body["sub"] = "someone-else"
				return nil
			})
		}
		return nil
	}
	front.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch o.mode.Load() {
		case down:
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
		case hang:
			<-r.Context().Done()
		default: // up, forge, otherSub
			proxy.ServeHTTP(w, r)
		}
	})
	front.Start()
	t.Cleanup(front.Close)
	o.client, o.secret, err = o.srv.App.Clients.Create(context.Background(), client.Spec{
		Name: "统一身份认证平台", Type: store.ClientOIDCConfidential,
		RedirectURIs: []string{callback}, Scopes: []string{"openid", "profile", "phone"},
	}, audit.Origin{Actor: audit.Operator("test")})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// rewriteJSON lets edit change the JSON object of an answer.
func rewriteJSON(res *http.Response, edit func(map[string]any) error) error {
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return err
	}
	res.Body.Close()
	if err := edit(body); err != nil {
		return err
	}
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	res.Body = io.NopCloser(bytes.NewReader(data))
	res.ContentLength = int64(len(data))
	res.Header.Set("Content-Length", strconv.Itoa(len(data)))
	return nil
}

// forgeIDToken replaces the signature of the ID token in a token answer
// with the signature of its access token (a JWT of the same provider).
func forgeIDToken(body map[string]any) error {
	id, _ := body["id_token"].(string)
	at, _ := body["access_token"].(string)
	idParts, atParts := strings.Split(id, "."), strings.Split(at, ".")
	if len(idParts) != 3 || len(atParts) != 3 {
		return fmt.Errorf("token answer without two JWTs: %d and %d parts", len(idParts), len(atParts))
	}
	idParts[2] = atParts[2]
	body["id_token"] = strings.Join(idParts, ".")
	return nil
}

// upstream is how unid would configure o.
func (o *op) upstream() config.Upstream {
	u := config.DefaultUpstream()
	u.ID, u.Name, u.Issuer, u.ClientID = "gov", "政务服务平台", o.URL, o.client.ID
	u.ClientSecret.Value = o.secret
	u.Scopes = []string{"openid", "profile", "phone"}
	return u
}

func (o *op) provider(u config.Upstream) *oidcup.Provider {
	return oidcup.New(u, &http.Client{Timeout: 2 * time.Second}, slog.New(slog.NewTextHandler(testLog{o.t}, nil)))
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// person registers p at the provider and returns their browser, signed in.
func (o *op) person(p apptest.Person) *apptest.Browser {
	o.t.Helper()
	b := o.srv.Browser(o.t)
	b.Base = o.URL
	b.MustRegister(p)
	return b
}

func newAuth() upstream.Auth {
	return upstream.Auth{State: rand.Text(), RedirectURI: callback, Nonce: rand.Text(), Verifier: oauth2.GenerateVerifier()}
}

// authorize sends b to the URL p gives for a and walks it through the
// provider (consent answered with allow) back to the callback, whose
// query it returns with the state checked.
func (o *op) authorize(p *oidcup.Provider, b *apptest.Browser, a upstream.Auth, allow bool) url.Values {
	o.t.Helper()
	u, err := p.AuthURL(context.Background(), a)
	if err != nil {
		o.t.Fatalf("AuthURL: %v", err)
	}
	for range 12 {
		if strings.HasPrefix(u, callback) {
			back, err := url.Parse(u)
			if err != nil {
				o.t.Fatal(err)
			}
			if got := back.Query().Get("state"); got != a.State {
				o.t.Fatalf("state came back as %q; want %q", got, a.State)
			}
			return back.Query()
		}
		next, err := url.Parse(u)
		if err != nil {
			o.t.Fatal(err)
		}
		if next.Path == "/login" && o.again != nil {
			// The provider asks the person to sign in again (prompt=login).
			o.again(b)
			u = next.Query().Get("next")
			if abs, err := next.Parse(u); err == nil {
				u = abs.String()
			}
			continue
		}
		if next.Path == "/oidc/consent" {
			r := b.PostJSON("/api/v1/consents", map[string]any{"request_id": next.Query().Get("id"), "allow": allow})
			if r.Status != http.StatusOK {
				o.t.Fatalf("consent answer: %d %s", r.Status, r.Body)
			}
			var to struct {
				RedirectTo string `json:"redirect_to"`
			}
			if err := json.Unmarshal(r.Body, &to); err != nil {
				o.t.Fatal(err)
			}
			u = to.RedirectTo
			continue
		}
		r := b.Get(u)
		loc := r.Location()
		if r.Status < 300 || r.Status > 399 || loc == "" {
			o.t.Fatalf("the walk through the provider stopped at %s: %d %s", u, r.Status, r.Body)
		}
		abs, err := next.Parse(loc)
		if err != nil {
			o.t.Fatal(err)
		}
		u = abs.String()
	}
	o.t.Fatalf("too many redirects, last %s", u)
	return nil
}

// signIn runs a whole authorization through p and returns the identity.
func (o *op) signIn(p *oidcup.Provider, b *apptest.Browser, a upstream.Auth) upstream.Identity {
	o.t.Helper()
	id, err := p.Exchange(context.Background(), a, o.authorize(p, b, a, true))
	if err != nil {
		o.t.Fatalf("Exchange: %v", err)
	}
	return id
}

// exchangeIn authorizes a run through p while the provider is up, then
// exchanges its code with the front door in mode, and returns the error;
// the provider is up again afterwards.
func (o *op) exchangeIn(p *oidcup.Provider, b *apptest.Browser, mode int32) error {
	o.t.Helper()
	a := newAuth()
	back := o.authorize(p, b, a, true)
	o.mode.Store(mode)
	defer o.mode.Store(up)
	_, err := p.Exchange(context.Background(), a, back)
	return err
}

// wantZhang fails unless a whole run through p signs zhang_san in.
func (o *op) wantZhang(p *oidcup.Provider, b *apptest.Browser, when string) {
	o.t.Helper()
	if id := o.signIn(p, b, newAuth()); id.LoginName != "zhang_san" {
		o.t.Errorf("identity %s = %+v; want zhang_san's", when, id)
	}
}

// wantCode fails unless err is a problem with code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %s", code)
	}
	if got := problem.As(err).Code; got != code {
		t.Fatalf("error %v has code %q; want %q", err, got, code)
	}
}

func TestSignIn(t *testing.T) {
	o := startOP(t)
	p := o.provider(o.upstream())
	if got, want := p.Info(), (upstream.Info{ID: "gov", Kind: upstream.KindOIDC, Name: "政务服务平台", App: o.URL}); got != want {
		t.Errorf("Info() = %+v; want %+v", got, want)
	}

	zhang := o.person(apptest.Zhang)
	id := o.signIn(p, zhang, newAuth())
	if id.Subject == "" {
		t.Fatal("no subject")
	}
	// unid releases the login name as the nickname, and the phone number
	// as +86….
	want := upstream.Identity{Provider: "gov", App: o.URL, Subject: id.Subject, LoginName: "zhang_san", Nickname: "zhang_san", Phone: "13812345678"}
	if id != want {
		t.Errorf("identity = %+v; want %+v", id, want)
	}

	// Signing in again is the same person; asking for the subject only
	// gives nothing else.
	again := o.signIn(p, zhang, upstream.Auth{State: rand.Text(), RedirectURI: callback, Nonce: rand.Text(), Verifier: oauth2.GenerateVerifier(), OnlyID: true})
	if again != (upstream.Identity{Provider: "gov", App: o.URL, Subject: id.Subject}) {
		t.Errorf("identity with OnlyID = %+v; want the subject %q only", again, id.Subject)
	}

	// Another person is another subject.
	li := apptest.Person{Login: "li_si", Password: apptest.GoodPassword, Phone: "13912345678"}
	other := o.signIn(p, o.person(li), newAuth())
	if other.Subject == "" || other.Subject == id.Subject {
		t.Errorf("li_si's subject = %q; zhang_san's is %q", other.Subject, id.Subject)
	}
	if other.LoginName != "li_si" || other.Nickname != "li_si" || other.Phone != "13912345678" {
		t.Errorf("li_si's identity = %+v", other)
	}
}

func TestPhoneOnlyWithThePhoneScope(t *testing.T) {
	o := startOP(t)
	u := o.upstream()
	u.Scopes = []string{"openid", "profile"}
	id := o.signIn(o.provider(u), o.person(apptest.Zhang), newAuth())
	if id.Phone != "" || id.LoginName != "zhang_san" {
		t.Errorf("identity = %+v; want a login name and no phone", id)
	}
}

func TestRefusedAnswers(t *testing.T) {
	o := startOP(t)
	p := o.provider(o.upstream())
	b := o.person(apptest.Zhang)

	tests := []struct {
		name string
		// exchange finishes a run authorized with a.
		exchange func(a upstream.Auth, back url.Values) error
		code     string
	}{
		{"another nonce", func(a upstream.Auth, back url.Values) error {
			a.Nonce = rand.Text()
			_, err := p.Exchange(context.Background(), a, back)
			return err
		}, upstream.CodeUnverified},
		{"another verifier", func(a upstream.Auth, back url.Values) error {
			a.Verifier = oauth2.GenerateVerifier()
			_, err := p.Exchange(context.Background(), a, back)
			return err
		}, upstream.CodeExpired},
		{"code used twice", func(a upstream.Auth, back url.Values) error {
			if _, err := p.Exchange(context.Background(), a, back); err != nil {
				t.Fatalf("first exchange: %v", err)
			}
			_, err := p.Exchange(context.Background(), a, back)
			return err
		}, upstream.CodeExpired},
		{"no code", func(a upstream.Auth, back url.Values) error {
			back.Del("code")
			_, err := p.Exchange(context.Background(), a, back)
			return err
		}, upstream.CodeCancelled},
		{"wrong client secret", func(a upstream.Auth, back url.Values) error {
			u := o.upstream()
			u.ClientSecret.Value = "not-the-secret"
			_, err := o.provider(u).Exchange(context.Background(), a, back)
			return err
		}, upstream.CodeRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAuth()
			wantCode(t, tt.exchange(a, o.authorize(p, b, a, true)), tt.code)
		})
	}
	o.wantZhang(p, b, "after all that")
}

func TestForgedAnswers(t *testing.T) {
	o := startOP(t)
	p := o.provider(o.upstream())
	b := o.person(apptest.Zhang)
	wantCode(t, o.exchangeIn(p, b, forge), upstream.CodeUnverified)
	wantCode(t, o.exchangeIn(p, b, otherSub), upstream.CodeUnverified)
	o.wantZhang(p, b, "with the answers untouched")
}

func TestUserDenies(t *testing.T) {
	o := startOP(t)
	p := o.provider(o.upstream())
	b := o.person(apptest.Zhang)
	a := newAuth()
	back := o.authorize(p, b, a, false)
	if back.Get("error") != "access_denied" || back.Has("code") {
		t.Fatalf("callback with error %q and code %t; want error=access_denied and no code", back.Get("error"), back.Has("code"))
	}
	_, err := p.Exchange(context.Background(), a, back)
	wantCode(t, err, upstream.CodeCancelled)
	if k := problem.As(err).Kind; k != problem.Invalid {
		t.Errorf("kind = %v; want Invalid", k)
	}
	o.wantZhang(p, b, "on changing one's mind")
}

func TestIssuerDown(t *testing.T) {
	o := startOP(t)
	b := o.person(apptest.Zhang)
	p := o.provider(o.upstream())

	// Down or silent at first use: unavailable, and tried again.
	for _, mode := range []int32{down, hang} {
		o.mode.Store(mode)
		_, err := p.AuthURL(context.Background(), newAuth())
		wantCode(t, err, upstream.CodeUnavailable)
		_, err = p.Exchange(context.Background(), newAuth(), url.Values{"code": {"x"}, "state": {"y"}})
		wantCode(t, err, upstream.CodeUnavailable)
	}
	o.mode.Store(up)
	o.wantZhang(p, b, "once up")

	// Down between the authorization and the token request.
	wantCode(t, o.exchangeIn(p, b, down), upstream.CodeUnavailable)
	o.wantZhang(p, b, "once up again")
}

func TestIssuerNeverThere(t *testing.T) {
	l := httptest.NewServer(http.NotFoundHandler())
	issuer := l.URL
	l.Close()
	u := config.DefaultUpstream()
	u.ID, u.Issuer, u.ClientID = "gone", issuer, "unid"
	p := oidcup.New(u, nil, nil)
	_, err := p.AuthURL(context.Background(), newAuth())
	wantCode(t, err, upstream.CodeUnavailable)
	if k := problem.As(err).Kind; k != problem.Unavailable {
		t.Errorf("kind = %v; want Unavailable", k)
	}
}

// TestFreshSignIn: a re-authentication or a bind asks the provider for a
// new sign-in (prompt=login, max_age=0) and refuses an ID token whose
// auth_time is older than the request.
func TestFreshSignIn(t *testing.T) {
	o := startOP(t)
	p := o.provider(o.upstream())
	zhang := o.person(apptest.Zhang)
	o.srv.Clock.Advance(time.Minute) // the provider's session is a minute old
	a := newAuth()
	a.FreshSince = time.Now()
	u, err := p.AuthURL(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	if q := mustQuery(t, u); q.Get("prompt") != "login" || q.Get("max_age") != "0" {
		t.Fatalf("authorization URL %s: want prompt=login and max_age=0", u)
	}
	signedInAgain := 0
	o.again = func(b *apptest.Browser) {
		signedInAgain++
		b.MustLogin(apptest.Zhang.Login, apptest.Zhang.Password)
	}
	if _, err := p.Exchange(context.Background(), a, o.authorize(p, zhang, a, true)); err != nil {
		t.Fatalf("a fresh sign-in: %v", err)
	}
	if signedInAgain != 1 {
		t.Errorf("the provider asked for a sign-in %d times; want once", signedInAgain)
	}
	// An answer about a sign-in from before the request is refused.
	stale := newAuth()
	stale.FreshSince = time.Now().Add(10 * time.Minute)
	_, err = p.Exchange(context.Background(), stale, o.authorize(p, zhang, stale, true))
	wantCode(t, err, upstream.CodeUnverified)
}

func mustQuery(t *testing.T, u string) url.Values {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return parsed.Query()
}
