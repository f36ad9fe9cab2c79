// Package store defines the one persistence interface of unid. It is composed
// of small per-domain interfaces so that each part of the program asks only
// for what it uses; every backend (sqlite, postgres) implements all of it and
// passes the same conformance suite in storetest.
//
// Rules every backend keeps:
//   - all times are UTC and stored with millisecond precision;
//   - Get/Update/Delete of a missing record return ErrNotFound;
//   - a write that would break a uniqueness rule returns ErrConflict, wrapped
//     in a *ConflictError that names the field;
//   - Update runs its function inside a transaction: the function sees the
//     current record and returns the new one, or an error that aborts the
//     write and is returned unchanged.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors, checked with errors.Is.
var (
	ErrNotFound = errors.New("store: not found")
	ErrConflict = errors.New("store: conflict")
)

// ConflictError says which unique field a write collided on. It matches
// ErrConflict with errors.Is.
type ConflictError struct {
	// "login_name", "phone", "id_number", "email" or "id"; or
	// "closed_phone", "closed_id_number": a number a closed account gave
	// up, still in its cooling-off (Closures).
	Field string
}

func (e *ConflictError) Error() string { return "store: conflict on " + e.Field }

// Is lets errors.Is(err, ErrConflict) hold.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Store is everything unid persists.
type Store interface {
	Users
	Sessions
	Challenges
	Flows
	SecurityQuestions
	Counters
	AuditLog
	Clients
	SessionClients
	OAuth
	Addresses
	Closures
	Records
	Realname
	Operators
	Imports
	Enterprises
	UpstreamLinks
	Stats
	OperatorPasskeys
	OperatorTokens

	// Ping reports whether the backend is reachable (for /readyz).
	Ping(ctx context.Context) error
	// Close releases the backend's connections.
	Close() error
}

// Sealed is personal data encrypted by account.Protector, with its keyed
// blind index. The store never sees plaintext personal data.
type Sealed struct {
	Cipher []byte // AEAD ciphertext with key version prefix; nil when absent
	Index  []byte // keyed blind index (HMAC) for lookup and uniqueness; nil when absent
}

// Empty reports whether no value is stored.
func (s Sealed) Empty() bool { return len(s.Cipher) == 0 }

// User is a natural-person account (自然人账号).
type User struct {
	ID            string // random, URL-safe, never reused
	LoginName     string // as typed by the user at registration
	LoginNameKey  string // lower-cased login name; unique
	PasswordHash  string // PHC string (argon2id, or an imported legacy format); "" for an account without a password
	Phone         Sealed // unique by index
	IDNumber      Sealed // unique by index among verified accounts (RealnameLevel >= 1) only
	Email         Sealed // unique by index
	RealName      Sealed // not unique; Index unused
	Nickname      Sealed // chosen by the owner in the user center; not unique; Index unused
	WorkUnit      Sealed // 工作单位, as the owner states it; not unique; Index unused
	RealnameLevel int    // 0 not verified, 1 初级, 2 中级, 3 高级
	Status        string // UserActive, UserDisabled or UserClosed
	CreatedAt     time.Time
	UpdatedAt     time.Time
	ClosedAt      time.Time // when the owner closed the account (注销); zero while it is not closed
}

// User statuses.
const (
	UserActive   = "active"
	UserDisabled = "disabled"
	// UserClosed: the owner closed the account (Closures.CloseUser). Its
	// personal data is erased; the row stays so that its login name stays
	// reserved and the audit log's actor keeps a meaning.
	UserClosed = "closed"
)

// Users stores accounts. Lookup by identifier uses the blind index (or the
// lower-cased login name), never plaintext personal data.
type Users interface {
	CreateUser(ctx context.Context, u User) error
	GetUser(ctx context.Context, id string) (User, error)
	GetUserByLoginName(ctx context.Context, loginNameKey string) (User, error)
	GetUserByPhone(ctx context.Context, phoneIndex []byte) (User, error)
	// GetUserByVerifiedIDNumber returns the one verified account
	// (RealnameLevel >= 1) holding the ID number; accounts that hold it
	// unverified are never returned.
	GetUserByVerifiedIDNumber(ctx context.Context, idNumberIndex []byte) (User, error)
	GetUserByEmail(ctx context.Context, emailIndex []byte) (User, error)
	// UpdateUser changes one user inside a transaction. The ID cannot change.
	// A closed account cannot change: it is ErrNotFound. A phone, or an ID
	// number becoming verified, that a closed account gave up and whose
	// cooling-off has not ended at the new UpdatedAt is a conflict (see
	// Closures); CreateUser checks the same at the new CreatedAt.
	UpdateUser(ctx context.Context, id string, fn func(User) (User, error)) (User, error)
	CountUsers(ctx context.Context) (int64, error)
	// ListUsers returns accounts newest first (by CreatedAt, then ID),
	// those strictly after the cursor in that order (the zero cursor:
	// from the newest), with the status when status is not "", at most
	// limit: one page of the console's citizen list, read through an
	// index at any depth.
	ListUsers(ctx context.Context, after UserCursor, status string, limit int) ([]User, error)
}

