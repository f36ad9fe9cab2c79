package operator

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"unid/internal/audit"
	"unid/internal/problem"
	"unid/internal/store"
)

// ActionRolesChanged is a system administrator giving an operator other
// roles in the console; Detail {operator_id, roles: the new ones}.
const ActionRolesChanged = "operator.roles_changed"

// The rules of managing operators from the console (三员分立):
//
//   - only a system administrator manages operators there;
//   - the roles they give are sysadmin and reviewer: a security
//     administrator and an auditor come only from the command line (`unid
//     operator create`), so that nobody who administers the platform
//     appoints who acts on citizens' accounts or who audits — a set-up
//     link goes to whoever asks for it, who could keep it;
//   - no operator changes their own roles, disables or resets themselves;
//   - a security administrator's and an auditor's accounts are out of a
//     system administrator's reach, for the same reason (a reset hands
//     the account to whoever resets it).
//
// Each refusal is a Forbidden problem and changes nothing.
var (
	errNotSysadmin    = problem.New(problem.Forbidden, "operator_role_forbidden")
	errSelf           = problem.New(problem.Forbidden, "operator_self_forbidden")
	errAuditorAccount = problem.New(problem.Forbidden, "operator_auditor_protected")
	errSecadminAcct   = problem.New(problem.Forbidden, "operator_secadmin_protected")
	errNotGrantable   = problem.Field("roles", "operator_role_not_grantable")
)

// Grantable are the roles a system administrator may give in the console.
var Grantable = []string{RoleSysadmin, RoleReviewer}

// grantable checks and normalises roles given in the console.
func grantable(roles []string) ([]string, error) {
	out, err := ParseRoles(roles)
	if err != nil {
		var p *problem.Problem
		if errors.As(err, &p) {
			return nil, problem.Field("roles", p.Code)
		}
		return nil, err
	}
	for _, r := range out {
		if !slices.Contains(Grantable, r) {
			return nil, errNotGrantable
		}
	}
	return out, nil
}

// CreateBy adds an operator as a system administrator asks in the console:
// Create under the rules above. It returns the operator and their one-time
// set-up token.
func (s *Service) CreateBy(ctx context.Context, by store.Operator, loginName string, roles []string, origin audit.Origin) (store.Operator, string, error) {
	if !HasAny(by, RoleSysadmin) {
		return store.Operator{}, "", errNotSysadmin
	}
	f := problem.FieldSet{}
	f.Add("login", checkLoginName(loginName))
	roles, err := grantable(roles)
	if err != nil {
		if problem.As(err).Kind != problem.Invalid {
			return store.Operator{}, "", err
		}
		f.Add("roles", err)
	}
	if err := f.Err(); err != nil {
		return store.Operator{}, "", err
	}
	return s.Create(ctx, loginName, roles, origin)
}

// DisableBy disables the operator id as the system administrator by asks;
// their console sessions end.
func (s *Service) DisableBy(ctx context.Context, by store.Operator, id string, origin audit.Origin) (store.Operator, error) {
	o, err := s.manage(ctx, by, id, ActionDisabled, origin, func(o *store.Operator) error {
		o.Status = store.OperatorDisabled
		return nil
	})
	return o, err
}

// EnableBy lets a disabled operator sign in again.
func (s *Service) EnableBy(ctx context.Context, by store.Operator, id string, origin audit.Origin) (store.Operator, error) {
	o, err := s.manage(ctx, by, id, ActionEnabled, origin, func(o *store.Operator) error {
		o.Status = store.OperatorActive
		return nil
	})
	return o, err
}

// ResetBy makes a new set-up link for the operator id (lost password or
// authenticator) and removes their passkeys, as Reset does, and returns
// its token.
func (s *Service) ResetBy(ctx context.Context, by store.Operator, id string, origin audit.Origin) (store.Operator, string, error) {
	var token string
	o, err := s.manage(ctx, by, id, ActionReset, origin, func(o *store.Operator) error {
		secret, t, err := s.enrolment(o.LoginName)
		if err != nil {
			return err
		}
		token = t
		o.PasswordHash, o.TOTPSecret, o.TOTPLastStep = "", secret, 0
		o.SetupHash, o.SetupExpiresAt = hashToken(token), o.UpdatedAt.Add(s.opt.SetupTTL)
		return nil
	})
	if err != nil {
		return store.Operator{}, "", err
	}
	return o, token, nil
}

// SetRolesBy gives the operator id other roles, from Grantable.
func (s *Service) SetRolesBy(ctx context.Context, by store.Operator, id string, roles []string, origin audit.Origin) (store.Operator, error) {
	roles, err := grantable(roles)
	if err != nil {
		return store.Operator{}, err
	}
	return s.manage(ctx, by, id, ActionRolesChanged, origin, func(o *store.Operator) error {
		o.Roles = roles
		return nil
	})
}

// manage applies fn to the operator id under the rules above, checked in
// the same transaction as the write, ends the operator's console sessions
// and audits action with by as the actor.
func (s *Service) manage(ctx context.Context, by store.Operator, id, action string, origin audit.Origin, fn func(*store.Operator) error) (store.Operator, error) {
	if !HasAny(by, RoleSysadmin) {
		return store.Operator{}, errNotSysadmin
	}
	if id == "" || len(id) > 64 {
		return store.Operator{}, problem.New(problem.NotFound, "operator_unknown")
	}
	if id == by.ID {
		return store.Operator{}, errSelf
	}
	now := s.d.Now().UTC().Truncate(time.Millisecond)
	o, err := s.d.Store.UpdateOperator(ctx, id, func(o store.Operator) (store.Operator, error) {
		if HasAny(o, RoleAuditor) {
			return o, errAuditorAccount
		}
		if HasAny(o, RoleSecadmin) {
			return o, errSecadminAcct
		}
		o.UpdatedAt = now
		if err := fn(&o); err != nil {
			return o, err
		}
		return o, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return store.Operator{}, problem.New(problem.NotFound, "operator_unknown")
	}
	if err != nil {
		return store.Operator{}, err
	}
	if action != ActionRolesChanged && action != ActionEnabled {
		if _, err := s.d.Store.DeleteOperatorSessions(ctx, o.ID); err != nil {
			return store.Operator{}, err
		}
	}
	detail := audit.Detail{"operator_id": o.ID}
	if action == ActionRolesChanged {
		detail["roles"] = strings.Join(o.Roles, ",")
	}
	if err := s.dropCredentials(ctx, o.ID, action, detail); err != nil {
		return store.Operator{}, err
	}
	e := origin.Entry(action, audit.ResultOK)
	e.Subject, e.Detail = o.LoginName, detail
	s.d.Audit.Append(ctx, e)
	return o, nil
}
