// Package alipaydev is a fake Alipay open platform for development and
// tests: the authorization page and gateway.do, speaking Alipay's wire
// (signed form requests, signed JSON answers), with fictitious users.
// unid mounts it under /dev/ in dev mode only, so that sign-in with
// Alipay works without an Alipay account.
//
//	GET  …/publicAppAuthorize.htm?app_id&scope&redirect_uri&state   a page of test users
//	POST …/publicAppAuthorize.htm   user=<key> → redirect_uri?app_id&source=alipay_wallet&scope&auth_code&state
//	                                cancel     → the same without auth_code
//	POST …/gateway.do   alipay.system.oauth.token, alipay.user.info.share
//
// Authorization codes are single use and expire after five minutes
// (40002 isv.code-invalid); an access token serves one user-information
// call. SetFault and SetOpenIDOnly make it misbehave as Alipay can.
package alipaydev

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"embed"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"unid/internal/config"
	"unid/internal/upstream/alipay"
)

// PathPrefix is where unid mounts the gateway.
const PathPrefix = "/dev/alipay/"

// AppID is the fake application's id (Alipay sandbox ids start with 9021).
const AppID = "9021000000000001"

// CodeTTL is how long an authorization code is valid.
const CodeTTL = 5 * time.Minute

// Fault is a way the gateway misbehaves.
type Fault int

// Faults.
const (
	FaultNone              Fault = iota
	FaultBadSignature            // answers signed with a key that is not Alipay's
	FaultExpiredCode             // the token call answers 40002 isv.code-invalid
	FaultServerError             // 502 with an HTML page
	FaultInsufficientToken       // the user call answers 20001 aop.invalid-auth-token
)

// User is a fictitious Alipay user.
type User struct {
	Key         string // in the page's data-user
	NickName    string
	Avatar      string // a URL the gateway serves
	OpenID      string
	UserID      string // "" for a user of whom the application gets open_id only
	IsCertified bool
	// CertNo is the ID number Alipay certified, answered as cert_no
	// (cert_type 0) as to an application allowed to read it; "" for none.
	CertNo string
}

type grant struct {
	user    User
	scope   string
	expires time.Time
}

// Gateway is the fake Alipay.
type Gateway struct {
	base      string
	alipayKey *rsa.PrivateKey // signs answers
	otherKey  *rsa.PrivateKey // signs answers under FaultBadSignature
	appKey    *rsa.PrivateKey // the application's, handed out in Config
	users     []User

	mu         sync.Mutex
	codes      map[string]grant
	tokens     map[string]grant
	fault      Fault
	openIDOnly bool

	handlerNanos atomic.Int64
	now          func() time.Time
}

//go:embed authorize.html
var pageFS embed.FS

var page = template.Must(template.ParseFS(pageFS, "authorize.html"))

// New returns a gateway whose URLs start with baseURL (unid's address).
// It makes Alipay's key pair and the application's.
func New(baseURL string) (*Gateway, error) {
	g := &Gateway{base: strings.TrimSuffix(baseURL, "/"), codes: map[string]grant{},
		tokens: map[string]grant{}, now: time.Now}
	for _, k := range []**rsa.PrivateKey{&g.alipayKey, &g.otherKey, &g.appKey} {
		var err error
		if *k, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, fmt.Errorf("alipaydev: %w", err)
		}
	}
	avatar := g.base + PathPrefix + "avatar.svg"
	g.users = []User{
		{Key: "certified", NickName: "张实名（测试）", Avatar: avatar, OpenID: "074aTestCertifiedOpenId0001", UserID: "2088000000000001", IsCertified: true,
			CertNo: "11010519491231002X"}, // 张三 of the real-name sandbox
		{Key: "uncertified", NickName: "李未认证（测试）", Avatar: avatar, OpenID: "074aTestUncertifiedOpenId02", UserID: "2088000000000002"},
		{Key: "openid-only", NickName: "王新应用（测试）", Avatar: avatar, OpenID: "074aTestOpenIdOnlyUser00003"},
	}
	return g, nil
}

// Users lists the fictitious users.
func (g *Gateway) Users() []User { return append([]User(nil), g.users...) }

