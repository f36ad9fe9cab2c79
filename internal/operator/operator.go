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
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"unid/internal/account"
	"unid/internal/audit"
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
	ActionLocked       = "operator.locked"         // too many failures on a login name
	ActionSignOut      = "operator.sign_out"
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
	// LockoutThreshold failures on one login name within LockoutWindow
	// refuse it until the window ends; defaults 5 and 15 min.
	LockoutThreshold int64
	LockoutWindow    time.Duration
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
	return o
}

// Deps are what the service works with.
type Deps struct {
	Store     store.Operators
	Counters  store.Counters // lockout counts, shared by every instance
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
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.opt.Issuer, AccountName: loginName})
	if err != nil {
		return store.Operator{}, "", fmt.Errorf("operator: totp key: %w", err)
	}
	secret, err := s.d.Protector.Seal(totpKind, key.Secret())
	if err != nil {
		return store.Operator{}, "", err
	}
	secret.Index = nil
	token := rand.Text()
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

// lockKey is the lockout counter of a login name: a keyed hash, so that
// the counter store holds no names.
func (s *Service) lockKey(loginKey string) string {
	return "operator_sign_in:" + hex.EncodeToString(s.d.Protector.MAC("operator sign-in", []byte(loginKey)))
}

// SignIn checks login name, password and TOTP code and gives w a console
// session, replacing any console session r carried. Every refusal is operator_sign_in_failed, whatever was wrong;
// a login name with too many recent failures is refused the same way
// (operator_locked, with the wait) whether or not it exists.
func (s *Service) SignIn(ctx context.Context, w http.ResponseWriter, r *http.Request, loginName, password, code string, c flow.Client) (store.Operator, error) {
	now := s.d.Now()
	loginKey := strings.ToLower(strings.TrimSpace(loginName))
	if len(loginKey) > 64 {
		loginKey = loginKey[:64]
	}
	rule := ratelimit.Rule{Key: s.lockKey(loginKey), Limit: s.opt.LockoutThreshold, Window: s.opt.LockoutWindow}
	wait, err := s.limit.Exceeded(ctx, now, rule)
	if err != nil {
		return store.Operator{}, err
	}
	if wait > 0 {
		return store.Operator{}, &problem.Problem{Kind: problem.TooMany, Code: "operator_locked", RetryAfter: wait}
	}
	o, reason, err := s.check(ctx, loginKey, password, code, now)
	if err != nil {
		return store.Operator{}, err
	}
	if reason != "" {
		return store.Operator{}, s.failed(ctx, rule, loginKey, o, reason, c, now)
	}
	if err := s.limit.Reset(ctx, rule.Key); err != nil {
		s.d.Logger.WarnContext(ctx, "operator lockout reset", "err", err)
	}
	s.d.Audit.Append(ctx, audit.Entry{Actor: audit.Operator(o.ID), Action: ActionSignIn, Result: audit.ResultOK,
		IP: c.IP, UserAgent: c.UserAgent, Subject: o.LoginName})
	if err := s.startSession(ctx, w, r, o, c); err != nil {
		return store.Operator{}, err
	}
	return o, nil
}

// check returns the operator and "" when the credentials are right, or a
// reason for the audit log when they are not (the operator then may be
// zero); err is a fault of unid.
func (s *Service) check(ctx context.Context, loginKey, password, code string, now time.Time) (store.Operator, string, error) {
	o, err := s.d.Store.GetOperatorByLoginName(ctx, loginKey)
	if errors.Is(err, store.ErrNotFound) {
		s.d.Hasher.DummyVerify(ctx)
		return store.Operator{}, "unknown", nil
	}
	if err != nil {
		return store.Operator{}, "", err
	}
	if o.PasswordHash == "" {
		s.d.Hasher.DummyVerify(ctx)
		return o, "not_set_up", nil
	}
	ok, _, err := s.d.Hasher.Verify(ctx, password, o.PasswordHash)
	if err != nil {
		return store.Operator{}, "", err
	}
	if !ok {
		return o, "password", nil
	}
	if o.Status != store.OperatorActive {
		return o, "disabled", nil
	}
	k, err := s.key(o)
	if err != nil {
		return store.Operator{}, "", err
	}
	step, ok := totpStep(k, strings.TrimSpace(code), now)
	if !ok {
		return o, "code", nil
	}
	updated, err := s.d.Store.UpdateOperator(ctx, o.ID, func(cur store.Operator) (store.Operator, error) {
		if step <= cur.TOTPLastStep {
			return cur, errReplay
		}
		cur.TOTPLastStep = step
		return cur, nil
	})
	if errors.Is(err, errReplay) {
		return o, "code_replayed", nil
	}
	if err != nil {
		return store.Operator{}, "", err
	}
	return updated, "", nil
}

// failed counts and audits a refused sign-in and returns its one answer.
func (s *Service) failed(ctx context.Context, rule ratelimit.Rule, loginKey string, o store.Operator, reason string, c flow.Client, now time.Time) error {
	// A name no operator holds is masked: it may be anything typed, a
	// citizen's phone number even.
	actor, subject := audit.Anonymous(), maskName(loginKey)
	if o.ID != "" {
		actor, subject = audit.Operator(o.ID), o.LoginName
	}
	s.d.Audit.Append(ctx, audit.Entry{Actor: actor, Action: ActionSignInFailed, Result: audit.ResultFailed,
		IP: c.IP, UserAgent: c.UserAgent, Subject: subject, Detail: audit.Detail{"reason": reason}})
	n, _, err := s.limit.Hit(ctx, now, rule)
	if err != nil {
		return err
	}
	if n == rule.Limit {
		s.d.Audit.Append(ctx, audit.Entry{Actor: actor, Action: ActionLocked, Result: audit.ResultOK,
			IP: c.IP, UserAgent: c.UserAgent, Subject: subject})
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
