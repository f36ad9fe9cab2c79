package operator_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	"github.com/go-webauthn/webauthn/webauthn"

	"unid/internal/account/accounttest"
	"unid/internal/audit"
	"unid/internal/captcha"
	"unid/internal/flow"
	"unid/internal/operator"
	"unid/internal/store"
	"unid/internal/store/sqlite/sqlitetest"
)

func TestRelyingParty(t *testing.T) {
	tests := []struct {
		name, url, id, origin string
		bad                   bool
	}{
		{"a public host", "https://id.example.gov.cn/", "id.example.gov.cn", "https://id.example.gov.cn", false},
		{"a port is kept in the origin", "https://ID.Example.gov.cn:8443/unid", "id.example.gov.cn", "https://id.example.gov.cn:8443", false},
		{"loopback is localhost", "http://127.0.0.1:8080", "localhost", "http://localhost:8080", false},
		{"IPv6 loopback is localhost", "http://[::1]:8080", "localhost", "http://localhost:8080", false},
		{"an intranet address has no relying party", "https://10.1.2.3", "", "", true},
		{"no scheme", "id.example.gov.cn", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, origin, err := operator.RelyingParty(tt.url)
			if (err != nil) != tt.bad || id != tt.id || origin != tt.origin {
				t.Errorf("RelyingParty(%q) = %q, %q, %v", tt.url, id, origin, err)
			}
		})
	}
}

// pkOrigin is where the passkey tests reach unid.
const pkOrigin = "https://id.example.gov.cn"

