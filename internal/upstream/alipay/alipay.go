package alipay

import (
	"cmp"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"unid/internal/config"
	"unid/internal/problem"
	"unid/internal/upstream"
)

// maxAnswer bounds an answer read from the gateway.
const maxAnswer = 64 << 10

// Provider is sign-in with Alipay.
type Provider struct {
	appID     string
	key       *rsa.PrivateKey
	alipayKey *rsa.PublicKey
	// Certificate mode: the SNs sent with every request, and the SN of
	// the configured Alipay certificate, which answers name.
	appCertSN, rootCertSN, alipayCertSN string
	gateway, authorize                  string
	timeout                             time.Duration
	client                              *http.Client
	log                                 *slog.Logger
	now                                 func() time.Time
}

var _ upstream.Provider = (*Provider)(nil)

// New returns the provider for c, reading its keys and certificates. Its
// errors name the setting at fault and never quote a key.
func New(c config.Alipay, client *http.Client, log *slog.Logger) (*Provider, error) {
	if c.AppID == "" {
		return nil, errors.New("alipay: alipay.app-id is empty")
	}
	if c.SignType != "RSA2" {
		return nil, fmt.Errorf("alipay: alipay.sign-type %q: only RSA2 is supported", c.SignType)
	}
	if client == nil {
		client = http.DefaultClient
	}
	p := &Provider{appID: c.AppID, gateway: c.GatewayURL, authorize: c.AuthorizeURL,
		timeout: c.Timeout, client: client, log: log, now: time.Now}
	var err error
	if p.key, err = ParsePrivateKey(c.PrivateKey.Value); err != nil {
		return nil, fmt.Errorf("alipay: alipay.private-key: %w", err)
	}
	if !c.CertMode() {
		if p.alipayKey, err = ParsePublicKey(c.PublicKey.Value); err != nil {
			return nil, fmt.Errorf("alipay: alipay.public-key: %w", err)
		}
		return p, nil
	}
	if err := p.readCerts(c); err != nil {
		return nil, err
	}
	return p, nil
}

// readCerts sets up certificate mode: the SNs, and Alipay's key from
// alipay.public-cert once its chain leads to a root of alipay.root-cert.
func (p *Provider) readCerts(c config.Alipay) error {
	app, err := pemCerts(c.AppCert.Value)
	if err != nil {
		return fmt.Errorf("alipay: alipay.app-cert: %w", err)
	}
	if p.appCertSN, err = CertSN(app[0]); err != nil {
		return fmt.Errorf("alipay: alipay.app-cert: %w", err)
	}
	appCert, err := x509.ParseCertificate(app[0])
	if err != nil {
		return fmt.Errorf("alipay: alipay.app-cert: %w", err)
	}
	if pub, ok := appCert.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&p.key.PublicKey) {
		return errors.New("alipay: alipay.app-cert does not hold the public key of alipay.private-key")
	}
	if p.rootCertSN, err = RootCertSN(c.RootCert.Value); err != nil {
		return fmt.Errorf("alipay: alipay.root-cert: %w", err)
	}
	roots := x509.NewCertPool()
	rootDERs, _ := pemCerts(c.RootCert.Value)
	for _, der := range rootDERs {
		// Roots crypto/x509 cannot read (SM2) cannot anchor an RSA chain.
		if cert, err := x509.ParseCertificate(der); err == nil {
			roots.AddCert(cert)
		}
	}
	ders, err := pemCerts(c.PublicCert.Value)
	if err != nil {
		return fmt.Errorf("alipay: alipay.public-cert: %w", err)
	}
	certs := make([]*x509.Certificate, len(ders))
	for i, der := range ders {
		if certs[i], err = x509.ParseCertificate(der); err != nil {
			return fmt.Errorf("alipay: alipay.public-cert: %w", err)
		}
	}
	// The file holds Alipay's certificate and the intermediates up to
	// the root; Alipay's is the one that issued no other.
	leaf := certs[0]
	for _, c := range certs {
		if !c.IsCA {
			leaf = c
		}
	}
	inter := x509.NewCertPool()
	for _, c := range certs {
		if c != leaf {
			inter.AddCert(c)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return fmt.Errorf("alipay: alipay.public-cert is not vouched for by alipay.root-cert: %w", err)
	}
	pub, ok := leaf.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("alipay: alipay.public-cert: not an RSA key")
	}
	p.alipayKey = pub
	p.alipayCertSN, _ = CertSN(leaf.Raw)
	return nil
}

// Info describes the provider.
func (p *Provider) Info() upstream.Info {
	return upstream.Info{ID: upstream.KindAlipay, Kind: upstream.KindAlipay, Name: "支付宝", App: p.appID}
}

