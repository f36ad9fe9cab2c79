package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"unid/internal/audit"
	"unid/internal/notify"
	"unid/internal/problem"
	"unid/internal/ratelimit"
	"unid/internal/session"
	"unid/internal/store"
)

// The security administrator's actions on a citizen's account, from the
// operator console: finding it by what the citizen says on the phone,
// revealing one field, unlocking sign-in, disabling and enabling it,
// signing it out everywhere and texting where to recover the password.
// Each takes a reason and is audited here with the operator as the actor
// and the account as the event's Account, so that the account's history
// shows who did what to it.

// Audit actions of operators on accounts (Detail {reason, …}; Account: the
// citizen). Disabling and enabling keep ActionDisabled and ActionEnabled.
const (
	ActionRevealed     = "account.revealed"      // Detail {field, reason}; never the value
	ActionUnlocked     = "account.unlocked"      // Detail {reason}
	ActionSignedOut    = "account.signed_out"    // Detail {reason, sessions}
	ActionRecoveryHint = "account.recovery_hint" // Subject: the phone, masked; Detail {reason}
	// An operator looked accounts up (Detail {kind, matches}; Account: the
	// first match) or opened one (Account: it): reading a citizen's data
	// is recorded like acting on it.
	ActionSearched = "account.searched"
	ActionViewed   = "account.viewed"
)

// RevealsPerDay is how many fields one operator may reveal in 24 hours; a
// hotline reveals a handful, a loop over accounts is stopped and shows in
// the audit trail.
const RevealsPerDay = 50

// RevealFields are the fields an operator may reveal, as the API names them.
var RevealFields = []string{FieldPhone, FieldIDNumber, FieldEmail, FieldRealName}

// Locks are the sign-in locks of accounts (*login.Service).
type Locks interface {
	// ClearLock lifts every lock of the account and forgets its failures,
	// from every network.
	ClearLock(ctx context.Context, userID string) error
}

// Texter sends a text someone asked for now, within the per-phone limits
// of codes, refusing over them (*smscode.Service).
type Texter interface {
	SendRequested(ctx context.Context, m notify.SMS) error
}

// Desk is the operators' side of the account service.
type Desk struct {
	s       *Service
	locks   Locks
	texts   Texter
	reveals *ratelimit.Limiter
}

// NewDesk returns the operators' actions on the accounts of s; locks and
// texts may be nil, which answers operator_feature_unavailable for
// unlocking and texting. counters keep each operator's reveals of the
// day, shared by every instance.
func NewDesk(s *Service, locks Locks, texts Texter, counters store.Counters) *Desk {
	return &Desk{s: s, locks: locks, texts: texts, reveals: ratelimit.New(counters)}
}

// Viewed records that the operator by opened the account userID, before
// they are shown it; an error (the log cannot be written) shows nothing.
func (d *Desk) Viewed(ctx context.Context, userID string, by audit.Origin) error {
	e := by.Entry(ActionViewed, audit.ResultOK)
	e.Account = userID
	if err := d.s.audit.Record(ctx, e); err != nil {
		return problem.Wrap(err)
	}
	return nil
}

