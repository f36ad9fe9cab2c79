package account

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"unid/internal/audit"
	"unid/internal/notify"
	"unid/internal/problem"
	"unid/internal/session"
	"unid/internal/store"
)

// Audit actions of the account life cycle.
const (
	ActionPasswordChanged = "account.password_changed"
	ActionDisabled        = "account.disabled"
	ActionEnabled         = "account.enabled"
	ActionEmailChanged    = "account.email_changed"
)

// Store is what the Service keeps accounts in: the accounts, and the two
// kinds of access an account can have outside a password check — browser
// sessions and OpenID Connect grants (with their refresh and access tokens).
type Store interface {
	store.Users
	DeleteUserSessions(ctx context.Context, userID string) (int64, error)
	TakeOtherUserSessions(ctx context.Context, userID, keepSID string) ([]store.Session, error)
	RevokeUserGrants(ctx context.Context, userID string, at time.Time) (int64, error)
	CloseUser(ctx context.Context, userID string, at, releasedAt time.Time, e store.AuditEvent, seal func(store.AuditEvent) []byte) (store.User, error)
	CreateUserWithLink(ctx context.Context, u store.User, l store.UpstreamLink) error
}

// Notifier tells an account's owner, by text message, of a change they
// should know about. notify.SMSSender (the dev Outbox, the HTTP gateway)
// is one.
type Notifier interface {
	SendSMS(ctx context.Context, m notify.SMS) error
}

// EmailNotifier tells an account's owner, by email in the language of
// ctx, of a change they should know about; *notify.Mailer is one.
type EmailNotifier interface {
	Mail(ctx context.Context, to, template string, params map[string]string) error
}

// Sessions ends every browser session of an account and tells the
// service systems they signed in to; *session.Manager is one.
type Sessions interface {
	// EndUser ends every session of the user; how.Revoke runs once they
	// are gone, before the service systems are told.
	EndUser(ctx context.Context, userID string, how session.Logout) (int, error)
	// EndOthers ends every session of the user but keepSID (the browser
	// asking), as EndUser does: "sign out my other devices".
	EndOthers(ctx context.Context, userID, keepSID string, how session.Logout) (int, error)
}

// ServiceDeps are what a Service is built from.
type ServiceDeps struct {
	Store     Store
	Hasher    *Hasher
	Protector *Protector
	Audit     *audit.Log
	Notifier  Notifier      // nil: nobody is told by SMS
	Mailer    EmailNotifier // nil: nobody is told by email
	// Sessions ends sessions with single logout; nil: they are deleted
	// from the store and no service system is told (tests of the service
	// alone).
	Sessions Sessions
	// CoolingOff is how long the phone and verified ID number of a closed
	// account stay barred from a new account; 0: DefaultCoolingOff.
	CoolingOff time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
}

// Service owns the life cycle of an account: finding it by what a person
// types, creating it, changing its password, disabling and enabling it.
// The flows (registration, login, and later the user center, recovery,
// Alipay sign-in and the operator console) call it instead of keeping
// rules of their own.
type Service struct {
	st     Store
	sess   Sessions
	hasher *Hasher
	prot   *Protector
	audit  *audit.Log
	notify Notifier
	mail   EmailNotifier
	cool   time.Duration
	log    *slog.Logger
	now    func() time.Time
}

// NewService returns a Service over d.
func NewService(d ServiceDeps) *Service {
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cool := d.CoolingOff
	if cool <= 0 {
		cool = DefaultCoolingOff
	}
	return &Service{st: d.Store, sess: d.Sessions, hasher: d.Hasher, prot: d.Protector, audit: d.Audit, notify: d.Notifier, mail: d.Mailer, cool: cool, log: log, now: d.Now}
}

// validActor: a change to an account is always made by someone unid knows.
func validActor(a audit.Actor) bool { return a.Valid() && a.Kind != "" }

