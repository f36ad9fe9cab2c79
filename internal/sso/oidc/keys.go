package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	zcrypto "github.com/zitadel/oidc/v3/pkg/crypto"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/store"
)

// sealKind is the account.Protector kind under which private keys are
// sealed.
const sealKind = "signing_key"

// algorithms are the JWS algorithms unid signs with.
var algorithms = map[string]jose.SignatureAlgorithm{"ES256": jose.ES256, "RS256": jose.RS256}

// verifyAlgorithms are what a token presented to unid may be signed with;
// anything else (alg "none", HMAC with a public key as secret) is refused
// before any key is looked at.
var verifyAlgorithms = []jose.SignatureAlgorithm{jose.ES256, jose.RS256}

// Token types, the JWT "typ" header of each kind of token (RFC 9068,
// OpenID Connect Back-Channel Logout 1.0).
const (
	typIDToken     = "JWT"
	typAccessToken = "at+jwt"
	typLogoutToken = "logout+jwt"
)

var tokenTypes = []string{typIDToken, typAccessToken, typLogoutToken}

// keyRing holds the signing keys of this instance: the key it signs with
// (a signer per token type), and the published public keys with their JWKS
// encoding. It reloads from the store every refresh, and at once (at most
// once a second) when it meets a kid it does not know, so that instances
// sharing a database follow each other's rotations.
//
// A rotation publishes the new key before anyone signs with it: for lead
// (twice the refresh interval) after its creation every instance goes on
// signing with the key it replaced, so that by the time the first token
// of the new key exists, every instance's JWKS shows that key. The retired
// key stays published for retain after it stopped signing.
type keyRing struct {
	store     store.OAuth
	protector *account.Protector
	now       func() time.Time
	log       *slog.Logger
	refresh   time.Duration
	lead      time.Duration
	retain    time.Duration

	mu    sync.Mutex // one reload at a time
	state atomic.Pointer[keySet]
}

// keySet is one loaded state of the ring; it is never changed, only
// replaced.
type keySet struct {
	loaded time.Time
	active *activeKey                  // the key to sign with
	public map[string]*jose.JSONWebKey // published keys by kid
	jwks   []byte                      // the JWKS document
}

type activeKey struct {
	id      string
	priv    crypto.Signer
	alg     jose.SignatureAlgorithm
	signers map[string]jose.Signer // by token type
}

func newKeyRing(s store.OAuth, p *account.Protector, now func() time.Time, log *slog.Logger, refresh, retain time.Duration) *keyRing {
	return &keyRing{store: s, protector: p, now: now, log: log, refresh: refresh, lead: 2 * refresh, retain: retain}
}

// init loads the keys and makes sure the active one uses alg: it creates
// the first key, or rotates to a key of alg when the configuration
// changed. Of instances starting together on one database, one creates the
// key and the others load it.
func (r *keyRing) init(ctx context.Context, alg string, rotated func(ctx context.Context, kid, alg string)) error {
	for range 5 {
		keys, err := r.store.ListSigningKeys(ctx)
		if err != nil {
			return fmt.Errorf("oidc: load signing keys: %w", err)
		}
		var active *store.SigningKey
		for i := range keys {
			if keys[i].RetiredAt.IsZero() {
				active = &keys[i]
			}
		}
		if active != nil && active.Algorithm == alg {
			ks, err := r.load(ctx, nil)
			if err != nil {
				return err
			}
			r.state.Store(ks)
			return nil
		}
		k, err := generateKey(alg, r.now(), r.protector)
		if err != nil {
			return err
		}
		if active == nil {
			err = r.store.CreateSigningKey(ctx, k)
		} else {
			err = r.store.RotateSigningKey(ctx, active.ID, k)
			if err == nil {
				r.log.WarnContext(ctx, "signing algorithm changed: rotated to a new key", "kid", k.ID, "alg", alg)
				rotated(ctx, k.ID, alg)
			}
		}
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("oidc: signing key: %w", err)
		}
		// Created, rotated, or another instance did: load what is there.
	}
	return errors.New("oidc: signing key: instances disagree on the signing algorithm")
}

