package operator

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"unid/internal/audit"
	"unid/internal/flow"
	"unid/internal/problem"
	"unid/internal/store"
)

// Audit actions of passkeys.
const (
	ActionPasskeyAdded   = "operator.passkey_added"   // Detail {name, credential_id}; failed: Detail {reason}
	ActionPasskeyRemoved = "operator.passkey_removed" // Detail {name, credential_id}
)

// CeremonyKind is the store.Challenges kind of a WebAuthn ceremony's
// server-side state (its challenge), kept between begin and finish.
const CeremonyKind = "webauthn"

// CeremonyTTL is how long a begun ceremony can be finished.
const CeremonyTTL = 5 * time.Minute

// MaxPasskeyName is the longest name of a passkey, in characters.
const MaxPasskeyName = 64

// What a ceremony is bound to (the challenge's Subject): adding a passkey
// to one operator, or signing in (to the login name typed, if any).
const (
	bindRegister = "register\x00"
	bindSignIn   = "sign_in\x00"
)

var (
	errCeremonyGone   = &problem.Problem{Kind: problem.Gone, Code: "operator_passkey_expired"}
	errPasskeyInvalid = problem.Field("credential", "operator_passkey_invalid")
	errPasskeyUnknown = &problem.Problem{Kind: problem.NotFound, Code: "operator_passkey_not_found"}
)

// PasskeyDeps are what passkeys work with besides the operator service.
type PasskeyDeps struct {
	Store      store.OperatorPasskeys
	Challenges store.Challenges
	// PublicURL is the address operators reach unid at; its host is the
	// relying party ID and its origin the only origin accepted.
	PublicURL string
	// SiteName names unid to the authenticator.
	SiteName string
}

// Passkeys lets operators sign in with a passkey (a WebAuthn credential
// that verifies the user, "discoverable" where the authenticator can) as
// well as with password + TOTP. An operator adds one while signed in,
// confirming it with a current TOTP code, so that a stolen console cookie
// alone cannot add one; signing in with it is throttled and audited like
// a password sign-in and starts the same console session. The WebAuthn
// protocol is go-webauthn's; unid keeps each ceremony's state in
// store.Challenges (CeremonyKind, single use, CeremonyTTL) and each
// credential as the library encodes it.
//
//	begin ──(challenge stored, 5 min)──▶ authenticator ──▶ finish (challenge taken: once)
type Passkeys struct {
	s      *Service
	d      PasskeyDeps
	wa     *webauthn.WebAuthn
	rpID   string
	origin string
}

// RelyingParty returns the relying party ID and origin for unid reached at
// publicURL. A loopback address (development) is reached as localhost:
// browsers take no IP address as a relying party ID.
func RelyingParty(publicURL string) (id, origin string, err error) {
	u, err := url.Parse(publicURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", "", fmt.Errorf("operator: passkeys need an http(s) public URL, not %q", publicURL)
	}
	id = strings.ToLower(u.Hostname())
	if ip := net.ParseIP(id); ip != nil {
		if !ip.IsLoopback() {
			return "", "", fmt.Errorf("operator: passkeys need a host name in the public URL, not the address %s", id)
		}
		id = "localhost"
	}
	host := id
	if p := u.Port(); p != "" {
		host = net.JoinHostPort(id, p)
	}
	return id, u.Scheme + "://" + host, nil
}

// NewPasskeys returns the passkeys of the operators of s.
func NewPasskeys(s *Service, d PasskeyDeps) (*Passkeys, error) {
	id, origin, err := RelyingParty(d.PublicURL)
	if err != nil {
		return nil, err
	}
	name := d.SiteName
	if name == "" {
		name = s.opt.Issuer
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID: id, RPDisplayName: name, RPOrigins: []string{origin},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementPreferred, UserVerification: protocol.VerificationRequired,
		},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL},
			Registration: webauthn.TimeoutConfig{Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("operator: passkeys: %w", err)
	}
	return &Passkeys{s: s, d: d, wa: wa, rpID: id, origin: origin}, nil
}