// Find returns the account a person means by identifier — a login name,
// a phone number or an ID number, recognised by format (Recognize). An ID
// number finds only an account that holds it verified (real-name level 1
// or more): an unverified one proves nothing and may be held by several
// accounts. found is false, with no error, when no account matches; a
// closed account matches nothing (its login name stays reserved, see
// LoginNameTaken, but nobody is found by it).
func (s *Service) Find(ctx context.Context, identifier string) (u store.User, found bool, err error) {
	kind, ident := Recognize(identifier)
	switch kind {
	case KindLoginName:
		u, err = s.st.GetUserByLoginName(ctx, LoginNameKey(ident))
	case KindPhone:
		u, err = s.st.GetUserByPhone(ctx, s.prot.Index(FieldPhone, ident))
	case KindIDNumber:
		u, err = s.st.GetUserByVerifiedIDNumber(ctx, s.prot.Index(FieldIDNumber, ident))
	default:
		return store.User{}, false, nil
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, false, nil
	}
	if err != nil {
		return store.User{}, false, fmt.Errorf("account: find: %w", err)
	}
	if u.Status == store.UserClosed {
		return store.User{}, false, nil
	}
	return u, true, nil
}

// LoginNameTaken reports whether an account has the login name, in any
// case. A closed account keeps it for ever: a login name is public, and
// the audit records of the closed account name it.
func (s *Service) LoginNameTaken(ctx context.Context, loginName string) (bool, error) {
	_, err := s.st.GetUserByLoginName(ctx, LoginNameKey(strings.TrimSpace(loginName)))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("account: login name taken: %w", err)
	}
	return true, nil
}

// Admit is the hasher's Admit (Hasher.Admit) for a request that is going
// to hash a password through s, hashes times: asked before anything the
// request would spend (an SMS code, a recovery step), so that in a burst
// beyond what the cores hash it is told busy and may come back with all of
// it, rather than wait until its browser or the proxy gives up.
func (s *Service) Admit(ctx context.Context, hashes int) (context.Context, func(), error) {
	return s.hasher.Admit(ctx, hashes)
}

// VerifyPassword reports whether password is u's, and whether u's hash
// should be upgraded to the current parameters. A zero u (no account) and
// an account without a password cost one hash verification and answer
// false, exactly like a wrong password, so that neither answer nor timing
// tells them apart.
func (s *Service) VerifyPassword(ctx context.Context, u store.User, password string) (ok, rehash bool, err error) {
	if u.PasswordHash == "" {
		s.hasher.DummyVerify(ctx)
		return false, false, nil
	}
	return s.hasher.Verify(ctx, password, u.PasswordHash)
}

// NewAccount describes an account to create. Values may be as typed: they
// are trimmed and normalised here.
type NewAccount struct {
	LoginName string // required
	Password  string // "" for an account without one (created through Alipay): no password ever signs it in
	Phone     string // optional
	RealName  string // optional, with IDNumber
	IDNumber  string // optional, with RealName; stored unverified (real-name level 0)
	Nickname  string // optional
}

// Create stores a new active account. Every broken field rule is reported
// at once (problem.Invalid); a login name or phone another account holds
// is problem.Conflict login_name_taken or phone_registered, any other
// collision registration_conflict, which names nothing. An ID number is
// never a collision: unverified, it may be held by several accounts.
//
// spend, when not nil, is called once the account has passed every check
// and its password is hashed, just before it is stored: what the account
// is paid with (a registration's SMS code) is used up only when nothing
// but the store can refuse it, and not at all when a field is wrong or
// the hash is given up, nor when ctx has ended before it. Its error is
// returned as it is. From spend on, the work is done on a context
// detached from ctx, so that a caller who hangs up after paying still
// gets the account.
//
// Create records no audit event: its caller knows what happened (a
// registration, an Alipay sign-in) and from where, and records that.
func (s *Service) Create(ctx context.Context, na NewAccount, spend func(context.Context) error) (store.User, error) {
	return s.create(ctx, na, spend, s.st.CreateUser)
}

// CreateLinked is Create for an account made through an identity provider:
// the account and its link (store.UpstreamLink, for the new account) are
// stored together or not at all. The identity linked elsewhere meanwhile
// is problem.Conflict upstream_linked_elsewhere.
func (s *Service) CreateLinked(ctx context.Context, na NewAccount, link store.UpstreamLink, spend func(context.Context) error) (store.User, error) {
	return s.create(ctx, na, spend, func(ctx context.Context, u store.User) error { return s.st.CreateUserWithLink(ctx, u, link) })
}

