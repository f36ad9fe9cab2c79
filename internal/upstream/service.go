package upstream

// One sign-in through a provider is a flow record of Kind, bound to the
// browser that started it by a secret in a cookie (BrowserToken) that
// the provider never sees:
//
//	Start (purpose, next) ──▶ started ── the browser goes to the provider
//	started ── Callback: state and browser secret match ──▶ redeeming (the
//	           callback's last state, but for a new person's identified), the
//	           code redeemed and every answer verified ──▶
//	    identity linked:      signin  → signed in (Outcome SignedIn)
//	                          recover → a proven recovery flow (Outcome Recover)
//	                          reauth  → the session re-authenticated, if the link is the user's
//	    identity not linked:  signin  → identified (Outcome Pending): 快捷注册 or 绑定已有账号
//	                          recover → nothing to recover (Outcome Unlinked)
//	    bind (signed in):     the identity is linked to the user (Outcome Bound)
//	identified ── Register (login name, phone + SMS code, password optional) ──▶ done, signed in
//	identified ── Bind (identifier, password, captcha, as a sign-in) ──▶ done, signed in
//	  a state or browser secret that does not match, a step out of order,
//	  a finished or expired flow ──▶ refused, nothing written
//
// The code is redeemed once: the flow leaves started before the provider
// is asked, so a replayed callback finds it spent. A provider's refusal,
// a provider that is down or an answer that does not verify ends the flow
// with the provider's problem code and writes nothing else.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/flow"
	"unid/internal/flow/login"
	"unid/internal/flow/recovery"
	"unid/internal/flow/registration"
	"unid/internal/problem"
	"unid/internal/ratelimit"
	"unid/internal/session"
	"unid/internal/store"
)

// Kind is the flow kind of a sign-in through a provider.
const Kind = "upstream"

// States of an upstream flow.
const (
	StateStarted    = "started"    // the browser is at the provider
	StateRedeeming  = "redeeming"  // the callback came and redeemed the code, once; no step accepts it
	StateIdentified = "identified" // an identity linked to no account: register or bind
	StateDone       = "done"
)

// TTL is how long a sign-in through a provider may take.
const TTL = 10 * time.Minute

// Purposes of a flow.
const (
	PurposeSignIn  = "signin"  // sign in, or register / bind when the identity is new
	PurposeRecover = "recover" // 快捷方式找回: the provider proves the person, a new password follows
	PurposeBind    = "bind"    // link the identity to the signed-in account (user center)
	PurposeReauth  = "reauth"  // the signed-in user proves themselves again through their link
)

// Audit actions of this package.
const (
	ActionLinked       = "upstream.linked"     // Detail {provider}
	ActionUnlinked     = "upstream.unlinked"   // Detail {provider}
	ActionFailed       = "upstream.failed"     // a callback refused; Result the problem code, Detail {provider, purpose}
	ActionUnlinkedSeen = "upstream.not_linked" // an identity linked to no account came back; Detail {provider, purpose}
)

// Events of the owner's messages (records), with params {provider}.
const (
	EventLinked   = "upstream.linked"
	EventUnlinked = "upstream.unlinked"
)

// Problem codes of this package (message keys error.<code>).
const (
	CodeStateMismatch   = "upstream_state_mismatch"   // the callback is not of this browser's flow
	CodeLinkedElsewhere = "upstream_linked_elsewhere" // the identity is linked to another account
	CodeAlreadyLinked   = "upstream_already_linked"   // the account has a link of this provider already
	CodeOnlyWayIn       = "upstream_only_way_in"      // unlinking would leave no way to sign in
	CodeNotLinked       = "upstream_not_linked"       // reauth through an identity that is not the user's
	CodeUnknown         = "upstream_unknown"          // no provider of that id
	CodeRateLimited     = "upstream_rate_limited"     // StartsPerAddressMinute reached
	CodeSessionChanged  = "upstream_session_changed"  // another user signed in while a bind or re-authentication ran
)

// Outcome results of Callback.
const (
	SignedIn = "signed_in" // Outcome.User signs in with Outcome.AMR
	Pending  = "pending"   // the identity is new: the register-or-bind page
	Recover  = "recover"   // Outcome.RecoveryID is a proven recovery flow
	Unlinked = "unlinked"  // recover with an identity linked to no account
	Bound    = "bound"     // the identity is now linked to the signed-in user
	Reauthed = "reauthenticated"
)

