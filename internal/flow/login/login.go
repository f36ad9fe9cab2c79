// Package login signs a citizen in with a login name, phone number or ID
// number (recognised by format), a password and an image captcha.
//
// One attempt goes:
//
//	client address over its limit? ──yes──▶ TooMany (login_rate_limited)
//	        │no
//	captcha right? (used up either way) ──no──▶ Invalid / Gone
//	        │yes
//	identifier locked? ──yes──▶ TooMany (account_locked, wait)
//	        │no
//	count the attempt; over the threshold? ──yes──▶ TooMany (account_locked)
//	        │no
//	password right? ──no──▶ at the threshold lock ──▶ Unauthorized (login_failed) or TooMany
//	        │yes
//	account disabled? ──yes──▶ Forbidden (account_disabled)
//	        │no
//	forget failures, rehash if the parameters changed ──▶ signed in
//
// The account is found by account.Service.Find: an ID number finds only an
// account that holds it verified. An unknown identifier, an ID number held
// only unverified and an account without a password all follow the same
// path as a wrong password: same answer, same password-hash cost, and the
// same lockout (keyed by a keyed hash of the identifier), so no answer and
// no timing tells whether an account exists.
package login

import (
	"context"
	"encoding/hex"
	"time"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/captcha"
	"unid/internal/flow"
	"unid/internal/problem"
	"unid/internal/ratelimit"
	"unid/internal/store"
)

// Options are the lockout and throttling rules.
type Options struct {
	LockoutThreshold int
	LockoutWindow    time.Duration
	LockoutDuration  time.Duration
	PerIPLimit       int
	PerIPWindow      time.Duration
}

// Service runs login attempts.
type Service struct {
	accounts  *account.Service
	users     store.Users
	hasher    *account.Hasher
	protector *account.Protector
	captchas  *captcha.Service
	limiter   *ratelimit.Limiter
	audit     *audit.Log
	now       func() time.Time
	opt       Options
}

// New returns a login Service. Accounts are found and passwords checked by
// accounts; users and hasher upgrade outdated hashes.
func New(accounts *account.Service, users store.Users, hasher *account.Hasher, protector *account.Protector, captchas *captcha.Service,
	limiter *ratelimit.Limiter, log *audit.Log, now func() time.Time, o Options) *Service {
	return &Service{accounts: accounts, users: users, hasher: hasher, protector: protector, captchas: captchas, limiter: limiter, audit: log, now: now, opt: o}
}

// Request is one login attempt.
type Request struct {
	Identifier    string
	Password      string
	CaptchaID     string
	CaptchaAnswer string
}

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
	ipRule := ratelimit.Rule{Key: "login-ip:" + hex.EncodeToString(s.protector.MAC("login-ip", []byte(ratelimit.Address(c.IP)))), Limit: int64(s.opt.PerIPLimit), Window: s.opt.PerIPWindow}
	wait, err := s.limiter.Allow(ctx, now, ipRule)
	if err != nil {
		return store.User{}, problem.Wrap(err)
	}
	if wait > 0 {
		s.record(ctx, c, "", "", audit.ResultRateLimited)
		return store.User{}, &problem.Problem{Kind: problem.TooMany, Code: "login_rate_limited", RetryAfter: wait}
	}
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
		key = "user:" + user.ID
	}
	subject := mask(kind, ident, found)
	lockRule := ratelimit.Rule{Key: "login-lock:" + key, Limit: 1, Window: s.opt.LockoutDuration}
	if wait, err := s.limiter.Exceeded(ctx, now, lockRule); err != nil {
		return store.User{}, problem.Wrap(err)
	} else if wait > 0 {
		s.record(ctx, c, user.ID, subject, "locked")
		return store.User{}, &problem.Problem{Kind: problem.TooMany, Code: "account_locked", RetryAfter: wait}
	}

	// The attempt counts before the password is checked: concurrent
	// attempts all pass the lock check above before any of them fails, and
	// counting first lets only LockoutThreshold of them reach the password.
	failRule := ratelimit.Rule{Key: "login-fail:" + key, Limit: int64(s.opt.LockoutThreshold), Window: s.opt.LockoutWindow}
	count, _, err := s.limiter.Hit(ctx, now, failRule)
	if err != nil {
		return store.User{}, problem.Wrap(err)
	}
	if count > failRule.Limit {
		s.record(ctx, c, user.ID, subject, "locked")
		return store.User{}, &problem.Problem{Kind: problem.TooMany, Code: "account_locked", RetryAfter: lockRule.Window}
	}

	// No account (user is zero) and an account without a password cost
	// the same hash as a wrong password and fail like it.
	ok, rehash, err := s.accounts.VerifyPassword(ctx, user, req.Password)
	if err != nil {
		return store.User{}, problem.Wrap(err)
	}
	if !ok {
		return store.User{}, s.fail(ctx, now, c, user.ID, subject, count, failRule, lockRule)
	}
	if user.Status != store.UserActive {
		s.record(ctx, c, user.ID, subject, "disabled")
		return store.User{}, problem.New(problem.Forbidden, "account_disabled")
	}
	if err := s.limiter.Reset(ctx, failRule.Key); err != nil {
		return store.User{}, problem.Wrap(err)
	}
	if rehash {
		user = s.rehash(ctx, user, req.Password)
	}
	s.record(ctx, c, user.ID, subject, audit.ResultOK)
	return user, nil
}

// fail answers a failed attempt, the count-th of its window, and locks the
// identifier at the threshold.
func (s *Service) fail(ctx context.Context, now time.Time, c flow.Client, userID, subject string, count int64, failRule, lockRule ratelimit.Rule) error {
	s.audit.Record(ctx, audit.Event{Actor: userID, Action: audit.ActionLoginFail, Result: audit.ResultFailed, IP: c.IP, UserAgent: c.UserAgent, Subject: subject})
	if count < failRule.Limit {
		return &problem.Problem{Kind: problem.Unauthorized, Code: "login_failed"}
	}
	if _, _, err := s.limiter.Hit(ctx, now, lockRule); err != nil {
		return problem.Wrap(err)
	}
	if err := s.limiter.Reset(ctx, failRule.Key); err != nil {
		return problem.Wrap(err)
	}
	s.audit.Record(ctx, audit.Event{Actor: userID, Action: audit.ActionLockout, Result: audit.ResultOK, IP: c.IP, UserAgent: c.UserAgent, Subject: subject})
	return &problem.Problem{Kind: problem.TooMany, Code: "account_locked", RetryAfter: lockRule.Window}
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
	s.audit.Record(ctx, audit.Event{Actor: u.ID, Action: audit.ActionRehash, Result: audit.ResultOK})
	return updated
}

func (s *Service) record(ctx context.Context, c flow.Client, userID, subject, result string) {
	action := audit.ActionLogin
	if result != audit.ResultOK {
		action = audit.ActionLoginFail
	}
	s.audit.Record(ctx, audit.Event{Actor: userID, Action: action, Result: result, IP: c.IP, UserAgent: c.UserAgent, Subject: subject})
}

// mask shows the identifier the way the audit log may keep it:
// phone and ID number masked; the login name of an account as it is
// (login names are public); one that matches no account may be
// something else typed into the wrong box (a password, say), so only its
// first letter is kept.
func mask(kind account.Kind, ident string, found bool) string {
	switch kind {
	case account.KindPhone:
		return account.MaskPhone(ident)
	case account.KindIDNumber:
		return account.MaskIDNumber(ident)
	case account.KindLoginName:
		if found {
			return ident
		}
		return ident[:1] + "***"
	}
	return "(unrecognised)"
}