// Origin is the one origin a passkey ceremony is accepted from.
func (p *Passkeys) Origin() string { return p.origin }

// passkeyUser is an operator as go-webauthn sees them: the user handle is
// the operator's ID.
type passkeyUser struct {
	o     store.Operator
	creds []webauthn.Credential
}

func (u passkeyUser) WebAuthnID() []byte                         { return []byte(u.o.ID) }
func (u passkeyUser) WebAuthnName() string                       { return u.o.LoginName }
func (u passkeyUser) WebAuthnDisplayName() string                { return u.o.LoginName }
func (u passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// user returns o with their passkeys.
func (p *Passkeys) user(ctx context.Context, o store.Operator) (passkeyUser, error) {
	list, err := p.d.Store.ListOperatorPasskeys(ctx, o.ID)
	if err != nil {
		return passkeyUser{}, err
	}
	u := passkeyUser{o: o}
	for _, pk := range list {
		var c webauthn.Credential
		if err := json.Unmarshal(pk.Credential, &c); err != nil {
			return passkeyUser{}, fmt.Errorf("operator: passkey of %s: %w", o.ID, err)
		}
		u.creds = append(u.creds, c)
	}
	return u, nil
}

// Ceremony is a begun WebAuthn ceremony: its ID, which finishing it
// names, and the options for navigator.credentials (publicKey).
type Ceremony struct {
	ID      string `json:"ceremony"`
	Options any    `json:"options"`
}

// keep stores the state of a ceremony bound to bind.
func (p *Passkeys) keep(ctx context.Context, bind string, sd *webauthn.SessionData) (string, error) {
	raw, err := json.Marshal(sd)
	if err != nil {
		return "", fmt.Errorf("operator: ceremony: %w", err)
	}
	now := p.s.d.Now().UTC().Truncate(time.Millisecond)
	id := rand.Text()
	err = p.d.Challenges.PutChallenge(ctx, store.Challenge{Kind: CeremonyKind, ID: id, Secret: raw, Subject: []byte(bind),
		CreatedAt: now, ExpiresAt: now.Add(CeremonyTTL)})
	return id, err
}

// take returns the state of the live ceremony id bound to bind with the
// rest of the binding, and uses it up; any other is errCeremonyGone.
func (p *Passkeys) take(ctx context.Context, id, bind string) (webauthn.SessionData, string, error) {
	if id == "" || len(id) > 64 {
		return webauthn.SessionData{}, "", errCeremonyGone
	}
	ch, err := p.d.Challenges.TakeChallenge(ctx, CeremonyKind, id)
	if errors.Is(err, store.ErrNotFound) {
		return webauthn.SessionData{}, "", errCeremonyGone
	}
	if err != nil {
		return webauthn.SessionData{}, "", err
	}
	rest, ok := strings.CutPrefix(string(ch.Subject), bind)
	if !ok || !ch.Valid(p.s.d.Now()) {
		return webauthn.SessionData{}, "", errCeremonyGone
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(ch.Secret, &sd); err != nil {
		return webauthn.SessionData{}, "", fmt.Errorf("operator: ceremony: %w", err)
	}
	return sd, rest, nil
}

// confirmCode judges the TOTP code of o, signed in, like the code of a
// sign-in: under the same cap of wrong codes (a wrong one counts, and the
// cap refuses sign-ins too), never twice the same code.
func (s *Service) confirmCode(ctx context.Context, o store.Operator, code string, c flow.Client) error {
	now := s.d.Now()
	rules := s.rules(o.LoginNameKey, c.IP)
	if wait, err := s.codeLocked(ctx, now, rules); err != nil {
		return problem.Wrap(err)
	} else if wait > 0 {
		return &problem.Problem{Kind: problem.TooMany, Code: "operator_locked", RetryAfter: wait}
	}
	kept, resetAt, err := s.codeReserve(ctx, now, rules)
	if err != nil {
		return problem.Wrap(err)
	}
	if kept > rules.code.Limit {
		s.codeGiveBack(ctx, now, rules, resetAt)
		wait := max(resetAt.Sub(now), time.Millisecond)
		s.codeLockNoted(ctx, now, rules, wait, audit.Operator(o.ID), o.LoginName, c)
		return &problem.Problem{Kind: problem.TooMany, Code: "operator_locked", RetryAfter: wait}
	}
	wrong := func() error {
		if kept == rules.code.Limit {
			s.codeLockNoted(ctx, now, rules, max(resetAt.Sub(now), time.Millisecond), audit.Operator(o.ID), o.LoginName, c)
		}
		return problem.Field("code", "operator_code_wrong")
	}
	k, err := s.key(o)
	if err != nil {
		s.codeGiveBack(ctx, now, rules, resetAt)
		return err
	}
	step, ok := totpStep(k, strings.TrimSpace(code), now)
	if !ok {
		return wrong()
	}
	_, err = s.d.Store.UpdateOperator(ctx, o.ID, func(cur store.Operator) (store.Operator, error) {
		if step <= cur.TOTPLastStep {
			return cur, errReplay
		}
		cur.TOTPLastStep = step
		return cur, nil
	})
	if errors.Is(err, errReplay) {
		return wrong()
	}
	s.codeGiveBack(ctx, now, rules, resetAt)
	return err
}

// BeginRegistration starts adding a passkey to the signed-in operator o,
// once their current TOTP code (code) is confirmed: the options exclude
// the passkeys o has. A wrong code is audited and changes nothing else.
func (p *Passkeys) BeginRegistration(ctx context.Context, o store.Operator, code string, by audit.Origin) (Ceremony, error) {
	c := flow.Client{IP: by.IP, UserAgent: by.UserAgent}
	if strings.TrimSpace(code) == "" {
		return Ceremony{}, problem.Field("code", "operator_code_required")
	}
	if err := p.s.confirmCode(ctx, o, code, c); err != nil {
		var pr *problem.Problem
		if errors.As(err, &pr) && pr.Kind != problem.Internal {
			e := by.Entry(ActionPasskeyAdded, audit.ResultFailed)
			e.Subject, e.Detail = o.LoginName, audit.Detail{"reason": pr.Code}
			p.s.d.Audit.Append(ctx, e)
		}
		return Ceremony{}, err
	}
	u, err := p.user(ctx, o)
	if err != nil {
		return Ceremony{}, err
	}
	creation, sd, err := p.wa.BeginRegistration(u,
		webauthn.WithExclusions(webauthn.Credentials(u.creds).CredentialDescriptors()),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementPreferred))
	if err != nil {
		return Ceremony{}, fmt.Errorf("operator: begin registration: %w", err)
	}
	id, err := p.keep(ctx, bindRegister+o.ID, sd)
	if err != nil {
		return Ceremony{}, err
	}
	return Ceremony{ID: id, Options: creation}, nil
}

// checkPasskeyName trims name and accepts 1–MaxPasskeyName characters.
func checkPasskeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > MaxPasskeyName || strings.ContainsFunc(name, func(r rune) bool { return r < ' ' }) {
		return "", problem.Field("name", "operator_passkey_name_invalid")
	}
	return name, nil
}