// Accounts is what the service needs of the account rules.
type Accounts interface {
	Find(ctx context.Context, identifier string) (store.User, bool, error)
}

// Deps are what a Service is built from.
type Deps struct {
	Providers []Provider
	PublicURL string // the callback is PublicURL + "/upstream/{id}/callback"
	Store     interface {
		store.Flows
		store.UpstreamLinks
		GetUser(ctx context.Context, id string) (store.User, error)
	}
	Protector    *account.Protector
	Registration *registration.Service
	Login        *login.Service
	Recovery     *recovery.Service
	Limiter      *ratelimit.Limiter
	// Tell leaves the owner a message (我的消息) about event (EventLinked,
	// EventUnlinked) with params {provider}: a new way into an account is
	// something its owner must hear of. nil tells nobody.
	Tell   func(ctx context.Context, userID, event string, params map[string]string)
	Audit  *audit.Log
	Logger *slog.Logger
	Now    func() time.Time
	// Unlinked is told that the user unlinked the provider, after it
	// happened: what stood on the link (a real-name binding through
	// Alipay) goes with it. May be nil.
	Unlinked func(ctx context.Context, userID, providerID string)
}

// StartsPerAddressMinute is how many sign-ins through providers one client
// address (ratelimit.Address) may start a minute: each is a flow record
// and a visit to the provider.
const StartsPerAddressMinute = 30

// Service runs sign-ins through providers and keeps their links.
type Service struct {
	d  Deps
	by map[string]Provider
}

// New returns a Service over d.
func New(d Deps) *Service {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{d: d, by: map[string]Provider{}}
	for _, p := range d.Providers {
		s.by[p.Info().ID] = p
	}
	return s
}

// Providers returns how the configured providers show themselves, in
// configuration order.
func (s *Service) Providers() []Info {
	out := make([]Info, 0, len(s.d.Providers))
	for _, p := range s.d.Providers {
		out = append(out, p.Info())
	}
	return out
}

// Provider returns the provider with the id.
func (s *Service) Provider(id string) (Info, bool) {
	p, ok := s.by[id]
	if !ok {
		return Info{}, false
	}
	return p.Info(), true
}

// data is what an upstream flow keeps.
type data struct {
	Provider string `json:"provider"`
	Purpose  string `json:"purpose"`
	Next     string `json:"next,omitempty"`
	Browser  []byte `json:"browser"` // SHA-256 of the browser secret
	Nonce    string `json:"nonce,omitempty"`
	Verifier string `json:"verifier,omitempty"`
	// Identity is the verified identity of an identified flow, sealed: it
	// holds what the provider said of a person.
	Identity []byte `json:"identity,omitempty"`
}

// BrowserToken is the cookie value that binds a flow to the browser that
// started it: the flow's ID and a secret only that browser has.
type BrowserToken string

func newBrowserToken(flowID string) (BrowserToken, []byte) {
	var secret [32]byte
	rand.Read(secret[:])
	enc := base64.RawURLEncoding.EncodeToString(secret[:])
	sum := sha256.Sum256([]byte(enc))
	return BrowserToken(flowID + "." + enc), sum[:]
}

// matches reports whether the token names the flow f and holds the secret
// whose hash f's data d keeps.
func (t BrowserToken) matches(f store.Flow, d data) bool {
	id, secret, found := strings.Cut(string(t), ".")
	if !found || id != f.ID || secret == "" {
		return false
	}
	sum := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(sum[:], d.Browser) == 1
}

// flowID returns the flow the token names, unchecked.
func (t BrowserToken) flowID() string {
	id, _, _ := strings.Cut(string(t), ".")
	return id
}

// Started is the answer to Start.
type Started struct {
	RedirectURL string       // the provider's authorization page
	Browser     BrowserToken // for the cookie
	ExpiresAt   time.Time
}

