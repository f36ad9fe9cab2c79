// Package session ties a browser to a signed-in user. The cookie carries a
// random 256-bit token; the store keeps only its SHA-256, so a copy of the
// database cannot be replayed as cookies. A session ends at its absolute
// expiry (Max after sign-in) or when it has been idle longer than Idle;
// activity is written at most once a minute (more often for an idle timeout
// under ten minutes: a tenth of it) so that reading pages does not turn into
// a write per request, while an active user is never timed out.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"unid/internal/audit"
	"unid/internal/flow"
	"unid/internal/store"
)

// Options configure the manager.
type Options struct {
	Idle   time.Duration
	Max    time.Duration
	Secure bool // HTTPS: Secure cookie with the __Host- prefix
}

// touchEvery is how often activity is written: a tenth of the idle
// timeout, at most once a minute. The stored LastSeenAt then lags the last
// request by less than a tenth of the timeout, so a user counts as idle
// after at least nine tenths of it, never after a moment of activity.
func (m *Manager) touchEvery() time.Duration {
	return min(time.Minute, m.opt.Idle/10)
}

// Store is what sessions are kept in.
type Store interface {
	store.Sessions
	store.SessionClients
	store.Users
	// RevokeSessionGrants ends the OAuth grants a session made, when it
	// switches the identity it acts as (SetActing).
	RevokeSessionGrants(ctx context.Context, userID, sid string, at time.Time) (int64, error)
}

// Hook is told about a session that was ended by logout, after its record is
// gone: single sign-on protocols use it to sign the user out of every
// client the session signed in to.
type Hook func(ctx context.Context, s store.Session)

// Manager creates, finds and ends sessions, and audits their end.
type Manager struct {
	store Store
	audit *audit.Log
	now   func() time.Time
	opt   Options
	hooks []Hook
}

// New returns a Manager that writes the logout events to log.
func New(s Store, log *audit.Log, now func() time.Time, o Options) *Manager {
	return &Manager{store: s, audit: log, now: now, opt: o}
}

// How a session can end, the "via" of its session.logout event.
const (
	ViaAPI    = "api"     // DELETE /api/v1/sessions/current
	ViaOIDC   = "oidc"    // OpenID Connect RP-initiated logout
	ViaCAS    = "cas"     // /cas/logout
	ViaSignIn = "sign_in" // another user signed in on the same browser
	// The account itself changed, ending every session of it (EndUser).
	ViaPasswordChanged = "password_changed"
	ViaAccountDisabled = "account_disabled"
	ViaAccountClosed   = "account_closed"
	// ViaRealnameMovedAway: an approved appeal moved the account's
	// real-name verification to another account.
	ViaRealnameMovedAway = "realname_moved_away"
	// ViaRealnameCorrected: a reviewer corrected the account's real name
	// and ID number.
	ViaRealnameCorrected = "realname_corrected"
	// The user ended it from the list of their sessions (EndSID,
	// EndOthers), usually from another device.
	ViaSessionList = "session_list"
	// ViaSignOutOthers: the owner changed the password and asked to sign
	// out every other session (EndOthers).
	ViaSignOutOthers = "sign_out_others"
)

// DetachedFor bounds the work Detach lets outlive its caller.
const DetachedFor = 30 * time.Second

// Detach returns a context for work that must finish once begun (what
// ends sessions and grants after a password change, a closure, a sign-out,
// an identity switch, a withdrawn consent): the caller's hanging up does
// not cancel it, DetachedFor does, so that a backend that stops answering
// cannot hold it forever.
func Detach(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), DetachedFor)
}

// ActionReauthenticated is the audit action of Reauthenticate: the
// signed-in user entered the password again; Detail {sid}.
const ActionReauthenticated = "session.reauthenticated"

// Logout is how and from where a logout was asked for, for its audit event.
type Logout struct {
	Via      string      // ViaAPI, ViaOIDC, ViaCAS or ViaSignIn
	ClientID string      // the client that sent the user, when known
	Client   flow.Client // the browser's address and user agent
	// Revoke, for EndUser and EndOthers, takes away what must end with
	// the sessions (the account's OpenID Connect grants). It runs once
	// the sessions are gone, so that a sign-in finishing through one of
	// them meanwhile cannot leave a grant behind (the code exchange wants
	// its session live), and before anyone is told, so that a service
	// system that asks for new tokens on hearing of the logout gets none.
	// It runs even when there was no session to end or the sessions could
	// not be taken, and on a context the caller's going away does not
	// cancel.
	Revoke func(context.Context) error
}

