package enterprise

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/problem"
	"unid/internal/smscode"
	"unid/internal/store"
)

// sealRecord seals a registry record as the enterprise row keeps it.
func (s *Service) sealRecord(r Record) (store.Enterprise, error) {
	e := store.Enterprise{USCC: r.USCC, Name: r.Name, Status: r.Status, CheckedAt: s.now(), CreatedAt: s.now()}
	if r.LegalRepName != "" {
		n, err := s.d.Protector.Seal(account.FieldRealName, r.LegalRepName)
		if err != nil {
			return e, err
		}
		e.LegalRepName = store.Sealed{Cipher: n.Cipher}
	}
	if r.LegalRepID != "" {
		id, err := s.d.Protector.Seal(account.FieldIDNumber, strings.ToUpper(r.LegalRepID))
		if err != nil {
			return e, err
		}
		e.LegalRepID = id
	}
	return e, nil
}

// lookup asks the registry about uscc; unknown is a field problem.
func (s *Service) lookup(ctx context.Context, uscc string) (Record, error) {
	r, found, err := s.d.Registry.Lookup(ctx, uscc)
	if err != nil {
		if p := problem.As(err); p.Kind == problem.Unavailable {
			return Record{}, err
		}
		return Record{}, Unavailable(err)
	}
	if !found {
		return Record{}, problem.Field("uscc", "enterprise_unknown")
	}
	r.USCC = uscc
	return r, nil
}

// refused audits a refused binding and returns err.
func (s *Service) refused(ctx context.Context, o audit.Origin, uscc, why string, err error) error {
	e := o.Entry(ActionBound, audit.ResultFailed)
	e.Detail = audit.Detail{"uscc": uscc, "why": why}
	s.d.Audit.Append(ctx, e)
	return err
}

// Bind makes the user legal representative of uscc when the registry
// names them: real-name level at least Options.BindMinLevel, the name
// given the registry's, the registry's legal representative the
// account's verified name and ID number, the enterprise active, and no
// other account its legal representative in unid.
func (s *Service) Bind(ctx context.Context, userID, uscc, name string, o audit.Origin) (Membership, error) {
	uscc, err := ParseUSCC(uscc)
	if err != nil {
		return Membership{}, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return Membership{}, problem.Field("name", "enterprise_name_required")
	}
	u, err := s.user(ctx, userID)
	if err != nil {
		return Membership{}, err
	}
	if u.RealnameLevel < s.o.BindMinLevel {
		return Membership{}, problem.New(problem.Forbidden, "realname_level_required")
	}
	r, err := s.lookup(ctx, uscc)
	if err != nil {
		return Membership{}, err
	}
	if r.Status != StatusActive {
		return Membership{}, s.refused(ctx, o, uscc, r.Status, problem.New(problem.Conflict, "enterprise_deregistered"))
	}
	idx := s.d.Protector.Index(account.FieldIDNumber, strings.ToUpper(r.LegalRepID))
	if !sameName(name, r.Name) || r.LegalRepID == "" || !account.SameMAC(idx, u.IDNumber.Index) || s.realName(u) != r.LegalRepName {
		return Membership{}, s.refused(ctx, o, uscc, "not_legal_rep", problem.New(problem.Invalid, "enterprise_not_legal_rep"))
	}
	rec, err := s.sealRecord(r)
	if err != nil {
		return Membership{}, problem.Wrap(err)
	}
	change := store.EnterpriseChange{Enterprise: &rec,
		PutMembers: []store.EnterpriseMember{{USCC: uscc, UserID: userID, Role: RoleLegalRep, CreatedAt: s.now()}}}
	if cur, err := s.d.Store.GetEnterpriseMember(ctx, uscc, userID); err == nil && cur.Role == RoleLegalRep {
		return Membership{}, problem.New(problem.Conflict, "enterprise_bound")
	}
	e := o.Entry(ActionBound, audit.ResultOK)
	e.Detail = audit.Detail{"uscc": uscc}
	err = s.d.Store.ChangeEnterprise(ctx, change, s.d.Audit.Event(e), audit.Hash)
	var ce *store.ConflictError
	if errors.As(err, &ce) && ce.Field == "legal_rep" {
		return Membership{}, s.refused(ctx, o, uscc, "bound", problem.New(problem.Conflict, "enterprise_bound"))
	}
	if err != nil {
		return Membership{}, problem.Wrap(fmt.Errorf("enterprise: bind: %w", err))
	}
	return s.Acting(ctx, userID, uscc)
}