// Start begins a sign-in through the provider. userID is the signed-in
// user for PurposeBind and PurposeReauth, "" otherwise; next is a safe
// local path to go on to (the caller checks it).
func (s *Service) Start(ctx context.Context, providerID, purpose, next, userID string, c flow.Client) (Started, error) {
	p, ok := s.by[providerID]
	if !ok {
		return Started{}, problem.New(problem.NotFound, CodeUnknown)
	}
	rule := ratelimit.Rule{Key: "upstream-start:" + hex.EncodeToString(s.d.Protector.MAC("upstream-start", []byte(ratelimit.Address(c.IP)))),
		Limit: StartsPerAddressMinute, Window: time.Minute}
	if wait, err := s.d.Limiter.Allow(ctx, s.d.Now(), rule); err != nil {
		return Started{}, problem.Wrap(err)
	} else if wait > 0 {
		return Started{}, &problem.Problem{Kind: problem.TooMany, Code: CodeRateLimited, RetryAfter: wait}
	}
	switch purpose {
	case PurposeSignIn, PurposeRecover:
		userID = ""
	case PurposeBind, PurposeReauth:
		if userID == "" {
			return Started{}, problem.New(problem.Unauthorized, "not_signed_in")
		}
	default:
		return Started{}, problem.Field("purpose", "upstream_purpose_invalid")
	}
	now := s.d.Now().UTC().Truncate(time.Millisecond)
	id := flow.NewID()
	token, browser := newBrowserToken(id)
	d := data{Provider: providerID, Purpose: purpose, Next: next, Browser: browser,
		Nonce: rand.Text(), Verifier: oauth2.GenerateVerifier()}
	auth := s.auth(p, id, d, purpose, now)
	target, err := p.AuthURL(ctx, auth)
	if err != nil {
		return Started{}, err
	}
	fl, err := flow.Start(ctx, s.d.Store, store.Flow{ID: id, Kind: Kind, State: StateStarted, Subject: userID,
		IssuedAt: now, ExpiresAt: now.Add(TTL)}, d)
	if err != nil {
		return Started{}, problem.Wrap(err)
	}
	return Started{RedirectURL: target, Browser: token, ExpiresAt: fl.ExpiresAt}, nil
}

func (s *Service) auth(p Provider, flowID string, d data, purpose string, issued time.Time) Auth {
	a := Auth{
		State: flowID, RedirectURI: s.CallbackURL(p.Info().ID), Nonce: d.Nonce, Verifier: d.Verifier,
		// Recognising a linked person needs the subject only; registering
		// or binding a new one needs the nickname too.
		OnlyID: purpose == PurposeRecover || purpose == PurposeReauth,
	}
	if purpose == PurposeReauth || purpose == PurposeBind {
		// It opens the changes that ask for a recent sign-in, or adds a
		// way in: the person signs in at the provider now.
		a.FreshSince = issued
	}
	return a
}

// CallbackURL is where the provider sends the browser back.
func (s *Service) CallbackURL(providerID string) string {
	return strings.TrimRight(s.d.PublicURL, "/") + "/upstream/" + url.PathEscape(providerID) + "/callback"
}

// Outcome is what a callback came to.
type Outcome struct {
	Result     string // SignedIn, Pending, Recover, Unlinked, Bound, Reauthed
	Purpose    string
	Next       string
	User       store.User // SignedIn, Reauthed: the account
	AMR        []string   // SignedIn, Reauthed: how it signed in
	RecoveryID string     // Recover
}