// AuthURL is Alipay's authorization page for a.
func (p *Provider) AuthURL(_ context.Context, a upstream.Auth) (string, error) {
	scope := "auth_user"
	if a.OnlyID {
		scope = "auth_base"
	}
	q := url.Values{"app_id": {p.appID}, "scope": {scope}, "redirect_uri": {a.RedirectURI}, "state": {a.State}}
	sep := "?"
	if strings.Contains(p.authorize, "?") {
		sep = "&"
	}
	return p.authorize + sep + q.Encode(), nil
}

// tokenAnswer is the answer of alipay.system.oauth.token.
type tokenAnswer struct {
	AccessToken string  `json:"access_token"`
	UserID      string  `json:"user_id"`
	OpenID      string  `json:"open_id"`
	ExpiresIn   seconds `json:"expires_in"`
	ReExpiresIn seconds `json:"re_expires_in"`
}

// userAnswer is the answer of alipay.user.info.share.
type userAnswer struct {
	UserID      string `json:"user_id"`
	OpenID      string `json:"open_id"`
	NickName    string `json:"nick_name"`
	Avatar      string `json:"avatar"`
	IsCertified string `json:"is_certified"`
	// CertType and CertNo come only to applications Alipay allows to read
	// the certified identity (cert_type 0: a mainland ID card).
	CertType string `json:"cert_type"`
	CertNo   string `json:"cert_no"`
}

// seconds is a duration in seconds that Alipay writes as a number or as a
// string, depending on the method and the year.
type seconds int64

func (s *seconds) UnmarshalJSON(b []byte) error {
	v := strings.Trim(string(b), `"`)
	if v == "" || v == "null" {
		*s = 0
		return nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return fmt.Errorf("alipay: %q is not a number of seconds", v)
	}
	*s = seconds(n)
	return nil
}

// Exchange redeems the auth_code of the callback and returns whom Alipay
// vouched for.
func (p *Provider) Exchange(ctx context.Context, a upstream.Auth, callback url.Values) (upstream.Identity, error) {
	code := callback.Get("auth_code")
	if code == "" {
		return upstream.Identity{}, problem.New(problem.Invalid, upstream.CodeCancelled)
	}
	if app := callback.Get("app_id"); app != "" && app != p.appID {
		p.log.WarnContext(ctx, "alipay callback is for another application")
		return upstream.Identity{}, &problem.Problem{Kind: problem.Unavailable, Code: upstream.CodeUnverified,
			Err: errors.New("alipay: callback app_id is not ours")}
	}
	var tok tokenAnswer
	if err := p.call(ctx, MethodToken, url.Values{"grant_type": {"authorization_code"}, "code": {code}}, &tok); err != nil {
		return upstream.Identity{}, err
	}
	id := upstream.Identity{Provider: upstream.KindAlipay, App: p.appID, AlipayUserID: tok.UserID, Subject: tok.OpenID}
	if !a.OnlyID {
		if tok.AccessToken == "" {
			return upstream.Identity{}, p.unverified(ctx, MethodToken, errors.New("no access_token"))
		}
		var u userAnswer
		if err := p.call(ctx, MethodUserInfo, url.Values{"auth_token": {tok.AccessToken}}, &u); err != nil {
			return upstream.Identity{}, err
		}
		if (u.OpenID != "" && tok.OpenID != "" && u.OpenID != tok.OpenID) ||
			(u.UserID != "" && tok.UserID != "" && u.UserID != tok.UserID) {
			return upstream.Identity{}, p.unverified(ctx, MethodUserInfo, errors.New("user is not the token's"))
		}
		id.Subject = cmp.Or(tok.OpenID, u.OpenID)
		id.AlipayUserID = cmp.Or(tok.UserID, u.UserID)
		id.Nickname, id.Avatar, id.Certified = u.NickName, u.Avatar, u.IsCertified == "T"
		if id.Certified && u.CertType == "0" {
			id.IDNumber = strings.ToUpper(strings.TrimSpace(u.CertNo))
		}
	}
	id.Subject = cmp.Or(id.Subject, id.AlipayUserID)
	if id.Subject == "" {
		return upstream.Identity{}, p.unverified(ctx, MethodToken, errors.New("neither open_id nor user_id"))
	}
	return id, nil
}

// status is what every answer may say about itself.
type status struct {
	Code    string `json:"code"`
	Msg     string `json:"msg"`
	SubCode string `json:"sub_code"`
	SubMsg  string `json:"sub_msg"`
}

