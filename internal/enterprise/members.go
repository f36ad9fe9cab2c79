package enterprise

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/problem"
	"unid/internal/ratelimit"
	"unid/internal/review"
	"unid/internal/store"
)

// PendingGrant is a grant waiting for the person's answer, as they see it.
type PendingGrant struct {
	ID            string    `json:"id"`
	USCC          string    `json:"uscc"`
	Name          string    `json:"name"`
	Role          string    `json:"role"`
	Labels        []string  `json:"labels"`
	ValidUntil    time.Time `json:"valid_until,omitzero"`
	ExpiresAt     time.Time `json:"expires_at"`
	GrantedByName string    `json:"granted_by_name"` // masked
}

// MyApplication is a handler application as its applicant sees it.
type MyApplication struct {
	ID             string    `json:"id"`
	USCC           string    `json:"uscc"`
	Name           string    `json:"name"`
	State          string    `json:"state"`
	Reason         string    `json:"reason"`
	CreatedAt      time.Time `json:"created_at"`
	DecidedAt      time.Time `json:"decided_at,omitzero"`
	DecisionReason string    `json:"decision_reason,omitempty"`
}

// Overview is the user's enterprise space.
type Overview struct {
	Enterprises  []Membership    `json:"enterprises"`
	Grants       []PendingGrant  `json:"grants"`
	Applications []MyApplication `json:"applications"`
}

// Member is a member as the enterprise's page shows it.
type Member struct {
	UserID     string    `json:"user_id"`
	Name       string    `json:"name"` // masked
	Role       string    `json:"role"`
	Labels     []string  `json:"labels"`
	ValidUntil time.Time `json:"valid_until,omitzero"`
}