func (s *Service) create(ctx context.Context, na NewAccount, spend func(context.Context) error, put func(context.Context, store.User) error) (store.User, error) {
	v, err := s.validate(na)
	if err != nil {
		return store.User{}, err
	}
	u, err := s.build(ctx, v)
	if err != nil {
		return store.User{}, problem.Wrap(err)
	}
	// A request that ended before it paid (the proxy gave up while its
	// hash ran) spends nothing: the person tries again with the same code.
	if err := ctx.Err(); err != nil {
		return store.User{}, err
	}
	ctx, cancel := session.Detach(ctx)
	defer cancel()
	if spend != nil {
		if err := spend(ctx); err != nil {
			return store.User{}, err
		}
	}
	if err := put(ctx, u); err != nil {
		return store.User{}, createProblem(err)
	}
	return u, nil
}

// validate checks and normalises na.
func (s *Service) validate(na NewAccount) (NewAccount, error) {
	f := problem.FieldSet{}
	v := NewAccount{LoginName: strings.TrimSpace(na.LoginName), Password: na.Password}
	f.Add(FieldLoginName, ValidateLoginName(v.LoginName))
	if v.Password != "" {
		f.Add(FieldPassword, CheckPassword(v.Password, v.LoginName))
	}
	if strings.TrimSpace(na.Phone) != "" {
		phone, err := NormalizePhone(na.Phone)
		f.Add(FieldPhone, err)
		v.Phone = phone
	}
	name, id := strings.TrimSpace(na.RealName), strings.TrimSpace(na.IDNumber)
	switch {
	case name == "" && id == "":
	case name == "":
		f.Add(FieldRealName, problem.Field(FieldRealName, "real_name_required"))
	case id == "":
		f.Add(FieldIDNumber, problem.Field(FieldIDNumber, "id_number_required"))
	default:
		f.Add(FieldRealName, ValidateRealName(name))
		parsed, err := ParseIDNumber(id, s.now())
		f.Add(FieldIDNumber, err)
		v.RealName, v.IDNumber = name, parsed.Number
	}
	nick, err := cleanText(FieldNickname, na.Nickname, NicknameMaxLength)
	f.Add(FieldNickname, err)
	v.Nickname = nick
	return v, f.Err()
}

func (s *Service) build(ctx context.Context, v NewAccount) (store.User, error) {
	var hash string
	if v.Password != "" {
		var err error
		if hash, err = s.hasher.Hash(ctx, v.Password); err != nil {
			return store.User{}, err
		}
	}
	u := store.User{
		ID: NewUserID(), LoginName: v.LoginName, LoginNameKey: LoginNameKey(v.LoginName),
		PasswordHash: hash, Status: store.UserActive,
	}
	for _, f := range []struct {
		kind, value string
		dst         *store.Sealed
	}{
		{FieldPhone, v.Phone, &u.Phone},
		{FieldIDNumber, v.IDNumber, &u.IDNumber},
		{FieldRealName, v.RealName, &u.RealName},
		{FieldNickname, v.Nickname, &u.Nickname},
	} {
		sealed, err := s.prot.Seal(f.kind, f.value)
		if err != nil {
			return store.User{}, err
		}
		*f.dst = sealed
	}
	u.RealName.Index, u.Nickname.Index = nil, nil // names are not unique and are never looked up
	u.CreatedAt = s.now().UTC().Truncate(time.Millisecond)
	u.UpdatedAt = u.CreatedAt
	return u, nil
}

// createProblem maps a failed CreateUser to what the caller may be told.
// The *store.ConflictError stays reachable with errors.As, for the audit.
func createProblem(err error) error {
	var conflict *store.ConflictError
	if !errors.As(err, &conflict) {
		return problem.Wrap(err)
	}
	switch conflict.Field {
	case "login_name":
		return &problem.Problem{Kind: problem.Conflict, Code: "login_name_taken", Fields: map[string]string{FieldLoginName: "login_name_taken"}, Err: err}
	case "phone":
		return &problem.Problem{Kind: problem.Conflict, Code: "phone_registered", Fields: map[string]string{FieldPhone: "phone_registered"}, Err: err}
	case "closed_phone":
		return phoneCoolingOff(err)
	case "upstream_identity":
		return &problem.Problem{Kind: problem.Conflict, Code: "upstream_linked_elsewhere", Err: err}
	}
	return &problem.Problem{Kind: problem.Conflict, Code: "registration_conflict", Err: err}
}

