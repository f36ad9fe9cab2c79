// Package login signs a citizen in with a login name, phone number or ID
// number (recognised by format), a password and an image captcha.
//
// One attempt goes:
//
//	client address over its failure or success cap? ──yes──▶ TooMany (login_rate_limited)
//	        │no
//	captcha right? (used up either way) ──no──▶ Invalid / Gone
//	        │yes
//	find the account; account locked, or this network locked for it? ──yes──┐
//	        │no                                                              │
//	count the attempt for (account, network); over the threshold? ──yes──────┤
//	        │no                                                              ▼
//	verify the password ◀──────── always, the hash cost is paid either way ───┐
//	        │                                                                 │
//	refused above? ──yes──▶ Unauthorized (login_failed)      (refused path) ──┘
//	        │no
//	password right? ──no──▶ count the failure for the account; at the account
//	        │               threshold lock the account, else at the network
//	        │               threshold lock the network ──▶ Unauthorized (login_failed)
//	        │yes
//	account disabled? ──yes──▶ Forbidden (account_disabled)
//	        │no
//	forget this network's failures, rehash if the parameters changed ──▶ signed in
//
// Lockout has two scopes. Failures count per (account, client network) —
// an IPv4 address or an IPv6 /64, see ratelimit.Address — and
// Options.LockoutThreshold of them lock that network out of that account:
// whoever guesses locks themselves out, not the owner. Failures from all
// networks together count per account, and Options.AccountThreshold of
// them lock the account for every network. A lock is never a distinct
// answer: a locked attempt pays the same password-hash cost and gets the
// same login_failed as a wrong password for an identifier with no account,
// whatever the password, so a lock tells neither that two identifiers
// belong to one account nor that a password was right. The message of
// login_failed states the lockout policy to everybody; the owner is told
// of a lock by SMS (TemplateAccountLocked), and ClearLock, called by
// password recovery, lifts every lock of the account.
//
// The account is found by Accounts.Find: an ID number finds only an
// account that holds it verified. An unknown identifier, an ID number held
// only unverified and an account without a password all follow the same
// path as a wrong password: same answer, same password-hash cost, and the
// same lockout (keyed by a keyed hash of the identifier), so no answer and
// no timing tells whether an account exists.
package login

import (
	"context"
	"encoding/hex"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/captcha"
	"unid/internal/flow"
	"unid/internal/notify"
	"unid/internal/problem"
	"unid/internal/ratelimit"
	"unid/internal/store"
)

// Options are the lockout and throttling rules.
type Options struct {
	// LockoutThreshold failures for one account from one client network
	// within LockoutWindow lock that network out of that account for
	// LockoutDuration.
	LockoutThreshold int
	// AccountThreshold failures for one account from all networks together
	// within LockoutWindow lock the account for every network for
	// LockoutDuration. It should be well above LockoutThreshold, so that
	// locking the owner out takes many networks.
	AccountThreshold int
	LockoutWindow    time.Duration
	LockoutDuration  time.Duration
	// PerIPLimit failed attempts from one client address (ratelimit.Address)
	// within PerIPWindow refuse its further attempts; PerIPSuccessLimit
	// sign-ins from it within PerIPWindow do too. Zero switches a cap off.
	PerIPLimit        int
	PerIPSuccessLimit int
	PerIPWindow       time.Duration
}

// Accounts is what login needs of the account service (*account.Service).
type Accounts interface {
	Find(ctx context.Context, identifier string) (u store.User, found bool, err error)
	VerifyPassword(ctx context.Context, u store.User, password string) (ok, rehash bool, err error)
}

// Deps are what a Service is built from.
type Deps struct {
	Accounts  Accounts
	Users     store.Users // upgrades outdated hashes
	Hasher    *account.Hasher
	Protector *account.Protector
	Captchas  *captcha.Service
	Limiter   *ratelimit.Limiter
	Audit     *audit.Log
	Notifier  notify.SMSSender // nil: nobody is told of a lock
	Logger    *slog.Logger
	Now       func() time.Time
	Options   Options
}

