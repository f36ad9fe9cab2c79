package enterprise

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/problem"
	"unid/internal/ratelimit"
	"unid/internal/smscode"
	"unid/internal/store"
)

// Roles, strongest first.
const (
	RoleLegalRep = "legal_rep"
	RoleAdmin    = "admin"
	RoleHandler  = "handler"
)

// Registry statuses.
const (
	StatusActive       = "active"       // 存续
	StatusRevoked      = "revoked"      // 吊销
	StatusDeregistered = "deregistered" // 注销
	// StatusUnknown is an enterprise the registry did not know at the
	// last check; like revoked and deregistered, nobody acts for it.
	StatusUnknown = "unknown"
)

// Application states.
const (
	StatePending  = "pending"
	StateApproved = "approved"
	StateRejected = "rejected"
	StateExpired  = "expired"
)

// Events the citizen is told of, through Deps.Tell; params hold "uscc",
// "name" (the enterprise's) and, where there is one, "role" and "reason".
const (
	EventGrant               = "enterprise.grant"
	EventApplicationApproved = "enterprise.application_approved"
	EventApplicationRejected = "enterprise.application_rejected"
	EventAppealApproved      = "enterprise.appeal_approved"
	EventAppealRejected      = "enterprise.appeal_rejected"
	EventRoleRevoked         = "enterprise.role_revoked"
	EventUnbound             = "enterprise.unbound"
)

// Audit actions.
const (
	ActionBound              = "enterprise.bound"               // Detail {uscc} ; refused: {uscc, why}
	ActionAppealed           = "enterprise.appealed"            // Detail {uscc, item, reference}
	ActionGranted            = "enterprise.granted"             // Detail {uscc, role, grant, user}; no match: result "no_match"
	ActionGrantAccepted      = "enterprise.grant_accepted"      // Detail {uscc, grant, role}
	ActionGrantDeclined      = "enterprise.grant_declined"      // Detail {uscc, grant}
	ActionGrantWithdrawn     = "enterprise.grant_withdrawn"     // Detail {uscc, grant, role, user}
	ActionApplied            = "enterprise.applied"             // Detail {uscc, application}
	ActionApplicationDecided = "enterprise.application_decided" // result approved|rejected; Detail {uscc, application, user, reason}
	ActionRevoked            = "enterprise.member_revoked"      // Detail {uscc, user, role}
	ActionLeft               = "enterprise.member_left"         // Detail {uscc, role}
	ActionUnbound            = "enterprise.unbound"             // Detail {uscc, members}
	ActionDefaultSet         = "enterprise.default_set"         // Detail {uscc}
	ActionImported           = "enterprise.imported"            // Detail {uscc, user}
	ActionLegalRepLost       = "enterprise.legal_rep_lost"      // by the system: Detail {uscc, user}
	ActionRechecked          = "enterprise.rechecked"           // by the system: Detail {uscc, why: the registry status or "unknown"}
	ActionReviewOpened       = "review.opened"                  // Detail {item, kind, user}
	ActionReviewFile         = "review.file_opened"             // Detail {item, file, user}
	ActionReviewDecided      = "review.decided"                 // result approved|rejected
)

// KindAppealItem is the review item kind of an appeal with the business licence.
const KindAppealItem = "enterprise.appeal"

// Defaults of Options.
const (
	DefaultBindMinLevel   = 1
	DefaultGrantTTL       = 7 * 24 * time.Hour
	DefaultApplicationTTL = 30 * 24 * time.Hour
	DefaultLabels         = "财务,人事,业务"
	// RecheckEvery is how long a registry answer stands before Acting asks again.
	RecheckEvery = time.Hour
	// RecheckTimeout bounds the registry call a sign-in waits for.
	RecheckTimeout = 3 * time.Second
	// GrantsPerGranter and GrantsPerEnterprise bound the grants (matched
	// or not) one person, and all members of one enterprise, send per
	// GrantWindow: each may text someone.
	GrantsPerGranter    = 20
	GrantsPerEnterprise = 100
	GrantWindow         = time.Hour
	// MaxUpload bounds the business licence upload.
	MaxUpload = 5 << 20
)

