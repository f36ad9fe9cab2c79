package operator

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/captcha"
	"unid/internal/flow"
	"unid/internal/problem"
	"unid/internal/ratelimit"
	"unid/internal/store"
)

// Audit actions of operators.
const (
	ActionCreated      = "operator.created"        // Detail {operator_id, roles}
	ActionSetup        = "operator.setup"          // password chosen and TOTP enrolled
	ActionSignIn       = "operator.sign_in"        // Detail {}
	ActionSignInFailed = "operator.sign_in_failed" // Subject: the operator's login name, or the name typed, masked
	ActionLocked       = "operator.locked"         // too many failures on a login name; Detail {scope}
	ActionSignOut      = "operator.sign_out"
	ActionDisabled     = "operator.disabled" // by the command line; the operator's sessions end
	ActionEnabled      = "operator.enabled"
	ActionReset        = "operator.reset" // new set-up link: password and authenticator chosen again; Detail {operator_id, passkeys_removed}
)

// totpKind is the Protector kind of sealed TOTP secrets.
const totpKind = "operator_totp"

// Options are the limits of the console.
type Options struct {
	SetupTTL time.Duration // a setup link's life; default 24 h
	Idle     time.Duration // idle timeout of a console session; default 15 min
	Max      time.Duration // absolute limit of a console session; default 8 h
	Secure   bool          // HTTPS: __Host- cookie, Secure
	// Issuer names the platform in authenticator apps.
	Issuer string
	// LockoutThreshold attempts on one login name from one client network
	// (ratelimit.Address) within LockoutWindow refuse that network for
	// that name until the window ends; defaults 5 and 15 min. A sign-in
	// forgets its network's count. NameThreshold attempts on one login
	// name from all networks together within LockoutWindow refuse it
	// for every network; default 50, well above LockoutThreshold so that
	// locking a reviewer out takes many networks.
	LockoutThreshold int64
	NameThreshold    int64
	LockoutWindow    time.Duration
	// PerIPMinute attempts from one client address per minute, and
	// PerIPFailures failed attempts from it within PerIPWindow, refuse
	// its further attempts before any captcha or password is checked;
	// defaults 20, 30 and 15 min.
	PerIPMinute   int64
	PerIPFailures int64
	PerIPWindow   time.Duration
	// CodeThreshold TOTP codes judged wrong (or replayed) after the right
	// password for one operator within CodeWindow refuse every sign-in of
	// that operator, from every network and with any code, until the
	// window ends; defaults 10 and 24 h. A sign-in does not forget them.
	// Only attempts with the right password count, so whoever lacks it
	// cannot use this to lock the operator out.
	CodeThreshold int64
	CodeWindow    time.Duration
}

func (o Options) withDefaults() Options {
	if o.SetupTTL <= 0 {
		o.SetupTTL = 24 * time.Hour
	}
	if o.Idle <= 0 {
		o.Idle = 15 * time.Minute
	}
	if o.Max <= 0 {
		o.Max = 8 * time.Hour
	}
	if o.Issuer == "" {
		o.Issuer = "unid"
	}
	if o.LockoutThreshold <= 0 {
		o.LockoutThreshold = 5
	}
	if o.LockoutWindow <= 0 {
		o.LockoutWindow = 15 * time.Minute
	}
	if o.NameThreshold <= 0 {
		o.NameThreshold = 50
	}
	if o.PerIPMinute <= 0 {
		o.PerIPMinute = 20
	}
	if o.PerIPFailures <= 0 {
		o.PerIPFailures = 30
	}
	if o.PerIPWindow <= 0 {
		o.PerIPWindow = 15 * time.Minute
	}
	if o.CodeThreshold <= 0 {
		o.CodeThreshold = 10
	}
	if o.CodeWindow <= 0 {
		o.CodeWindow = 24 * time.Hour
	}
	return o
}

// Store is where the service keeps operators: their accounts and
// sessions, and their passkeys, which a reset removes.
type Store interface {
	store.Operators
	store.OperatorPasskeys
	store.OperatorTokens
}

// Deps are what the service works with.
type Deps struct {
	Store     Store
	Counters  store.Counters // lockout counts, shared by every instance
	Captchas  *captcha.Service
	Hasher    *account.Hasher
	Protector *account.Protector
	Audit     *audit.Log
	Logger    *slog.Logger
	Now       func() time.Time
	Options   Options
}

// Service creates, sets up and signs in operators.
type Service struct {
	d     Deps
	opt   Options
	limit *ratelimit.Limiter
}