// Config is unid's configuration for this gateway (public-key mode).
func (g *Gateway) Config() config.Alipay {
	priv, _ := x509.MarshalPKCS8PrivateKey(g.appKey)
	pub, _ := x509.MarshalPKIXPublicKey(&g.alipayKey.PublicKey)
	return config.Alipay{
		AppID:        AppID,
		PrivateKey:   config.Secret{Value: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv}))},
		PublicKey:    config.Secret{Value: base64.StdEncoding.EncodeToString(pub)}, // bare, as Alipay shows it
		GatewayURL:   g.base + PathPrefix + "gateway.do",
		AuthorizeURL: g.base + PathPrefix + "publicAppAuthorize.htm",
		SignType:     "RSA2",
		Timeout:      5 * time.Second,
	}
}

// AppPublicKey is the application's public key, as uploaded to Alipay.
func (g *Gateway) AppPublicKey() *rsa.PublicKey { return &g.appKey.PublicKey }

// SetFault makes the gateway misbehave (FaultNone: behave).
func (g *Gateway) SetFault(f Fault) { g.mu.Lock(); g.fault = f; g.mu.Unlock() }

// SetOpenIDOnly makes answers carry open_id and no user_id, as for
// applications created since 2023.
func (g *Gateway) SetOpenIDOnly(on bool) { g.mu.Lock(); g.openIDOnly = on; g.mu.Unlock() }

// HandlerTime is the total time spent in the gateway's handlers.
func (g *Gateway) HandlerTime() time.Duration { return time.Duration(g.handlerNanos.Load()) }

// IssueCode authorizes the application for the user with key under scope
// (auth_user or auth_base), as choosing the user on the page does, and
// returns the auth_code.
func (g *Gateway) IssueCode(key, scope string) (string, error) {
	for _, u := range g.users {
		if u.Key == key {
			code := random()
			g.mu.Lock()
			g.codes[code] = grant{user: u, scope: scope, expires: g.now().Add(CodeTTL)}
			g.mu.Unlock()
			return code, nil
		}
	}
	return "", fmt.Errorf("alipaydev: no user %q", key)
}

func random() string {
	b := make([]byte, 16)
	rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// ServeHTTP serves the page and the gateway under PathPrefix.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	defer func() { g.handlerNanos.Add(int64(time.Since(start))) }()
	switch strings.TrimPrefix(r.URL.Path, strings.TrimSuffix(PathPrefix, "/")) {
	case "/publicAppAuthorize.htm":
		g.authorize(w, r)
	case "/gateway.do":
		g.gatewayDo(w, r)
	case "/avatar.svg":
		w.Header().Set("Content-Type", "image/svg+xml")
		fmt.Fprint(w, `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" rx="12" fill="#1677ff"/><text x="32" y="42" font-size="28" text-anchor="middle" fill="#fff">测</text></svg>`)
	default:
		http.NotFound(w, r)
	}
}

func (g *Gateway) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	scope, state, redirect := r.Form.Get("scope"), r.Form.Get("state"), r.Form.Get("redirect_uri")
	back, err := url.Parse(redirect)
	switch {
	case r.Form.Get("app_id") != AppID:
		http.Error(w, "alipaydev: unknown app_id", http.StatusBadRequest)
		return
	case err != nil || (back.Scheme != "http" && back.Scheme != "https") || back.Host == "":
		http.Error(w, "alipaydev: redirect_uri must be an absolute http(s) URL", http.StatusBadRequest)
		return
	case scope != "auth_user" && scope != "auth_base":
		http.Error(w, "alipaydev: scope must be auth_user or auth_base", http.StatusBadRequest)
		return
	}
	if r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		page.Execute(w, map[string]any{"Users": g.users, "Form": r.Form, "Base": scope == "auth_base"})
		return
	}
	q := back.Query()
	q.Set("app_id", AppID)
	q.Set("source", "alipay_wallet")
	q.Set("scope", scope)
	q.Set("state", state)
	if r.PostForm.Get("cancel") == "" {
		code, err := g.IssueCode(r.PostForm.Get("user"), scope)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		q.Set("auth_code", code)
	}
	back.RawQuery = q.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// answer is an answer's node: its status and its fields.
type answer map[string]any

func failure(code, msg, subCode, subMsg string) answer {
	return answer{"code": code, "msg": msg, "sub_code": subCode, "sub_msg": subMsg}
}