// NewUserID returns a random 128-bit account ID in lower-case base32: it is
// the OIDC subject, so it never reveals order or count.
func NewUserID() string { return strings.ToLower(rand.Text()) }

// SetPassword gives the account a new password that meets the policy, and
// ends every way in that the old one opened: every browser session and
// every OpenID Connect grant (refresh and access tokens) of the account,
// wherever they were signed in. The owner is told by text message. A
// caller that keeps the acting user signed in signs them in again.
//
// The new hash is stored before anything is ended: a sign-in with the old
// password cannot start after it, and any that started before is ended.
func (s *Service) SetPassword(ctx context.Context, userID, newPassword string, actor audit.Actor) error {
	return s.setPassword(ctx, userID, newPassword, Keep{}, actor)
}

func (s *Service) setPassword(ctx context.Context, userID, newPassword string, keep Keep, actor audit.Actor) error {
	if !validActor(actor) {
		return problem.Wrap(fmt.Errorf("account: set password: invalid actor %+v", actor))
	}
	u, err := s.get(ctx, userID)
	if err != nil {
		return err
	}
	if err := CheckPassword(newPassword, u.LoginName); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, newPassword)
	if err != nil {
		return problem.Wrap(err)
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	first := false // an account made through an identity provider gets its first password
	u, err = s.st.UpdateUser(ctx, userID, func(old store.User) (store.User, error) {
		first = old.PasswordHash == ""
		old.PasswordHash = hash
		old.UpdatedAt = now
		return old, nil
	})
	if err != nil {
		return s.storeProblem("set password", err)
	}
	// The password has changed: what follows is done even if the caller
	// hangs up (each step on its own detached context), and recorded and
	// told even if ending the old ways in fails, which is returned after
	// as ErrAccessNotEnded.
	template := notify.TemplatePasswordChanged
	var endErr error
	switch {
	case first && keep.Others:
		template = notify.TemplatePasswordSet
	case keep.Others:
		template = notify.TemplatePasswordChangedKept
	case keep.SID != "":
		_, endErr = s.endSessions(ctx, userID, keep.SID, now, session.ViaSignOutOthers)
		template = notify.TemplatePasswordChangedOthersOut
	default:
		endErr = s.endAccess(ctx, userID, now, session.ViaPasswordChanged)
	}
	reason := ""
	switch {
	case endErr != nil:
		// Some of the other sessions or grants may live on: the owner is
		// told so, and what to do.
		reason, template = "sessions_not_ended", notify.TemplatePasswordChangedSessionsRemain
	case first:
		reason = "first_password"
	case keep.Others:
		reason = "kept_sessions"
	}
	ctx, cancel := session.Detach(ctx)
	defer cancel()
	s.record(ctx, ActionPasswordChanged, u.ID, actor, reason)
	s.tell(ctx, u, template)
	if endErr != nil {
		// The cause is kept as text: a store that went away must not make
		// this "try again", for the password has changed.
		return &problem.Problem{Kind: problem.Internal, Code: "password_changed_sessions_remain", Err: fmt.Errorf("%w: %v", ErrAccessNotEnded, endErr)}
	}
	return nil
}

// ErrAccessNotEnded is the failure of a password change that was stored,
// recorded and told, but whose end of the sessions and grants the old
// password opened did not finish: the caller goes on as after a change
// (clears the lock, records its own event) and then reports the failure,
// a problem password_changed_sessions_remain that says so to the user.
var ErrAccessNotEnded = errors.New("account: the password changed, but not every session and grant of the old one could be ended")

