// Package profile runs the changes a signed-in citizen makes to their own
// account in the user center (账号设置) that need more than one service:
// re-authentication, the password change and the phone change. The
// personal information (nickname, work unit) and the reveal of the full
// phone and ID number are single calls of the account service.
//
// Re-authentication:
//
//	password right? (login's lockout: same cost, counts, locks) ──no──▶ Unauthorized (login_failed)
//	     │yes
//	session's AuthTime = now (session.reauthenticated) ──▶ the changes behind
//	                                                       httpx.Guard.Recent open for a while
//
// Password change (the current password is the re-authentication):
//
//	fields valid? (current given, new by the policy, confirm equal) ──no──▶ Invalid, all at once
//	     │yes
//	wait for the hashes ahead within --hash-max-wait? ──no──▶ Unavailable (busy), nothing counted
//	     │yes (its own two now count for those after it)
//	current password right? (as above) ──no──▶ Unauthorized (login_failed), counted
//	     │yes
//	account.SetPasswordKeeping: sign out others ──yes──▶ every other session ends
//	     │                                               (single logout), every grant revoked
//	     │no
//	     ▼
//	only the password changes; the owner is told either way
//
// First password (an account made through a provider outside unid has
// none; the recent sign-in, through that provider or the password form of
// another, is the re-authentication):
//
//	signed in within PasswordChange.Recent? ──no──▶ Unauthorized (reauthentication_required)
//	     │yes
//	fields valid? (new by the policy, confirm equal) ──no──▶ Invalid, all at once
//	     │yes
//	wait for the hashes ahead within --hash-max-wait? ──no──▶ Unavailable (busy)
//	     │yes
//	account.SetPasswordKeeping, as above
//
// Phone change (behind a recent re-authentication):
//
//	send: new number valid, captcha right ──▶ SMS code (purpose change_phone) to the new number
//	change: code right? (an attempt counted) ──no──▶ Invalid / Gone
//	     │yes
//	number free? ──no──▶ Conflict (phone_registered) [the code is kept: only its holder learns this]
//	     │yes
//	code used up; account.SetPhone ──▶ the old number is told
package profile

import (
	"context"
	"errors"
	"time"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/captcha"
	"unid/internal/flow"
	"unid/internal/flow/login"
	"unid/internal/problem"
	"unid/internal/session"
	"unid/internal/smscode"
	"unid/internal/store"
)

// PurposeChangePhone is the SMS code purpose of the phone change.
const PurposeChangePhone = "change_phone"

// Purposes of a password check, for the audit log.
const (
	checkReauth         = "reauth"
	checkPasswordChange = "password_change"
)

// Deps are what a Service is built from.
type Deps struct {
	Accounts *account.Service
	Logins   *login.Service
	Sessions *session.Manager
	Codes    *smscode.Service
	Captchas *captcha.Service
	Audit    *audit.Log
	Now      func() time.Time
}

// Service runs the user center's multi-step changes.
type Service struct {
	accounts *account.Service
	logins   *login.Service
	sessions *session.Manager
	codes    *smscode.Service
	captchas *captcha.Service
	audit    *audit.Log
	now      func() time.Time
}

// New returns a Service over d.
func New(d Deps) *Service {
	return &Service{accounts: d.Accounts, logins: d.Logins, sessions: d.Sessions, codes: d.Codes, captchas: d.Captchas, audit: d.Audit, now: d.Now}
}

// Reauthenticate checks the password of u, signed in with sess, and on
// success marks sess as freshly authenticated.
func (s *Service) Reauthenticate(ctx context.Context, sess store.Session, u store.User, password string, c flow.Client) (store.Session, error) {
	if err := s.logins.CheckPassword(ctx, u, password, checkReauth, c); err != nil {
		return store.Session{}, err
	}
	out, err := s.sessions.Reauthenticate(ctx, sess, []string{store.AMRPassword}, c)
	if errors.Is(err, store.ErrNotFound) {
		return store.Session{}, problem.New(problem.Unauthorized, "not_signed_in") // it ended meanwhile
	}
	if err != nil {
		return store.Session{}, problem.Wrap(err)
	}
	return out, nil
}

// PasswordChange is the password form of the user center.
type PasswordChange struct {
	Current       string // unused, and not asked for, when the account has none
	New           string
	Confirm       string
	SignOutOthers bool
	// Recent is how lately the session must have signed in to set the
	// first password of an account that has none: the window the other
	// sensitive changes ask for.
	Recent time.Duration
}