// newPasskeys returns the passkeys of f's operators, unid reached at
// pkOrigin.
func newPasskeys(t *testing.T, f *fixture) *operator.Passkeys {
	t.Helper()
	p, err := operator.NewPasskeys(f.ops, operator.PasskeyDeps{Store: f.Store, Challenges: f.Store, PublicURL: pkOrigin})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// authenticator holds one discoverable P-256 passkey of one operator and
// answers WebAuthn requests as a security key does (user verified).
type authenticator struct {
	key        *ecdsa.PrivateKey
	id, handle []byte
	count      uint32
}

// addPasskey gives o a passkey, stored as a verified registration stores
// it, and returns the authenticator that holds it.
func addPasskey(t *testing.T, f *fixture, o store.Operator, name string) *authenticator {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	cose, err := webauthncbor.Marshal(webauthncose.EC2PublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.EllipticKey), Algorithm: int64(webauthncose.AlgES256)},
		Curve:         int64(webauthncose.P256), XCoord: pub[1:33], YCoord: pub[33:],
	})
	if err != nil {
		t.Fatal(err)
	}
	a := &authenticator{key: key, id: make([]byte, 16), handle: []byte(o.ID)}
	rand.Read(a.id)
	raw, err := json.Marshal(webauthn.Credential{ID: a.id, PublicKey: cose, AttestationType: "none",
		Flags: webauthn.NewCredentialFlags(protocol.FlagUserPresent | protocol.FlagUserVerified)})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Store.CreateOperatorPasskey(context.Background(), store.OperatorPasskey{CredentialID: a.id, OperatorID: o.ID,
		Name: name, Credential: raw, CreatedAt: f.Now.UTC().Truncate(time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	return a
}

// assert answers the ceremony cer as navigator.credentials.get would with
// a's passkey, in JSON. Unless signed, the signature is made with another
// key: a stranger who knows the credential ID (it is no secret) and the
// user handle, but does not hold the passkey.
func (a *authenticator) assert(t *testing.T, cer operator.Ceremony, signed bool) []byte {
	t.Helper()
	var opts struct {
		Options struct {
			PublicKey struct {
				Challenge string `json:"challenge"`
				RPID      string `json:"rpId"`
			} `json:"publicKey"`
		} `json:"options"`
	}
	b, _ := json.Marshal(cer)
	if err := json.Unmarshal(b, &opts); err != nil {
		t.Fatal(err)
	}
	client, _ := json.Marshal(map[string]any{"type": "webauthn.get", "challenge": opts.Options.PublicKey.Challenge, "origin": pkOrigin, "crossOrigin": false})
	a.count++
	rp := sha256.Sum256([]byte(opts.Options.PublicKey.RPID))
	auth := append(rp[:], byte(protocol.FlagUserPresent|protocol.FlagUserVerified), 0, 0, 0, 0)
	binary.BigEndian.PutUint32(auth[33:], a.count)
	digest := sha256.Sum256(client)
	msg := sha256.Sum256(append(append([]byte{}, auth...), digest[:]...))
	key := a.key
	if !signed {
		key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	sig, err := ecdsa.SignASN1(rand.Reader, key, msg[:])
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	out, _ := json.Marshal(map[string]any{"id": b64(a.id), "rawId": b64(a.id), "type": "public-key", "clientExtensionResults": map[string]any{},
		"response": map[string]string{"clientDataJSON": b64(client), "authenticatorData": b64(auth), "signature": b64(sig), "userHandle": b64(a.handle)}})
	return out
}

// passkeySignIn begins a passkey sign-in from c and finishes it with a's
// answer.
func passkeySignIn(t *testing.T, p *operator.Passkeys, a *authenticator, signed bool, c flow.Client) (store.Operator, error) {
	t.Helper()
	ctx := context.Background()
	cer, err := p.BeginSignIn(ctx, c)
	if err != nil {
		return store.Operator{}, err
	}
	return p.SignIn(ctx, httptest.NewRecorder(), noCookie, cer.ID, a.assert(t, cer, signed), c)
}

// TestPasskeySignIn: the operator's passkey signs them in; a disabled
// operator's is refused with the one answer, audited with its reason.
func TestPasskeySignIn(t *testing.T) {
	f := newFixture(t)
	p := newPasskeys(t, f)
	o, _ := f.setUp(t, "qian", operator.RoleReviewer)
	a := addPasskey(t, f, o, "办公电脑")
	got, err := passkeySignIn(t, p, a, true, browser)
	if err != nil || got.ID != o.ID {
		t.Fatalf("sign-in with the passkey = %s, %v", got.LoginName, err)
	}
	if _, err := f.ops.Disable(context.Background(), "qian", cli); err != nil {
		t.Fatal(err)
	}
	_, err = passkeySignIn(t, p, a, true, browser)
	wantCode(t, "a disabled operator's passkey", err, "operator_sign_in_failed")
	if ev := f.Events(t, operator.ActionSignInFailed); len(ev) != 1 || !strings.Contains(ev[0].Detail, `"reason":"disabled"`) {
		t.Errorf("sign-in failures = %+v", ev)
	}
}

// TestPasskeyStrangerCannotLock: a stranger who knows an operator's
// credential ID (it travels in every assertion) but does not hold the
// passkey sends 60 assertions from two addresses. Each is refused; the
// addresses are capped for themselves, and the operator's login name is
// not locked — their password and their passkey still sign them in. The
// name threshold is one the two addresses would reach if their failures
// counted on the name.
func TestPasskeyStrangerCannotLock(t *testing.T) {
	st := sqlitetest.New(t)
	f := &fixture{Fixture: accounttest.New(t, st)}
	f.captchas = captcha.New(st, f.Clock, captcha.Options{})
	f.ops = operator.New(operator.Deps{
		Store: st, Counters: st, Captchas: f.captchas, Hasher: f.Hasher, Protector: f.Protector, Audit: f.Audit, Now: f.Clock,
		Options: operator.Options{NameThreshold: 8},
	})
	p := newPasskeys(t, f)
	ctx := context.Background()
	o, secret := f.setUp(t, "sun", operator.RoleReviewer)
	a := addPasskey(t, f, o, "安全密钥")
	strangers := []flow.Client{flow.NewClient("198.51.100.1", "stranger"), flow.NewClient("198.51.100.2", "stranger")}
	for i := range 30 {
		if i%5 == 4 {
			f.Now = f.Now.Add(time.Minute) // under the per-minute cap: begin and finish count on it
		}
		for _, c := range strangers {
			_, err := passkeySignIn(t, p, a, false, c)
			wantCode(t, fmt.Sprintf("forged assertion %d from %s", i+1, c.IP), err, "operator_sign_in_failed")
		}
	}
	for _, c := range strangers {
		_, err := passkeySignIn(t, p, a, false, c)
		wantCode(t, "a stranger over the address's cap", err, "operator_sign_in_rate_limited")
	}
	if ev := f.Events(t, operator.ActionLocked); len(ev) != 0 {
		t.Errorf("forged assertions locked: %+v", ev)
	}
	if _, err := f.ops.SignIn(ctx, httptest.NewRecorder(), noCookie, f.req(t, "sun", password, code(t, secret, f.Now)), browser); err != nil {
		t.Fatalf("the operator's password sign-in after forged assertions: %v", err)
	}
	if _, err := passkeySignIn(t, p, a, true, browser); err != nil {
		t.Fatalf("the operator's passkey sign-in after forged assertions: %v", err)
	}
}

// TestResetRemovesPasskeys: a reset, from the console or the command
// line, removes every passkey of the operator — one added by whoever held
// the account no longer signs in — and its audit event says how many. A
// refused reset, a disable and another operator's reset leave them.
func TestResetRemovesPasskeys(t *testing.T) {
	f := newFixture(t)
	p := newPasskeys(t, f)
	ctx := context.Background()
	admin, _ := f.setUp(t, "admin", operator.RoleSysadmin)
	li, _ := f.setUp(t, "li", operator.RoleReviewer)
	zhou, _ := f.setUp(t, "zhou", operator.RoleReviewer)
	shen, _ := f.setUp(t, "shen", operator.RoleAuditor)
	mine := addPasskey(t, f, li, "办公电脑")
	addPasskey(t, f, li, "added by someone else")
	addPasskey(t, f, zhou, "安全密钥")
	addPasskey(t, f, shen, "安全密钥")
	count := func(o store.Operator) int {
		t.Helper()
		list, err := f.Store.ListOperatorPasskeys(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}
	by := audit.Origin{Actor: audit.Operator(admin.ID), IP: "192.0.2.7"}

	if _, err := f.ops.DisableBy(ctx, admin, li.ID, by); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ops.EnableBy(ctx, admin, li.ID, by); err != nil {
		t.Fatal(err)
	}
	if n := count(li); n != 2 {
		t.Fatalf("after disable and enable li has %d passkeys, want 2", n)
	}
	_, _, err := f.ops.ResetBy(ctx, admin, shen.ID, by)
	wantCode(t, "reset an auditor in the console", err, "operator_auditor_protected")
	if n := count(shen); n != 1 {
		t.Errorf("a refused reset left the auditor %d passkeys, want 1", n)
	}

	if _, _, err := f.ops.ResetBy(ctx, admin, li.ID, by); err != nil {
		t.Fatal(err)
	}
	if n := count(li); n != 0 {
		t.Errorf("after a reset in the console li has %d passkeys", n)
	}
	if n := count(zhou); n != 1 {
		t.Errorf("li's reset left zhou %d passkeys, want 1", n)
	}
	_, err = passkeySignIn(t, p, mine, true, browser)
	wantCode(t, "a passkey from before the reset", err, "operator_sign_in_failed")

	if _, _, err := f.ops.Reset(ctx, "zhou", cli); err != nil {
		t.Fatal(err)
	}
	if n := count(zhou); n != 0 {
		t.Errorf("after a reset on the command line zhou has %d passkeys", n)
	}
	removed := map[string]string{}
	for _, e := range f.Events(t, operator.ActionReset) {
		var d map[string]string
		if err := json.Unmarshal([]byte(e.Detail), &d); err != nil {
			t.Fatal(err)
		}
		removed[e.Subject] = d["passkeys_removed"]
	}
	if want := map[string]string{"li": "2", "zhou": "1"}; fmt.Sprint(removed) != fmt.Sprint(want) {
		t.Errorf("reset events say passkeys removed %v, want %v", removed, want)
	}
}