// Disable stops the account from signing in and ends every session and
// grant it has. reason says why, for the audit log; it must hold no
// personal data.
func (s *Service) Disable(ctx context.Context, userID string, actor audit.Actor, reason string) error {
	if err := s.setStatus(ctx, userID, store.UserDisabled, actor, reason); err != nil {
		return err
	}
	return s.endAccess(ctx, userID, s.now().UTC().Truncate(time.Millisecond), session.ViaAccountDisabled)
}

// Enable lets a disabled account sign in again. reason is as for Disable.
func (s *Service) Enable(ctx context.Context, userID string, actor audit.Actor, reason string) error {
	return s.setStatus(ctx, userID, store.UserActive, actor, reason)
}

func (s *Service) setStatus(ctx context.Context, userID, status string, actor audit.Actor, reason string) error {
	if !validActor(actor) {
		return problem.Wrap(fmt.Errorf("account: set status: invalid actor %+v", actor))
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	_, err := s.st.UpdateUser(ctx, userID, func(old store.User) (store.User, error) {
		old.Status = status
		old.UpdatedAt = now
		return old, nil
	})
	if err != nil {
		return s.storeProblem("set status", err)
	}
	action := ActionEnabled
	if status == store.UserDisabled {
		action = ActionDisabled
	}
	s.record(ctx, action, userID, actor, reason)
	return nil
}

// EndAccess ends every session and revokes every grant of the account, as
// a password change does; via (a session.Via* constant) says why. Other
// services that take an account's identity away use it (real-name, after
// an appeal moves a verification).
func (s *Service) EndAccess(ctx context.Context, userID, via string) error {
	return s.endAccess(ctx, userID, s.now().UTC().Truncate(time.Millisecond), via)
}

// endAccess ends every session and revokes every grant of the account; via
// says why, for the logout events and the service systems told of it.
func (s *Service) endAccess(ctx context.Context, userID string, now time.Time, via string) error {
	_, err := s.endSessions(ctx, userID, "", now, via)
	return err
}

// endSessions ends the account's sessions, every one or every one but
// keepSID, and revokes every grant of the account; it returns how many
// sessions ended. The sessions go first and the grants after them, so that
// a sign-in finishing meanwhile through one of the sessions gets no grant
// that survives (session.Logout.Revoke); the service systems are told of
// the logout last, when a token they ask for at once is refused. Once
// begun it finishes even if the caller hangs up.
func (s *Service) endSessions(ctx context.Context, userID, keepSID string, now time.Time, via string) (int, error) {
	ctx, cancel := session.Detach(ctx)
	defer cancel()
	revoke := func(ctx context.Context) error {
		_, err := s.st.RevokeUserGrants(ctx, userID, now)
		return err
	}
	how := session.Logout{Via: via, Revoke: revoke}
	var n int
	var err error
	switch {
	case s.sess != nil && keepSID != "":
		n, err = s.sess.EndOthers(ctx, userID, keepSID, how)
	case s.sess != nil:
		n, err = s.sess.EndUser(ctx, userID, how)
	default: // no session manager: nobody to tell
		n, err = s.takeSessions(ctx, userID, keepSID)
		err = errors.Join(err, revoke(ctx))
	}
	if err != nil {
		return n, problem.Wrap(fmt.Errorf("account: end sessions and revoke grants: %w", err))
	}
	return n, nil
}

// takeSessions deletes the account's sessions, every one or every one but
// keepSID, without telling anyone, and returns how many there were.
func (s *Service) takeSessions(ctx context.Context, userID, keepSID string) (int, error) {
	if keepSID != "" {
		taken, err := s.st.TakeOtherUserSessions(ctx, userID, keepSID)
		return len(taken), err
	}
	n, err := s.st.DeleteUserSessions(ctx, userID)
	return int(n), err
}

func (s *Service) get(ctx context.Context, userID string) (store.User, error) {
	u, err := s.st.GetUser(ctx, userID)
	if err != nil {
		return store.User{}, s.storeProblem("get", err)
	}
	return u, nil
}

func (s *Service) storeProblem(op string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return &problem.Problem{Kind: problem.NotFound, Code: "not_found", Err: err}
	}
	return problem.Wrap(fmt.Errorf("account: %s: %w", op, err))
}

// maxReason bounds the reason kept in the audit log.
const maxReason = 200