// ChangePassword changes u's password, or sets the first one of an
// account without any. Form mistakes are reported before the current
// password is looked at, so they cost no attempt; a wrong current
// password answers and counts like a wrong password at sign-in.
func (s *Service) ChangePassword(ctx context.Context, sess store.Session, u store.User, req PasswordChange, c flow.Client) error {
	first := u.PasswordHash == ""
	if first {
		// Nothing to type proves the person: only a recent sign-in does.
		if s.now().Sub(sess.AuthTime) > req.Recent {
			return problem.New(problem.Unauthorized, "reauthentication_required")
		}
		req.Current = ""
	}
	f := problem.FieldSet{}
	if req.Current == "" && !first {
		f.Add("current_password", problem.Field("current_password", "password_required"))
	}
	if req.New == "" {
		f.Add("password", problem.Field("password", "password_required"))
	}
	f.Add("password", account.CheckPassword(req.New, u.LoginName))
	if req.New != "" && req.New == req.Current {
		f.Add("password", problem.Field("password", "password_unchanged"))
	}
	if req.Confirm != req.New {
		f.Add("password_confirm", problem.Field("password_confirm", "password_mismatch"))
	}
	if err := f.Err(); err != nil {
		return err
	}
	// Two hashes, the current password's and the new one's, counted
	// together: in a burst the answer is busy before either, and the new
	// one does not join the back of a queue that grew meanwhile.
	hashes := 2
	if first {
		hashes = 1
	}
	ctx, admitted, err := s.accounts.Admit(ctx, hashes)
	if err != nil {
		return err
	}
	defer admitted()
	if !first {
		if err := s.logins.CheckPassword(ctx, u, req.Current, checkPasswordChange, c); err != nil {
			if p := problem.As(err); p.Code == "login_failed" {
				return &problem.Problem{Kind: p.Kind, Code: p.Code, Fields: map[string]string{"current_password": p.Code}}
			}
			return err
		}
	}
	keep := account.Keep{SID: sess.SID, Others: !req.SignOutOthers}
	return s.accounts.SetPasswordKeeping(ctx, u.ID, req.New, keep, audit.User(u.ID))
}

// Sent says when a code expires and when another may be asked for.
type Sent struct {
	ExpiresIn   time.Duration
	ResendAfter time.Duration
}

// SendPhoneCode texts a code for the phone change to phone, the new
// number, once the caller has answered an image captcha; the limits are
// the registration's (smscode's per number, per address and platform-wide).
// The answer is the same whether or not the number has an account.
func (s *Service) SendPhoneCode(ctx context.Context, u store.User, phone, captchaID, captchaAnswer string, c flow.Client) (Sent, error) {
	f := problem.FieldSet{}
	phone, err := account.NormalizePhone(phone)
	f.Add("phone", err)
	if captchaID == "" || captchaAnswer == "" {
		f.Add("captcha_answer", problem.Field("captcha_answer", "captcha_required"))
	}
	if err := f.Err(); err != nil {
		return Sent{}, err
	}
	if holder, found, err := s.accounts.Find(ctx, phone); err != nil {
		return Sent{}, problem.Wrap(err)
	} else if found && holder.ID == u.ID {
		return Sent{}, problem.Field("phone", "phone_unchanged")
	}
	if err := s.captchas.Verify(ctx, captchaID, captchaAnswer); err != nil {
		return Sent{}, err
	}
	sent, err := s.codes.SendFor(ctx, PurposeChangePhone, phone, audit.Origin{Actor: audit.User(u.ID), IP: c.IP, UserAgent: c.UserAgent})
	if err != nil {
		return Sent{}, err
	}
	return Sent{ExpiresIn: sent.ExpiresAt.Sub(s.now()), ResendAfter: sent.ResendAfter}, nil
}

// ChangePhone binds u to phone, proven by code. Only whoever holds the
// code learns that the number belongs to another account.
func (s *Service) ChangePhone(ctx context.Context, u store.User, phone, code string) error {
	f := problem.FieldSet{}
	phone, err := account.NormalizePhone(phone)
	f.Add("phone", err)
	if code == "" {
		f.Add("sms_code", problem.Field("sms_code", "sms_code_required"))
	}
	if err := f.Err(); err != nil {
		return err
	}
	if err := s.codes.Check(ctx, PurposeChangePhone, phone, code); err != nil {
		return err
	}
	holder, found, err := s.accounts.Find(ctx, phone)
	if err != nil {
		return problem.Wrap(err)
	}
	if found && holder.ID == u.ID {
		return problem.Field("phone", "phone_unchanged")
	}
	if found {
		return &problem.Problem{Kind: problem.Conflict, Code: "phone_registered", Fields: map[string]string{"phone": "phone_registered"}}
	}
	if err := s.codes.Use(ctx, PurposeChangePhone, phone, code); err != nil {
		return err
	}
	return s.accounts.SetPhone(ctx, u.ID, phone, audit.User(u.ID))
}
