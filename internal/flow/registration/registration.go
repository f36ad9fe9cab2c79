// Package registration creates a citizen account (普通账号注册): login name,
// password, a mainland mobile number proven by an SMS code, and optionally a
// real name with an ID number (stored now, verified by the real-name flow).
//
//	fields valid? ──no──▶ Invalid, every bad field at once
//	     │yes
//	with a password: hashes ahead within --hash-max-wait? ──no──▶ Unavailable (busy)   [nothing spent]
//	     │yes
//	SMS code right? (an attempt counted) ──no──▶ Invalid / Gone
//	     │yes
//	login name free? ──no──▶ Conflict (login_name_taken)   [the code is kept]
//	     │yes
//	account.Service.Create: the account's own checks ──no──▶ Invalid   [the code is kept]
//	     │yes
//	password hashed (given up with the request: the code is kept)
//	     │
//	SMS code used up ──already used by another request with it──▶ Gone
//	     │              (from here on done even if the browser hangs up)
//	stored ──conflict on phone──▶ Conflict (phone_registered):
//	     │                         only the owner of the phone, who just proved it, learns this
//	     ▼
//	account created (the caller signs it in)
//
// An ID number is stored unverified and is not unique until the real-name
// flow verifies it: registering with a number another account holds
// succeeds, and both keep it unverified. A registration therefore cannot
// test whether someone has an account, nor squat a citizen's number.
package registration

import (
	"context"
	"errors"
	"strings"
	"time"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/captcha"
	"unid/internal/flow"
	"unid/internal/problem"
	"unid/internal/session"
	"unid/internal/smscode"
	"unid/internal/store"
)

// Purpose is the SMS code purpose of registration.
const Purpose = "register"

// Service registers accounts.
type Service struct {
	accounts *account.Service
	codes    *smscode.Service
	captchas *captcha.Service
	audit    *audit.Log
	now      func() time.Time
}

// New returns a registration Service that creates accounts through accounts.
func New(accounts *account.Service, captchas *captcha.Service, codes *smscode.Service, log *audit.Log, now func() time.Time) *Service {
	return &Service{accounts: accounts, captchas: captchas, codes: codes, audit: log, now: now}
}

// Request is the registration form.
type Request struct {
	LoginName       string
	Password        string
	PasswordConfirm string
	Phone           string
	SMSCode         string
	RealName        string // optional, with IDNumber
	IDNumber        string // optional, with RealName
	Nickname        string // optional
}

// valid is a request that passed every field rule, in normalised form.
type valid struct {
	loginName, password, phone, realName, idNumber string
}

// Validate checks every field and reports all problems at once.
func (s *Service) Validate(req Request) (valid, error) { return s.validate(req, false) }

// validate is Validate; an account made through an identity provider
// (linked) may have no password until its owner sets one.
func (s *Service) validate(req Request, linked bool) (valid, error) {
	var v valid
	f := problem.FieldSet{}
	v.loginName = strings.TrimSpace(req.LoginName)
	f.Add("login_name", account.ValidateLoginName(v.loginName))
	switch {
	case req.Password == "" && linked:
	case req.Password == "":
		f.Add("password", problem.Field("password", "password_required"))
	default:
		f.Add("password", account.CheckPassword(req.Password, v.loginName))
	}
	if req.PasswordConfirm != req.Password {
		f.Add("password_confirm", problem.Field("password_confirm", "password_mismatch"))
	}
	v.password = req.Password
	phone, err := account.NormalizePhone(req.Phone)
	f.Add("phone", err)
	v.phone = phone
	if strings.TrimSpace(req.SMSCode) == "" {
		f.Add("sms_code", problem.Field("sms_code", "sms_code_required"))
	}
	name, id := strings.TrimSpace(req.RealName), strings.TrimSpace(req.IDNumber)
	switch {
	case name == "" && id == "":
	case name == "":
		f.Add("real_name", problem.Field("real_name", "real_name_required"))
	case id == "":
		f.Add("id_number", problem.Field("id_number", "id_number_required"))
	default:
		f.Add("real_name", account.ValidateRealName(name))
		parsed, err := account.ParseIDNumber(id, s.now())
		f.Add("id_number", err)
		v.realName, v.idNumber = name, parsed.Number
	}
	return v, f.Err()
}

// Register creates the account described by req.
func (s *Service) Register(ctx context.Context, req Request, c flow.Client) (store.User, error) {
	return s.register(ctx, req, nil, c)
}