// Service runs login attempts.
type Service struct {
	accounts  Accounts
	users     store.Users
	hasher    *account.Hasher
	protector *account.Protector
	captchas  *captcha.Service
	limiter   *ratelimit.Limiter
	audit     *audit.Log
	notify    notify.SMSSender
	log       *slog.Logger
	now       func() time.Time
	opt       Options
	notices   sync.WaitGroup // lock notices being sent
}

// New returns a login Service over d.
func New(d Deps) *Service {
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{accounts: d.Accounts, users: d.Users, hasher: d.Hasher, protector: d.Protector, captchas: d.Captchas,
		limiter: d.Limiter, audit: d.Audit, notify: d.Notifier, log: log, now: d.Now, opt: d.Options}
}

// Request is one login attempt.
type Request struct {
	Identifier    string
	Password      string
	CaptchaID     string
	CaptchaAnswer string
}

// Scopes of a lock, as the audit log records them.
const (
	ScopeNetwork = "network" // one client network is locked out of one account
	ScopeAccount = "account" // the account is locked for every network
)

// epochLife is how long a lock epoch (see rules) is kept: far longer than
// any failure count or lock lives, so that an epoch never falls back to an
// earlier one while counts made under it still matter.
const epochLife = 10 * 365 * 24 * time.Hour

// rules are the counters of one attempt.
type rules struct {
	netFail, netLock   ratelimit.Rule // this (account, network)
	acctFail, acctLock ratelimit.Rule // the account, all networks
	notice             ratelimit.Rule // network-scope lock notices to the owner
}

// rules returns the counters of key (an account or an unknown identifier)
// and the client network ip. Every key carries the account's lock epoch,
// which ClearLock moves on: the counts and locks of the old epoch are not
// looked at again, however many networks they were made from.
func (s *Service) rules(ctx context.Context, now time.Time, key, ip string) (rules, error) {
	epoch, err := s.limiter.Count(ctx, now, "login-epoch:"+key)
	if err != nil {
		return rules{}, err
	}
	k := key + ":" + strconv.FormatInt(epoch, 10)
	net := hex.EncodeToString(s.protector.MAC("login-net", []byte(k+"\x00"+ratelimit.Address(ip))))
	o := s.opt
	return rules{
		netFail:  ratelimit.Rule{Key: "login-net-fail:" + net, Limit: int64(o.LockoutThreshold), Window: o.LockoutWindow},
		netLock:  ratelimit.Rule{Key: "login-net-lock:" + net, Limit: 1, Window: o.LockoutDuration},
		acctFail: ratelimit.Rule{Key: "login-fail:" + k, Limit: int64(o.AccountThreshold), Window: o.LockoutWindow},
		acctLock: ratelimit.Rule{Key: "login-lock:" + k, Limit: 1, Window: o.LockoutDuration},
		notice:   ratelimit.Rule{Key: "login-notice:" + k, Limit: 1, Window: o.LockoutDuration},
	}, nil
}

// userKey is the counter key of an account.
func userKey(userID string) string { return "user:" + userID }