// load reads the keys from the store. prev, when given, lends its parsed
// signing key if it is still the one, so that a reload does not parse the
// private key again.
func (r *keyRing) load(ctx context.Context, prev *keySet) (*keySet, error) {
	keys, err := r.store.ListSigningKeys(ctx) // newest first
	if err != nil {
		return nil, fmt.Errorf("oidc: load signing keys: %w", err)
	}
	now := r.now()
	// Sign with the active key once it has been published for lead, until
	// then with the key it replaced.
	var signing, predecessor *store.SigningKey
	for i, k := range keys {
		switch {
		case k.RetiredAt.IsZero():
			signing = &keys[i]
		case predecessor == nil || k.RetiredAt.After(predecessor.RetiredAt):
			predecessor = &keys[i]
		}
	}
	if signing != nil && predecessor != nil && now.Before(signing.CreatedAt.Add(r.lead)) {
		signing = predecessor
	}
	ks := &keySet{loaded: now, public: make(map[string]*jose.JSONWebKey)}
	var published []jose.JSONWebKey
	for _, k := range keys {
		if !k.RetiredAt.IsZero() && !now.Before(k.RetiredAt.Add(r.lead+r.retain)) {
			continue // every token it signed has expired
		}
		var pub jose.JSONWebKey
		if err := json.Unmarshal(k.Public, &pub); err != nil {
			return nil, fmt.Errorf("oidc: signing key %s: public key: %w", k.ID, err)
		}
		ks.public[k.ID] = &pub
		published = append(published, pub)
	}
	if signing != nil {
		if prev != nil && prev.active != nil && prev.active.id == signing.ID {
			ks.active = prev.active
		} else if ks.active, err = r.openKey(*signing); err != nil {
			return nil, err
		}
	}
	ks.jwks, err = json.Marshal(jose.JSONWebKeySet{Keys: published})
	if err != nil {
		return nil, fmt.Errorf("oidc: encode JWKS: %w", err)
	}
	return ks, nil
}

// openKey unseals the private key of k and makes its signers.
func (r *keyRing) openKey(k store.SigningKey) (*activeKey, error) {
	alg, ok := algorithms[k.Algorithm]
	if !ok {
		return nil, fmt.Errorf("oidc: signing key %s: unknown algorithm %q", k.ID, k.Algorithm)
	}
	text, err := r.protector.Open(sealKind, store.Sealed{Cipher: k.Private})
	if err != nil {
		return nil, fmt.Errorf("oidc: signing key %s: %w", k.ID, err)
	}
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, fmt.Errorf("oidc: signing key %s: not PEM", k.ID)
	}
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("oidc: signing key %s: %w", k.ID, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("oidc: signing key %s: cannot sign", k.ID)
	}
	a := &activeKey{id: k.ID, priv: signer, alg: alg, signers: make(map[string]jose.Signer, len(tokenTypes))}
	for _, typ := range tokenTypes {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: priv, KeyID: k.ID}},
			(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
		if err != nil {
			return nil, fmt.Errorf("oidc: signing key %s: %w", k.ID, err)
		}
		a.signers[typ] = s
	}
	return a, nil
}

// current returns the loaded keys, reloading them first when they are older
// than the refresh interval. Only one request reloads; the others go on
// with the keys they have.
func (r *keyRing) current(ctx context.Context) *keySet {
	ks := r.state.Load()
	if r.now().Sub(ks.loaded) >= r.refresh {
		ks = r.reload(ctx, ks)
	}
	return ks
}

func (r *keyRing) reload(ctx context.Context, ks *keySet) *keySet {
	if !r.mu.TryLock() {
		return ks
	}
	defer r.mu.Unlock()
	if latest := r.state.Load(); latest != ks {
		return latest // reloaded meanwhile
	}
	fresh, err := r.load(ctx, ks)
	if err != nil {
		r.log.WarnContext(ctx, "reload signing keys", "err", err)
		return ks
	}
	if fresh.active == nil {
		r.log.ErrorContext(ctx, "no signing key in the store; signing with the last one loaded")
		fresh.active = ks.active
	}
	r.state.Store(fresh)
	return fresh
}

// forceReload reloads now, waiting for a reload in progress.
func (r *keyRing) forceReload(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	fresh, err := r.load(ctx, r.state.Load())
	if err != nil {
		return err
	}
	if fresh.active == nil {
		return errors.New("oidc: no signing key")
	}
	r.state.Store(fresh)
	return nil
}

// publicKey returns the published key kid. A kid it does not know makes it
// reload (at most once a second): another instance may have rotated.
func (r *keyRing) publicKey(ctx context.Context, kid string) (*jose.JSONWebKey, bool) {
	ks := r.current(ctx)
	if k, ok := ks.public[kid]; ok {
		return k, true
	}
	if kid == "" || len(kid) > 128 || r.now().Sub(ks.loaded) < time.Second {
		return nil, false
	}
	k, ok := r.reload(ctx, ks).public[kid]
	return k, ok
}

// sign signs claims with the active key as a JWT of type typ.
func (r *keyRing) sign(ctx context.Context, typ string, claims any) (string, jose.SignatureAlgorithm, error) {
	a := r.current(ctx).active
	token, err := zcrypto.Sign(claims, a.signers[typ])
	if err != nil {
		return "", "", fmt.Errorf("oidc: sign: %w", err)
	}
	return token, a.alg, nil
}