// OnEnd registers h to run whenever End ends a session. Register hooks
// while wiring, before serving requests.
func (m *Manager) OnEnd(h Hook) { m.hooks = append(m.hooks, h) }

// CookieName is __Host-unid_session under HTTPS, unid_session otherwise.
func (m *Manager) CookieName() string {
	if m.opt.Secure {
		return "__Host-unid_session"
	}
	return "unid_session"
}

// SignIn gives the browser of r a new session for userID, who has just
// presented credentials. The cookie token is always new (no session
// fixation). When the browser was already signed in as the same user — a
// re-authentication for a client that asked for a fresh login — the new
// session keeps the old one's SID and absolute expiry, so the clients it
// signed in to stay signed in; a session of another user is ended first.
func (m *Manager) SignIn(ctx context.Context, w http.ResponseWriter, r *http.Request, userID, ip, userAgent string) (store.Session, error) {
	return m.SignInBy(ctx, w, r, userID, []string{store.AMRPassword}, ip, userAgent)
}

// SignInBy is SignIn for a user who presented the credentials amr names
// (store.AMR*): the session keeps them for the ID tokens it leads to.
func (m *Manager) SignInBy(ctx context.Context, w http.ResponseWriter, r *http.Request, userID string, amr []string, ip, userAgent string) (store.Session, error) {
	old, ok, err := m.Current(ctx, r)
	if err != nil {
		return store.Session{}, err
	}
	now := m.now().UTC().Truncate(time.Millisecond)
	s := store.Session{
		SID: rand.Text(), UserID: userID, AuthTime: now, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(m.opt.Max), IP: ip, UserAgent: userAgent, AMR: amr,
	}
	reauth := ok && old.UserID == userID
	switch {
	case reauth:
		s.SID, s.CreatedAt, s.ExpiresAt = old.SID, old.CreatedAt, old.ExpiresAt
		s.ActingUSCC = old.ActingUSCC
	case ok:
		if err := m.End(ctx, w, r, Logout{Via: ViaSignIn, Client: flow.NewClient(ip, userAgent)}); err != nil {
			return store.Session{}, err
		}
	}
	var raw [32]byte
	rand.Read(raw[:])
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	s.TokenHash = hash(token)
	if err := m.store.CreateSession(ctx, s); err != nil {
		return store.Session{}, err
	}
	// The old token goes once the new one is stored: the SID is never
	// without a session, so a sign-in in flight through it still stands.
	if reauth {
		if err := m.store.DeleteSession(ctx, old.TokenHash); err != nil && !errors.Is(err, store.ErrNotFound) {
			// The browser keeps its old token; the new one must not linger.
			dctx, cancel := Detach(ctx)
			derr := m.store.DeleteSession(dctx, s.TokenHash)
			cancel()
			return store.Session{}, errors.Join(err, derr)
		}
	}
	http.SetCookie(w, m.cookie(token, s.ExpiresAt))
	return s, nil
}

// ErrCredentialsChanged is SignInVerified's answer when the account's
// password changed, or the account was disabled, between the check of the
// credentials and the new session.
var ErrCredentialsChanged = errors.New("session: the account changed while signing in")

// SignInVerified is SignIn for an account whose credentials were just
// checked: verified is the account as they were checked against. Once the
// session exists it reads the account again, and if its password hash or
// status changed meanwhile (a password change or a disabled account, which
// end every session they find) it deletes the new session and answers
// ErrCredentialsChanged. A session is therefore either found by the change
// or refused here, never left standing on an old password.
//
// amr says how the credentials were presented (store.AMR*).
func (m *Manager) SignInVerified(ctx context.Context, w http.ResponseWriter, r *http.Request, verified store.User, amr []string, ip, userAgent string) (store.Session, error) {
	s, err := m.SignInBy(ctx, w, r, verified.ID, amr, ip, userAgent)
	if err != nil {
		return store.Session{}, err
	}
	now, err := m.store.GetUser(ctx, verified.ID)
	if err == nil && now.PasswordHash == verified.PasswordHash && now.Status == store.UserActive {
		return s, nil
	}
	if derr := m.store.DeleteSession(ctx, s.TokenHash); derr != nil && !errors.Is(derr, store.ErrNotFound) {
		return store.Session{}, errors.Join(err, derr)
	}
	http.SetCookie(w, m.cookie("", time.Unix(0, 0)))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Session{}, err
	}
	return store.Session{}, ErrCredentialsChanged
}