// call calls method at the gateway with params and decodes its verified
// answer into out. Its errors are problems with upstream codes.
func (p *Provider) call(ctx context.Context, method string, params url.Values, out any) error {
	form, err := p.request(method, params)
	if err != nil {
		return problem.Wrap(err)
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.gateway, strings.NewReader(form.Encode()))
	if err != nil {
		return problem.Wrap(fmt.Errorf("alipay: %w", err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	req.Header.Set("Accept", "application/json")
	res, err := p.client.Do(req)
	if err != nil {
		return p.unavailable(ctx, method, fmt.Errorf("alipay: %s: %w", method, scrub(err)))
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return p.unavailable(ctx, method, fmt.Errorf("alipay: %s: reading the answer: %w", method, scrub(err)))
	}
	if res.StatusCode != http.StatusOK {
		return p.unavailable(ctx, method, fmt.Errorf("alipay: %s: HTTP status %d", method, res.StatusCode))
	}
	src, err := p.verified(string(body), method)
	if err != nil {
		return p.unverified(ctx, method, err)
	}
	var st status
	if err := json.Unmarshal([]byte(src), &st); err != nil {
		return p.unverified(ctx, method, err)
	}
	if st.Code != "" && st.Code != "10000" {
		return p.refusal(ctx, method, st)
	}
	if err := json.Unmarshal([]byte(src), out); err != nil {
		return p.unverified(ctx, method, err)
	}
	return nil
}

// request returns the signed parameters of a call.
func (p *Provider) request(method string, params url.Values) (url.Values, error) {
	form := url.Values{
		"app_id": {p.appID}, "method": {method}, "format": {"JSON"}, "charset": {"utf-8"},
		"sign_type": {"RSA2"}, "timestamp": {Timestamp(p.now())}, "version": {"1.0"},
	}
	if p.appCertSN != "" {
		form.Set("app_cert_sn", p.appCertSN)
		form.Set("alipay_root_cert_sn", p.rootCertSN)
	}
	for k, v := range params {
		form[k] = v
	}
	sig, err := Sign(SignContent(form), p.key)
	if err != nil {
		return nil, err
	}
	form.Set("sign", sig)
	return form, nil
}

// verified returns the signed text of an answer once its signature
// verifies with Alipay's key.
func (p *Provider) verified(body, method string) (string, error) {
	src, _, err := SignSource(body, method)
	if err != nil {
		return "", err
	}
	var top struct {
		Sign   string `json:"sign"`
		CertSN string `json:"alipay_cert_sn"`
	}
	if err := json.Unmarshal([]byte(body), &top); err != nil {
		return "", fmt.Errorf("alipay: answer is not JSON: %w", err)
	}
	if top.Sign == "" {
		return "", errors.New("alipay: answer is not signed")
	}
	if err := VerifyAnswer(src, top.Sign, p.alipayKey); err != nil {
		if p.alipayCertSN != "" && top.CertSN != "" && top.CertSN != p.alipayCertSN {
			return "", fmt.Errorf("alipay: answer signed with Alipay certificate %s, configured is %s: install Alipay's new alipay.public-cert: %w",
				top.CertSN, p.alipayCertSN, err)
		}
		return "", err
	}
	return src, nil
}

// expiredSubCodes are the sub codes of an authorization code or token
// that is invalid, expired or used: the person authorizes again.
var expiredSubCodes = []string{"code-invalid", "code-expired", "code-used", "invalid-auth-token", "auth-token-time-out", "token-expired"}

// refusal maps an error answer to a problem.
func (p *Provider) refusal(ctx context.Context, method string, st status) error {
	code, kind := upstream.CodeRefused, problem.Unavailable
	switch {
	case st.Code == "20000":
		code = upstream.CodeUnavailable
	case st.Code == "20001":
		code, kind = upstream.CodeExpired, problem.Gone
	case st.Code == "40002" || st.Code == "40004" || st.Code == "40006":
		for _, s := range expiredSubCodes {
			if strings.HasSuffix(st.SubCode, s) {
				code, kind = upstream.CodeExpired, problem.Gone
			}
		}
	}
	level := slog.LevelWarn
	if code == upstream.CodeExpired {
		level = slog.LevelInfo
	}
	p.log.Log(ctx, level, "alipay refused a call", "method", method, "code", st.Code,
		"sub_code", st.SubCode, "sub_msg", st.SubMsg, "problem", code)
	return &problem.Problem{Kind: kind, Code: code,
		Err: fmt.Errorf("alipay: %s: %s %s (%s)", method, st.Code, st.SubCode, st.SubMsg)}
}

func (p *Provider) unavailable(ctx context.Context, method string, err error) error {
	p.log.WarnContext(ctx, "alipay gateway unavailable", "method", method, "err", err)
	return &problem.Problem{Kind: problem.Unavailable, Code: upstream.CodeUnavailable, Err: err}
}

func (p *Provider) unverified(ctx context.Context, method string, err error) error {
	p.log.ErrorContext(ctx, "alipay answer refused: it does not verify", "method", method, "err", err)
	return &problem.Problem{Kind: problem.Unavailable, Code: upstream.CodeUnverified, Err: err}
}

// scrub drops the URL from a client error: the gateway URL is harmless,
// but errors of a transport may quote what they were sending.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