// Find returns the accounts q names exactly: a login name, a phone
// number, a verified ID number, an e-mail address (each normalised as
// sign-in does and looked up through its blind index) or an account ID —
// at most one of each kind, closed accounts included. Personal data is
// stored encrypted, so nothing can be found by a part of it.
//
// The search is recorded with the kind of identifier, never the value,
// before the matches are shown.
func (d *Desk) Find(ctx context.Context, q string, by audit.Origin) ([]store.User, error) {
	q = strings.TrimSpace(foldWidth(q))
	if q == "" {
		return nil, problem.Field("q", "citizen_query_required")
	}
	st, prot := d.s.st, d.s.prot
	var lookups []func() (store.User, error)
	lookups = append(lookups, func() (store.User, error) { return st.GetUser(ctx, q) })
	if e, err := NormalizeEmail(q); err == nil && strings.Contains(q, "@") {
		lookups = append(lookups, func() (store.User, error) { return st.GetUserByEmail(ctx, prot.Index(FieldEmail, e)) })
	}
	switch kind, ident := Recognize(q); kind {
	case KindPhone:
		lookups = append(lookups, func() (store.User, error) { return st.GetUserByPhone(ctx, prot.Index(FieldPhone, ident)) })
	case KindIDNumber:
		lookups = append(lookups, func() (store.User, error) {
			return st.GetUserByVerifiedIDNumber(ctx, prot.Index(FieldIDNumber, ident))
		})
	case KindLoginName:
		lookups = append(lookups, func() (store.User, error) { return st.GetUserByLoginName(ctx, LoginNameKey(ident)) })
	}
	var out []store.User
	seen := map[string]bool{}
	for _, get := range lookups {
		u, err := get()
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, problem.Wrap(fmt.Errorf("account: find for an operator: %w", err))
		}
		if !seen[u.ID] {
			seen[u.ID] = true
			out = append(out, u)
		}
	}
	kind, _ := Recognize(q)
	kindName := kind.String()
	if strings.Contains(q, "@") {
		kindName = "email"
	}
	e := by.Entry(ActionSearched, audit.ResultOK)
	e.Detail = audit.Detail{"kind": kindName, "matches": fmt.Sprint(len(out))}
	if len(out) > 0 {
		e.Account = out[0].ID
	}
	if err := d.s.audit.Record(ctx, e); err != nil {
		return nil, problem.Wrap(err)
	}
	return out, nil
}

// Reveal opens one field of the account for the operator, who gave
// reason. The event names the field, never the value. A field the account
// does not hold is citizen_field_empty, and nothing is audited.
func (d *Desk) Reveal(ctx context.Context, userID, field, reason string, by audit.Origin) (string, error) {
	var sealed func(store.User) store.Sealed
	switch field {
	case FieldPhone:
		sealed = func(u store.User) store.Sealed { return u.Phone }
	case FieldIDNumber:
		sealed = func(u store.User) store.Sealed { return u.IDNumber }
	case FieldEmail:
		sealed = func(u store.User) store.Sealed { return u.Email }
	case FieldRealName:
		sealed = func(u store.User) store.Sealed { return u.RealName }
	default:
		return "", problem.Field("field", "citizen_field_unknown")
	}
	u, err := d.s.get(ctx, userID)
	if err != nil {
		return "", err
	}
	if sealed(u).Empty() {
		return "", problem.Field("field", "citizen_field_empty")
	}
	v, err := d.s.prot.Open(field, sealed(u))
	if err != nil {
		return "", problem.Wrap(err)
	}
	wait, err := d.reveals.Allow(ctx, d.s.now(), ratelimit.Rule{Key: "reveal:" + by.Actor.String(), Limit: RevealsPerDay, Window: 24 * time.Hour})
	if err != nil {
		return "", problem.Wrap(err)
	}
	if wait > 0 {
		return "", &problem.Problem{Kind: problem.TooMany, Code: "citizen_reveal_limit", RetryAfter: wait}
	}
	// Recorded before it is shown: a reveal the log cannot hold shows
	// nothing.
	if err := d.s.audit.Record(ctx, d.entry(ActionRevealed, u.ID, by, reason, audit.Detail{"field": field})); err != nil {
		return "", problem.Wrap(err)
	}
	return v, nil
}

// Unlock lifts every sign-in lock of the account, from every network, so
// that the owner can sign in at once.
func (d *Desk) Unlock(ctx context.Context, userID, reason string, by audit.Origin) error {
	if d.locks == nil {
		return problem.New(problem.Unavailable, "operator_feature_unavailable")
	}
	u, err := d.open(ctx, userID)
	if err != nil {
		return err
	}
	if err := d.locks.ClearLock(ctx, u.ID); err != nil {
		return err
	}
	d.record(ctx, ActionUnlocked, u.ID, by, reason, nil)
	return nil
}

// Disable stops the account from signing in, ends every session and grant
// it has and tells the service systems it was signed in to. A closed
// account cannot be changed (citizen_closed).
func (d *Desk) Disable(ctx context.Context, userID, reason string, by audit.Origin) error {
	if err := d.setStatus(ctx, userID, store.UserDisabled, ActionDisabled, reason, by); err != nil {
		return err
	}
	return d.s.endAccess(ctx, userID, d.s.now().UTC().Truncate(time.Millisecond), session.ViaAccountDisabled)
}