// Login checks req and returns the signed-in user.
func (s *Service) Login(ctx context.Context, req Request, c flow.Client) (store.User, error) {
	fields := problem.FieldSet{}
	if req.Identifier == "" {
		fields.Add("identifier", problem.Field("identifier", "identifier_required"))
	}
	if req.Password == "" {
		fields.Add("password", problem.Field("password", "password_required"))
	}
	if req.CaptchaID == "" || req.CaptchaAnswer == "" {
		fields.Add("captcha_answer", problem.Field("captcha_answer", "captcha_required"))
	}
	if err := fields.Err(); err != nil {
		return store.User{}, err
	}
	now := s.now()
	addr := hex.EncodeToString(s.protector.MAC("login-ip", []byte(ratelimit.Address(c.IP))))
	ipFail := ratelimit.Rule{Key: "login-ip:" + addr, Limit: int64(s.opt.PerIPLimit), Window: s.opt.PerIPWindow}
	ipOK := ratelimit.Rule{Key: "login-ip-ok:" + addr, Limit: int64(s.opt.PerIPSuccessLimit), Window: s.opt.PerIPWindow}
	wait, err := s.exceeded(ctx, now, ipFail, ipOK)
	if err != nil {
		return store.User{}, problem.Wrap(err)
	}
	if wait > 0 {
		s.record(ctx, c, "", "", audit.ResultRateLimited)
		return store.User{}, &problem.Problem{Kind: problem.TooMany, Code: "login_rate_limited", RetryAfter: wait}
	}
	// Busy is answered before the captcha is spent or the attempt counted:
	// the request was never looked at.
	ctx, admitted, err := s.hasher.Admit(ctx, 1)
	if err != nil {
		return store.User{}, err
	}
	defer admitted()
	if err := s.captchas.Verify(ctx, req.CaptchaID, req.CaptchaAnswer); err != nil {
		return store.User{}, err
	}

	kind, ident := account.Recognize(req.Identifier)
	user, found, err := s.accounts.Find(ctx, req.Identifier)
	if err != nil {
		return store.User{}, problem.Wrap(err)
	}
	key := "id:" + hex.EncodeToString(s.protector.MAC("login-identifier", []byte(account.LoginNameKey(ident))))
	if found {
		key = userKey(user.ID)
	}
	subject := mask(kind, ident, found)
	r, err := s.guarded(ctx, now, c, user, key, subject, req.Password, ipFail, func(result string) {
		s.record(ctx, c, user.ID, subject, result)
	})
	if err != nil {
		return store.User{}, err
	}
	if user.Status != store.UserActive {
		s.record(ctx, c, user.ID, subject, "disabled")
		return store.User{}, problem.New(problem.Forbidden, "account_disabled")
	}
	if err := s.limiter.Reset(ctx, r.netFail.Key); err != nil {
		return store.User{}, problem.Wrap(err)
	}
	if !ipOK.Off() {
		if _, _, err := s.limiter.Hit(ctx, now, ipOK); err != nil {
			return store.User{}, problem.Wrap(err)
		}
	}
	if r.rehash {
		user = s.rehash(ctx, user, req.Password)
	}
	s.record(ctx, c, user.ID, subject, audit.ResultOK)
	return user, nil
}

// checked is a password check that passed: its counters, and whether the
// hash should be upgraded.
type checked struct {
	rules
	rehash bool
}

// guarded is the lockout-guarded password check of Login and
// CheckPassword: key is the counter key of user (or of the unknown
// identifier, when user is zero). A refused or wrong attempt is recorded
// through fail (with "locked" or audit.ResultFailed), counted, and answered
// login_failed.
func (s *Service) guarded(ctx context.Context, now time.Time, c flow.Client, user store.User, key, subject, password string, ipFail ratelimit.Rule, fail func(result string)) (checked, error) {
	r, err := s.rules(ctx, now, key, c.IP)
	if err != nil {
		return checked{}, problem.Wrap(err)
	}
	locked, err := s.exceeded(ctx, now, r.acctLock, r.netLock)
	if err != nil {
		return checked{}, problem.Wrap(err)
	}
	refused := locked > 0
	var count int64
	if !refused {
		// The attempt counts before the password is checked: concurrent
		// attempts all pass the lock check above before any of them
		// fails, and counting first lets only LockoutThreshold of them
		// reach the password. A success forgets the count again.
		if count, _, err = s.limiter.Hit(ctx, now, r.netFail); err != nil {
			return checked{}, problem.Wrap(err)
		}
		refused = count > r.netFail.Limit
	}

	// Always one hash verification, locked or not: no account (user is
	// zero) and an account without a password cost the same as a wrong
	// password, and a lock costs the same as no lock.
	ok, rehash, err := s.accounts.VerifyPassword(ctx, user, password)
	if err != nil {
		return checked{}, problem.Wrap(err)
	}
	if refused {
		fail("locked")
		return checked{}, s.failed(ctx, now, ipFail)
	}
	if !ok {
		fail(audit.ResultFailed)
		if err := s.lockAtThreshold(ctx, now, c, user, subject, count, r); err != nil {
			return checked{}, problem.Wrap(err)
		}
		return checked{}, s.failed(ctx, now, ipFail)
	}
	return checked{rules: r, rehash: rehash}, nil
}