// RegisterLinked creates the account described by req together with its
// link to the external identity link names (快捷注册): the same rules and
// answers as Register, but the password may be left empty.
func (s *Service) RegisterLinked(ctx context.Context, req Request, link store.UpstreamLink, c flow.Client) (store.User, error) {
	return s.register(ctx, req, &link, c)
}

func (s *Service) register(ctx context.Context, req Request, link *store.UpstreamLink, c flow.Client) (store.User, error) {
	v, err := s.validate(req, link != nil)
	if err != nil {
		return store.User{}, err
	}
	if v.password != "" {
		// The password's hash waits its turn: in a burst the answer is
		// busy before the code is looked at, and the same code serves the
		// next try.
		var admitted func()
		if ctx, admitted, err = s.accounts.Admit(ctx, 1); err != nil {
			return store.User{}, err
		}
		defer admitted()
	}
	// Until the account exists, whoever registers is anonymous.
	event := audit.Entry{Actor: audit.Anonymous(), Action: audit.ActionRegister, IP: c.IP, UserAgent: c.UserAgent, Subject: account.MaskPhone(v.phone)}
	// Only whoever holds the phone learns that a login name is taken, a few
	// names per code: asked before the code, the question would list the
	// accounts of the platform to anyone, with no captcha and no limit.
	if err := s.codes.Check(ctx, Purpose, v.phone, req.SMSCode); err != nil {
		event.Result = problem.As(err).Code
		s.audit.Append(ctx, event)
		return store.User{}, err
	}
	if taken, err := s.accounts.LoginNameTaken(ctx, v.loginName); err != nil {
		return store.User{}, problem.Wrap(err)
	} else if taken {
		return store.User{}, &problem.Problem{Kind: problem.Conflict, Code: "login_name_taken", Fields: map[string]string{"login_name": "login_name_taken"}}
	}
	// The code is used up once the account has passed every check and its
	// password is hashed: a field the account refuses, or a hash given up
	// with the request, leaves it for the next try. (Of requests with the
	// same right code at once, each that passes Check hashes and one uses
	// the code: at most smscode's attempts a code.) From there the account
	// is made and recorded even if the browser hangs up.
	spend := func(ctx context.Context) error {
		if err := s.codes.Use(ctx, Purpose, v.phone, req.SMSCode); err != nil {
			event.Result = problem.As(err).Code
			s.audit.Append(ctx, event)
			return err
		}
		return nil
	}
	na := account.NewAccount{
		LoginName: v.loginName, Password: v.password, Phone: v.phone, RealName: v.realName, IDNumber: v.idNumber,
		Nickname: req.Nickname,
	}
	var u store.User
	if link == nil {
		u, err = s.accounts.Create(ctx, na, spend)
	} else {
		event.Detail = audit.Detail{"provider": link.Provider}
		u, err = s.accounts.CreateLinked(ctx, na, *link, spend)
	}
	ctx, cancel := session.Detach(ctx)
	defer cancel()
	if err != nil {
		var conflict *store.ConflictError
		if errors.As(err, &conflict) {
			event.Result = "conflict_" + conflict.Field
			s.audit.Append(ctx, event)
		}
		return store.User{}, err
	}
	event.Actor, event.Result = audit.User(u.ID), audit.ResultOK
	s.audit.Append(ctx, event)
	return u, nil
}

// Sent says when a code expires and when another may be asked for.
type Sent struct {
	ExpiresIn   time.Duration
	ResendAfter time.Duration
}

// SendCode sends a registration code to phone once the caller has answered
// an image captcha. The answer is the same whether or not the phone already
// has an account.
func (s *Service) SendCode(ctx context.Context, phone, captchaID, captchaAnswer string, c flow.Client) (Sent, error) {
	f := problem.FieldSet{}
	phone, err := account.NormalizePhone(phone)
	f.Add("phone", err)
	if captchaID == "" || captchaAnswer == "" {
		f.Add("captcha_answer", problem.Field("captcha_answer", "captcha_required"))
	}
	if err := f.Err(); err != nil {
		return Sent{}, err
	}
	if err := s.captchas.Verify(ctx, captchaID, captchaAnswer); err != nil {
		return Sent{}, err
	}
	sent, err := s.codes.SendFor(ctx, Purpose, phone, audit.Origin{Actor: audit.Anonymous(), IP: c.IP, UserAgent: c.UserAgent})
	if err != nil {
		return Sent{}, err
	}
	return Sent{ExpiresIn: sent.ExpiresAt.Sub(s.now()), ResendAfter: sent.ResendAfter}, nil
}