// UserCursor is a place in the citizen list: the last account of a page.
type UserCursor struct {
	CreatedAt time.Time
	ID        string
}

// Session is a browser sign-in. Only the hash of its token is stored.
type Session struct {
	TokenHash  []byte // SHA-256 of the cookie token; primary key
	SID        string // stable ID across re-authentication: the OIDC "sid", the key of SessionClients
	UserID     string
	AuthTime   time.Time // when the user last presented credentials
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute expiry
	IP         string
	UserAgent  string
	ActingUSCC string // the enterprise the session acts for in single sign-on (its credit code); "" the person
	// AMR says how the user presented credentials at AuthTime: RFC 8176
	// values and unid's own ("pwd", "alipay", "fed", "sms"); empty for
	// sessions from before it was kept, which were password sign-ins.
	AMR []string
}

// Authentication method references (amr), the values of Session.AMR:
// RFC 8176's "pwd" (a password, with a captcha) and "sms" (a code sent by
// SMS), "fed" (an OpenID provider outside unid vouched for the user), and
// unid's own "alipay" (Alipay vouched for the user). ID tokens carry them.
const (
	AMRPassword  = "pwd"
	AMRSMS       = "sms"
	AMRFederated = "fed"
	AMRAlipay    = "alipay"
)

// Sessions stores browser sessions.
type Sessions interface {
	CreateSession(ctx context.Context, s Session) error
	GetSession(ctx context.Context, tokenHash []byte) (Session, error)
	// TouchSession sets LastSeenAt; ErrNotFound if the session is gone.
	TouchSession(ctx context.Context, tokenHash []byte, at time.Time) error
	// SetSessionAuth sets AuthTime and AMR, when the user of the session
	// presented credentials again; ErrNotFound if the session is gone.
	SetSessionAuth(ctx context.Context, tokenHash []byte, at time.Time, amr []string) error
	// SetSessionActing sets ActingUSCC, when the user chose which identity
	// the session acts as; ErrNotFound if the session is gone.
	SetSessionActing(ctx context.Context, tokenHash []byte, uscc string) error
	DeleteSession(ctx context.Context, tokenHash []byte) error
	DeleteUserSessions(ctx context.Context, userID string) (int64, error)
	// TakeUserSessions deletes every session of the user and returns them,
	// keeping the records of the clients they signed in to, so that the
	// caller can tell those clients (and then delete the records).
	TakeUserSessions(ctx context.Context, userID string) ([]Session, error)
	// ListUserSessions returns the user's live sessions, most recently
	// seen first: those whose absolute expiry is after now and that were
	// last seen after idleAfter (now less the idle timeout), which is the
	// session manager's own rule for a session still being signed in.
	ListUserSessions(ctx context.Context, userID string, now, idleAfter time.Time) ([]Session, error)
	// ListSIDSessions returns the user's stored sessions with the SID,
	// idle and expired ones too (until they are swept): none once it has
	// been ended, two while a re-authentication replaces one with the
	// other. Another user's SID gives none.
	ListSIDSessions(ctx context.Context, userID, sid string) ([]Session, error)
	// TakeUserSession deletes the user's session with the SID and returns
	// it (two records share a SID only while a re-authentication replaces
	// one with the other), keeping the records of its clients as
	// TakeUserSessions does. A SID the user holds no session under,
	// another user's included, gives ErrNotFound and deletes nothing.
	TakeUserSession(ctx context.Context, userID, sid string) ([]Session, error)
	// TakeOtherUserSessions deletes every session of the user except those
	// with the SID keepSID and returns them, keeping their client records.
	TakeOtherUserSessions(ctx context.Context, userID, keepSID string) ([]Session, error)
	CountSessions(ctx context.Context) (int64, error)
	// DeleteExpiredSessions removes sessions whose absolute expiry is before
	// now or that were last seen before idleBefore.
	DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int64, error)
}