// ActionPasswordCheckFailed is the audit action of a CheckPassword that
// failed; Detail {purpose}.
const ActionPasswordCheckFailed = "session.password_check_failed"

// CheckPassword checks the password of u, a signed-in account, when its
// owner confirms a sensitive step with it (re-authentication, a password
// change: purpose says which, for the audit log). It is a sign-in attempt
// in all but the session: the same hash cost, the same per-address cap,
// and the same failure counts and locks as Login, so that a stolen
// session gives no more guesses at the password than the login page does;
// a wrong password and a lock both answer login_failed. A success forgets
// the failures of this network, as a sign-in does.
func (s *Service) CheckPassword(ctx context.Context, u store.User, password, purpose string, c flow.Client) error {
	if password == "" {
		return problem.Field("password", "password_required")
	}
	now := s.now()
	addr := hex.EncodeToString(s.protector.MAC("login-ip", []byte(ratelimit.Address(c.IP))))
	ipFail := ratelimit.Rule{Key: "login-ip:" + addr, Limit: int64(s.opt.PerIPLimit), Window: s.opt.PerIPWindow}
	wait, err := s.exceeded(ctx, now, ipFail)
	if err != nil {
		return problem.Wrap(err)
	}
	if wait > 0 {
		s.recordCheck(ctx, c, u, purpose, audit.ResultRateLimited)
		return &problem.Problem{Kind: problem.TooMany, Code: "login_rate_limited", RetryAfter: wait}
	}
	ctx, admitted, err := s.hasher.Admit(ctx, 1)
	if err != nil {
		return err
	}
	defer admitted()
	r, err := s.guarded(ctx, now, c, u, userKey(u.ID), u.LoginName, password, ipFail, func(result string) {
		s.recordCheck(ctx, c, u, purpose, result)
	})
	if err != nil {
		return err
	}
	if err := s.limiter.Reset(ctx, r.netFail.Key); err != nil {
		return problem.Wrap(err)
	}
	return nil
}

func (s *Service) recordCheck(ctx context.Context, c flow.Client, u store.User, purpose, result string) {
	s.audit.Append(ctx, audit.Entry{Actor: audit.User(u.ID), Action: ActionPasswordCheckFailed, Result: result,
		IP: c.IP, UserAgent: c.UserAgent, Subject: u.LoginName, Detail: audit.Detail{"purpose": purpose}})
}

// exceeded is the longest wait any of rules asks for, counting nothing.
func (s *Service) exceeded(ctx context.Context, now time.Time, rules ...ratelimit.Rule) (time.Duration, error) {
	var wait time.Duration
	for _, r := range rules {
		w, err := s.limiter.Exceeded(ctx, now, r)
		if err != nil {
			return 0, err
		}
		wait = max(wait, w)
	}
	return wait, nil
}

// failed counts a failure of the client address and returns the one answer
// to every failed attempt.
func (s *Service) failed(ctx context.Context, now time.Time, ipFail ratelimit.Rule) error {
	if !ipFail.Off() {
		if _, _, err := s.limiter.Hit(ctx, now, ipFail); err != nil {
			return problem.Wrap(err)
		}
	}
	return &problem.Problem{Kind: problem.Unauthorized, Code: "login_failed"}
}