// New returns the service.
func New(d Deps) *Service {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d, opt: d.Options.withDefaults(), limit: ratelimit.New(d.Counters)}
}

// Options returns the limits in force, defaults filled in.
func (s *Service) Options() Options { return s.opt }

// Problems of the service; each code has a message in operator.json.
var (
	errSignInFailed = &problem.Problem{Kind: problem.Unauthorized, Code: "operator_sign_in_failed"}
	errSetupInvalid = &problem.Problem{Kind: problem.Gone, Code: "operator_setup_invalid"}
)

// checkLoginName accepts 2–64 letters, digits, ".", "_" and "-".
func checkLoginName(name string) error {
	n := utf8.RuneCountInString(name)
	if n < 2 || n > 64 {
		return problem.Field("login", "operator_login_invalid")
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return problem.Field("login", "operator_login_invalid")
		}
	}
	return nil
}

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// Disable stops the operator with the login name from signing in and
// ends their console sessions; Enable lets them sign in again. Only the
// command line calls them.
func (s *Service) Disable(ctx context.Context, loginName string, by audit.Origin) (store.Operator, error) {
	return s.change(ctx, loginName, ActionDisabled, by, func(o *store.Operator) { o.Status = store.OperatorDisabled })
}

// Enable lets a disabled operator sign in again.
func (s *Service) Enable(ctx context.Context, loginName string, by audit.Origin) (store.Operator, error) {
	return s.change(ctx, loginName, ActionEnabled, by, func(o *store.Operator) { o.Status = store.OperatorActive })
}

// enrolment makes what a set-up link enrols: a new TOTP key for loginName,
// sealed, and the link's one-time token.
func (s *Service) enrolment(loginName string) (secret store.Sealed, token string, err error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.opt.Issuer, AccountName: loginName})
	if err != nil {
		return store.Sealed{}, "", fmt.Errorf("operator: totp key: %w", err)
	}
	if secret, err = s.d.Protector.Seal(totpKind, key.Secret()); err != nil {
		return store.Sealed{}, "", err
	}
	secret.Index = nil // never looked up
	return secret, rand.Text(), nil
}

// Reset is for a lost authenticator or password: the operator's password
// and authenticator stop working, their passkeys are removed, their
// sessions end, and a new one-time set-up link (returned as its token)
// lets them choose both again.
func (s *Service) Reset(ctx context.Context, loginName string, by audit.Origin) (store.Operator, string, error) {
	secret, token, err := s.enrolment(loginName)
	if err != nil {
		return store.Operator{}, "", err
	}
	o, err := s.change(ctx, loginName, ActionReset, by, func(o *store.Operator) {
		o.PasswordHash, o.TOTPSecret, o.TOTPLastStep = "", secret, 0
		o.SetupHash, o.SetupExpiresAt = hashToken(token), o.UpdatedAt.Add(s.opt.SetupTTL)
	})
	if err != nil {
		return store.Operator{}, "", err
	}
	return o, token, nil
}

// change applies fn to the operator with the login name, ends their
// console sessions, removes their passkeys on a reset, and audits action.
func (s *Service) change(ctx context.Context, loginName, action string, by audit.Origin, fn func(*store.Operator)) (store.Operator, error) {
	cur, err := s.d.Store.GetOperatorByLoginName(ctx, strings.ToLower(strings.TrimSpace(loginName)))
	if errors.Is(err, store.ErrNotFound) {
		return store.Operator{}, problem.New(problem.NotFound, "operator_unknown")
	}
	if err != nil {
		return store.Operator{}, err
	}
	now := s.d.Now().UTC().Truncate(time.Millisecond)
	o, err := s.d.Store.UpdateOperator(ctx, cur.ID, func(o store.Operator) (store.Operator, error) {
		o.UpdatedAt = now
		fn(&o)
		return o, nil
	})
	if err != nil {
		return store.Operator{}, err
	}
	if _, err := s.d.Store.DeleteOperatorSessions(ctx, o.ID); err != nil {
		return store.Operator{}, err
	}
	detail := audit.Detail{"operator_id": o.ID}
	if err := s.dropCredentials(ctx, o.ID, action, detail); err != nil {
		return store.Operator{}, err
	}
	e := by.Entry(action, audit.ResultOK)
	e.Subject, e.Detail = o.LoginName, detail
	s.d.Audit.Append(ctx, e)
	return o, nil
}

