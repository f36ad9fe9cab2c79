package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
)

// Person is a citizen the tests register and sign in.
type Person struct {
	Login, Password, Phone string
	RealName, IDNumber     string // optional, together
}

// GoodPassword passes the password policy.
const GoodPassword = "Shandong#2026"

// Zhang is the citizen most tests use.
var Zhang = Person{Login: "zhang_san", Password: GoodPassword, Phone: "13812345678", RealName: "张三", IDNumber: "11010519491231002X"}

// Response is an answer as a test reads it.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as a JSON object.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body %q is not JSON: %v", r.Body, err)
	}
	return m
}

// ErrCode returns error.code of an error answer of the JSON API.
func (r Response) ErrCode(t testing.TB) string {
	t.Helper()
	var e struct{ Error struct{ Code string } }
	if err := json.Unmarshal(r.Body, &e); err != nil {
		t.Fatalf("body %q is not an error: %v", r.Body, err)
	}
	return e.Error.Code
}

// Location is the redirect target, "" when there is none.
func (r Response) Location() string { return r.Header.Get("Location") }

// Browser is one browser of a person: a cookie jar that does not follow
// redirects, talking to the server the way the pages do (the JSON API,
// captcha answers and SMS codes read from the dev routes).
type Browser struct {
	T      testing.TB
	Srv    *Server
	Client *http.Client
	// Base is the URL that paths starting with "/" are sent to; the
	// server's by default.
	Base string
	// Lang, when set, is sent as Accept-Language.
	Lang string
}

// Browser returns a new browser with an empty cookie jar.
func (s *Server) Browser(t testing.TB) *Browser {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &Browser{T: t, Srv: s, Client: c, Base: s.URL}
}

// Do sends one request; header is pairs of names and values.
func (b *Browser) Do(method, target, contentType string, body io.Reader, header ...string) Response {
	b.T.Helper()
	if strings.HasPrefix(target, "/") {
		target = b.Base + target
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		b.T.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if b.Lang != "" {
		req.Header.Set("Accept-Language", b.Lang)
	}
	if strings.HasPrefix(target, b.Base+"/") {
		// As a browser does on https or localhost, for a request from
		// unid's own pages; header may say otherwise.
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := b.Client.Do(req)
	if err != nil {
		b.T.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		b.T.Fatal(err)
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: data}
}

// Get fetches target.
func (b *Browser) Get(target string) Response {
	b.T.Helper()
	return b.Do(http.MethodGet, target, "", nil)
}

// PostJSON posts v as JSON.
func (b *Browser) PostJSON(path string, v any) Response {
	b.T.Helper()
	return b.SendJSON(http.MethodPost, path, v)
}

// SendJSON sends v as JSON with method (PUT, PATCH, DELETE, ...).
func (b *Browser) SendJSON(method, path string, v any) Response {
	b.T.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		b.T.Fatal(err)
	}
	return b.Do(method, path, "application/json", bytes.NewReader(data))
}

// Captcha creates a captcha and returns its id and the right answer.
func (b *Browser) Captcha() (id, answer string) {
	b.T.Helper()
	r := b.PostJSON("/api/v1/captchas", map[string]any{})
	if r.Status != http.StatusCreated {
		b.T.Fatalf("create captcha: %d %s", r.Status, r.Body)
	}
	id, _ = r.JSON(b.T)["id"].(string)
	return id, b.Srv.CaptchaAnswer(b.T, id)
}

// SendCode asks for a registration code for phone and returns it.
func (b *Browser) SendCode(phone string) string {
	b.T.Helper()
	id, answer := b.Captcha()
	r := b.PostJSON("/api/v1/sms-codes", map[string]any{"phone": phone, "purpose": "register", "captcha_id": id, "captcha_answer": answer})
	if r.Status != http.StatusAccepted {
		b.T.Fatalf("send code: %d %s", r.Status, r.Body)
	}
	return b.Srv.LastCode(b.T, phone)
}

// Register registers p through the JSON API (captcha, SMS code, form with
// the agreement ticked) and returns the answer; a 201 signs this browser in.
func (b *Browser) Register(p Person) Response {
	b.T.Helper()
	code := b.SendCode(p.Phone)
	body := map[string]any{"login_name": p.Login, "password": p.Password, "password_confirm": p.Password, "phone": p.Phone, "sms_code": code, "agreed": true}
	if p.IDNumber != "" {
		body["real_name"], body["id_number"] = p.RealName, p.IDNumber
	}
	return b.PostJSON("/api/v1/users", body)
}

// MustRegister registers p, failing the test unless it works, and returns
// the new account's ID.
func (b *Browser) MustRegister(p Person) string {
	b.T.Helper()
	if r := b.Register(p); r.Status != http.StatusCreated {
		b.T.Fatalf("register %s: %d %s", p.Login, r.Status, r.Body)
	}
	u, err := b.Srv.App.Store.GetUserByLoginName(context.Background(), strings.ToLower(p.Login))
	if err != nil {
		b.T.Fatal(err)
	}
	return u.ID
}

// Login signs in with identifier and password as the login page does
// (captcha, then password) and returns the answer.
func (b *Browser) Login(identifier, password string) Response {
	b.T.Helper()
	id, answer := b.Captcha()
	return b.PostJSON("/api/v1/sessions", map[string]any{"identifier": identifier, "password": password, "captcha_id": id, "captcha_answer": answer})
}

// MustLogin signs in, failing the test unless it works.
func (b *Browser) MustLogin(identifier, password string) {
	b.T.Helper()
	if r := b.Login(identifier, password); r.Status != http.StatusCreated {
		b.T.Fatalf("login %s: %d %s", identifier, r.Status, r.Body)
	}
}