// Current returns the live session of r, or ok=false for none, an expired
// or an idle one.
func (m *Manager) Current(ctx context.Context, r *http.Request) (store.Session, bool, error) {
	c, err := r.Cookie(m.CookieName())
	if err != nil || len(c.Value) != 43 {
		return store.Session{}, false, nil
	}
	h := hash(c.Value)
	s, err := m.store.GetSession(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return store.Session{}, false, nil
	}
	if err != nil {
		return store.Session{}, false, err
	}
	now := m.now()
	if !m.live(s, now) {
		// Ended, but the record stays until the janitor removes it, so that
		// a logout clicked after the timeout still tells the clients.
		return store.Session{}, false, nil
	}
	if now.Sub(s.LastSeenAt) >= m.touchEvery() {
		s.LastSeenAt = now.UTC().Truncate(time.Millisecond)
		if err := m.store.TouchSession(ctx, h, s.LastSeenAt); err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.Session{}, false, err
		}
	}
	return s, true, nil
}

// SignedIn returns the live session of r and its user, with ok=false when
// there is none or its account is gone or disabled: the one definition of
// "signed in" for the pages, the API and the single sign-on protocols.
func (m *Manager) SignedIn(ctx context.Context, r *http.Request) (store.Session, store.User, bool, error) {
	s, ok, err := m.Current(ctx, r)
	if err != nil || !ok {
		return store.Session{}, store.User{}, false, err
	}
	u, err := m.store.GetUser(ctx, s.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Session{}, store.User{}, false, nil
	}
	if err != nil || u.Status != store.UserActive {
		return store.Session{}, store.User{}, false, err
	}
	return s, u, true, nil
}

// live reports whether s has neither expired nor been idle too long at now.
func (m *Manager) live(s store.Session, now time.Time) bool {
	return now.Before(s.ExpiresAt) && now.Sub(s.LastSeenAt) < m.opt.Idle
}

// End deletes the session of r (if any), clears its cookie, writes the one
// session.logout event of the happening — whichever protocol asked, how
// says — and runs the hooks so that every client the session signed in to
// learns of it. A session that had already timed out is removed and its
// clients told, but nobody was signed in to log out: it is not audited.
func (m *Manager) End(ctx context.Context, w http.ResponseWriter, r *http.Request, how Logout) error {
	http.SetCookie(w, m.cookie("", time.Unix(0, 0)))
	c, err := r.Cookie(m.CookieName())
	if err != nil {
		return nil
	}
	h := hash(c.Value)
	s, err := m.store.GetSession(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := m.store.DeleteSession(ctx, h); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil // another request ended it and runs the hooks
		}
		return err
	}
	return m.ended(ctx, []store.Session{s}, how)
}

// EndUser ends every session of the user — after a password change, when
// the account is disabled — and, as a logout does, tells every service
// system those sessions signed in to (single logout, back-channel logout),
// so that whoever held a session is signed out everywhere. how.Via says
// why (ViaPasswordChanged, ViaAccountDisabled); how.Revoke runs between.
// It returns how many sessions ended.
func (m *Manager) EndUser(ctx context.Context, userID string, how Logout) (int, error) {
	taken, err := m.store.TakeUserSessions(ctx, userID)
	return len(taken), m.endTaken(ctx, taken, err, how)
}

// ListUser returns the live sessions of userID — neither expired nor idle,
// by the same rule as Current — most recently seen first.
func (m *Manager) ListUser(ctx context.Context, userID string) ([]store.Session, error) {
	now := m.now()
	return m.store.ListUserSessions(ctx, userID, now, now.Add(-m.opt.Idle))
}

