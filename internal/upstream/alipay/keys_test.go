package alipay_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"unid/internal/config"
)

type keyPair struct{ app, alipay *rsa.PrivateKey }

func testKeyPair(t testing.TB) keyPair {
	t.Helper()
	var k keyPair
	for _, p := range []**rsa.PrivateKey{&k.app, &k.alipay} {
		var err error
		if *p, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

// config gives the keys in the other accepted forms than the fake's:
// a PKCS#1 PEM private key and a PEM public key.
func (k keyPair) config(gateway string) config.Alipay {
	pub, _ := x509.MarshalPKIXPublicKey(&k.alipay.PublicKey)
	return config.Alipay{AppID: "2021000000000000", SignType: "RSA2", Timeout: 5 * time.Second, GatewayURL: gateway,
		PrivateKey: config.Secret{Value: string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k.app)}))},
		PublicKey:  config.Secret{Value: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))}}
}