// Callback finishes the flow of browser with the provider's answer
// (callback is the query of the request to CallbackURL). Its errors are
// problems; Purpose tells the adapter where to show them.
//
// sessionUserID is the user signed in in the browser now ("" for none): a
// bind or re-authentication is refused, before the provider is asked,
// unless it is still the user who started it.
func (s *Service) Callback(ctx context.Context, providerID string, callback url.Values, browser BrowserToken, sessionUserID string, c flow.Client) (Outcome, error) {
	p, ok := s.by[providerID]
	if !ok {
		return Outcome{}, problem.New(problem.NotFound, CodeUnknown)
	}
	state := callback.Get("state")
	var out Outcome
	var d data
	fl, _, err := flow.Update(ctx, s.d.Store, Kind, state, s.d.Now(), func(f *store.Flow, fd *data) error {
		out.Purpose = fd.Purpose
		if !browser.matches(*f, *fd) || fd.Provider != providerID {
			return problem.New(problem.Invalid, CodeStateMismatch)
		}
		if f.State != StateStarted {
			return flow.Expired()
		}
		f.State = StateRedeeming
		d = *fd
		return nil
	})
	if err != nil {
		// Audited once a flow: a callback URL replayed in a loop must not
		// fill the audit log.
		if problem.As(err).Code == CodeStateMismatch {
			if first, ferr := s.d.Limiter.First(ctx, s.d.Now(), "upstream-mismatch:"+state, TTL); ferr != nil || first {
				s.record(ctx, c, ActionFailed, "", CodeStateMismatch, audit.Detail{"provider": providerID})
			}
		}
		return out, err
	}
	out.Purpose, out.Next = d.Purpose, d.Next
	if (d.Purpose == PurposeBind || d.Purpose == PurposeReauth) && sessionUserID != fl.Subject {
		s.record(ctx, c, ActionFailed, fl.Subject, CodeSessionChanged, audit.Detail{"provider": providerID, "purpose": d.Purpose})
		return out, problem.New(problem.Unauthorized, CodeSessionChanged)
	}
	ident, err := p.Exchange(ctx, s.auth(p, fl.ID, d, d.Purpose, fl.IssuedAt), callback)
	if err != nil {
		pr := problem.As(err)
		s.record(ctx, c, ActionFailed, fl.Subject, pr.Code, audit.Detail{"provider": providerID, "purpose": d.Purpose})
		return out, err
	}
	link, err := s.d.Store.GetUpstreamLink(ctx, ident.Provider, ident.App, ident.Subject)
	linked := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return out, problem.Wrap(err)
	}
	switch d.Purpose {
	case PurposeBind:
		if err := s.link(ctx, fl.Subject, ident, linked, link, c); err != nil {
			return out, err
		}
		out.Result = Bound
		return out, nil
	case PurposeReauth:
		if !linked || link.UserID != fl.Subject {
			s.record(ctx, c, ActionFailed, fl.Subject, CodeNotLinked, audit.Detail{"provider": providerID, "purpose": d.Purpose})
			return out, problem.New(problem.Forbidden, CodeNotLinked)
		}
		u, err := s.use(ctx, link, ident, false)
		if err != nil {
			s.record(ctx, c, ActionFailed, fl.Subject, problem.As(err).Code, audit.Detail{"provider": providerID, "purpose": d.Purpose})
			return out, err
		}
		out.Result, out.User, out.AMR = Reauthed, u, s.amr(providerID)
		return out, nil
	}
	if !linked {
		if d.Purpose == PurposeRecover {
			s.record(ctx, c, ActionUnlinkedSeen, "", audit.ResultOK, audit.Detail{"provider": providerID, "purpose": d.Purpose})
			out.Result = Unlinked
			return out, nil
		}
		sealed, err := s.seal(ident)
		if err != nil {
			return out, problem.Wrap(err)
		}
		if err := s.identify(ctx, fl.ID, sealed); err != nil {
			return out, err
		}
		s.record(ctx, c, ActionUnlinkedSeen, "", audit.ResultOK, audit.Detail{"provider": providerID, "purpose": d.Purpose})
		out.Result = Pending
		return out, nil
	}
	u, err := s.use(ctx, link, ident, d.Purpose == PurposeSignIn)
	if err != nil {
		s.record(ctx, c, ActionFailed, link.UserID, problem.As(err).Code, audit.Detail{"provider": providerID, "purpose": d.Purpose})
		return out, err
	}
	if d.Purpose == PurposeRecover {
		started, err := s.d.Recovery.StartProven(ctx, u, providerID, c)
		if err != nil {
			return out, err
		}
		out.Result, out.RecoveryID = Recover, started.ID
		return out, nil
	}
	s.d.Audit.Append(ctx, audit.Entry{Actor: audit.User(u.ID), Action: audit.ActionLogin, Result: audit.ResultOK,
		IP: c.IP, UserAgent: c.UserAgent, Subject: u.LoginName, Detail: audit.Detail{"provider": providerID, "amr": AMR(p.Info().Kind)}})
	out.Result, out.User, out.AMR = SignedIn, u, s.amr(providerID)
	return out, nil
}

// AMR is the authentication method reference of a provider kind.
func AMR(kind string) string {
	if kind == KindAlipay {
		return store.AMRAlipay
	}
	return store.AMRFederated
}