// Stands reports whether a sign-in through the user's session sid still
// stands: the session has not been ended (by a logout, a password change,
// an operator) and acts for acting (Acting's uscc, as it was when the
// sign-in was approved). The single sign-on protocols ask it before they
// give out what the sign-in approved: what ends or switches a session
// changes the session before it revokes, so an approval that raced it is
// caught here. A session that has since gone idle or expired still stands
// until the janitor sweeps it away: nobody signed it out, and its clients
// are not told of timeouts either.
func (m *Manager) Stands(ctx context.Context, userID, sid, acting string) (bool, error) {
	ss, err := m.store.ListSIDSessions(ctx, userID, sid)
	if err != nil || len(ss) == 0 {
		return false, err
	}
	// Two while a re-authentication replaces the token: both must agree.
	for _, s := range ss {
		if uscc, _ := Acting(s); uscc != acting {
			return false, nil
		}
	}
	return true, nil
}

// ErrNoSuchSession is EndSID's answer for a SID the user holds no session
// under: a missing one and another user's alike.
var ErrNoSuchSession = errors.New("session: no such session of the user")

// EndSID ends the session of userID with the SID sid, as a logout does:
// audited with the user as the actor, and every client the session signed
// in to is told. how.Client is the browser that asked, which is usually
// another one. A SID of another user's session ends nothing and answers
// ErrNoSuchSession, exactly as a SID that never existed.
func (m *Manager) EndSID(ctx context.Context, userID, sid string, how Logout) error {
	taken, err := m.store.TakeUserSession(ctx, userID, sid)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNoSuchSession
	}
	if err != nil {
		return err
	}
	return m.ended(ctx, taken, how)
}

// EndOthers ends every session of userID but the one with the SID keepSID
// (the browser asking), as a logout does, and returns how many of them
// were live: those ListUser showed. Timed-out ones go too, and their
// clients are told, but nobody was signed in there to count.
func (m *Manager) EndOthers(ctx context.Context, userID, keepSID string, how Logout) (int, error) {
	taken, err := m.store.TakeOtherUserSessions(ctx, userID, keepSID)
	now, live := m.now(), 0
	for _, s := range taken {
		if m.live(s, now) {
			live++
		}
	}
	return live, m.endTaken(ctx, taken, err, how)
}

// endTaken finishes the end of the sessions taken from the store (takeErr:
// the take failed): how.Revoke first, then the logout of each. The
// revocation runs whatever the take did and even if the caller has gone
// (the sessions may be gone already); the sessions taken are logged out
// even if it failed.
func (m *Manager) endTaken(ctx context.Context, taken []store.Session, takeErr error, how Logout) error {
	errs := []error{takeErr}
	if how.Revoke != nil {
		rctx, cancel := Detach(ctx)
		errs = append(errs, how.Revoke(rctx))
		cancel()
	}
	if len(taken) > 0 {
		errs = append(errs, m.ended(ctx, taken, how))
	}
	return errors.Join(errs...)
}

// Reauthenticate records that the user of s has just presented
// credentials again — the password, or a provider's word (amr, claims.AMR*)
// —: s's AuthTime becomes now, so that the changes that ask for a recent
// sign-in (httpx.Guard.Recent) are open to it for a while. It is audited
// as session.reauthenticated and returns the updated session.
func (m *Manager) Reauthenticate(ctx context.Context, s store.Session, amr []string, c flow.Client) (store.Session, error) {
	now := m.now().UTC().Truncate(time.Millisecond)
	if err := m.store.SetSessionAuth(ctx, s.TokenHash, now, amr); err != nil {
		return store.Session{}, err
	}
	s.AuthTime, s.AMR = now, amr
	m.audit.Append(ctx, audit.Entry{
		Actor: audit.User(s.UserID), Action: ActionReauthenticated, Result: audit.ResultOK,
		IP: c.IP, UserAgent: c.UserAgent, Detail: audit.Detail{"sid": s.SID, "amr": strings.Join(amr, " ")},
	})
	return s, nil
}

// ActionActingSwitched is the audit action of SetActing when the identity
// the session acts as changes; Detail {sid, from, to} (credit codes, ""
// for the person).
const ActionActingSwitched = "session.acting_switched"

// actingPerson is the stored ActingUSCC of a session whose user chose to
// act as themselves, as opposed to "" for a session that has not chosen.
const actingPerson = "-"