// record appends a life-cycle event. Its detail names whose account, the
// kind of actor, and the reason given.
func (s *Service) record(ctx context.Context, action, userID string, actor audit.Actor, reason string) {
	if utf8.RuneCountInString(reason) > maxReason {
		reason = string([]rune(reason)[:maxReason])
	}
	detail := audit.Detail{"user": userID, "by": string(actor.Kind)}
	if reason = strings.ToValidUTF8(reason, ""); reason != "" {
		detail["reason"] = reason
	}
	s.audit.Append(ctx, audit.Entry{Actor: actor, Action: action, Result: audit.ResultOK, Detail: detail})
}

// tell sends the owner of u the message template by SMS to the bound
// phone and by email to the bound address, where there are such and a
// sender is set. The change is made already: a failure is logged, not
// returned.
func (s *Service) tell(ctx context.Context, u store.User, template string) {
	s.Tell(ctx, u, template)
}

// Tell sends the owner of u the notice template (a notify.Template* name)
// on every channel bound to the account: SMS to the phone, email to the
// address. Flows outside the account service (recovery) tell the owner
// through it, so a notice reaches the owner the same way whoever sends it.
// A failure is logged, not returned.
func (s *Service) Tell(ctx context.Context, u store.User, template string) {
	if s.notify != nil && !u.Phone.Empty() {
		phone, err := s.prot.Open(FieldPhone, u.Phone)
		if err == nil {
			err = s.notify.SendSMS(ctx, notify.SMS{Phone: phone, Template: template, Params: map[string]string{}})
		}
		if err != nil {
			s.log.WarnContext(ctx, "account notice not sent", "channel", "sms", "template", template, "user", u.ID, "err", err)
		}
	}
	s.mailTo(ctx, u.ID, u.Email, template, map[string]string{})
}

// mailTo mails the notice template to the sealed address email of the
// account userID, if there is one; a failure is logged.
func (s *Service) mailTo(ctx context.Context, userID string, email store.Sealed, template string, params map[string]string) {
	if s.mail == nil || email.Empty() {
		return
	}
	to, err := s.prot.Open(FieldEmail, email)
	if err == nil {
		err = s.mail.Mail(ctx, to, template, params)
	}
	if err != nil {
		s.log.WarnContext(ctx, "account notice not sent", "channel", "email", "template", template, "user", userID, "err", err)
	}
}

// SetEmail binds email to the account, or replaces the one it has. The
// caller has proven that the account's owner reads email (a code mailed
// to it): every address an account holds is verified, which is what the
// OpenID claim email_verified says. An address another account holds is
// problem.Conflict email_taken; the same address again is email_unchanged.
// The old address, if any, is told of the change.
func (s *Service) SetEmail(ctx context.Context, userID, email string, actor audit.Actor) error {
	if !validActor(actor) {
		return problem.Wrap(fmt.Errorf("account: set email: invalid actor %+v", actor))
	}
	email, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	sealed, err := s.prot.Seal(FieldEmail, email)
	if err != nil {
		return problem.Wrap(err)
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	var old store.Sealed
	errUnchanged := problem.Field(FieldEmail, "email_unchanged")
	_, err = s.st.UpdateUser(ctx, userID, func(u store.User) (store.User, error) {
		if !u.Email.Empty() && bytes.Equal(u.Email.Index, sealed.Index) {
			return u, errUnchanged
		}
		old = u.Email
		u.Email = sealed
		u.UpdatedAt = now
		return u, nil
	})
	var conflict *store.ConflictError
	switch {
	case errors.Is(err, errUnchanged):
		return err
	case errors.As(err, &conflict) && conflict.Field == "email":
		return &problem.Problem{Kind: problem.Conflict, Code: "email_taken", Fields: map[string]string{FieldEmail: "email_taken"}, Err: err}
	case err != nil:
		return s.storeProblem("set email", err)
	}
	reason := "bound"
	if !old.Empty() {
		reason = "changed"
	}
	s.record(ctx, ActionEmailChanged, userID, actor, reason)
	s.mailTo(ctx, userID, old, notify.TemplateEmailChanged, map[string]string{"email": MaskEmail(email)})
	return nil
}
