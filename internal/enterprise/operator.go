package enterprise

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"unid/internal/audit"
	"unid/internal/problem"
	"unid/internal/store"
)

// The security administrator's view of the enterprises, from the operator
// console: finding one by its credit code or a prefix of its name, its
// members and what is pending, and removing a member — by the rules of
// revocation, except that the legal representative's role ends only by
// unbinding or a registry recheck, never by an operator.

// FindPage is one page of enterprises found, and the cursor of the next
// ("" at the end).
type FindPage struct {
	Items []EnterpriseInfo `json:"items"`
	Next  string           `json:"next"`
}

// cursorSep parts the name and the credit code of a find cursor: no name
// holds it.
const cursorSep = "\x00"

// MaxFindPrefix bounds a name prefix, in characters.
const MaxFindPrefix = 100

// Find returns the enterprise whose credit code q is, or else one page of
// the enterprises whose name begins with q, by name, after the cursor
// after (FindPage.Next of the page before). Names are matched as written:
// a prefix, not a part from the middle.
func (s *Service) Find(ctx context.Context, q, after string, limit int) (FindPage, error) {
	q = strings.TrimSpace(q)
	out := FindPage{Items: []EnterpriseInfo{}}
	if q == "" {
		return out, problem.Field("q", "enterprise_query_required")
	}
	if utf8.RuneCountInString(q) > MaxFindPrefix {
		return out, problem.Field("q", "enterprise_query_too_long")
	}
	if uscc, err := ParseUSCC(q); err == nil {
		e, err := s.d.Store.GetEnterprise(ctx, uscc)
		if errors.Is(err, store.ErrNotFound) {
			return out, nil
		}
		if err != nil {
			return out, problem.Wrap(err)
		}
		out.Items = append(out.Items, EnterpriseInfo{USCC: e.USCC, Name: e.Name, Status: e.Status})
		return out, nil
	}
	afterName, afterUSCC := "", ""
	if after != "" {
		var ok bool
		if afterName, afterUSCC, ok = strings.Cut(after, cursorSep); !ok {
			return out, problem.Field("after", "enterprise_cursor_invalid")
		}
	}
	es, err := s.d.Store.FindEnterprises(ctx, q, afterName, afterUSCC, limit+1)
	if err != nil {
		return out, problem.Wrap(err)
	}
	for i, e := range es {
		if i == limit {
			last := es[i-1]
			out.Next = last.Name + cursorSep + last.USCC
			break
		}
		out.Items = append(out.Items, EnterpriseInfo{USCC: e.USCC, Name: e.Name, Status: e.Status})
	}
	return out, nil
}

// Inspection is an enterprise as an operator sees it: every member
// (names masked), pending applications and grants.
type Inspection struct {
	Enterprise   EnterpriseInfo `json:"enterprise"`
	Members      []Member       `json:"members"`
	Applications []Application  `json:"applications"`
	Grants       []Grant        `json:"grants"`
}

var errNoEnterprise = problem.New(problem.NotFound, "enterprise_not_found")

// Inspect returns the enterprise with the credit code uscc for an operator.
func (s *Service) Inspect(ctx context.Context, uscc string) (Inspection, error) {
	uscc, err := ParseUSCC(uscc)
	if err != nil {
		return Inspection{}, errNoEnterprise
	}
	e, err := s.d.Store.GetEnterprise(ctx, uscc)
	if errors.Is(err, store.ErrNotFound) {
		return Inspection{}, errNoEnterprise
	}
	if err != nil {
		return Inspection{}, problem.Wrap(err)
	}
	out := Inspection{Enterprise: EnterpriseInfo{USCC: e.USCC, Name: e.Name, Status: e.Status},
		Members: []Member{}, Applications: []Application{}, Grants: []Grant{}}
	ms, err := s.d.Store.ListEnterpriseMembers(ctx, uscc)
	if err != nil {
		return Inspection{}, problem.Wrap(err)
	}
	for _, x := range ms {
		out.Members = append(out.Members, Member{UserID: x.UserID, Name: s.maskedName(ctx, x.UserID), Role: x.Role, Labels: nonNil(x.Labels), ValidUntil: x.ValidUntil})
	}
	as, err := s.d.Store.ListPendingApplications(ctx, uscc, s.now())
	if err != nil {
		return Inspection{}, problem.Wrap(err)
	}
	for _, a := range as {
		out.Applications = append(out.Applications, Application{ID: a.ID, UserID: a.UserID, Name: s.maskedName(ctx, a.UserID), Reason: a.Reason, CreatedAt: a.CreatedAt, ExpiresAt: a.ExpiresAt})
	}
	gs, err := s.d.Store.ListEnterpriseGrants(ctx, uscc, s.now())
	if err != nil {
		return Inspection{}, problem.Wrap(err)
	}
	for _, g := range gs {
		out.Grants = append(out.Grants, Grant{ID: g.ID, Name: s.maskedName(ctx, g.UserID), Role: g.Role, Labels: nonNil(g.Labels), ValidUntil: g.ValidUntil, ExpiresAt: g.ExpiresAt})
	}
	return out, nil
}

// RemoveMember ends memberID's role in uscc for an operator, who gave
// reason: audited as a revocation with the operator as the actor and the
// member as the event's Account, in one transaction with the removal (with
// the grants the member gave there), and the member is told. The legal
// representative cannot be removed so (enterprise_legal_rep_remove).
func (s *Service) RemoveMember(ctx context.Context, uscc, memberID, reason string, by audit.Origin) error {
	uscc, err := ParseUSCC(uscc)
	if err != nil {
		return errNoEnterprise
	}
	en, err := s.d.Store.GetEnterprise(ctx, uscc)
	if errors.Is(err, store.ErrNotFound) {
		return errNoEnterprise
	}
	if err != nil {
		return problem.Wrap(err)
	}
	m, err := s.d.Store.GetEnterpriseMember(ctx, uscc, memberID)
	if errors.Is(err, store.ErrNotFound) {
		return problem.New(problem.NotFound, "enterprise_member_not_found")
	}
	if err != nil {
		return problem.Wrap(err)
	}
	if m.Role == RoleLegalRep {
		return problem.New(problem.Conflict, "enterprise_legal_rep_remove")
	}
	e := by.Entry(ActionRevoked, audit.ResultOK)
	e.Account = memberID
	e.Detail = audit.Detail{"uscc": uscc, "user": memberID, "role": m.Role, "by": string(by.Actor.Kind), "reason": strings.ToValidUTF8(reason, "")}
	err = s.d.Store.ChangeEnterprise(ctx, store.EnterpriseChange{RemoveMembers: []store.MemberKey{{USCC: uscc, UserID: memberID}}}, s.d.Audit.Event(e), audit.Hash)
	if errors.Is(err, store.ErrNotFound) {
		return problem.New(problem.NotFound, "enterprise_member_not_found")
	}
	if err != nil {
		return problem.Wrap(err)
	}
	s.tell(ctx, memberID, EventRoleRevoked, map[string]string{"uscc": uscc, "name": en.Name, "role": m.Role})
	return nil
}