// lockAtThreshold counts a wrong password, the netCount-th of its network,
// against the account, and locks the account at the account threshold and
// the network at the network threshold.
func (s *Service) lockAtThreshold(ctx context.Context, now time.Time, c flow.Client, u store.User, subject string, netCount int64, r rules) error {
	acctCount, _, err := s.limiter.Hit(ctx, now, r.acctFail)
	if err != nil {
		return err
	}
	var scopes []string
	if !r.acctFail.Off() && acctCount == r.acctFail.Limit {
		scopes = append(scopes, ScopeAccount)
	}
	if netCount == r.netFail.Limit {
		scopes = append(scopes, ScopeNetwork)
	}
	for _, scope := range scopes {
		fail, lock := r.acctFail, r.acctLock
		if scope == ScopeNetwork {
			fail, lock = r.netFail, r.netLock
		}
		if _, _, err := s.limiter.Hit(ctx, now, lock); err != nil {
			return err
		}
		if err := s.limiter.Reset(ctx, fail.Key); err != nil {
			return err
		}
		s.audit.Append(ctx, audit.Entry{Actor: signingIn(u.ID), Action: audit.ActionLockout, Result: audit.ResultOK,
			IP: c.IP, UserAgent: c.UserAgent, Subject: subject, Detail: audit.Detail{"scope": scope}})
	}
	if len(scopes) == 0 || u.ID == "" {
		return nil
	}
	// The owner hears of every account lock, and of network locks at most
	// once per lock duration, so that many networks locking themselves out
	// cannot flood the owner's phone.
	n, _, err := s.limiter.Hit(ctx, now, r.notice)
	if err != nil {
		return err
	}
	if scopes[0] == ScopeAccount || n == 1 {
		s.tellLocked(ctx, u, now.Add(s.opt.LockoutDuration))
	}
	return nil
}

// tellLocked sends the owner of u, when u has a phone, the lock notice: when
// the lock ends and that password recovery lifts it. It is sent in the
// background: the attempt that locks must take no longer for an account
// with a phone than for an identifier with no account.
func (s *Service) tellLocked(ctx context.Context, u store.User, until time.Time) {
	if s.notify == nil || u.Phone.Empty() {
		return
	}
	ctx = context.WithoutCancel(ctx)
	s.notices.Go(func() {
		phone, err := s.protector.Open(account.FieldPhone, u.Phone)
		if err == nil {
			err = s.notify.SendSMS(ctx, notify.SMS{Phone: phone, Template: notify.TemplateAccountLocked,
				Params: map[string]string{"until": notify.SMSTime(until)}})
		}
		if err != nil {
			s.log.WarnContext(ctx, "lock notice not sent", "user", u.ID, "err", err)
		}
	})
}

// Wait returns when every lock notice started so far has been handed to
// the notifier. unid waits for it before it exits.
func (s *Service) Wait() { s.notices.Wait() }

// ClearLock lifts every lock of the account and forgets its failures, from
// every network: password recovery calls it once the owner has proved who
// they are, so that the new password signs them in at once.
func (s *Service) ClearLock(ctx context.Context, userID string) error {
	if _, _, err := s.limiter.Hit(ctx, s.now(), ratelimit.Rule{Key: "login-epoch:" + userKey(userID), Window: epochLife}); err != nil {
		return problem.Wrap(err)
	}
	return nil
}

// rehash upgrades the stored hash to the current parameters. Failing to do
// so does not fail the login: the next login tries again.
func (s *Service) rehash(ctx context.Context, u store.User, password string) store.User {
	h, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return u
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	updated, err := s.users.UpdateUser(ctx, u.ID, func(old store.User) (store.User, error) {
		old.PasswordHash = h
		old.UpdatedAt = now
		return old, nil
	})
	if err != nil {
		return u
	}
	s.audit.Append(ctx, audit.Entry{Actor: audit.User(u.ID), Action: audit.ActionRehash, Result: audit.ResultOK})
	return updated
}

func (s *Service) record(ctx context.Context, c flow.Client, userID, subject, result string) {
	action := audit.ActionLogin
	if result != audit.ResultOK {
		action = audit.ActionLoginFail
	}
	s.audit.Append(ctx, audit.Entry{Actor: signingIn(userID), Action: action, Result: result, IP: c.IP, UserAgent: c.UserAgent, Subject: subject})
}

// signingIn is the actor of a sign-in attempt: the account it was for, or
// anonymous when the identifier matched no account (or was never read).
func signingIn(userID string) audit.Actor {
	if userID == "" {
		return audit.Anonymous()
	}
	return audit.User(userID)
}

// mask shows the identifier the way the audit log may keep it.
func mask(kind account.Kind, ident string, found bool) string {
	return account.MaskIdentifier(kind, ident, found)
}
