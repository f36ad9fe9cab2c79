package alipay

import (
	"crypto/md5"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// keyDER returns the DER of a key given as PEM or as bare base64 (as
// Alipay's key tool writes it, possibly wrapped over lines).
func keyDER(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-----BEGIN") {
		b, _ := pem.Decode([]byte(s))
		if b == nil {
			return nil, errors.New("not a PEM block")
		}
		return b.Bytes, nil
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		return nil, errors.New("neither PEM nor base64")
	}
	return der, nil
}

// ParsePrivateKey reads an RSA private key: PEM or bare base64, PKCS#1 or
// PKCS#8. Its errors never quote the key.
func ParsePrivateKey(s string) (*rsa.PrivateKey, error) {
	der, err := keyDER(s)
	if err != nil {
		return nil, err
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, errors.New("not an RSA private key in PKCS#1 or PKCS#8")
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an RSA key")
	}
	return rk, nil
}

// ParsePublicKey reads an RSA public key: PEM or bare base64, PKIX
// (SubjectPublicKeyInfo, as Alipay publishes its key) or PKCS#1.
func ParsePublicKey(s string) (*rsa.PublicKey, error) {
	der, err := keyDER(s)
	if err != nil {
		return nil, err
	}
	if k, err := x509.ParsePKIXPublicKey(der); err == nil {
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, errors.New("not an RSA key")
		}
		return rk, nil
	}
	k, err := x509.ParsePKCS1PublicKey(der)
	if err != nil {
		return nil, errors.New("not an RSA public key")
	}
	return k, nil
}

// pemCerts returns the DER of every certificate in PEM text.
func pemCerts(s string) ([][]byte, error) {
	var ders [][]byte
	rest := []byte(s)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			ders = append(ders, b.Bytes)
		}
	}
	if len(ders) == 0 {
		return nil, errors.New("no PEM certificate")
	}
	return ders, nil
}

// tbsFields are the parts of a certificate a serial number (SN) is made of.
// They are read with encoding/asn1 rather than crypto/x509, which refuses
// certificates whose keys it does not know, such as the SM2 root that
// Alipay's root file also holds.
type tbsFields struct {
	TBS struct {
		Version   int `asn1:"optional,explicit,default:0,tag:0"`
		Serial    *big.Int
		Signature pkix.AlgorithmIdentifier
		Issuer    asn1.RawValue
	}
}

// CertSN is Alipay's serial number of a certificate (DER), as its SDKs
// compute app_cert_sn and alipay_cert_sn: the hex MD5 of the issuer's
// distinguished name as Java's X500Principal.getName() writes it (RFC
// 2253) followed by the decimal serial number.
func CertSN(der []byte) (string, error) {
	var c tbsFields
	if _, err := asn1.Unmarshal(der, &c); err != nil {
		return "", fmt.Errorf("not a certificate: %w", err)
	}
	return snOf(c)
}

func snOf(c tbsFields) (string, error) {
	issuer, err := rfc2253(c.TBS.Issuer.FullBytes)
	if err != nil {
		return "", err
	}
	sum := md5.Sum([]byte(issuer + c.TBS.Serial.String()))
	return hex.EncodeToString(sum[:]), nil
}

// rootSigAlgs are the signature algorithms of the root certificates that
// count in alipay_root_cert_sn, as in the SDKs (sha1WithRSAEncryption,
// sha256WithRSAEncryption); the SM2 and ECDSA roots do not.
var rootSigAlgs = []asn1.ObjectIdentifier{
	{1, 2, 840, 113549, 1, 1, 5},
	{1, 2, 840, 113549, 1, 1, 11},
}

// RootCertSN is alipay_root_cert_sn: the SNs of the root file's
// certificates signed with SHA1WithRSA or SHA256WithRSA, in file order,
// joined by "_".
func RootCertSN(pemText string) (string, error) {
	ders, err := pemCerts(pemText)
	if err != nil {
		return "", err
	}
	var sns []string
	for _, der := range ders {
		var c tbsFields
		if _, err := asn1.Unmarshal(der, &c); err != nil {
			return "", fmt.Errorf("not a certificate: %w", err)
		}
		for _, alg := range rootSigAlgs {
			if c.TBS.Signature.Algorithm.Equal(alg) {
				sn, err := snOf(c)
				if err != nil {
					return "", err
				}
				sns = append(sns, sn)
			}
		}
	}
	if len(sns) == 0 {
		return "", errors.New("no RSA root certificate")
	}
	return strings.Join(sns, "_"), nil
}

// rfc2253Keywords are the attribute names X500Principal.getName() writes
// by name; it writes every other attribute as OID=#hex.
var rfc2253Keywords = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.9":                    "STREET",
	"0.9.2342.19200300.100.1.25": "DC",
	"0.9.2342.19200300.100.1.1":  "UID",
}

type attribute struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// rdnSET is one relative distinguished name (a SET OF attributes).
type rdnSET []attribute

// rfc2253 writes a DER Name as X500Principal.getName() does: the last
// RDN first, RDNs joined by ",", attributes of one RDN by "+".
func rfc2253(der []byte) (string, error) {
	var rdns []rdnSET
	if _, err := asn1.Unmarshal(der, &rdns); err != nil {
		return "", fmt.Errorf("issuer name: %w", err)
	}
	parts := make([]string, 0, len(rdns))
	for i := len(rdns) - 1; i >= 0; i-- {
		avas := make([]string, 0, len(rdns[i]))
		for _, a := range rdns[i] {
			avas = append(avas, attributeString(a))
		}
		parts = append(parts, strings.Join(avas, "+"))
	}
	return strings.Join(parts, ","), nil
}

func attributeString(a attribute) string {
	name, ok := rfc2253Keywords[a.Type.String()]
	if !ok {
		return a.Type.String() + "=#" + hex.EncodeToString(a.Value.FullBytes)
	}
	var s string
	if _, err := asn1.Unmarshal(a.Value.FullBytes, &s); err != nil {
		return name + "=#" + hex.EncodeToString(a.Value.FullBytes)
	}
	return name + "=" + escape2253(s)
}

// escape2253 escapes a value as RFC 2253 section 2.4 asks.
func escape2253(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case strings.ContainsRune(`,+"\<>;`, r),
			i == 0 && (r == '#' || r == ' '),
			i == len(s)-1 && r == ' ':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