// errBadToken is every reason a presented JWT is not unid's; the reasons
// are not told apart to callers.
var errBadToken = errors.New("oidc: token is not valid")

// verify checks that raw is a compact JWS of type typ signed by one of the
// published keys, and returns its payload. It does not look at the claims.
func (r *keyRing) verify(ctx context.Context, raw, typ string) ([]byte, error) {
	if raw == "" || len(raw) > maxTokenBytes {
		return nil, errBadToken
	}
	jws, err := jose.ParseSignedCompact(raw, verifyAlgorithms)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, errBadToken
	}
	h := jws.Signatures[0].Header
	got, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if !strings.EqualFold(got, typ) && !strings.EqualFold(got, "application/"+typ) {
		return nil, errBadToken
	}
	key, ok := r.publicKey(ctx, h.KeyID)
	if !ok || key.Algorithm != h.Algorithm {
		return nil, errBadToken
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, errBadToken
	}
	return payload, nil
}

// maxTokenBytes bounds a presented token; unid's are well under 2 KB.
const maxTokenBytes = 8 << 10

// generateKey makes a new key of alg (P-256 for ES256, 2048-bit RSA for
// RS256) with its private part sealed. Its kid is the RFC 7638 thumbprint.
func generateKey(alg string, now time.Time, protector *account.Protector) (store.SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "RS256":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return store.SigningKey{}, fmt.Errorf("oidc: signing algorithm %q is not supported (ES256 or RS256)", alg)
	}
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("oidc: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("oidc: generate key: %w", err)
	}
	sealed, err := protector.Seal(sealKind, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("oidc: seal key: %w", err)
	}
	pub := jose.JSONWebKey{Key: priv.Public(), Algorithm: alg, Use: "sig"}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("oidc: key thumbprint: %w", err)
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	pubJSON, err := json.Marshal(pub)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("oidc: encode public key: %w", err)
	}
	return store.SigningKey{
		ID: pub.KeyID, Algorithm: alg, Private: sealed.Cipher, Public: pubJSON,
		CreatedAt: now.UTC().Truncate(time.Millisecond),
	}, nil
}

// RotateKeys makes a new key of alg ("ES256" or "RS256"; "" for the
// default) the active signing key and returns its kid; it is `unid keys
// rotate`. Every running instance publishes the new key within its
// KeyRefresh (30 s by default) and signs with it after twice that, so
// that no relying party meets a token whose key it cannot fetch. The
// retired key stays in the JWKS until every token it signed has expired.
// The rotation is audited as by's (an operator on the command line);
// auditLog may be nil.
func RotateKeys(ctx context.Context, st store.OAuth, protector *account.Protector, auditLog *audit.Log, by audit.Origin, now time.Time, alg string) (string, error) {
	if alg == "" {
		alg = DefaultAlgorithm
	}
	keys, err := st.ListSigningKeys(ctx)
	if err != nil {
		return "", err
	}
	k, err := generateKey(alg, now, protector)
	if err != nil {
		return "", err
	}
	active := ""
	for _, old := range keys {
		if old.RetiredAt.IsZero() {
			active = old.ID
		}
	}
	if active == "" {
		err = st.CreateSigningKey(ctx, k)
	} else {
		err = st.RotateSigningKey(ctx, active, k)
	}
	if errors.Is(err, store.ErrConflict) {
		return "", fmt.Errorf("oidc: another rotation happened at the same time; run it again if you still need one: %w", err)
	}
	if err != nil {
		return "", err
	}
	if auditLog != nil {
		e := by.Entry(ActionKeyRotated, audit.ResultOK)
		e.Detail = keyDetail(k.ID, alg)
		auditLog.Append(ctx, e)
	}
	return k.ID, nil
}

// RotateKeys rotates the signing key (see the package function) as unid
// itself and makes this instance publish the new key at once.
func (p *Provider) RotateKeys(ctx context.Context) (string, error) {
	kid, err := RotateKeys(ctx, p.d.Store, p.d.Protector, p.d.Audit, audit.Origin{Actor: audit.System()}, p.d.Now(), p.o.Algorithm)
	if err != nil {
		return "", err
	}
	return kid, p.keys.forceReload(ctx)
}

// recordKeyRotation audits a rotation unid made itself, at start-up,
// because the configured signing algorithm changed.
func (p *Provider) recordKeyRotation(ctx context.Context, kid, alg string) {
	p.record(ctx, nil, audit.Entry{Actor: audit.System(), Action: ActionKeyRotated, Result: audit.ResultOK, Detail: keyDetail(kid, alg)})
}

// keyDetail is the detail of a key rotation: the new key's id and
// algorithm (public, like the key itself).
func keyDetail(kid, alg string) audit.Detail { return audit.Detail{"kid": kid, "alg": alg} }