// Enable lets a disabled account sign in again.
func (d *Desk) Enable(ctx context.Context, userID, reason string, by audit.Origin) error {
	return d.setStatus(ctx, userID, store.UserActive, ActionEnabled, reason, by)
}

func (d *Desk) setStatus(ctx context.Context, userID, status, action, reason string, by audit.Origin) error {
	if _, err := d.open(ctx, userID); err != nil {
		return err
	}
	now := d.s.now().UTC().Truncate(time.Millisecond)
	_, err := d.s.st.UpdateUser(ctx, userID, func(old store.User) (store.User, error) {
		if old.Status == store.UserClosed {
			return old, errClosed
		}
		old.Status = status
		old.UpdatedAt = now
		return old, nil
	})
	if errors.Is(err, errClosed) {
		return err
	}
	if err != nil {
		return d.s.storeProblem("set status", err)
	}
	d.record(ctx, action, userID, by, reason, nil)
	return nil
}

// SignOut ends every session of the account and every grant, telling the
// service systems the sessions signed in to, and returns how many
// sessions ended.
func (d *Desk) SignOut(ctx context.Context, userID, reason string, by audit.Origin) (int, error) {
	u, err := d.open(ctx, userID)
	if err != nil {
		return 0, err
	}
	ctx, cancel := session.Detach(ctx) // begun, it finishes and is recorded whoever hangs up
	defer cancel()
	n, err := d.s.endSessions(ctx, u.ID, "", d.s.now().UTC().Truncate(time.Millisecond), session.ViaOperator)
	detail := audit.Detail{"sessions": fmt.Sprint(n)}
	if err != nil {
		// Part of it happened (the sessions taken are gone): the record
		// says so, and the operator sees the failure.
		detail["incomplete"] = "true"
	}
	d.record(ctx, ActionSignedOut, u.ID, by, reason, detail)
	return n, err
}

// SendRecoveryHint texts the account's phone where to recover the
// password, within the phone's limits for codes (sms_rate_limited over
// them, nothing sent). An account without a phone is citizen_no_phone.
func (d *Desk) SendRecoveryHint(ctx context.Context, userID, reason string, by audit.Origin) error {
	if d.texts == nil {
		return problem.New(problem.Unavailable, "operator_feature_unavailable")
	}
	u, err := d.open(ctx, userID)
	if err != nil {
		return err
	}
	if u.Phone.Empty() {
		return problem.New(problem.Conflict, "citizen_no_phone")
	}
	phone, err := d.s.prot.Open(FieldPhone, u.Phone)
	if err != nil {
		return problem.Wrap(err)
	}
	if err := d.texts.SendRequested(ctx, notify.SMS{Phone: phone, Template: notify.TemplateRecoveryHint, Params: map[string]string{}}); err != nil {
		return err
	}
	e := d.entry(ActionRecoveryHint, u.ID, by, reason, nil)
	e.Subject = MaskPhone(phone)
	d.s.audit.Append(ctx, e)
	return nil
}

// errClosed is the answer to a change of a closed account.
var errClosed = problem.New(problem.Conflict, "citizen_closed")

// open returns the account, which must exist and not be closed.
func (d *Desk) open(ctx context.Context, userID string) (store.User, error) {
	u, err := d.s.get(ctx, userID)
	if err != nil {
		return store.User{}, err
	}
	if u.Status == store.UserClosed {
		return store.User{}, errClosed
	}
	return u, nil
}

// entry is the event of an operator's action on the account userID.
func (d *Desk) entry(action, userID string, by audit.Origin, reason string, detail audit.Detail) audit.Entry {
	if detail == nil {
		detail = audit.Detail{}
	}
	detail["reason"] = strings.ToValidUTF8(reason, "")
	e := by.Entry(action, audit.ResultOK)
	e.Account, e.Detail = userID, detail
	return e
}

func (d *Desk) record(ctx context.Context, action, userID string, by audit.Origin, reason string, detail audit.Detail) {
	d.s.audit.Append(ctx, d.entry(action, userID, by, reason, detail))
}
