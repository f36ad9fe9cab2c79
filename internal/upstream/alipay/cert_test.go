package alipay

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"unid/internal/config"
)

// TestSDKFixtureSNs checks the SNs of real Alipay certificates against the
// values the official Node.js SDK's test states (testdata/README.md). The
// root file holds four roots: SM2, RSA (SHA256), ECDSA and RSA (SHA1);
// only the two RSA ones count.
func TestSDKFixtureSNs(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for name, want := range map[string]string{
		"appCertPublicKey_2021001161683774.crt": "866efef280dec9137a87d047ac446315",
		"alipayCertPublicKey_RSA2.crt":          "7513daaaa48aa3ba2e4018d84402479c",
	} {
		ders, err := pemCerts(read(name))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := CertSN(ders[0]); err != nil || got != want {
			t.Errorf("CertSN(%s) = %q, %v; want %q", name, got, err, want)
		}
	}
	want := "687b59193f3f462dd5336e5abf83c5d8_02941eef3187dddf3d3b83462e1dfcf6"
	if got, err := RootCertSN(read("alipayRootCert.crt")); err != nil || got != want {
		t.Errorf("RootCertSN = %q, %v; want %q", got, err, want)
	}
}

type testCA struct {
	cert *x509.Certificate
	key  any
	pem  string
}

func issue(t *testing.T, tmpl *x509.Certificate, pub any, parent *testCA, signer any) *testCA {
	t.Helper()
	parentCert := tmpl
	if parent != nil {
		parentCert = parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

func name(cn string) pkix.Name {
	return pkix.Name{Country: []string{"CN"}, Organization: []string{"Test Financial"},
		OrganizationalUnit: []string{"Certification Authority"}, CommonName: cn}
}

// TestCertificateMode generates a root, an Alipay certificate and an
// application certificate, and checks the SNs against ones written out by
// hand here (issuer DN in RFC 2253 order, decimal serial), the request's
// parameters, and that answers are verified with the certificate's key.
func TestCertificateMode(t *testing.T) {
	rootKey, alipayKey, appKey := testKey(t), testKey(t), testKey(t)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	ca := func(serial int64, cn string) *x509.Certificate {
		return &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: name(cn), NotBefore: now.Add(-time.Hour),
			NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	}
	root := issue(t, ca(1001, "Test Root R1"), &rootKey.PublicKey, nil, rootKey)
	ecRoot := issue(t, ca(1002, "Test Root E1"), &ecKey.PublicKey, nil, ecKey)
	leaf := func(serial *big.Int, cn string) *x509.Certificate {
		return &x509.Certificate{SerialNumber: serial, Subject: name(cn), NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	}
	alipaySerial, _ := new(big.Int).SetString("20200514E63C2FE04D538716FE21358B", 16)
	alipayCert := issue(t, leaf(alipaySerial, "支付宝(中国)网络技术有限公司"), &alipayKey.PublicKey, root, rootKey)
	appCert := issue(t, leaf(big.NewInt(424242), "2021000000000000"), &appKey.PublicKey, root, rootKey)

	md5hex := func(s string) string { s2 := md5.Sum([]byte(s)); return hex.EncodeToString(s2[:]) }
	issuer := "CN=Test Root R1,OU=Certification Authority,O=Test Financial,C=CN"
	wantApp := md5hex(issuer + "424242")
	wantRoot := md5hex(issuer + "1001") // the ECDSA root does not count
	wantAlipay := md5hex(issuer + alipaySerial.String())

	var got url.Values
	var answerKey *rsa.PrivateKey = alipayKey
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		got = r.Form
		src := `{"access_token":"t","open_id":"o1","expires_in":3600}`
		sig, _ := Sign(src, answerKey)
		io.WriteString(w, `{"alipay_system_oauth_token_response":`+src+`,"alipay_cert_sn":"`+wantAlipay+`","sign":"`+sig+`"}`)
	}))
	defer srv.Close()
	privDER, _ := x509.MarshalPKCS8PrivateKey(appKey)
	c := config.Alipay{AppID: "2021000000000000", SignType: "RSA2", Timeout: time.Second, GatewayURL: srv.URL,
		PrivateKey: config.Secret{Value: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}))},
		AppCert:    config.Secret{Value: appCert.pem}, PublicCert: config.Secret{Value: alipayCert.pem},
		RootCert: config.Secret{Value: root.pem + ecRoot.pem}}
	p, err := New(c, srv.Client(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if p.appCertSN != wantApp || p.rootCertSN != wantRoot || p.alipayCertSN != wantAlipay {
		t.Errorf("SNs app %s root %s alipay %s; want %s %s %s", p.appCertSN, p.rootCertSN, p.alipayCertSN, wantApp, wantRoot, wantAlipay)
	}
	var tok tokenAnswer
	if err := p.call(t.Context(), MethodToken, url.Values{"grant_type": {"authorization_code"}, "code": {"c"}}, &tok); err != nil {
		t.Fatal(err)
	}
	if got.Get("app_cert_sn") != wantApp || got.Get("alipay_root_cert_sn") != wantRoot || tok.OpenID != "o1" {
		t.Errorf("request %v, answer %+v", got, tok)
	}
	if err := Verify(SignContent(got), got.Get("sign"), &appKey.PublicKey); err != nil {
		t.Errorf("request signature: %v", err)
	}
	answerKey = rootKey
	if err := p.call(t.Context(), MethodToken, url.Values{"code": {"c"}}, &tok); err == nil {
		t.Error("an answer not signed with the Alipay certificate's key was accepted")
	}

	t.Run("configuration errors", func(t *testing.T) {
		other := issue(t, ca(7, "Other Root"), &rootKey.PublicKey, nil, rootKey) // same key, another name
		stranger := testKey(t)
		strangerRoot := issue(t, ca(8, "Stranger Root"), &stranger.PublicKey, nil, stranger)
		tests := []struct {
			name   string
			change func(*config.Alipay)
			want   string
		}{
			{"Alipay certificate of another root", func(c *config.Alipay) { c.RootCert.Value = strangerRoot.pem }, "alipay.public-cert"},
			{"root file without an RSA root", func(c *config.Alipay) { c.RootCert.Value = ecRoot.pem }, "alipay.root-cert"},
			{"application certificate of another key", func(c *config.Alipay) { c.AppCert.Value = other.pem }, "alipay.app-cert"},
			{"no certificate", func(c *config.Alipay) { c.AppCert.Value = "garbage" }, "alipay.app-cert"},
			{"private key garbage", func(c *config.Alipay) { c.PrivateKey.Value = "MIIsecretsecret" }, "alipay.private-key"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c2 := c
				tt.change(&c2)
				_, err := New(c2, nil, slog.New(slog.DiscardHandler))
				if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "secret") {
					t.Errorf("New = %v, want an error naming %s", err, tt.want)
				}
			})
		}
	})
}