// Application is a pending application as the deciders see it.
type Application struct {
	ID        string    `json:"id"`
	UserID    string    `json:"user_id"`
	Name      string    `json:"name"` // applicant, masked
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Grant is a pending grant as the enterprise's page shows it.
type Grant struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"` // grantee, masked
	Role       string    `json:"role"`
	Labels     []string  `json:"labels"`
	ValidUntil time.Time `json:"valid_until,omitzero"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// EnterpriseInfo is the enterprise itself.
type EnterpriseInfo struct {
	USCC   string `json:"uscc"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

// Detail is an enterprise's page, for a member.
type Detail struct {
	Enterprise   EnterpriseInfo `json:"enterprise"`
	MyRole       string         `json:"my_role"`
	Members      []Member       `json:"members"`
	Applications []Application  `json:"applications"`
	Grants       []Grant        `json:"grants"`
}

// Overview returns the user's memberships, pending grants and applications.
func (s *Service) Overview(ctx context.Context, userID string) (Overview, error) {
	ms, err := s.Memberships(ctx, userID)
	if err != nil {
		return Overview{}, err
	}
	out := Overview{Enterprises: ms, Grants: []PendingGrant{}, Applications: []MyApplication{}}
	gs, err := s.d.Store.ListUserGrants(ctx, userID, s.now())
	if err != nil {
		return Overview{}, problem.Wrap(err)
	}
	for _, g := range gs {
		out.Grants = append(out.Grants, PendingGrant{ID: g.ID, USCC: g.USCC, Name: s.enterpriseName(ctx, g.USCC), Role: g.Role,
			Labels: nonNil(g.Labels), ValidUntil: g.ValidUntil, ExpiresAt: g.ExpiresAt, GrantedByName: s.maskedName(ctx, g.GrantedBy)})
	}
	as, err := s.d.Store.ListUserApplications(ctx, userID)
	if err != nil {
		return Overview{}, problem.Wrap(err)
	}
	now := s.now()
	for _, a := range as {
		state := a.State
		if state == StatePending && !a.ExpiresAt.After(now) {
			state = StateExpired
		}
		out.Applications = append(out.Applications, MyApplication{ID: a.ID, USCC: a.USCC, Name: s.enterpriseName(ctx, a.USCC),
			State: state, Reason: a.Reason, CreatedAt: a.CreatedAt, DecidedAt: a.DecidedAt, DecisionReason: a.DecisionReason})
	}
	return out, nil
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func (s *Service) enterpriseName(ctx context.Context, uscc string) string {
	e, err := s.d.Store.GetEnterprise(ctx, uscc)
	if err != nil {
		return ""
	}
	return e.Name
}

// Enterprise returns an enterprise's page for a live member; anyone else
// gets enterprise_not_member, as for an unknown enterprise. Pending
// applications and grants are shown to the legal representative and admins.
func (s *Service) Enterprise(ctx context.Context, userID, uscc string) (Detail, error) {
	uscc, err := ParseUSCC(uscc)
	if err != nil {
		return Detail{}, errNotMember
	}
	m, e, err := s.member(ctx, userID, uscc)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{Enterprise: EnterpriseInfo{USCC: e.USCC, Name: e.Name, Status: e.Status}, MyRole: m.Role,
		Members: []Member{}, Applications: []Application{}, Grants: []Grant{}}
	ms, err := s.d.Store.ListEnterpriseMembers(ctx, uscc)
	if err != nil {
		return Detail{}, problem.Wrap(err)
	}
	for _, x := range ms {
		d.Members = append(d.Members, Member{UserID: x.UserID, Name: s.maskedName(ctx, x.UserID), Role: x.Role, Labels: nonNil(x.Labels), ValidUntil: x.ValidUntil})
	}
	if !AtLeast(m.Role, RoleAdmin) {
		return d, nil
	}
	as, err := s.d.Store.ListPendingApplications(ctx, uscc, s.now())
	if err != nil {
		return Detail{}, problem.Wrap(err)
	}
	for _, a := range as {
		d.Applications = append(d.Applications, Application{ID: a.ID, UserID: a.UserID, Name: s.maskedName(ctx, a.UserID), Reason: a.Reason, CreatedAt: a.CreatedAt, ExpiresAt: a.ExpiresAt})
	}
	gs, err := s.d.Store.ListEnterpriseGrants(ctx, uscc, s.now())
	if err != nil {
		return Detail{}, problem.Wrap(err)
	}
	for _, g := range gs {
		d.Grants = append(d.Grants, Grant{ID: g.ID, Name: s.maskedName(ctx, g.UserID), Role: g.Role, Labels: nonNil(g.Labels), ValidUntil: g.ValidUntil, ExpiresAt: g.ExpiresAt})
	}
	return d, nil
}

// mayGrant reports whether a holder of role may grant or revoke target.
func mayGrant(role, target string) bool {
	switch role {
	case RoleLegalRep:
		return target == RoleAdmin || target == RoleHandler
	case RoleAdmin:
		return target == RoleHandler
	}
	return false
}

// granterRoles returns the roles that may grant target.
func granterRoles(target string) []string {
	var out []string
	for _, r := range []string{RoleLegalRep, RoleAdmin} {
		if mayGrant(r, target) {
			out = append(out, r)
		}
	}
	return out
}

// GrantForm is what a grant sends.
type GrantForm struct {
	Phone      string
	RealName   string
	Role       string
	Labels     []string
	ValidUntil string // "2027-01-31" or RFC 3339; "" for no end
}

// cleanLabels checks labels against the configured ones; only a handler
// carries labels.
func (s *Service) cleanLabels(role string, labels []string) ([]string, error) {
	var out []string
	for _, l := range labels {
		l = strings.TrimSpace(l)
		if l == "" || slices.Contains(out, l) {
			continue
		}
		if !slices.Contains(s.o.Labels, l) {
			return nil, problem.Field("labels", "enterprise_label_unknown")
		}
		out = append(out, l)
	}
	if len(out) > 0 && role != RoleHandler {
		return nil, problem.Field("labels", "enterprise_label_unknown")
	}
	return out, nil
}

// parseValidUntil reads a validity end: a date (the end of that day,
// China time) or an RFC 3339 time, in the future.
func (s *Service) parseValidUntil(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		d, derr := time.ParseInLocation(time.DateOnly, v, time.FixedZone("CST", 8*3600))
		if derr != nil {
			return time.Time{}, problem.Field("valid_until", "enterprise_valid_until")
		}
		t = d.Add(24*time.Hour - time.Millisecond)
	}
	t = t.UTC().Truncate(time.Millisecond)
	if !t.After(s.now()) {
		return time.Time{}, problem.Field("valid_until", "enterprise_valid_until")
	}
	return t, nil
}

// Grant invites the person with the phone and real name to a role in
// uscc: the legal representative grants admins and handlers, an admin
// handlers. The answer, and the work behind it, is the same whether or
// not an account matches the phone and name exactly (no enumeration); a
// match gets a pending grant and is told (EventGrant) off the request
// path; a repeat refreshes the pending grant without telling again.
// Grants are limited per granter and per enterprise (enterprise_grant_rate_limited).
func (s *Service) Grant(ctx context.Context, userID, uscc string, f GrantForm, o audit.Origin) error {
	uscc, err := ParseUSCC(uscc)
	if err != nil {
		return errNotMember
	}
	m, en, err := s.member(ctx, userID, uscc)
	if err != nil {
		return err
	}
	fields := problem.FieldSet{}
	if f.Role != RoleAdmin && f.Role != RoleHandler {
		fields["role"] = "enterprise_role"
	}
	phone, perr := account.NormalizePhone(f.Phone)
	if perr != nil {
		fields["phone"] = "phone_format"
	}
	name := strings.TrimSpace(f.RealName)
	if name == "" {
		fields["real_name"] = "real_name_required"
	}
	labels, lerr := s.cleanLabels(f.Role, f.Labels)
	if lerr != nil {
		fields["labels"] = "enterprise_label_unknown"
	}
	until, verr := s.parseValidUntil(f.ValidUntil)
	if verr != nil {
		fields["valid_until"] = "enterprise_valid_until"
	}
	if err := fields.Err(); err != nil {
		return err
	}
	if !mayGrant(m.Role, f.Role) {
		return errForbidden
	}
	if s.d.Limiter != nil {
		wait, err := s.d.Limiter.Allow(ctx, s.now(),
			ratelimit.Rule{Key: "enterprise-grant:" + userID, Limit: GrantsPerGranter, Window: GrantWindow},
			ratelimit.Rule{Key: "enterprise-grant-uscc:" + uscc, Limit: GrantsPerEnterprise, Window: GrantWindow})
		if err != nil {
			return problem.Wrap(err)
		}
		if wait > 0 {
			return &problem.Problem{Kind: problem.TooMany, Code: "enterprise_grant_rate_limited", RetryAfter: wait}
		}
	}
	e := o.Entry(ActionGranted, audit.ResultOK)
	e.Detail = audit.Detail{"uscc": uscc, "role": f.Role}
	e.Subject = account.MaskPhone(phone)
	// Both paths, match or not, make the same reads and one audited
	// store transaction, and tell the grantee off the request path, so
	// that neither the answer nor its time says whether someone matched.
	grantee, ok := s.grantee(ctx, phone, name)
	if _, err := s.d.Store.GetEnterpriseMember(ctx, uscc, grantee); err == nil {
		ok = false // a member already: their role changes by revoking first
	}
	now := s.now()
	var pending *store.EnterpriseGrant
	gs, err := s.d.Store.ListUserGrants(ctx, grantee, now)
	if err != nil {
		return problem.Wrap(err)
	}
	for i := range gs {
		if gs[i].USCC == uscc {
			pending = &gs[i]
		}
	}
	change := store.EnterpriseChange{}
	if ok {
		g := store.EnterpriseGrant{ID: newID(), USCC: uscc, UserID: grantee, Role: f.Role, Labels: labels, ValidUntil: until,
			GrantedBy: userID, CreatedAt: now, ExpiresAt: now.Add(s.o.GrantTTL)}
		if pending != nil {
			// A repeat replaces the pending grant under a new ID, so that
			// an accept of what the person saw before cannot take on new
			// terms; they were told of it already.
			e.Detail["refreshed"] = "1"
		}
		e.Detail["grant"], e.Detail["user"] = g.ID, grantee
		change.Grant = &g
	} else {
		e.Result = "no_match"
	}
	if err := s.d.Store.ChangeEnterprise(ctx, change, s.d.Audit.Event(e), audit.Hash); err != nil {
		return problem.Wrap(err)
	}
	if ok && pending == nil && s.firstNotice(ctx, uscc, grantee) {
		params := map[string]string{"uscc": uscc, "name": en.Name, "role": f.Role}
		tctx := context.WithoutCancel(ctx)
		s.telling.Go(func() { s.tell(tctx, grantee, EventGrant, params) })
	}
	return nil
}

// grantee returns the open account with the phone whose real name is name.
func (s *Service) grantee(ctx context.Context, phone, name string) (string, bool) {
	u, err := s.d.Store.GetUserByPhone(ctx, s.d.Protector.Index(account.FieldPhone, phone))
	if err != nil || u.Status == store.UserClosed {
		return "", false
	}
	return u.ID, s.realName(u) == name && name != ""
}

// grant returns the user's pending grant id.
func (s *Service) grant(ctx context.Context, userID, id string) (store.EnterpriseGrant, error) {
	g, err := s.d.Store.GetEnterpriseGrant(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && (g.UserID != userID || !g.ExpiresAt.After(s.now())) {
		return g, problem.New(problem.NotFound, "enterprise_grant_not_found")
	}
	if err != nil {
		return g, problem.Wrap(err)
	}
	return g, nil
}

// AcceptGrant makes the user's pending grant a membership, when its
// granter still holds, in the same transaction, a live role that may
// grant it; otherwise the grant is not found.
func (s *Service) AcceptGrant(ctx context.Context, userID, id string, o audit.Origin) (Membership, error) {
	g, err := s.grant(ctx, userID, id)
	if err != nil {
		return Membership{}, err
	}
	e := o.Entry(ActionGrantAccepted, audit.ResultOK)
	e.Detail = audit.Detail{"uscc": g.USCC, "grant": g.ID, "role": g.Role, "granted_by": g.GrantedBy}
	// The granter must still hold a role that may grant this one: a
	// grant outlives neither their role nor their membership.
	err = s.d.Store.ChangeEnterprise(ctx, store.EnterpriseChange{
		Granter:      &store.GranterCheck{USCC: g.USCC, UserID: g.GrantedBy, Roles: granterRoles(g.Role), Now: s.now()},
		DeleteGrants: []string{g.ID},
		PutMembers: []store.EnterpriseMember{{USCC: g.USCC, UserID: userID, Role: g.Role, Labels: g.Labels, ValidUntil: g.ValidUntil,
			GrantedBy: g.GrantedBy, CreatedAt: s.now()}}, KeepMembers: true}, s.d.Audit.Event(e), audit.Hash)
	if errors.Is(err, store.ErrNotFound) {
		return Membership{}, problem.New(problem.NotFound, "enterprise_grant_not_found")
	}
	if err != nil {
		return Membership{}, problem.Wrap(err)
	}
	return s.Acting(ctx, userID, g.USCC)
}

// DeclineGrant drops the user's pending grant.
func (s *Service) DeclineGrant(ctx context.Context, userID, id string, o audit.Origin) error {
	g, err := s.grant(ctx, userID, id)
	if err != nil {
		return err
	}
	e := o.Entry(ActionGrantDeclined, audit.ResultOK)
	e.Detail = audit.Detail{"uscc": g.USCC, "grant": g.ID}
	err = s.d.Store.ChangeEnterprise(ctx, store.EnterpriseChange{DeleteGrants: []string{g.ID}}, s.d.Audit.Event(e), audit.Hash)
	if errors.Is(err, store.ErrNotFound) {
		return problem.New(problem.NotFound, "enterprise_grant_not_found")
	}
	if err != nil {
		return problem.Wrap(err)
	}
	return nil
}

// WithdrawGrant drops a pending grant of uscc before it is answered, by
// the legal representative or an admin who may grant its role (an admin
// withdraws handler grants).
func (s *Service) WithdrawGrant(ctx context.Context, userID, uscc, id string, o audit.Origin) error {
	uscc, err := ParseUSCC(uscc)
	if err != nil {
		return errNotMember
	}
	m, _, err := s.member(ctx, userID, uscc)
	if err != nil {
		return err
	}
	if !AtLeast(m.Role, RoleAdmin) {
		return errForbidden
	}
	g, err := s.d.Store.GetEnterpriseGrant(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && g.USCC != uscc {
		return problem.New(problem.NotFound, "enterprise_grant_not_found")
	}
	if err != nil {
		return problem.Wrap(err)
	}
	if !mayGrant(m.Role, g.Role) {
		return errForbidden
	}
	e := o.Entry(ActionGrantWithdrawn, audit.ResultOK)
	e.Detail = audit.Detail{"uscc": uscc, "grant": g.ID, "role": g.Role, "user": g.UserID}
	err = s.d.Store.ChangeEnterprise(ctx, store.EnterpriseChange{DeleteGrants: []string{g.ID}}, s.d.Audit.Event(e), audit.Hash)
	if errors.Is(err, store.ErrNotFound) {
		return problem.New(problem.NotFound, "enterprise_grant_not_found")
	}
	if err != nil {
		return problem.Wrap(err)
	}
	return nil
}

// Apply files a handler application (企业办事申请授权) to uscc; the name
// must be the enterprise's as unid knows it.
func (s *Service) Apply(ctx context.Context, userID, uscc, name, reason string, o audit.Origin) (MyApplication, error) {
	uscc, err := ParseUSCC(uscc)
	if err != nil {
		return MyApplication{}, err
	}
	if reason, err = review.CleanReason(reason, true); err != nil {
		return MyApplication{}, err
	}
	en, err := s.d.Store.GetEnterprise(ctx, uscc)
	if errors.Is(err, store.ErrNotFound) || err == nil && !sameName(name, en.Name) {
		return MyApplication{}, problem.Field("name", "enterprise_name_mismatch")
	}
	if err != nil {
		return MyApplication{}, problem.Wrap(err)
	}
	if en.Status != StatusActive {
		return MyApplication{}, problem.New(problem.Conflict, "enterprise_deregistered")
	}
	if _, err := s.d.Store.GetEnterpriseMember(ctx, uscc, userID); err == nil {
		return MyApplication{}, problem.New(problem.Conflict, "enterprise_member_already")
	}
	now := s.now()
	a := store.EnterpriseApplication{ID: newID(), USCC: uscc, UserID: userID, Reason: reason, State: StatePending, CreatedAt: now, ExpiresAt: now.Add(s.o.ApplicationTTL)}
	e := o.Entry(ActionApplied, audit.ResultOK)
	e.Detail = audit.Detail{"uscc": uscc, "application": a.ID}
	err = s.d.Store.ChangeEnterprise(ctx, store.EnterpriseChange{Application: &a}, s.d.Audit.Event(e), audit.Hash)
	var ce *store.ConflictError
	if errors.As(err, &ce) && ce.Field == "application_pending" {
		return MyApplication{}, problem.New(problem.Conflict, "enterprise_application_pending")
	}
	if err != nil {
		return MyApplication{}, problem.Wrap(err)
	}
	return MyApplication{ID: a.ID, USCC: uscc, Name: en.Name, State: a.State, Reason: a.Reason, CreatedAt: a.CreatedAt}, nil
}

// DecideApplication approves or rejects a pending application to uscc,
// by its legal representative or an admin, with a reason: approving
// writes the handler membership (with labels), closes the application and
// appends the audit event in one transaction. The applicant is told.
func (s *Service) DecideApplication(ctx context.Context, userID, uscc, id string, approve bool, reason string, labels []string, o audit.Origin) (MyApplication, error) {
	uscc, err := ParseUSCC(uscc)
	if err != nil {
		return MyApplication{}, errNotMember
	}
	m, en, err := s.member(ctx, userID, uscc)
	if err != nil {
		return MyApplication{}, err
	}
	if !AtLeast(m.Role, RoleAdmin) {
		return MyApplication{}, errForbidden
	}
	if reason, err = review.CleanReason(reason, !approve); err != nil {
		return MyApplication{}, err
	}
	if !approve {
		labels = nil
	}
	labels, err = s.cleanLabels(RoleHandler, labels)
	if err != nil {
		return MyApplication{}, err
	}
	a, err := s.d.Store.GetEnterpriseApplication(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && a.USCC != uscc {
		return MyApplication{}, problem.New(problem.NotFound, "enterprise_application_not_found")
	}
	if err != nil {
		return MyApplication{}, problem.Wrap(err)
	}
	now := s.now()
	state, event := StateRejected, EventApplicationRejected
	if approve {
		state, event = StateApproved, EventApplicationApproved
	}
	change := store.EnterpriseChange{ApplicationDecision: &store.EnterpriseDecision{ID: a.ID, State: state, DecidedAt: now, DecidedBy: userID, Reason: reason}}
	if approve {
		change.PutMembers = []store.EnterpriseMember{{USCC: uscc, UserID: a.UserID, Role: RoleHandler, Labels: labels, GrantedBy: userID, CreatedAt: now}}
		change.KeepMembers = true
	}
	e := o.Entry(ActionApplicationDecided, state)
	e.Detail = audit.Detail{"uscc": uscc, "application": a.ID, "user": a.UserID, "reason": reason}
	err = s.d.Store.ChangeEnterprise(ctx, change, s.d.Audit.Event(e), audit.Hash)
	if errors.Is(err, store.ErrConflict) {
		return MyApplication{}, problem.New(problem.Conflict, "enterprise_application_decided")
	}
	if err != nil {
		return MyApplication{}, problem.Wrap(err)
	}
	s.tell(ctx, a.UserID, event, map[string]string{"uscc": uscc, "name": en.Name, "role": RoleHandler})
	return MyApplication{ID: a.ID, USCC: uscc, Name: en.Name, State: state, Reason: a.Reason, CreatedAt: a.CreatedAt, DecidedAt: now, DecisionReason: reason}, nil
}

// Revoke ends memberID's role in uscc: the legal representative revokes
// admins and handlers, an admin handlers; the legal representative's own
// role ends only by unbinding. The member is told.
func (s *Service) Revoke(ctx context.Context, userID, uscc, memberID string, o audit.Origin) error {
	uscc, err := ParseUSCC(uscc)
	if err != nil {
		return errNotMember
	}
	m, en, err := s.member(ctx, userID, uscc)
	if err != nil {
		return err
	}
	t, err := s.d.Store.GetEnterpriseMember(ctx, uscc, memberID)
	if errors.Is(err, store.ErrNotFound) {
		if AtLeast(m.Role, RoleAdmin) {
			return problem.New(problem.NotFound, "enterprise_member_not_found")
		}
		return errForbidden
	}
	if err != nil {
		return problem.Wrap(err)
	}
	if memberID == userID || !mayGrant(m.Role, t.Role) {
		return errForbidden
	}
	e := o.Entry(ActionRevoked, audit.ResultOK)
	e.Detail = audit.Detail{"uscc": uscc, "user": memberID, "role": t.Role}
	err = s.d.Store.ChangeEnterprise(ctx, store.EnterpriseChange{RemoveMembers: []store.MemberKey{{USCC: uscc, UserID: memberID}}}, s.d.Audit.Event(e), audit.Hash)
	if errors.Is(err, store.ErrNotFound) {
		return problem.New(problem.NotFound, "enterprise_member_not_found")
	}
	if err != nil {
		return problem.Wrap(err)
	}
	s.tell(ctx, memberID, EventRoleRevoked, map[string]string{"uscc": uscc, "name": en.Name, "role": t.Role})
	return nil
}

// Leave ends the user's own role in uscc; a legal representative unbinds
// instead (enterprise_legal_rep_leave).
func (s *Service) Leave(ctx context.Context, userID, uscc string, o audit.Origin) error {
	uscc, err := ParseUSCC(uscc)
	if err != nil {
		return errNotMember
	}
	m, err := s.d.Store.GetEnterpriseMember(ctx, uscc, userID)
	if errors.Is(err, store.ErrNotFound) {
		return errNotMember
	}
	if err != nil {
		return problem.Wrap(err)
	}
	if m.Role == RoleLegalRep {
		return problem.New(problem.Conflict, "enterprise_legal_rep_leave")
	}
	e := o.Entry(ActionLeft, audit.ResultOK)
	e.Detail = audit.Detail{"uscc": uscc, "role": m.Role}
	err = s.d.Store.ChangeEnterprise(ctx, store.EnterpriseChange{RemoveMembers: []store.MemberKey{{USCC: uscc, UserID: userID}}}, s.d.Audit.Event(e), audit.Hash)
	if errors.Is(err, store.ErrNotFound) {
		return errNotMember
	}
	if err != nil {
		return problem.Wrap(err)
	}
	return nil
}

// firstNotice reports whether the person has not been told of a grant of
// uscc within a grant's lifetime: granting, withdrawing and granting again
// must not text someone over and over.
func (s *Service) firstNotice(ctx context.Context, uscc, grantee string) bool {
	if s.d.Limiter == nil {
		return true
	}
	first, err := s.d.Limiter.First(ctx, s.now(), "enterprise:grant-told:"+uscc+":"+grantee, s.o.GrantTTL)
	return err != nil || first
}
