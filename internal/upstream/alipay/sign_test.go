package alipay

import (
	"crypto/rand"
	"crypto/rsa"
	"net/url"
	"strings"
	"testing"
)

func testKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSignContent(t *testing.T) {
	params := url.Values{"method": {"alipay.system.oauth.token"}, "app_id": {"2021"}, "sign": {"x"},
		"empty": {""}, "timestamp": {"2026-11-30 16:00:00"}, "code": {"a&b=c"}}
	want := "app_id=2021&code=a&b=c&method=alipay.system.oauth.token&timestamp=2026-11-30 16:00:00"
	if got := SignContent(params); got != want {
		t.Errorf("SignContent = %q, want %q", got, want)
	}
}

// sign signs src as the gateway would and returns the whole answer.
func answerOf(t *testing.T, key *rsa.PrivateKey, node, src, signed string) string {
	t.Helper()
	sig, err := Sign(signed, key)
	if err != nil {
		t.Fatal(err)
	}
	return `{"` + node + `":` + src + `,"sign":"` + sig + `"}`
}

// TestAnswerVerification follows Alipay's official Java SDK
// (alipay-sdk-java-all): JsonConverter.getSignSourceData/parseSignSourceData
// take the first occurrence of "<method>_response" (else "error_response"),
// AlipaySignature.extractSignContent the object after it up to its matching
// brace, and a node name occurring again after that object is refused
// ("检测到响应报文中有重复的…，验签失败"); AbstractAlipayClient.checkResponseSign
// verifies the raw text and, when that fails and it holds `\/`, the text
// with `\/` replaced by "/". The Node.js SDK (alipay.ts getSignStr) instead
// cuts at the last "sign", which lets a second node through; it is not
// followed.
func TestAnswerVerification(t *testing.T) {
	alipayKey, otherKey := testKey(t), testKey(t)
	const node = "alipay_system_oauth_token_response"
	const src = `{"access_token":"t1","open_id":"o1","avatar":"https:\/\/example.test\/a.png","expires_in":"3600"}`
	good := answerOf(t, alipayKey, node, src, src)
	tests := []struct {
		name    string
		body    string
		wantSrc string // "" when refused
	}{
		{"signed by Alipay", good, src},
		{"signed with another key", answerOf(t, otherKey, node, src, src), ""},
		{"payload modified", strings.Replace(good, `"o1"`, `"o2"`, 1), ""},
		{"signed over unescaped slashes", answerOf(t, alipayKey, node, src, strings.ReplaceAll(src, `\/`, "/")), src},
		{"escaped slash changed", strings.Replace(good, `example.test\/a`, `example.test\/b`, 1), ""},
		{"duplicated root node after the signed one",
			strings.Replace(good, `,"sign"`, `,"`+node+`":{"access_token":"t2","open_id":"attacker"},"sign"`, 1), ""},
		{"duplicated root node before the signed one",
			`{"` + node + `":{"open_id":"attacker"},` + strings.TrimPrefix(good, "{"), ""},
		{"root node name inside the signed object", answerOf(t, alipayKey, node,
			`{"open_id":"o1","note":"`+node+`"}`, `{"open_id":"o1","note":"`+node+`"}`), `{"open_id":"o1","note":"` + node + `"}`},
		{"braces and escaped quotes in strings", answerOf(t, alipayKey, node,
			`{"nick_name":"a\"}{\\","open_id":"o1"}`, `{"nick_name":"a\"}{\\","open_id":"o1"}`), `{"nick_name":"a\"}{\\","open_id":"o1"}`},
		{"error_response", answerOf(t, alipayKey, "error_response",
			`{"code":"40002","sub_code":"isv.code-invalid"}`, `{"code":"40002","sub_code":"isv.code-invalid"}`),
			`{"code":"40002","sub_code":"isv.code-invalid"}`},
		{"unsigned", `{"` + node + `":` + src + `}`, ""},
		{"empty signature", `{"` + node + `":` + src + `,"sign":""}`, ""},
		{"another method's node", answerOf(t, alipayKey, "alipay_user_info_share_response", src, src), ""},
	}
	p := &Provider{alipayKey: &alipayKey.PublicKey}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.verified(tt.body, MethodToken)
			if tt.wantSrc == "" {
				if err == nil {
					t.Fatalf("accepted %s", tt.body)
				}
				return
			}
			if err != nil || got != tt.wantSrc {
				t.Fatalf("verified = %q, %v; want %q", got, err, tt.wantSrc)
			}
		})
	}
}