// Acting returns the identity s acts as in single sign-on — the credit
// code of an enterprise, or "" for the person — and whether the user has
// chosen it in this session (a session starts as the person, unchosen).
func Acting(s store.Session) (uscc string, chosen bool) {
	if s.ActingUSCC == actingPerson {
		return "", true
	}
	return s.ActingUSCC, s.ActingUSCC != ""
}

// SetActing records that s acts as uscc from now on ("" the person); the
// caller has checked that its user may act for that enterprise. Choosing
// the identity the session already acts as changes nothing but marks it
// chosen; so does the first choice of another identity (audited), as the
// session's sign-ins so far were made for systems that did not ask.
// Switching from a chosen identity to another ends the old one's sign-ins
// at the service systems as a logout does — every client the session
// signed in to is told (back-channel logout, CAS single logout) and the
// OAuth grants it made are revoked — while the browser stays signed in;
// it is audited as session.acting_switched. It returns the updated session.
func (m *Manager) SetActing(ctx context.Context, s store.Session, uscc string, c flow.Client) (store.Session, error) {
	from, wasChosen := Acting(s)
	stored := uscc
	if stored == "" {
		stored = actingPerson
	}
	if s.ActingUSCC == stored {
		return s, nil
	}
	if err := m.store.SetSessionActing(ctx, s.TokenHash, stored); err != nil {
		return store.Session{}, err
	}
	// The session acts for another identity now: the rest (the event, the
	// revocation, the notices) is done even if the browser hangs up.
	ctx, cancel := Detach(ctx)
	defer cancel()
	s.ActingUSCC = stored
	if from == uscc {
		return s, nil
	}
	m.audit.Append(ctx, audit.Entry{
		Actor: audit.User(s.UserID), Action: ActionActingSwitched, Result: audit.ResultOK,
		IP: c.IP, UserAgent: c.UserAgent, Detail: audit.Detail{"sid": s.SID, "from": from, "to": uscc},
	})
	if !wasChosen {
		// The first choice: the session's sign-ins so far were made as the
		// person without asking, for systems that did not ask either.
		return s, nil
	}
	if _, err := m.store.RevokeSessionGrants(ctx, s.UserID, s.SID, m.now()); err != nil {
		return store.Session{}, err
	}
	return s, m.tell(ctx, []store.Session{s})
}

// ended audits the logout of each live session of ss (already deleted),
// runs the hooks for every one and then forgets their clients. The hooks
// tell clients over the network, each within its own budget: they run side
// by side so a logout waits for the slowest, not the sum, and finish even
// if the browser goes away meanwhile.
func (m *Manager) ended(ctx context.Context, ss []store.Session, how Logout) error {
	now := m.now()
	for _, s := range ss {
		if m.live(s, now) {
			m.recordLogout(ctx, s, how)
		}
	}
	return m.tell(ctx, ss)
}

// tell runs the hooks for every session of ss, side by side, and then
// forgets their clients.
func (m *Manager) tell(ctx context.Context, ss []store.Session) error {
	ctx, cancel := Detach(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range ss {
		for _, hook := range m.hooks {
			wg.Go(func() { hook(ctx, s) })
		}
	}
	wg.Wait()
	var errs []error
	for _, s := range ss {
		if _, err := m.store.DeleteSessionClients(ctx, s.SID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// recordLogout writes the session.logout event of s: the session's user is
// the actor, whichever protocol carried the request.
func (m *Manager) recordLogout(ctx context.Context, s store.Session, how Logout) {
	detail := audit.Detail{"via": how.Via, "sid": s.SID}
	if how.ClientID != "" {
		detail["client_id"] = how.ClientID
	}
	m.audit.Append(ctx, audit.Entry{
		Actor: audit.User(s.UserID), Action: audit.ActionLogout, Result: audit.ResultOK,
		IP: how.Client.IP, UserAgent: how.Client.UserAgent, Detail: detail,
	})
}

func (m *Manager) cookie(token string, expires time.Time) *http.Cookie {
	c := &http.Cookie{
		Name: m.CookieName(), Value: token, Path: "/",
		HttpOnly: true, Secure: m.opt.Secure, SameSite: http.SameSiteLaxMode,
	}
	if token == "" {
		c.MaxAge = -1
	} else {
		c.Expires = expires
	}
	return c
}

func hash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