// Membership is one person's role in one enterprise, as SSO and pages see it.
type Membership struct {
	USCC       string    `json:"uscc"`
	Name       string    `json:"name"` // enterprise name
	Role       string    `json:"role"`
	Labels     []string  `json:"labels,omitempty"` // permission labels (财务, 人事 …) on a handler
	Default    bool      `json:"default"`
	ValidUntil time.Time `json:"valid_until,omitzero"`
	Status     string    `json:"status"` // the enterprise's registry status
}

// Store is what the service keeps.
type Store interface {
	store.Users
	store.Realname
	store.Enterprises
}

// Options configure the service.
type Options struct {
	BindMinLevel   int           // real-name level a legal rep needs to bind; DefaultBindMinLevel when 0
	GrantTTL       time.Duration // how long a grant waits to be accepted
	ApplicationTTL time.Duration // how long an application waits for a decision
	Labels         []string      // permission labels a handler may carry
}

// ParseLabels splits the configured labels "财务,人事,业务".
func ParseLabels(s string) []string {
	var out []string
	for _, l := range strings.Split(s, ",") {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// Deps are the parts the service works with.
type Deps struct {
	Store     Store
	Registry  Registry // None when nil
	Protector *account.Protector
	Audit     *audit.Log
	// Tell tells a citizen of event (the Event constants) after it
	// happened; the app wires it to a message and an SMS. May be nil.
	Tell func(ctx context.Context, userID, event string, params map[string]string)
	// Codes sends and checks the SMS code that unbinding an enterprise
	// asks of the legal representative (with a recent password); without
	// it no code is asked.
	Codes Codes
	// Limiter bounds grants per granter and per enterprise; none when nil.
	Limiter *ratelimit.Limiter
	Logger  *slog.Logger
	Now     func() time.Time
	Options Options
}

// Codes are SMS codes (smscode.Service).
type Codes interface {
	SendFor(ctx context.Context, purpose, phone string, by audit.Origin) (smscode.Sent, error)
	Verify(ctx context.Context, purpose, phone, code string) error
}

// PurposeUnbind is the SMS code purpose of unbinding an enterprise.
const PurposeUnbind = "enterprise_unbind"

// Service is the enterprise space.
type Service struct {
	d Deps
	o Options

	mu    sync.Mutex
	tried map[string]time.Time // last recheck at sign-in, by credit code

	telling sync.WaitGroup // notices sent off the request path
}

// Wait returns when every notice sent off the request path has been
// handed over; unid waits for it before it exits.
func (s *Service) Wait() { s.telling.Wait() }

// New returns the service of d.
func New(d Deps) *Service {
	o := d.Options
	if o.BindMinLevel <= 0 {
		o.BindMinLevel = DefaultBindMinLevel
	}
	if o.GrantTTL <= 0 {
		o.GrantTTL = DefaultGrantTTL
	}
	if o.ApplicationTTL <= 0 {
		o.ApplicationTTL = DefaultApplicationTTL
	}
	if o.Labels == nil {
		o.Labels = ParseLabels(DefaultLabels)
	}
	if d.Registry == nil {
		d.Registry = None{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{d: d, o: o, tried: map[string]time.Time{}}
}

// Labels returns the permission labels a handler may carry.
func (s *Service) Labels() []string { return slices.Clone(s.o.Labels) }

func (s *Service) now() time.Time { return s.d.Now().UTC().Truncate(time.Millisecond) }

var (
	errNotMember = problem.New(problem.NotFound, "enterprise_not_member")
	errForbidden = problem.New(problem.Forbidden, "enterprise_forbidden")
)

// live reports whether m may be acted with at now.
func live(m store.EnterpriseMember, e store.Enterprise, now time.Time) bool {
	return (m.ValidUntil.IsZero() || m.ValidUntil.After(now)) && e.Status == StatusActive
}

func membershipOf(m store.EnterpriseMember, e store.Enterprise) Membership {
	return Membership{USCC: m.USCC, Name: e.Name, Role: m.Role, Labels: m.Labels, Default: m.Default, ValidUntil: m.ValidUntil, Status: e.Status}
}

// Memberships returns the user's live memberships: not expired, the
// enterprise not deregistered or revoked; default first.
func (s *Service) Memberships(ctx context.Context, userID string) ([]Membership, error) {
	ms, err := s.d.Store.ListUserMemberships(ctx, userID)
	if err != nil {
		return nil, problem.Wrap(err)
	}
	now := s.now()
	out := []Membership{}
	for _, m := range ms {
		e, err := s.d.Store.GetEnterprise(ctx, m.USCC)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			return nil, problem.Wrap(err)
		}
		if live(m, e, now) {
			out = append(out, membershipOf(m, e))
		}
	}
	return out, nil
}

// Acting returns the user's live membership of uscc, or problem NotFound
// "enterprise_not_member". Every enterprise, whether bound, imported or
// created by an appeal, is checked in the registry again when the last
// check is older than RecheckEvery (never checked: at once), at most
// RecheckTimeout long (a registry that cannot be reached keeps the
// roles): a legal representative the registry no longer names, or an
// enterprise now revoked, deregistered or unknown to it, is not acted for.
func (s *Service) Acting(ctx context.Context, userID, uscc string) (Membership, error) {
	m, e, err := s.member(ctx, userID, uscc)
	stale := s.now().Sub(e.CheckedAt) > RecheckEvery
	// An enterprise the registry did not know at its last check is asked
	// again like any other: a registry's passing gap must not keep its
	// members out until the daily recheck.
	if err != nil && !(errors.Is(err, errNotMember) && m.UserID != "" && e.Status == StatusUnknown && stale) {
		return Membership{}, err
	}
	if !stale || !s.tryRecheck(uscc) {
		if err != nil {
			return Membership{}, err
		}
		return membershipOf(m, e), nil
	}
	rctx, cancel := context.WithTimeout(ctx, RecheckTimeout)
	err = s.Recheck(rctx, uscc)
	cancel()
	if err != nil {
		s.d.Logger.WarnContext(ctx, "enterprise recheck at sign-in", "uscc", uscc, "err", err)
	}
	if m, e, err = s.member(ctx, userID, uscc); err != nil {
		return Membership{}, err
	}
	return membershipOf(m, e), nil
}

// tryRecheck reports whether a sign-in may ask the registry about uscc
// now: at most once per RecheckEvery, whatever the outcome, so that a
// registry that is down slows one sign-in an hour, not every one.
func (s *Service) tryRecheck(uscc string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if t, ok := s.tried[uscc]; ok && now.Sub(t) < RecheckEvery {
		return false
	}
	if len(s.tried) > 10000 {
		clear(s.tried)
	}
	s.tried[uscc] = now
	return true
}

// member returns the user's live membership of uscc and the enterprise.
func (s *Service) member(ctx context.Context, userID, uscc string) (store.EnterpriseMember, store.Enterprise, error) {
	m, err := s.d.Store.GetEnterpriseMember(ctx, uscc, userID)
	if errors.Is(err, store.ErrNotFound) {
		return m, store.Enterprise{}, errNotMember
	}
	if err != nil {
		return m, store.Enterprise{}, problem.Wrap(err)
	}
	e, err := s.d.Store.GetEnterprise(ctx, uscc)
	if errors.Is(err, store.ErrNotFound) {
		return m, e, errNotMember
	}
	if err != nil {
		return m, e, problem.Wrap(err)
	}
	if !live(m, e, s.now()) {
		return m, e, errNotMember
	}
	return m, e, nil
}

// SetDefault makes uscc the user's default enterprise ("" clears it).
func (s *Service) SetDefault(ctx context.Context, userID, uscc string, o audit.Origin) error {
	if uscc != "" {
		var err error
		if uscc, err = ParseUSCC(uscc); err != nil {
			return err
		}
		if _, _, err := s.member(ctx, userID, uscc); err != nil {
			return err
		}
	}
	e := o.Entry(ActionDefaultSet, audit.ResultOK)
	e.Detail = audit.Detail{"uscc": uscc, "user": userID}
	err := s.d.Store.SetDefaultEnterprise(ctx, userID, uscc, s.d.Audit.Event(e), audit.Hash)
	if errors.Is(err, store.ErrNotFound) {
		return errNotMember
	}
	if err != nil {
		return problem.Wrap(err)
	}
	return nil
}

// ImportHandler makes userID a handler of uscc for the legacy import, in
// one store transaction with its audit event, creating the enterprise
// record {uscc, name, active} when unknown, as not yet checked in the
// registry (the first sign-in or the daily recheck asks it). Idempotent:
// an existing membership of any role is left as it is.
func (s *Service) ImportHandler(ctx context.Context, userID, uscc, name string, o audit.Origin) error {
	uscc, err := ParseUSCC(uscc)
	if err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return problem.Field("name", "enterprise_name_required")
	}
	if _, err := s.d.Store.GetEnterpriseMember(ctx, uscc, userID); err == nil {
		return nil // imported before, or a member already: nothing changes, nothing is audited
	} else if !errors.Is(err, store.ErrNotFound) {
		return problem.Wrap(err)
	}
	now := s.now()
	e := o.Entry(ActionImported, audit.ResultOK)
	e.Detail = audit.Detail{"uscc": uscc, "user": userID}
	err = s.d.Store.ChangeEnterprise(ctx, store.EnterpriseChange{
		Enterprise:     &store.Enterprise{USCC: uscc, Name: name, Status: StatusActive, CheckedAt: time.Time{}, CreatedAt: now},
		KeepEnterprise: true,
		PutMembers:     []store.EnterpriseMember{{USCC: uscc, UserID: userID, Role: RoleHandler, CreatedAt: now}},
		KeepMembers:    true,
	}, s.d.Audit.Event(e), audit.Hash)
	if err != nil {
		return problem.Wrap(fmt.Errorf("enterprise: import handler: %w", err))
	}
	return nil
}

// ---- helpers ----

func (s *Service) user(ctx context.Context, userID string) (store.User, error) {
	u, err := s.d.Store.GetUser(ctx, userID)
	if errors.Is(err, store.ErrNotFound) || err == nil && u.Status == store.UserClosed {
		return store.User{}, problem.New(problem.NotFound, "not_found")
	}
	if err != nil {
		return store.User{}, problem.Wrap(err)
	}
	return u, nil
}

// realName returns the user's real name, "" when none.
func (s *Service) realName(u store.User) string {
	if u.RealName.Empty() {
		return ""
	}
	n, err := s.d.Protector.Open(account.FieldRealName, u.RealName)
	if err != nil {
		return ""
	}
	return n
}

// maskedName returns the user's masked real name.
func (s *Service) maskedName(ctx context.Context, userID string) string {
	u, err := s.d.Store.GetUser(ctx, userID)
	if err != nil {
		return ""
	}
	return account.MaskName(s.realName(u))
}

func (s *Service) tell(ctx context.Context, userID, event string, params map[string]string) {
	if s.d.Tell != nil {
		s.d.Tell(ctx, userID, event, params)
	}
}

// sameName compares enterprise names as people type them: spaces and
// the width of brackets do not count.
func sameName(a, b string) bool {
	norm := func(s string) string {
		s = strings.Join(strings.Fields(s), "")
		return strings.NewReplacer("（", "(", "）", ")").Replace(s)
	}
	return norm(a) != "" && norm(a) == norm(b)
}

func newID() string { return strings.ToLower(rand.Text()) }