func (g *Gateway) gatewayDo(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fault == FaultServerError {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<html><body>502 Bad Gateway</body></html>")
		return
	}
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	method := r.Form.Get("method")
	node := alipay.ResponseNode(method)
	switch {
	case method != alipay.MethodToken && method != alipay.MethodUserInfo:
		g.reply(w, alipay.ErrorNode, failure("40004", "Business Failed", "isv.invalid-method", "不存在的方法名"))
	case r.Form.Get("app_id") != AppID:
		g.reply(w, alipay.ErrorNode, failure("40002", "Invalid Arguments", "isv.invalid-app-id", "无效的AppID参数"))
	case r.Form.Get("sign_type") != "RSA2" || r.Form.Get("charset") != "utf-8" || r.Form.Get("version") != "1.0":
		g.reply(w, node, failure("40002", "Invalid Arguments", "isv.invalid-parameter", "参数无效"))
	case !g.recent(r.Form.Get("timestamp")):
		g.reply(w, node, failure("40002", "Invalid Arguments", "isv.invalid-timestamp", "非法的时间戳参数"))
	case alipay.Verify(alipay.SignContent(r.Form), r.Form.Get("sign"), &g.appKey.PublicKey) != nil:
		g.reply(w, node, failure("40002", "Invalid Arguments", "isv.invalid-signature", "验签出错"))
	case method == alipay.MethodToken:
		g.token(w, node, r.Form)
	default:
		g.userInfo(w, node, r.Form.Get("auth_token"))
	}
}

// recent reports whether a request's timestamp is within 15 minutes.
func (g *Gateway) recent(ts string) bool {
	t, err := alipay.ParseTimestamp(ts)
	d := g.now().Sub(t)
	return err == nil && d < 15*time.Minute && d > -15*time.Minute
}

func (g *Gateway) token(w http.ResponseWriter, node string, form url.Values) {
	gr, ok := g.codes[form.Get("code")]
	delete(g.codes, form.Get("code"))
	switch {
	case form.Get("grant_type") != "authorization_code":
		g.reply(w, alipay.ErrorNode, failure("40002", "Invalid Arguments", "isv.grant-type-invalid", "不支持的grant_type"))
		return
	case g.fault == FaultExpiredCode || !ok || g.now().After(gr.expires):
		g.reply(w, alipay.ErrorNode, failure("40002", "Invalid Arguments", "isv.code-invalid", "授权码code无效"))
		return
	}
	tok := "authusrB" + random()
	g.tokens[tok] = gr
	a := g.ids(gr.user)
	a["access_token"] = tok
	a["refresh_token"] = "authusrB" + random()
	a["auth_start"] = alipay.Timestamp(g.now())
	a["expires_in"] = 1296000 // a number; Alipay has answered strings too
	a["re_expires_in"] = 2592000
	g.reply(w, node, a)
}

func (g *Gateway) userInfo(w http.ResponseWriter, node, token string) {
	gr, ok := g.tokens[token]
	delete(g.tokens, token)
	switch {
	case g.fault == FaultInsufficientToken || !ok:
		g.reply(w, node, failure("20001", "Insufficient Token Permissions", "aop.invalid-auth-token", "无效的访问令牌"))
		return
	case gr.scope != "auth_user":
		g.reply(w, node, failure("40006", "Insufficient Permissions", "isv.insufficient-user-permissions", "用户未授权"))
		return
	}
	a := g.ids(gr.user)
	a["code"], a["msg"] = "10000", "Success"
	a["nick_name"] = gr.user.NickName
	a["avatar"] = gr.user.Avatar
	a["is_certified"] = map[bool]string{true: "T", false: "F"}[gr.user.IsCertified]
	if gr.user.CertNo != "" {
		a["cert_type"], a["cert_no"] = "0", gr.user.CertNo
	}
	a["user_type"], a["user_status"] = "2", "T"
	g.reply(w, node, a)
}

// ids are the user's identifiers as this application gets them.
func (g *Gateway) ids(u User) answer {
	a := answer{"open_id": u.OpenID}
	if u.UserID != "" && !g.openIDOnly {
		a["user_id"] = u.UserID
	}
	return a
}

// reply writes {"<node>":{…},"sign":"…"}, signed over the node's text
// with slashes escaped as Alipay writes them.
func (g *Gateway) reply(w http.ResponseWriter, node string, a answer) {
	js, err := json.Marshal(a)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	src := strings.ReplaceAll(string(js), "/", `\/`)
	key := g.alipayKey
	if g.fault == FaultBadSignature {
		key = g.otherKey
	}
	sig, err := alipay.Sign(src, key)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html;charset=utf-8") // as Alipay labels its JSON
	fmt.Fprintf(w, `{"%s":%s,"sign":"%s"}`, node, src, sig)
}