// Recheck asks the registry about uscc again and keeps its answer: name
// and status, with or without legal representative data; an enterprise
// the registry does not know becomes StatusUnknown. When the registry
// now names another legal representative than at the last check, the
// legal representative in unid loses the role (audited as the system,
// told EventRoleRevoked); the new one can bind.
func (s *Service) Recheck(ctx context.Context, uscc string) error {
	old, err := s.d.Store.GetEnterprise(ctx, uscc)
	if err != nil {
		return err
	}
	r, found, err := s.d.Registry.Lookup(ctx, uscc)
	if err != nil {
		return err
	}
	if !found {
		rec := old
		rec.Status, rec.CheckedAt = StatusUnknown, s.now()
		e := audit.Entry{Actor: audit.System(), Action: ActionRechecked, Result: audit.ResultOK, Detail: audit.Detail{"uscc": uscc, "why": StatusUnknown}}
		return s.d.Store.ChangeEnterprise(ctx, store.EnterpriseChange{Enterprise: &rec}, s.d.Audit.Event(e), audit.Hash)
	}
	r.USCC = uscc
	rec, err := s.sealRecord(r)
	if err != nil {
		return err
	}
	rec.CreatedAt = old.CreatedAt
	change := store.EnterpriseChange{Enterprise: &rec}
	e := audit.Entry{Actor: audit.System(), Action: ActionLegalRepLost, Result: audit.ResultOK, Detail: audit.Detail{"uscc": uscc}}
	lost := ""
	if len(old.LegalRepID.Index) > 0 && !account.SameMAC(old.LegalRepID.Index, rec.LegalRepID.Index) {
		ms, err := s.d.Store.ListEnterpriseMembers(ctx, uscc)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if m.Role == RoleLegalRep {
				lost = m.UserID
				change.RemoveMembers = []store.MemberKey{{USCC: uscc, UserID: m.UserID}}
				e.Detail["user"] = m.UserID
			}
		}
	}
	if lost == "" {
		e.Action, e.Detail["why"] = ActionRechecked, r.Status
	}
	if err := s.d.Store.ChangeEnterprise(ctx, change, s.d.Audit.Event(e), audit.Hash); err != nil {
		return err
	}
	if lost != "" {
		s.tell(ctx, lost, EventRoleRevoked, map[string]string{"uscc": uscc, "name": rec.Name, "role": RoleLegalRep})
	}
	return nil
}

// RecheckAll rechecks every enterprise with a member in unid, whether
// bound, imported or created by an appeal (the app's daily job); it goes
// on past a failure and returns the first.
func (s *Service) RecheckAll(ctx context.Context) error {
	usccs, err := s.d.Store.ListMemberEnterprises(ctx)
	if err != nil {
		return err
	}
	var first error
	for _, uscc := range usccs {
		if err := s.Recheck(ctx, uscc); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// legalRep returns the enterprise of uscc when the user is its legal
// representative.
func (s *Service) legalRep(ctx context.Context, userID, uscc string) (string, store.Enterprise, error) {
	uscc, err := ParseUSCC(uscc)
	if err != nil {
		return "", store.Enterprise{}, errNotMember
	}
	m, en, err := s.member(ctx, userID, uscc)
	if err != nil {
		return "", en, err
	}
	if m.Role != RoleLegalRep {
		return "", en, errForbidden
	}
	return uscc, en, nil
}

// phone returns the user's bound phone.
func (s *Service) phone(ctx context.Context, userID string) (string, error) {
	u, err := s.user(ctx, userID)
	if err != nil {
		return "", err
	}
	if u.Phone.Empty() {
		return "", problem.New(problem.Conflict, "phone_required")
	}
	p, err := s.d.Protector.Open(account.FieldPhone, u.Phone)
	if err != nil {
		return "", problem.Wrap(err)
	}
	return p, nil
}

// SendUnbindCode texts the legal representative of uscc the SMS code
// that Unbind asks for.
func (s *Service) SendUnbindCode(ctx context.Context, userID, uscc string, o audit.Origin) (smscode.Sent, error) {
	if _, _, err := s.legalRep(ctx, userID, uscc); err != nil {
		return smscode.Sent{}, err
	}
	if s.d.Codes == nil {
		return smscode.Sent{}, problem.New(problem.Conflict, "enterprise_unbind_code_off")
	}
	phone, err := s.phone(ctx, userID)
	if err != nil {
		return smscode.Sent{}, err
	}
	return s.d.Codes.SendFor(ctx, PurposeUnbind, phone, o)
}

// Unbind ends every membership of the enterprise and its pending grants,
// by its legal representative with the SMS code of SendUnbindCode (the
// caller checks a recent password); every member is told.
func (s *Service) Unbind(ctx context.Context, userID, uscc, smsCode string, o audit.Origin) error {
	uscc, en, err := s.legalRep(ctx, userID, uscc)
	if err != nil {
		return err
	}
	if s.d.Codes != nil {
		if strings.TrimSpace(smsCode) == "" {
			return problem.Field("sms_code", "sms_code_required")
		}
		phone, err := s.phone(ctx, userID)
		if err != nil {
			return err
		}
		if err := s.d.Codes.Verify(ctx, PurposeUnbind, phone, strings.TrimSpace(smsCode)); err != nil {
			return err
		}
	}
	ms, err := s.d.Store.ListEnterpriseMembers(ctx, uscc)
	if err != nil {
		return problem.Wrap(err)
	}
	e := o.Entry(ActionUnbound, audit.ResultOK)
	e.Detail = audit.Detail{"uscc": uscc, "members": fmt.Sprint(len(ms))}
	if err := s.d.Store.ChangeEnterprise(ctx, store.EnterpriseChange{RemoveAllMembers: uscc, DeleteAllGrants: uscc},
		s.d.Audit.Event(e), audit.Hash); err != nil {
		return problem.Wrap(err)
	}
	for _, x := range ms {
		s.tell(ctx, x.UserID, EventUnbound, map[string]string{"uscc": uscc, "name": en.Name, "role": x.Role})
	}
	return nil
}