// dropCredentials removes, on a reset, the operator's passkeys and API
// tokens, and on a disable their API tokens, noting in detail how many:
// whoever held the account may have added either, and nothing chosen
// before a reset may act for the operator after it; a disabled operator's
// tokens do not come back when they are enabled.
func (s *Service) dropCredentials(ctx context.Context, id, action string, detail audit.Detail) error {
	if action == ActionReset {
		n, err := s.dropPasskeys(ctx, id)
		if err != nil {
			return err
		}
		detail["passkeys_removed"] = strconv.Itoa(n)
	}
	if action == ActionReset || action == ActionDisabled {
		list, err := s.d.Store.ListOperatorTokens(ctx, id)
		if err != nil {
			return err
		}
		n := 0
		for _, t := range list {
			err := s.d.Store.DeleteOperatorToken(ctx, id, t.ID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			n++
		}
		detail["tokens_removed"] = strconv.Itoa(n)
	}
	return nil
}

// dropPasskeys removes every passkey of the operator id and says how many
// it removed. A reset does it: whoever held the account may have added
// one, and nothing chosen before a reset may sign the operator in after
// it. It runs after the reset's write, so that a refused reset changes
// nothing; a reset that fails here is done again, with the same result.
func (s *Service) dropPasskeys(ctx context.Context, id string) (int, error) {
	list, err := s.d.Store.ListOperatorPasskeys(ctx, id)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, pk := range list {
		err := s.d.Store.DeleteOperatorPasskey(ctx, id, pk.CredentialID)
		if errors.Is(err, store.ErrNotFound) {
			continue // removed meanwhile by the operator
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Create adds an operator with roles and returns it with its one-time
// setup token, which SetupLink turns into the link to give them. Only the
// command line calls it.
func (s *Service) Create(ctx context.Context, loginName string, roles []string, by audit.Origin) (store.Operator, string, error) {
	if err := checkLoginName(loginName); err != nil {
		return store.Operator{}, "", err
	}
	roles, err := ParseRoles(roles)
	if err != nil {
		return store.Operator{}, "", err
	}
	secret, token, err := s.enrolment(loginName)
	if err != nil {
		return store.Operator{}, "", err
	}
	now := s.d.Now().UTC().Truncate(time.Millisecond)
	o := store.Operator{
		ID: rand.Text(), LoginName: loginName, LoginNameKey: strings.ToLower(loginName),
		TOTPSecret: secret, Roles: roles, Status: store.OperatorActive,
		SetupHash: hashToken(token), SetupExpiresAt: now.Add(s.opt.SetupTTL),
		CreatedAt: now, UpdatedAt: now,
	}
	if err := s.d.Store.CreateOperator(ctx, o); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return store.Operator{}, "", problem.Field("login", "operator_login_taken")
		}
		return store.Operator{}, "", err
	}
	e := by.Entry(ActionCreated, audit.ResultOK)
	e.Subject, e.Detail = o.LoginName, audit.Detail{"operator_id": o.ID, "roles": strings.Join(roles, ",")}
	s.d.Audit.Append(ctx, e)
	return o, token, nil
}

// SetupLink is the address an operator sets up their account at. The token
// travels in the fragment, which browsers send to no server and put in no
// Referer: the setup page's script reads it.
func SetupLink(baseURL, token string) string {
	return strings.TrimRight(baseURL, "/") + "/console/setup#" + token
}

// List returns every operator.
func (s *Service) List(ctx context.Context) ([]store.Operator, error) {
	return s.d.Store.ListOperators(ctx)
}

// Get returns one operator.
func (s *Service) Get(ctx context.Context, id string) (store.Operator, error) {
	return s.d.Store.GetOperator(ctx, id)
}

// SetupKey is what the setup page shows: the TOTP key to enroll.
type SetupKey struct {
	LoginName string `json:"login_name"`
	URI       string `json:"otpauth_uri"`
	Secret    string `json:"secret"`  // base32, for typing in by hand
	QR        string `json:"qr_code"` // the URI as a QR code, a data: URL of a PNG
}

// pending returns the operator a live setup token belongs to.
func (s *Service) pending(ctx context.Context, token string) (store.Operator, error) {
	if token == "" || len(token) > 64 {
		return store.Operator{}, errSetupInvalid
	}
	o, err := s.d.Store.GetOperatorBySetupHash(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return store.Operator{}, errSetupInvalid
	}
	if err != nil {
		return store.Operator{}, err
	}
	if !s.d.Now().Before(o.SetupExpiresAt) || o.Status != store.OperatorActive {
		return store.Operator{}, errSetupInvalid
	}
	return o, nil
}

func (s *Service) key(o store.Operator) (*otp.Key, error) {
	secret, err := s.d.Protector.Open(totpKind, o.TOTPSecret)
	if err != nil {
		return nil, fmt.Errorf("operator: open totp secret: %w", err)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return nil, fmt.Errorf("operator: totp secret: %w", err)
	}
	return totp.Generate(totp.GenerateOpts{Issuer: s.opt.Issuer, AccountName: o.LoginName, Secret: raw})
}

// SetupKey returns the TOTP key of the operator holding the setup token,
// with its QR code drawn by unid.
func (s *Service) SetupKey(ctx context.Context, token string) (SetupKey, error) {
	o, err := s.pending(ctx, token)
	if err != nil {
		return SetupKey{}, err
	}
	k, err := s.key(o)
	if err != nil {
		return SetupKey{}, err
	}
	img, err := k.Image(240, 240)
	if err != nil {
		return SetupKey{}, fmt.Errorf("operator: qr code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return SetupKey{}, fmt.Errorf("operator: qr code: %w", err)
	}
	return SetupKey{
		LoginName: o.LoginName, URI: k.URL(), Secret: k.Secret(),
		QR: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()),
	}, nil
}

// totpStep returns the time step of the code if it is right for key at
// now, allowing one step of clock drift either way.
func totpStep(k *otp.Key, code string, now time.Time) (int64, bool) {
	if len(code) != 6 {
		return 0, false
	}
	cur := now.Unix() / 30
	for _, step := range []int64{cur - 1, cur, cur + 1} {
		want, err := totp.GenerateCodeCustom(k.Secret(), time.Unix(step*30, 0), totp.ValidateOpts{
			Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
		})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

// errReplay aborts the write of a code already used.
var errReplay = errors.New("operator: totp code used before")

// Setup finishes the set-up of the operator holding token: password under
// the citizens' password policy, and a first TOTP code from the enrolled
// authenticator. The token then stops working, and the operator is signed
// in on w (replacing any console session r carried).
func (s *Service) Setup(ctx context.Context, w http.ResponseWriter, r *http.Request, token, password, code string, c flow.Client) (store.Operator, error) {
	o, err := s.pending(ctx, token)
	if err != nil {
		return store.Operator{}, err
	}
	if err := account.CheckPassword(password, o.LoginName); err != nil {
		return store.Operator{}, err
	}
	k, err := s.key(o)
	if err != nil {
		return store.Operator{}, err
	}
	now := s.d.Now()
	step, ok := totpStep(k, strings.TrimSpace(code), now)
	if !ok {
		return store.Operator{}, problem.Field("code", "operator_code_wrong")
	}
	hash, err := s.d.Hasher.Hash(ctx, password)
	if err != nil {
		return store.Operator{}, err
	}
	o, err = s.d.Store.UpdateOperator(ctx, o.ID, func(cur store.Operator) (store.Operator, error) {
		if !bytes.Equal(cur.SetupHash, o.SetupHash) {
			return cur, errSetupInvalid // used meanwhile
		}
		cur.PasswordHash, cur.TOTPLastStep = hash, step
		cur.SetupHash, cur.SetupExpiresAt = nil, time.Time{}
		cur.UpdatedAt = now.UTC().Truncate(time.Millisecond)
		return cur, nil
	})
	if err != nil {
		return store.Operator{}, err
	}
	e := audit.Entry{Actor: audit.Operator(o.ID), Action: ActionSetup, Result: audit.ResultOK, IP: c.IP, UserAgent: c.UserAgent, Subject: o.LoginName}
	s.d.Audit.Append(ctx, e)
	if err := s.startSession(ctx, w, r, o, c); err != nil {
		return store.Operator{}, err
	}
	return o, nil
}

// mac is a keyed hash, so that the counter store holds no names and no
// addresses.
func (s *Service) mac(parts ...string) string {
	return hex.EncodeToString(s.d.Protector.MAC("operator sign-in", []byte(strings.Join(parts, "\x00"))))
}

// signInRules are the counters of one sign-in attempt.
type signInRules struct {
	ipMinute, ipFail ratelimit.Rule // the client address
	net, name        ratelimit.Rule // the login name from this network; from all
	code             ratelimit.Rule // codes judged after the right password, see codeReserve
}

func (s *Service) rules(loginKey, ip string) signInRules {
	addr := ratelimit.Address(ip)
	o := s.opt
	return signInRules{
		ipMinute: ratelimit.Rule{Key: "operator_sign_in_ip_min:" + s.mac("ip", addr), Limit: o.PerIPMinute, Window: time.Minute},
		ipFail:   ratelimit.Rule{Key: "operator_sign_in_ip:" + s.mac("ip", addr), Limit: o.PerIPFailures, Window: o.PerIPWindow},
		net:      ratelimit.Rule{Key: "operator_sign_in_net:" + s.mac("net", loginKey, addr), Limit: o.LockoutThreshold, Window: o.LockoutWindow},
		name:     ratelimit.Rule{Key: "operator_sign_in:" + s.mac("name", loginKey), Limit: o.NameThreshold, Window: o.LockoutWindow},
		code:     ratelimit.Rule{Key: "operator_sign_in_code:" + s.mac("code", loginKey), Limit: o.CodeThreshold, Window: o.CodeWindow},
	}
}

// SignInRequest is one sign-in attempt: the image captcha comes first.
type SignInRequest struct {
	Login, Password, Code    string
	CaptchaID, CaptchaAnswer string
}

// Scopes of a lock, as the audit log records them (Detail {scope}).
const (
	ScopeNetwork = "network" // one client network is refused for one login name
	ScopeName    = "name"    // the login name is refused for every network
	ScopeCode    = "code"    // too many wrong codes after the right password: the operator is refused everywhere
)

// SignIn checks the captcha, login name, password and TOTP code and gives
// w a console session, replacing any console session r carried. Every
// refusal of the credentials is operator_sign_in_failed, whatever was
// wrong.
//
// Before any password hash is computed: the client address must be under
// its caps (operator_sign_in_rate_limited), the captcha must be right
// (and is used up), and the attempt is counted — before, not after, the
// check, so that a burst of concurrent attempts gets no more than the
// threshold through — on the login name from this client network and on
// the login name from all networks; over either, operator_locked, the
// same whether or not the name exists. A sign-in forgets its network's
// count. With the right password, the code is judged only while the
// operator has fewer than CodeThreshold wrong codes in CodeWindow, else
// operator_locked (see codeReserve). See docs/design-notes.md, "Console
// sign-in throttling" and "Console sign-in: a cap on code guesses".
func (s *Service) SignIn(ctx context.Context, w http.ResponseWriter, r *http.Request, req SignInRequest, c flow.Client) (store.Operator, error) {
	fields := problem.FieldSet{}
	if strings.TrimSpace(req.Login) == "" {
		fields.Add("login", problem.Field("login", "operator_login_invalid"))
	}
	if req.Password == "" {
		fields.Add("password", problem.Field("password", "password_required"))
	}
	if req.CaptchaID == "" || req.CaptchaAnswer == "" {
		fields.Add("captcha_answer", problem.Field("captcha_answer", "captcha_required"))
	}
	if err := fields.Err(); err != nil {
		return store.Operator{}, err
	}
	now := s.d.Now()
	loginKey := strings.ToLower(strings.TrimSpace(req.Login))
	if len(loginKey) > 64 {
		loginKey = loginKey[:64]
	}
	rules := s.rules(loginKey, c.IP)
	// The client address first: over its caps nothing else is looked at,
	// not even the captcha.
	wait, err := s.exceeded(ctx, now, rules.ipFail, rules.ipMinute)
	if err != nil {
		return store.Operator{}, problem.Wrap(err)
	}
	if wait > 0 {
		s.refused(ctx, now, rules, c, loginKey, audit.ResultRateLimited)
		return store.Operator{}, &problem.Problem{Kind: problem.TooMany, Code: "operator_sign_in_rate_limited", RetryAfter: wait}
	}
	if s.d.Captchas == nil { // the command line's service signs nobody in
		return store.Operator{}, problem.Wrap(errors.New("operator: sign-in without a captcha service"))
	}
	if err := s.d.Captchas.Verify(ctx, req.CaptchaID, req.CaptchaAnswer); err != nil {
		return store.Operator{}, err
	}
	// Reserve: the attempt counts on the address's minute, then on the
	// name from this network, then on the name — all before the hash.
	if wait, err := s.limit.Allow(ctx, now, rules.ipMinute); err != nil {
		return store.Operator{}, problem.Wrap(err)
	} else if wait > 0 {
		s.refused(ctx, now, rules, c, loginKey, audit.ResultRateLimited)
		return store.Operator{}, &problem.Problem{Kind: problem.TooMany, Code: "operator_sign_in_rate_limited", RetryAfter: wait}
	}
	// An operator with too many wrong codes is refused before the hash,
	// whatever the password: a locked operator's attempts count nothing
	// more, and the answer says nothing about the password.
	if wait, err := s.codeLocked(ctx, now, rules); err != nil {
		return store.Operator{}, problem.Wrap(err)
	} else if wait > 0 {
		s.codeLockNoted(ctx, now, rules, wait, audit.Anonymous(), maskName(loginKey), c)
		return store.Operator{}, &problem.Problem{Kind: problem.TooMany, Code: "operator_locked", RetryAfter: wait}
	}
	netCount, nameCount, wait, err := s.reserve(ctx, now, rules)
	if err != nil {
		return store.Operator{}, problem.Wrap(err)
	}
	if wait > 0 {
		s.refused(ctx, now, rules, c, loginKey, "locked")
		return store.Operator{}, &problem.Problem{Kind: problem.TooMany, Code: "operator_locked", RetryAfter: wait}
	}
	o, reason, wait, err := s.check(ctx, rules, loginKey, req.Password, req.Code, now, c)
	if err != nil {
		return store.Operator{}, err
	}
	if wait > 0 {
		return store.Operator{}, &problem.Problem{Kind: problem.TooMany, Code: "operator_locked", RetryAfter: wait}
	}
	if reason != "" {
		return store.Operator{}, s.failed(ctx, rules, netCount, nameCount, loginKey, o, reason, c, now)
	}
	if err := s.limit.Reset(ctx, rules.net.Key); err != nil {
		s.d.Logger.WarnContext(ctx, "operator lockout reset", "err", err)
	}
	s.d.Audit.Append(ctx, audit.Entry{Actor: audit.Operator(o.ID), Action: ActionSignIn, Result: audit.ResultOK,
		IP: c.IP, UserAgent: c.UserAgent, Subject: o.LoginName})
	if err := s.startSession(ctx, w, r, o, c); err != nil {
		return store.Operator{}, err
	}
	return o, nil
}

// exceeded is the longest wait any of rules asks for, counting nothing.
func (s *Service) exceeded(ctx context.Context, now time.Time, rules ...ratelimit.Rule) (time.Duration, error) {
	var wait time.Duration
	for _, r := range rules {
		w, err := s.limit.Exceeded(ctx, now, r)
		if err != nil {
			return 0, err
		}
		wait = max(wait, w)
	}
	return wait, nil
}

// reserve counts the attempt on the name from this network and on the
// name, unless either is at its threshold already, and returns the
// counts; a positive wait refuses the attempt (a refused attempt counts
// nothing, except that the loser of a race has counted on the network).
// Counting with the atomic Hit before the check is what bounds a burst:
// of any number of concurrent attempts only the threshold get a count at
// or under it.
func (s *Service) reserve(ctx context.Context, now time.Time, rules signInRules) (netCount, nameCount int64, wait time.Duration, err error) {
	if wait, err := s.exceeded(ctx, now, rules.net, rules.name); err != nil || wait > 0 {
		return 0, 0, wait, err
	}
	netCount, resetAt, err := s.limit.Hit(ctx, now, rules.net)
	if err != nil {
		return 0, 0, 0, err
	}
	if netCount > rules.net.Limit {
		return 0, 0, max(resetAt.Sub(now), time.Millisecond), nil
	}
	nameCount, resetAt, err = s.limit.Hit(ctx, now, rules.name)
	if err != nil {
		return 0, 0, 0, err
	}
	if nameCount > rules.name.Limit {
		return 0, 0, max(resetAt.Sub(now), time.Millisecond), nil
	}
	return netCount, nameCount, 0, nil
}

// refused audits an attempt refused before its credentials were looked
// at (result: audit.ResultRateLimited or "locked"). The name typed is
// masked: the name was not looked up. A capped address, or a locked name
// on one network, is audited once per window, not once per request, so
// that refused requests cannot fill the audit log.
func (s *Service) refused(ctx context.Context, now time.Time, rules signInRules, c flow.Client, loginKey, result string) {
	noted := rules.ipFail
	if result != audit.ResultRateLimited {
		noted = rules.net
	}
	first, err := s.limit.First(ctx, now, noted.Key+":noted", noted.Window)
	if err != nil {
		s.d.Logger.WarnContext(ctx, "operator sign-in refusal not counted", "err", err)
	}
	if err != nil || !first {
		return
	}
	s.d.Audit.Append(ctx, audit.Entry{Actor: audit.Anonymous(), Action: ActionSignInFailed, Result: result,
		IP: c.IP, UserAgent: c.UserAgent, Subject: maskName(loginKey)})
}

// check returns the operator and "" when the credentials are right, or a
// reason for the audit log when they are not (the operator then may be
// zero); a positive wait refuses the attempt with operator_locked, its
// code unjudged (see codeReserve); err is a fault of unid.
func (s *Service) check(ctx context.Context, rules signInRules, loginKey, password, code string, now time.Time, c flow.Client) (o store.Operator, reason string, wait time.Duration, err error) {
	o, err = s.d.Store.GetOperatorByLoginName(ctx, loginKey)
	if errors.Is(err, store.ErrNotFound) {
		s.d.Hasher.DummyVerify(ctx)
		return store.Operator{}, "unknown", 0, nil
	}
	if err != nil {
		return store.Operator{}, "", 0, err
	}
	if o.PasswordHash == "" {
		s.d.Hasher.DummyVerify(ctx)
		return o, "not_set_up", 0, nil
	}
	ok, _, err := s.d.Hasher.Verify(ctx, password, o.PasswordHash)
	if err != nil {
		return store.Operator{}, "", 0, err
	}
	if !ok {
		return o, "password", 0, nil
	}
	if o.Status != store.OperatorActive {
		return o, "disabled", 0, nil
	}
	k, err := s.key(o)
	if err != nil {
		return store.Operator{}, "", 0, err
	}
	// The right password: the code is judged only with a place under the
	// operator's cap, taken before it is judged and given back unless it
	// was wrong.
	kept, resetAt, err := s.codeReserve(ctx, now, rules)
	if err != nil {
		return store.Operator{}, "", 0, problem.Wrap(err)
	}
	if kept > rules.code.Limit {
		s.codeGiveBack(ctx, now, rules, resetAt)
		wait := max(resetAt.Sub(now), time.Millisecond)
		s.codeLockNoted(ctx, now, rules, wait, audit.Operator(o.ID), o.LoginName, c)
		return o, "", wait, nil
	}
	// wrong notes the failure that fills the cap (once per window).
	wrong := func(reason string) (store.Operator, string, time.Duration, error) {
		if kept == rules.code.Limit {
			s.codeLockNoted(ctx, now, rules, max(resetAt.Sub(now), time.Millisecond), audit.Operator(o.ID), o.LoginName, c)
		}
		return o, reason, 0, nil
	}
	step, ok := totpStep(k, strings.TrimSpace(code), now)
	if !ok {
		return wrong("code")
	}
	updated, err := s.d.Store.UpdateOperator(ctx, o.ID, func(cur store.Operator) (store.Operator, error) {
		if step <= cur.TOTPLastStep {
			return cur, errReplay
		}
		cur.TOTPLastStep = step
		return cur, nil
	})
	if errors.Is(err, errReplay) {
		return wrong("code_replayed")
	}
	if err != nil {
		s.codeGiveBack(ctx, now, rules, resetAt)
		return store.Operator{}, "", 0, err
	}
	s.codeGiveBack(ctx, now, rules, resetAt)
	return updated, "", 0, nil
}

// The code cap. The counters only count up (store.Counters has Incr, Peek
// and Reset), so a place is taken on rules.code before a code is judged,
// which bounds a concurrent burst like reserve does, and given back by
// counting on a second counter, codeBack, when the code was right or the
// attempt was refused. The places kept, code minus back, are the wrong
// codes of the window plus the codes being judged. codeBack's key names
// the code counter's window (its end, as the store keeps it, in ms), so
// it ends with that window and a new window starts with nothing given
// back. See docs/design-notes.md, "Console sign-in: a cap on code
// guesses".

// codeBack is the counter of places given back in the code counter's
// window ending at resetAt.
func codeBack(rules signInRules, resetAt time.Time, now time.Time) ratelimit.Rule {
	return ratelimit.Rule{Key: fmt.Sprintf("%s:back:%d", rules.code.Key, resetAt.UnixMilli()),
		Window: max(resetAt.Sub(now), time.Millisecond)}
}

// codeKept returns the places kept in the live window of the code
// counter, without counting, and when that window ends.
func (s *Service) codeKept(ctx context.Context, now time.Time, rules signInRules) (int64, time.Time, error) {
	n, resetAt, err := s.d.Counters.Peek(ctx, rules.code.Key, now)
	if err != nil || n == 0 {
		return 0, resetAt, err
	}
	back, err := s.limit.Count(ctx, now, codeBack(rules, resetAt, now).Key)
	if err != nil {
		return 0, resetAt, err
	}
	return n - back, resetAt, nil
}

// codeLocked reports, without counting, how long the operator named by
// rules stays refused for wrong codes; zero when they are not.
func (s *Service) codeLocked(ctx context.Context, now time.Time, rules signInRules) (time.Duration, error) {
	kept, resetAt, err := s.codeKept(ctx, now, rules)
	if err != nil || kept < rules.code.Limit {
		return 0, err
	}
	return max(resetAt.Sub(now), time.Millisecond), nil
}

// codeReserve takes a place on the code counter and returns the places
// kept with it; over rules.code.Limit the code must not be judged. The
// places given back are read before the place is taken, so that they are
// all places taken before it (a give-back read after could be that of a
// later attempt of the same burst, and let one more code through): of any
// number of concurrent attempts, at most the limit are judged.
func (s *Service) codeReserve(ctx context.Context, now time.Time, rules signInRules) (kept int64, resetAt time.Time, err error) {
	_, before, err := s.d.Counters.Peek(ctx, rules.code.Key, now)
	if err != nil {
		return 0, time.Time{}, err
	}
	var back int64
	if !before.IsZero() {
		if back, err = s.limit.Count(ctx, now, codeBack(rules, before, now).Key); err != nil {
			return 0, time.Time{}, err
		}
	}
	n, resetAt, err := s.limit.Hit(ctx, now, rules.code)
	if err != nil {
		return 0, time.Time{}, err
	}
	if !resetAt.Equal(before) { // a new window: nothing given back in it yet
		back = 0
	}
	return n - back, resetAt, nil
}

// codeGiveBack gives back the place an attempt took on the code counter.
// Failing to costs the operator one of their places, no more: logged.
func (s *Service) codeGiveBack(ctx context.Context, now time.Time, rules signInRules, resetAt time.Time) {
	if !now.Before(resetAt) {
		return // the window is over, and the place with it
	}
	if _, _, err := s.limit.Hit(ctx, now, codeBack(rules, resetAt, now)); err != nil {
		s.d.Logger.WarnContext(ctx, "operator code place not given back", "err", err)
	}
}

// codeLockNoted audits operator.locked with scope code, once per window
// of the code counter (wait is what is left of it), whichever attempt
// notices the lock first: the wrong code that fills the cap or a refusal.
func (s *Service) codeLockNoted(ctx context.Context, now time.Time, rules signInRules, wait time.Duration, actor audit.Actor, subject string, c flow.Client) {
	resetAt := now.Add(wait)
	if kept, at, err := s.codeKept(ctx, now, rules); err == nil && kept > 0 {
		resetAt = at
	}
	first, err := s.limit.First(ctx, now, fmt.Sprintf("%s:noted:%d", rules.code.Key, resetAt.UnixMilli()), max(resetAt.Sub(now), time.Millisecond))
	if err != nil {
		s.d.Logger.WarnContext(ctx, "operator code lock not noted", "err", err)
	}
	if err != nil || !first {
		return
	}
	s.d.Audit.Append(ctx, audit.Entry{Actor: actor, Action: ActionLocked, Result: audit.ResultOK,
		IP: c.IP, UserAgent: c.UserAgent, Subject: subject, Detail: audit.Detail{"scope": ScopeCode}})
}

// failed audits a sign-in whose credentials were wrong (its attempt was
// counted already, see reserve), counts it against the client address,
// audits a lock when this failure reached a threshold, and returns the
// one answer.
func (s *Service) failed(ctx context.Context, rules signInRules, netCount, nameCount int64, loginKey string, o store.Operator, reason string, c flow.Client, now time.Time) error {
	// A name no operator holds is masked: it may be anything typed, a
	// citizen's phone number even.
	actor, subject := audit.Anonymous(), maskName(loginKey)
	if o.ID != "" {
		actor, subject = audit.Operator(o.ID), o.LoginName
	}
	s.d.Audit.Append(ctx, audit.Entry{Actor: actor, Action: ActionSignInFailed, Result: audit.ResultFailed,
		IP: c.IP, UserAgent: c.UserAgent, Subject: subject, Detail: audit.Detail{"reason": reason}})
	if _, _, err := s.limit.Hit(ctx, now, rules.ipFail); err != nil {
		return problem.Wrap(err)
	}
	for _, l := range []struct {
		scope string
		at    bool
	}{{ScopeNetwork, netCount == rules.net.Limit}, {ScopeName, nameCount == rules.name.Limit}} {
		if l.at {
			s.d.Audit.Append(ctx, audit.Entry{Actor: actor, Action: ActionLocked, Result: audit.ResultOK,
				IP: c.IP, UserAgent: c.UserAgent, Subject: subject, Detail: audit.Detail{"scope": l.scope}})
		}
	}
	return errSignInFailed
}

// maskName keeps the first two characters of a name typed at sign-in.
func maskName(name string) string {
	r := []rune(name)
	if len(r) <= 2 {
		return "***"
	}
	return string(r[:2]) + "***"
}