// use records a sign-in through link and returns its account, refusing a
// disabled one as a password sign-in would. full says ident is a whole
// answer (not only the subject, as for recovery and re-authentication),
// whose nickname, certification and ID number replace the link's.
func (s *Service) use(ctx context.Context, link store.UpstreamLink, ident Identity, full bool) (store.User, error) {
	u, err := s.d.Store.GetUser(ctx, link.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, flow.Expired()
	}
	if err != nil {
		return store.User{}, problem.Wrap(err)
	}
	switch u.Status {
	case store.UserActive:
	case store.UserDisabled:
		return store.User{}, problem.New(problem.Forbidden, "account_disabled")
	default:
		return store.User{}, flow.Expired()
	}
	link.LastUsedAt = s.d.Now().UTC().Truncate(time.Millisecond)
	if ident.AlipayUserID != "" {
		link.AlipayUserID = ident.AlipayUserID
	}
	if full {
		link.Display, link.Certified, link.IDNumberIndex = display(ident), ident.Certified, s.idIndex(ident)
	}
	switch err := s.d.Store.UseUpstreamLink(ctx, link); {
	case errors.Is(err, store.ErrNotFound):
		return store.User{}, flow.Expired() // unlinked, or the account closed, meanwhile
	case err != nil:
		return store.User{}, problem.Wrap(err)
	}
	return u, nil
}

// link ties ident to the account userID.
func (s *Service) link(ctx context.Context, userID string, ident Identity, linked bool, existing store.UpstreamLink, c flow.Client) error {
	if linked {
		if existing.UserID == userID {
			return nil // linked already, to this account
		}
		s.record(ctx, c, ActionLinked, userID, CodeLinkedElsewhere, audit.Detail{"provider": ident.Provider})
		return problem.New(problem.Conflict, CodeLinkedElsewhere)
	}
	err := s.d.Store.CreateUpstreamLink(ctx, s.newLink(userID, ident))
	var conflict *store.ConflictError
	switch {
	case errors.As(err, &conflict) && conflict.Field == "upstream_provider":
		s.record(ctx, c, ActionLinked, userID, CodeAlreadyLinked, audit.Detail{"provider": ident.Provider})
		return problem.New(problem.Conflict, CodeAlreadyLinked)
	case errors.As(err, &conflict):
		s.record(ctx, c, ActionLinked, userID, CodeLinkedElsewhere, audit.Detail{"provider": ident.Provider})
		return problem.New(problem.Conflict, CodeLinkedElsewhere)
	case errors.Is(err, store.ErrNotFound):
		return flow.Expired()
	case err != nil:
		return problem.Wrap(err)
	}
	s.record(ctx, c, ActionLinked, userID, audit.ResultOK, audit.Detail{"provider": ident.Provider})
	s.tell(ctx, userID, EventLinked, ident.Provider)
	return nil
}

// tell leaves the owner a message about the link of providerID.
func (s *Service) tell(ctx context.Context, userID, event, providerID string) {
	if s.d.Tell == nil {
		return
	}
	name := providerID
	if info, ok := s.Provider(providerID); ok {
		name = info.Name
	}
	s.d.Tell(ctx, userID, event, map[string]string{"provider": name})
}

func (s *Service) newLink(userID string, ident Identity) store.UpstreamLink {
	now := s.d.Now().UTC().Truncate(time.Millisecond)
	return store.UpstreamLink{Provider: ident.Provider, App: ident.App, Subject: ident.Subject, UserID: userID,
		AlipayUserID: ident.AlipayUserID, Display: display(ident), Certified: ident.Certified,
		IDNumberIndex: s.idIndex(ident), LinkedAt: now, LastUsedAt: now}
}

// idIndex is the blind index of the ID number the provider certified, as
// the account's own verified number is indexed, or nil: the number itself
// is never kept with the link.
func (s *Service) idIndex(ident Identity) []byte {
	if ident.IDNumber == "" {
		return nil
	}
	return s.d.Protector.Index(account.FieldIDNumber, ident.IDNumber)
}

// display is how a link is named in its owner's list: the nickname
// masked, as a name is.
func display(ident Identity) string { return account.MaskName(ident.Nickname) }

// identityField is the kind of personal data an identified flow's
// identity is sealed as.
const identityField = "upstream_identity"

func (s *Service) seal(ident Identity) ([]byte, error) {
	// Only what the register-or-bind step uses is kept: the provider's
	// phone and avatar are never shown or bound.
	ident.Phone, ident.Avatar = "", ""
	raw, err := json.Marshal(ident)
	if err != nil {
		return nil, err
	}
	sealed, err := s.d.Protector.Seal(identityField, string(raw))
	if err != nil {
		return nil, err
	}
	return sealed.Cipher, nil
}

