// Package emailbind binds an email address to a signed-in account, or
// changes the one it has (user center, section "email"):
//
//	address valid and not the account's own? ──no──▶ Invalid (email_format / email_unchanged)
//	     │yes
//	code mailed to it (emailcode, bound to this account and address)
//	     │
//	code right? (an attempt counted) ──no──▶ Invalid / Gone (email_code_*)
//	     │yes, used up
//	stored (account.Service.SetEmail) ──held by another account──▶ Conflict (email_taken):
//	     │                              only whoever reads the address learns this
//	     ▼
//	bound; the old address, if any, is told; audited (account.email_changed)
//
// Sending a code answers the same whether or not another account holds the
// address, so the user center cannot be used to learn who has an account.
package emailbind

import (
	"context"
	"time"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/emailcode"
	"unid/internal/flow"
	"unid/internal/problem"
	"unid/internal/store"
)

// Purpose is the email code purpose of binding an address.
const Purpose = "bind_email"

// Service binds email addresses to accounts.
type Service struct {
	accounts *account.Service
	codes    *emailcode.Service
	prot     *account.Protector
	audit    *audit.Log
	now      func() time.Time
}

// New returns a Service storing addresses through accounts and proving
// them with codes.
func New(accounts *account.Service, codes *emailcode.Service, prot *account.Protector, log *audit.Log, now func() time.Time) *Service {
	return &Service{accounts: accounts, codes: codes, prot: prot, audit: log, now: now}
}

// Sent says when a code expires and when another may be asked for.
type Sent struct {
	ExpiresIn   time.Duration
	ResendAfter time.Duration
}

// SendCode mails a code to email for u to bind it.
func (s *Service) SendCode(ctx context.Context, u store.User, email string, c flow.Client) (Sent, error) {
	email, err := s.normalize(u, email)
	if err != nil {
		return Sent{}, err
	}
	sent, err := s.codes.Send(ctx, Purpose, u.ID, email, c.IP)
	if err != nil {
		return Sent{}, err
	}
	return Sent{ExpiresIn: sent.ExpiresAt.Sub(s.now()), ResendAfter: sent.ResendAfter}, nil
}

// Bind stores email for u once code proves that u reads it.
func (s *Service) Bind(ctx context.Context, u store.User, email, code string, c flow.Client) error {
	email, err := s.normalize(u, email)
	if err != nil {
		return err
	}
	err = s.codes.Verify(ctx, Purpose, u.ID, email, code)
	if err == nil {
		err = s.accounts.SetEmail(ctx, u.ID, email, audit.User(u.ID)) // audits success
	}
	if err != nil {
		s.audit.Append(ctx, audit.Entry{Actor: audit.User(u.ID), Action: account.ActionEmailChanged, Result: problem.As(err).Code,
			IP: c.IP, UserAgent: c.UserAgent, Subject: account.MaskEmail(email)})
	}
	return err
}

// normalize checks email and refuses the address u already has.
func (s *Service) normalize(u store.User, email string) (string, error) {
	email, err := account.NormalizeEmail(email)
	if err != nil {
		return "", err
	}
	if !u.Email.Empty() {
		if current, err := s.prot.Open(account.FieldEmail, u.Email); err == nil && current == email {
			return "", problem.Field(account.FieldEmail, "email_unchanged")
		}
	}
	return email, nil
}
