package alipay

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The open platform methods unid calls.
const (
	MethodToken    = "alipay.system.oauth.token"
	MethodUserInfo = "alipay.user.info.share"
)

// TimeLayout is the layout of the timestamp parameter, in Beijing time.
const TimeLayout = "2006-01-02 15:04:05"

// beijing is China Standard Time. It has had no daylight saving time
// since 1991, so a fixed zone needs no time zone database.
var beijing = time.FixedZone("CST", 8*60*60)

// Timestamp is t as the gateway expects it.
func Timestamp(t time.Time) string { return t.In(beijing).Format(TimeLayout) }

// ParseTimestamp reads a timestamp parameter.
func ParseTimestamp(s string) (time.Time, error) {
	return time.ParseInLocation(TimeLayout, s, beijing)
}

// ResponseNode is the name of the node that holds the answer to method.
func ResponseNode(method string) string {
	return strings.ReplaceAll(method, ".", "_") + "_response"
}

// ErrorNode is the node some errors are answered in instead.
const ErrorNode = "error_response"

// SignContent is the text a request is signed over: the parameters other
// than sign whose value is not empty, sorted by name, as k=v joined by &,
// values neither encoded nor escaped.
func SignContent(params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "sign" && params.Get(k) != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(params.Get(k))
	}
	return b.String()
}

// Sign returns the base64 SHA256withRSA signature of content (RSA2).
func Sign(content string, key *rsa.PrivateKey) (string, error) {
	sum := sha256.Sum256([]byte(content))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("alipay: sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// Verify checks a base64 SHA256withRSA signature of content.
func Verify(content, sig string, pub *rsa.PublicKey) error {
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return errors.New("alipay: signature is not base64")
	}
	sum := sha256.Sum256([]byte(content))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], raw); err != nil {
		return errors.New("alipay: signature does not verify")
	}
	return nil
}

// VerifyAnswer checks the signature of an answer's signed text, as the
// official SDKs do: over the raw text, and, when that fails and the text
// holds escaped slashes (\/), over the text with them unescaped, since
// JSON allows "/" either way and the gateway may have signed either.
func VerifyAnswer(src, sig string, pub *rsa.PublicKey) error {
	err := Verify(src, sig, pub)
	if err != nil && strings.Contains(src, `\/`) {
		err = Verify(strings.ReplaceAll(src, `\/`, "/"), sig, pub)
	}
	return err
}

// SignSource returns the signed text of an answer to method, and the node
// it is (ResponseNode(method) or ErrorNode).
//
// It finds the text as Alipay's Java SDK does (JsonConverter.
// getSignSourceData and AlipaySignature.extractSignContent): the first
// occurrence of the method's node name, else of error_response; from two
// characters past the name, the first "{"; up to the "}" that closes it,
// counting braces outside strings only, a quote escaped by an odd number
// of backslashes not ending a string. If the node's name occurs again
// after that object, the answer is refused: a duplicated node, which a
// decoder reading the last one would take for the signed one. The SDK
// also verifies an answer without a "sign" member as unsigned; here that
// is refused as well.
func SignSource(body, method string) (src, node string, err error) {
	node = ResponseNode(method)
	at := strings.Index(body, node)
	if at <= 0 {
		node = ErrorNode
		at = strings.Index(body, node)
	}
	if at <= 0 {
		return "", "", fmt.Errorf("alipay: answer has no %s node", ResponseNode(method))
	}
	if !strings.Contains(body, `"sign"`) {
		return "", "", errors.New("alipay: answer is not signed")
	}
	begin := at + len(node) + 2
	for begin < len(body) && body[begin] != '{' {
		if body[begin] == '"' {
			// An encrypted answer (a JSON string); unid asks for none.
			return "", "", errors.New("alipay: answer is encrypted")
		}
		begin++
	}
	if begin >= len(body) {
		return "", "", fmt.Errorf("alipay: %s is not an object", node)
	}
	end := objectEnd(body, begin)
	if end < 0 {
		return "", "", fmt.Errorf("alipay: %s is not closed", node)
	}
	if strings.LastIndex(body, node) > end {
		return "", "", fmt.Errorf("alipay: answer repeats %s", node)
	}
	return body[begin:end], node, nil
}

// objectEnd returns the index just past the "}" closing the object that
// starts at s[begin], or -1.
func objectEnd(s string, begin int) int {
	depth, inString, escapes := 0, false, 0
	for i := begin; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' && escapes%2 == 0:
			inString = !inString
		case c == '{' && !inString:
			depth++
		case c == '}' && !inString:
			depth--
			if depth == 0 {
				return i + 1
			}
		}
		if s[i] == '\\' {
			escapes++
		} else {
			escapes = 0
		}
	}
	return -1
}