func (s *Service) open(cipher []byte) (Identity, error) {
	raw, err := s.d.Protector.Open(identityField, store.Sealed{Cipher: cipher})
	if err != nil {
		return Identity{}, err
	}
	var ident Identity
	return ident, json.Unmarshal([]byte(raw), &ident)
}

// identify keeps the sealed identity of a new person in the flow, for the
// register-or-bind step. Every other outcome leaves the flow redeeming,
// which no step accepts: the callback is its last.
func (s *Service) identify(ctx context.Context, id string, identity []byte) error {
	_, _, err := flow.Update(ctx, s.d.Store, Kind, id, s.d.Now(), func(f *store.Flow, d *data) error {
		if f.State != StateRedeeming {
			return flow.Expired()
		}
		f.State, d.Identity = StateIdentified, identity
		return nil
	})
	return err
}

// PendingIdentity is what the register-or-bind page shows of an
// identified flow.
type PendingIdentity struct {
	Provider  Info
	Nickname  string
	LoginName string // a suggestion for the new account's login name
	Certified bool
	Next      string
}

// pending loads the identified flow of browser.
func (s *Service) pending(ctx context.Context, browser BrowserToken) (store.Flow, data, Identity, error) {
	fl, d, err := flow.Load[data](ctx, s.d.Store, Kind, browser.flowID(), s.d.Now())
	if err != nil {
		return fl, d, Identity{}, err
	}
	if !browser.matches(fl, d) || fl.State != StateIdentified {
		return fl, d, Identity{}, flow.Expired()
	}
	ident, err := s.open(d.Identity)
	if err != nil {
		return fl, d, Identity{}, problem.Wrap(err)
	}
	return fl, d, ident, nil
}

// Pending returns the identity of browser's identified flow.
func (s *Service) Pending(ctx context.Context, browser BrowserToken) (PendingIdentity, error) {
	_, d, ident, err := s.pending(ctx, browser)
	if err != nil {
		return PendingIdentity{}, err
	}
	info, _ := s.Provider(d.Provider)
	suggest := ident.LoginName
	if account.ValidateLoginName(suggest) != nil {
		suggest = ""
	}
	return PendingIdentity{Provider: info, Nickname: ident.Nickname, LoginName: suggest, Certified: ident.Certified, Next: d.Next}, nil
}

// spend ends browser's identified flow once, so that of two concurrent
// steps one goes on.
func (s *Service) spend(ctx context.Context, id string) error {
	_, _, err := flow.Update(ctx, s.d.Store, Kind, id, s.d.Now(), func(f *store.Flow, _ *data) error {
		if f.State != StateIdentified {
			return flow.Expired()
		}
		f.State = StateDone
		return nil
	})
	return err
}

// Register creates an account linked to browser's identified identity
// (快捷注册): the registration's rules, with the password optional. The
// flow stays open while the form has field errors, so the person can
// correct them.
func (s *Service) Register(ctx context.Context, browser BrowserToken, req registration.Request, c flow.Client) (store.User, []string, error) {
	fl, d, ident, err := s.pending(ctx, browser)
	if err != nil {
		return store.User{}, nil, err
	}
	if strings.TrimSpace(req.Nickname) == "" {
		nick := []rune(ident.Nickname)
		req.Nickname = string(nick[:min(len(nick), account.NicknameMaxLength)])
	}
	u, err := s.d.Registration.RegisterLinked(ctx, req, s.newLink("", ident), c)
	if err != nil {
		return store.User{}, nil, err
	}
	// The account and its link are made: the flow ends and the link is
	// recorded even if the browser has gone meanwhile. A flow another step
	// ended first changes nothing of that.
	ctx, cancel := session.Detach(ctx)
	defer cancel()
	_ = s.spend(ctx, fl.ID)
	s.record(ctx, c, ActionLinked, u.ID, audit.ResultOK, audit.Detail{"provider": d.Provider, "via": "register"})
	return u, append(s.amr(ident.Provider), store.AMRSMS), nil
}