// FinishRegistration stores the passkey the authenticator made in the
// ceremony id of o, under name. A bad name leaves the ceremony open; a
// credential that does not verify uses it up.
func (p *Passkeys) FinishRegistration(ctx context.Context, o store.Operator, id, name string, credential []byte, by audit.Origin) (PasskeyView, error) {
	name, err := checkPasskeyName(name)
	if err != nil {
		return PasskeyView{}, err
	}
	sd, _, err := p.take(ctx, id, bindRegister+o.ID)
	if err != nil {
		return PasskeyView{}, err
	}
	fail := func(reason string, err error) (PasskeyView, error) {
		e := by.Entry(ActionPasskeyAdded, audit.ResultFailed)
		e.Subject, e.Detail = o.LoginName, audit.Detail{"reason": reason}
		p.s.d.Audit.Append(ctx, e)
		return PasskeyView{}, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(credential)
	if err != nil {
		return fail("malformed", errPasskeyInvalid)
	}
	u, err := p.user(ctx, o)
	if err != nil {
		return PasskeyView{}, err
	}
	cred, err := p.wa.CreateCredential(u, sd, parsed)
	if err != nil {
		p.s.d.Logger.InfoContext(ctx, "operator passkey refused", "err", err)
		return fail("credential", errPasskeyInvalid)
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return PasskeyView{}, fmt.Errorf("operator: passkey: %w", err)
	}
	pk := store.OperatorPasskey{CredentialID: cred.ID, OperatorID: o.ID, Name: name, Credential: raw,
		CreatedAt: p.s.d.Now().UTC().Truncate(time.Millisecond)}
	if err := p.d.Store.CreateOperatorPasskey(ctx, pk); errors.Is(err, store.ErrConflict) {
		return fail("exists", problem.New(problem.Conflict, "operator_passkey_exists"))
	} else if err != nil {
		return PasskeyView{}, err
	}
	e := by.Entry(ActionPasskeyAdded, audit.ResultOK)
	e.Subject, e.Detail = o.LoginName, audit.Detail{"name": name, "credential_id": encodeID(cred.ID)}
	p.s.d.Audit.Append(ctx, e)
	return viewOf(pk), nil
}

// PasskeyView is a passkey as its operator sees it.
type PasskeyView struct {
	ID         string     `json:"id"` // the credential ID, base64url
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"` // null until first used
}

func encodeID(id []byte) string { return base64.RawURLEncoding.EncodeToString(id) }

func viewOf(pk store.OperatorPasskey) PasskeyView {
	v := PasskeyView{ID: encodeID(pk.CredentialID), Name: pk.Name, CreatedAt: pk.CreatedAt}
	if !pk.LastUsedAt.IsZero() {
		at := pk.LastUsedAt
		v.LastUsedAt = &at
	}
	return v
}

// List returns the passkeys of the operator with operatorID, oldest first.
func (p *Passkeys) List(ctx context.Context, operatorID string) ([]PasskeyView, error) {
	list, err := p.d.Store.ListOperatorPasskeys(ctx, operatorID)
	if err != nil {
		return nil, err
	}
	out := make([]PasskeyView, 0, len(list))
	for _, pk := range list {
		out = append(out, viewOf(pk))
	}
	return out, nil
}

// Remove deletes the passkey id (base64url) of o; another operator's is
// operator_passkey_not_found, as is one that does not exist.
func (p *Passkeys) Remove(ctx context.Context, o store.Operator, id string, by audit.Origin) error {
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(raw) == 0 {
		return errPasskeyUnknown
	}
	pk, err := p.d.Store.GetOperatorPasskey(ctx, raw)
	if errors.Is(err, store.ErrNotFound) || (err == nil && pk.OperatorID != o.ID) {
		return errPasskeyUnknown
	}
	if err != nil {
		return err
	}
	if err := p.d.Store.DeleteOperatorPasskey(ctx, o.ID, raw); errors.Is(err, store.ErrNotFound) {
		return errPasskeyUnknown
	} else if err != nil {
		return err
	}
	e := by.Entry(ActionPasskeyRemoved, audit.ResultOK)
	e.Subject, e.Detail = o.LoginName, audit.Detail{"name": pk.Name, "credential_id": id}
	p.s.d.Audit.Append(ctx, e)
	return nil
}

// BeginSignIn starts a sign-in with a passkey. Without a login name the
// authenticator offers the passkeys it holds for unid (discoverable
// ones); with one, the operator's passkeys are asked for by ID, and a name
// no operator with passkeys holds is asked for a made-up one, so that the
// answer does not tell whether the name exists. A client address over
// its sign-in caps is refused before anything is looked up.
func (p *Passkeys) BeginSignIn(ctx context.Context, login string, c flow.Client) (Ceremony, error) {
	s := p.s
	now := s.d.Now()
	loginKey := strings.ToLower(strings.TrimSpace(login))
	if len(loginKey) > 64 {
		loginKey = loginKey[:64]
	}
	rules := s.rules(loginKey, c.IP)
	if wait, err := s.exceeded(ctx, now, rules.ipFail, rules.ipMinute); err != nil {
		return Ceremony{}, problem.Wrap(err)
	} else if wait > 0 {
		s.refused(ctx, now, rules, c, loginKey, audit.ResultRateLimited)
		return Ceremony{}, &problem.Problem{Kind: problem.TooMany, Code: "operator_sign_in_rate_limited", RetryAfter: wait}
	}
	uv := webauthn.WithUserVerification(protocol.VerificationRequired)
	var (
		assertion *protocol.CredentialAssertion
		sd        *webauthn.SessionData
		err       error
	)
	var u passkeyUser
	if loginKey != "" {
		o, gerr := s.d.Store.GetOperatorByLoginName(ctx, loginKey)
		if gerr != nil && !errors.Is(gerr, store.ErrNotFound) {
			return Ceremony{}, gerr
		}
		if gerr == nil {
			if u, err = p.user(ctx, o); err != nil {
				return Ceremony{}, err
			}
		}
	}
	switch {
	case len(u.creds) > 0:
		assertion, sd, err = p.wa.BeginLogin(u, uv)
	case loginKey != "":
		made := s.d.Protector.MAC("operator passkey", []byte(loginKey))
		assertion, sd, err = p.wa.BeginDiscoverableLogin(uv, webauthn.WithAllowedCredentials([]protocol.CredentialDescriptor{
			{Type: protocol.PublicKeyCredentialType, CredentialID: made[:32]}}))
	default:
		assertion, sd, err = p.wa.BeginDiscoverableLogin(uv)
	}
	if err != nil {
		return Ceremony{}, fmt.Errorf("operator: begin passkey sign-in: %w", err)
	}
	id, err := p.keep(ctx, bindSignIn+loginKey, sd)
	if err != nil {
		return Ceremony{}, err
	}
	return Ceremony{ID: id, Options: assertion}, nil
}

// SignIn finishes the passkey sign-in ceremony id with the assertion the
// authenticator gave (credential, as navigator.credentials.get returns
// it, in JSON) and gives w a console session, as the password sign-in
// does. It is throttled like it: the client address's caps first (each
// attempt counts on its minute), then the attempt counts on the lockout
// counters of the passkey's operator's login name before the assertion is
// verified. Every refusal of the credential — an unknown passkey, one
// that does not verify (wrong origin, challenge, signature), one of a
// disabled or not set up operator, one whose sign count went backwards
// (a cloned authenticator) — is operator_sign_in_failed, audited with its
// reason; a ceremony used before, or expired, is operator_passkey_expired.
// The code cap does not apply: a passkey is no code.
func (p *Passkeys) SignIn(ctx context.Context, w http.ResponseWriter, r *http.Request, id string, credential []byte, c flow.Client) (store.Operator, error) {
	s := p.s
	now := s.d.Now()
	ipRules := s.rules("", c.IP)
	if wait, err := s.exceeded(ctx, now, ipRules.ipFail, ipRules.ipMinute); err != nil {
		return store.Operator{}, problem.Wrap(err)
	} else if wait > 0 {
		s.refused(ctx, now, ipRules, c, "", audit.ResultRateLimited)
		return store.Operator{}, &problem.Problem{Kind: problem.TooMany, Code: "operator_sign_in_rate_limited", RetryAfter: wait}
	}
	if wait, err := s.limit.Allow(ctx, now, ipRules.ipMinute); err != nil {
		return store.Operator{}, problem.Wrap(err)
	} else if wait > 0 {
		s.refused(ctx, now, ipRules, c, "", audit.ResultRateLimited)
		return store.Operator{}, &problem.Problem{Kind: problem.TooMany, Code: "operator_sign_in_rate_limited", RetryAfter: wait}
	}
	sd, bound, err := p.take(ctx, id, bindSignIn)
	if err != nil {
		return store.Operator{}, err
	}
	anonymous := func(reason string) (store.Operator, error) {
		return store.Operator{}, s.failed(ctx, ipRules, 0, 0, bound, store.Operator{}, reason, c, now)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(credential)
	if err != nil {
		return anonymous("malformed")
	}
	pk, err := p.d.Store.GetOperatorPasskey(ctx, parsed.RawID)
	if errors.Is(err, store.ErrNotFound) {
		return anonymous("unknown_credential")
	}
	if err != nil {
		return store.Operator{}, err
	}
	o, err := s.d.Store.GetOperator(ctx, pk.OperatorID)
	if errors.Is(err, store.ErrNotFound) {
		return anonymous("unknown_credential")
	}
	if err != nil {
		return store.Operator{}, err
	}
	if bound != "" && bound != o.LoginNameKey {
		return anonymous("other_operator")
	}
	rules := s.rules(o.LoginNameKey, c.IP)
	netCount, nameCount, wait, err := s.reserve(ctx, now, rules)
	if err != nil {
		return store.Operator{}, problem.Wrap(err)
	}
	if wait > 0 {
		s.refused(ctx, now, rules, c, o.LoginNameKey, "locked")
		return store.Operator{}, &problem.Problem{Kind: problem.TooMany, Code: "operator_locked", RetryAfter: wait}
	}
	failed := func(reason string) (store.Operator, error) {
		return store.Operator{}, s.failed(ctx, rules, netCount, nameCount, o.LoginNameKey, o, reason, c, now)
	}
	switch {
	case o.PasswordHash == "":
		return failed("not_set_up")
	case o.Status != store.OperatorActive:
		return failed("disabled")
	}
	u, err := p.user(ctx, o)
	if err != nil {
		return store.Operator{}, err
	}
	var cred *webauthn.Credential
	if len(sd.UserID) > 0 {
		cred, err = p.wa.ValidateLogin(u, sd, parsed)
	} else {
		_, cred, err = p.wa.ValidatePasskeyLogin(func(rawID, userHandle []byte) (webauthn.User, error) {
			if !bytes.Equal(userHandle, u.WebAuthnID()) {
				return nil, errors.New("user handle of another operator")
			}
			return u, nil
		}, sd, parsed)
	}
	if err != nil {
		s.d.Logger.InfoContext(ctx, "operator passkey assertion refused", "err", err)
		return failed("credential")
	}
	if cred.Authenticator.CloneWarning {
		return failed("cloned")
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return store.Operator{}, fmt.Errorf("operator: passkey: %w", err)
	}
	if err := p.d.Store.UsedOperatorPasskey(ctx, cred.ID, raw, now.UTC().Truncate(time.Millisecond)); err != nil {
		return store.Operator{}, err
	}
	if err := s.limit.Reset(ctx, rules.net.Key); err != nil {
		s.d.Logger.WarnContext(ctx, "operator lockout reset", "err", err)
	}
	s.d.Audit.Append(ctx, audit.Entry{Actor: audit.Operator(o.ID), Action: ActionSignIn, Result: audit.ResultOK,
		IP: c.IP, UserAgent: c.UserAgent, Subject: o.LoginName, Detail: audit.Detail{"method": "passkey"}})
	if err := s.startSession(ctx, w, r, o, c); err != nil {
		return store.Operator{}, err
	}
	return o, nil
}