// Challenge is a short-lived secret a user must answer: an image captcha or
// an SMS/email code. Kind and ID together are the key.
type Challenge struct {
	Kind      string // ChallengeCaptcha, ChallengeSMS, ...
	ID        string
	Secret    []byte // captcha: the digits; codes: keyed hash of the code
	Subject   []byte // what the challenge is bound to (e.g. phone blind index); may be nil
	Attempts  int
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Challenge kinds.
const (
	ChallengeCaptcha = "captcha"
	ChallengeSMS     = "sms"
	ChallengeEmail   = "email"
)

// Valid reports whether the challenge can still be answered at now.
func (c Challenge) Valid(now time.Time) bool { return now.Before(c.ExpiresAt) }

// Challenges stores captchas and codes.
type Challenges interface {
	// PutChallenge creates or replaces the challenge with the same kind and ID.
	PutChallenge(ctx context.Context, c Challenge) error
	GetChallenge(ctx context.Context, kind, id string) (Challenge, error)
	// UpdateChallenge changes one challenge inside a transaction.
	UpdateChallenge(ctx context.Context, kind, id string, fn func(Challenge) (Challenge, error)) (Challenge, error)
	// TakeChallenge deletes the challenge and returns it, so that exactly one
	// caller can use it; ErrNotFound if it was already taken.
	TakeChallenge(ctx context.Context, kind, id string) (Challenge, error)
	DeleteChallenge(ctx context.Context, kind, id string) error
	DeleteExpiredChallenges(ctx context.Context, now time.Time) (int64, error)
}

// Counters are fixed windows anchored at their first hit: a counter starts at
// 1 with expiry now+window, counts up until the expiry, and starts again at 1
// on the first hit after it. They back rate limits and lockouts; because they
// live in the store (or in Redis), every unid instance sees the same counts.
type Counters interface {
	// Incr adds one and returns the new count and when the window ends.
	Incr(ctx context.Context, key string, window time.Duration, now time.Time) (count int64, resetAt time.Time, err error)
	// Peek returns the count of a live window, or 0 when there is none.
	Peek(ctx context.Context, key string, now time.Time) (count int64, resetAt time.Time, err error)
	// ResetCounter forgets the counter.
	ResetCounter(ctx context.Context, key string) error
	DeleteExpiredCounters(ctx context.Context, now time.Time) (int64, error)
}

// AuditEvent is one entry of the append-only, hash-chained security log.
type AuditEvent struct {
	Seq       int64 // assigned by the store, 1, 2, 3, ...
	Time      time.Time
	Actor     string // user ID, "operator:<name>", or "" when anonymous
	Action    string // e.g. "user.register", "session.login"
	Result    string // "ok" or a failure code
	IP        string
	UserAgent string
	Subject   string // masked subject, e.g. "138****5678"
	Detail    string // short masked detail, JSON or text
	// Account is the ID of the account the event concerns when its actor
	// is someone else (an operator unlocking it, a stranger failing to
	// sign in to it); "" when the actor is that account or none is.
	Account string
	// Client is the service system the event happened at (an SSO sign-in
	// to it, a change of its registration); "" for none.
	Client   string
	PrevHash []byte // Hash of the previous event; empty for the first
	Hash     []byte // computed by audit, checked by the store only for length
}

// AuditLog appends and reads audit events.
type AuditLog interface {
	// AppendAudit assigns Seq and PrevHash from the current head inside one
	// transaction, calls seal to compute Hash over the completed event, and
	// stores it. Concurrent appends from several instances form one chain.
	AppendAudit(ctx context.Context, e AuditEvent, seal func(AuditEvent) []byte) (AuditEvent, error)
	// ListAudit returns events with Seq > afterSeq in order, at most limit.
	ListAudit(ctx context.Context, afterSeq int64, limit int) ([]AuditEvent, error)
	// ScanAudit calls fn with every event with from <= Seq <= to (to 0:
	// up to the newest), in order, read as one query rather than in
	// pages: for walking the whole log. e.PrevHash and e.Hash are valid
	// only until fn returns (the next event reuses them); fn copies what
	// it keeps. An error from fn stops the scan and is returned
	// unchanged.
	ScanAudit(ctx context.Context, from, to int64, fn func(e AuditEvent) error) error
	// ListActorAudit returns the newest events whose Actor is actor, newest
	// first, at most limit, leaving out those whose Action is in skip.
	ListActorAudit(ctx context.Context, actor string, skip []string, limit int) ([]AuditEvent, error)
	// QueryAudit returns the newest events with Seq < beforeSeq (0: from
	// the newest) that match every set field of f, newest first, at most
	// limit: one page of the console's audit viewer. It reads through an
	// index whichever fields are set.
	QueryAudit(ctx context.Context, f AuditFilter, beforeSeq int64, limit int) ([]AuditEvent, error)
	// AuditAnchor returns where the stored chain starts: the last event
	// archived and deleted by retention (Seq 0 and no Hash when none was).
	AuditAnchor(ctx context.Context) (AuditAnchor, error)
	// AuditHead returns the seq and hash of the last event appended, as
	// the chain's head records them (0 and no hash for an empty log):
	// a verification compares it with the newest stored event, so that a
	// trail cut short at its end does not verify.
	AuditHead(ctx context.Context) (seq int64, hash []byte, err error)
	// CutAudit deletes the events with Seq <= a.Seq, after the caller
	// archived them, records a as the new anchor, and appends e (the
	// event that records the cut, sealed by seal as AppendAudit does), in
	// one transaction: the anchor never moves without the event that
	// proves it. a.Hash must be the stored hash of event a.Seq, and a.Seq
	// must be above the current anchor and below the head; otherwise
	// nothing changes and it is a *ConflictError with Field "seq".
	CutAudit(ctx context.Context, a AuditAnchor, e AuditEvent, seal func(AuditEvent) []byte) (int64, error)
}

// AuditFilter selects audit events; the zero value selects all. Each set
// field must match.
type AuditFilter struct {
	Actor   string // the stored actor string (audit.Actor.String())
	Account string // events of the account: its Account or, for its own acts, its Actor
	Action  string // exact action
	Result  string // exact result ("ok", a failure code)
	IP      string // an exact address
	// IPPrefix matches addresses beginning with it: an IPv4 network on
	// octet boundaries written as its textual prefix ("10.1.2.").
	IPPrefix string
	Client   string    // exact client id
	From     time.Time // events at or after
	To       time.Time // events before
}

// AuditAnchor is where the stored chain starts after a retention cut.
type AuditAnchor struct {
	Seq        int64     // the last archived (and deleted) event; 0 for none
	Hash       []byte    // its hash: the PrevHash of event Seq+1
	ArchivedAt time.Time // when the cut was made
	Archive    string    // the archive file's name, as the operator finds it
}

// UpstreamLink ties an account to an identity at a provider outside unid
// (Alipay, an OpenID provider): provider, the application there and the
// subject there name the identity.
type UpstreamLink struct {
	Provider     string // the provider's id in unid's configuration ("alipay", or an upstream's id)
	App          string // Alipay app_id, or the OpenID provider's issuer
	Subject      string // Alipay open_id (or user_id), the OpenID sub
	UserID       string
	AlipayUserID string // Alipay's user_id where it still comes; "" otherwise
	Display      string // a masked nickname, for the person's own list
	Certified    bool   // Alipay is_certified=T at the last sign-in
	// IDNumberIndex is the blind index of the ID number the provider
	// certified (Alipay cert_no) at the last full sign-in; nil for none.
	IDNumberIndex []byte
	LinkedAt      time.Time
	LastUsedAt    time.Time
}

// UpstreamLinks stores the links between accounts and external identities.
type UpstreamLinks interface {
	// CreateUpstreamLink stores l. An identity linked already (to any
	// account) is a ConflictError on "upstream_identity"; an account with a
	// link of the provider already, on "upstream_provider"; a missing or
	// closed account is ErrNotFound.
	CreateUpstreamLink(ctx context.Context, l UpstreamLink) error
	// CreateUserWithLink creates u and its link l (l.UserID = u.ID) in one
	// transaction, with CreateUser's and CreateUpstreamLink's conflicts.
	CreateUserWithLink(ctx context.Context, u User, l UpstreamLink) error
	// GetUpstreamLink returns the link of an identity, or ErrNotFound.
	GetUpstreamLink(ctx context.Context, provider, app, subject string) (UpstreamLink, error)
	// ListUpstreamLinks returns the user's links by provider.
	ListUpstreamLinks(ctx context.Context, userID string) ([]UpstreamLink, error)
	// UseUpstreamLink records a sign-in through the link: LastUsedAt,
	// AlipayUserID, Display, Certified and IDNumberIndex as l has them;
	// ErrNotFound if it is gone.
	UseUpstreamLink(ctx context.Context, l UpstreamLink) error
	// DeleteUpstreamLink removes the user's link of the provider unless it
	// is the account's only way in (no password and no other link), which
	// is ErrLastWayIn; ErrNotFound if there is no such link.
	DeleteUpstreamLink(ctx context.Context, userID, provider string) error
}

// ErrLastWayIn is DeleteUpstreamLink's refusal to remove an account's only
// way to sign in.
var ErrLastWayIn = errors.New("store: the only way to sign in")