// Bind links browser's identified identity to the account the request
// signs in to (有统一身份认证账号): a sign-in with every rule of one —
// captcha, lockout, the same answers — and then the link.
func (s *Service) Bind(ctx context.Context, browser BrowserToken, req login.Request, c flow.Client) (store.User, []string, error) {
	fl, _, ident, err := s.pending(ctx, browser)
	if err != nil {
		return store.User{}, nil, err
	}
	u, err := s.d.Login.Login(ctx, req, c)
	if err != nil {
		return store.User{}, nil, err
	}
	if err := s.spend(ctx, fl.ID); err != nil {
		return store.User{}, nil, err
	}
	if err := s.link(ctx, u.ID, ident, false, store.UpstreamLink{}, c); err != nil {
		return store.User{}, nil, err
	}
	// The provider vouched for someone, not for this account's holder:
	// only the password signed this account in.
	return u, []string{store.AMRPassword}, nil
}

// amr is how a person signs in who signs in through the provider.
func (s *Service) amr(providerID string) []string {
	info, _ := s.Provider(providerID)
	return []string{AMR(info.Kind)}
}

// Link is one link as its owner sees it.
type Link struct {
	Provider   Info
	Nickname   string // masked
	Certified  bool
	LinkedAt   time.Time
	LastUsedAt time.Time
}

// Links returns the user's links to configured providers, and the
// providers the user has no link with.
func (s *Service) Links(ctx context.Context, userID string) (links []Link, available []Info, err error) {
	stored, err := s.d.Store.ListUpstreamLinks(ctx, userID)
	if err != nil {
		return nil, nil, problem.Wrap(err)
	}
	have := map[string]bool{}
	for _, l := range stored {
		info, ok := s.Provider(l.Provider)
		if !ok {
			info = Info{ID: l.Provider, Name: l.Provider} // a provider no longer configured: still shown, to be removed
		}
		have[l.Provider] = true
		links = append(links, Link{Provider: info, Nickname: l.Display, Certified: l.Certified, LinkedAt: l.LinkedAt, LastUsedAt: l.LastUsedAt})
	}
	for _, info := range s.Providers() {
		if !have[info.ID] {
			available = append(available, info)
		}
	}
	return links, available, nil
}

// Evidence is what a provider said of the person of an account's link, as
// real-name evidence (Alipay's is_certified).
type Evidence struct {
	Linked    bool
	Certified bool   // at the link's last sign-in
	Display   string // the masked nickname, for the binding's detail
	// IDNumberIndex is the blind index of the ID number the provider
	// certified (Alipay's cert_no), nil when it gave none.
	IDNumberIndex []byte
}

// Evidence returns what the user's link with the provider shows.
func (s *Service) Evidence(ctx context.Context, userID, providerID string) (Evidence, error) {
	links, err := s.d.Store.ListUpstreamLinks(ctx, userID)
	if err != nil {
		return Evidence{}, problem.Wrap(err)
	}
	info, _ := s.Provider(providerID)
	for _, l := range links {
		// A link of an application no longer configured says nothing of
		// the identity the configured one would see.
		if l.Provider == providerID && l.App == info.App {
			return Evidence{Linked: true, Certified: l.Certified, Display: l.Display, IDNumberIndex: l.IDNumberIndex}, nil
		}
	}
	return Evidence{}, nil
}

// Unlink removes the user's link of the provider (账号解绑); the caller
// has asked for a recent sign-in. The account's last way in is refused.
func (s *Service) Unlink(ctx context.Context, userID, providerID string, c flow.Client) error {
	err := s.d.Store.DeleteUpstreamLink(ctx, userID, providerID)
	switch {
	case errors.Is(err, store.ErrLastWayIn):
		s.record(ctx, c, ActionUnlinked, userID, CodeOnlyWayIn, audit.Detail{"provider": providerID})
		return problem.New(problem.Conflict, CodeOnlyWayIn)
	case errors.Is(err, store.ErrNotFound):
		return problem.New(problem.NotFound, "not_found")
	case err != nil:
		return problem.Wrap(err)
	}
	s.record(ctx, c, ActionUnlinked, userID, audit.ResultOK, audit.Detail{"provider": providerID})
	if s.d.Unlinked != nil {
		s.d.Unlinked(ctx, userID, providerID)
	}
	s.tell(ctx, userID, EventUnlinked, providerID)
	return nil
}

func (s *Service) record(ctx context.Context, c flow.Client, action, userID, result string, detail audit.Detail) {
	actor := audit.Anonymous()
	if userID != "" {
		actor = audit.User(userID)
	}
	s.d.Audit.Append(ctx, audit.Entry{Actor: actor, Action: action, Result: result, IP: c.IP, UserAgent: c.UserAgent, Detail: detail})
}
