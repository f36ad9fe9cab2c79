package cas

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/claims"
	"unid/internal/client"
	"unid/internal/flow"
	"unid/internal/httpx"
	"unid/internal/i18n"
	"unid/internal/problem"
	"unid/internal/ratelimit"
	"unid/internal/session"
	"unid/internal/sso/acting"
	"unid/internal/store"
)

// Registry is what the CAS server reads of the client registry;
// *client.Registry has it. Get answers an unknown ID with store.ErrNotFound
// or a problem.NotFound.
type Registry interface {
	Services(ctx context.Context) (*client.Services, error)
	Get(ctx context.Context, id string) (store.Client, error)
}

// Sessions is what the CAS server uses of the browser session;
// *session.Manager has it. End must run the hooks registered with the
// manager's OnEnd, which is how /cas/logout reaches SingleLogout.
type Sessions interface {
	Current(ctx context.Context, r *http.Request) (store.Session, bool, error)
	SignedIn(ctx context.Context, r *http.Request) (store.Session, store.User, bool, error)
	End(ctx context.Context, w http.ResponseWriter, r *http.Request, how session.Logout) error
	// Stands reports whether a sign-in through the user's session sid
	// still stands: not ended, and acting for acting.
	Stands(ctx context.Context, userID, sid, acting string) (bool, error)
}

// Store is the part of the store the CAS server uses.
type Store interface {
	store.Challenges
	store.Flows
	store.Users
	store.SessionClients
}

// KindTicket is the challenge kind of a service ticket in
// store.Challenges. ID: the SHA-256 of the ticket (ticketKey); Secret: the
// JSON of ticketRecord.
const KindTicket = "cas_st"

// KindLogin is the flow kind of a /cas/login that had to go through the
// login page (store.Flows). ID: the opaque id in /cas/login/continue?id=;
// Data: pendingLogin. Its states:
//
//	LoginPending ──signed in (freshly, under renew)──▶ LoginDone, ticket issued
const KindLogin = "cas_login"

// States of a KindLogin flow.
const (
	LoginPending = "pending" // waiting for the user to sign in
	LoginDone    = "done"    // a ticket was issued; the flow cannot be used again
)

// Audit actions of the CAS server. Tickets are never written to the audit
// log or to the logs.
const (
	ActionTicketIssued    = "cas.ticket_issued"    // Result ok; Subject the client ID
	ActionTicketValidated = "cas.ticket_validated" // Result ok; Subject the client ID
	ActionTicketRefused   = "cas.ticket_refused"   // Result the CAS error code, e.g. INVALID_SERVICE
	ActionLoginRefused    = "cas.login_refused"    // no ticket issued; Result the reason (ReasonRealnameLevel); Subject the client ID
	ActionLogoutSent      = "cas.logout_sent"      // single logout delivered; Subject the client ID
	ActionLogoutFailed    = "cas.logout_failed"    // single logout not delivered; Result "failed"
)

// ReasonRealnameLevel is the Result of a cas.login_refused: the user's
// real-name level is below the service's registered minimum.
const ReasonRealnameLevel = "realname_level"

// ReasonEnterpriseRole is the Result of a cas.login_refused: the identity
// the session acts for does not hold the service's minimum enterprise role.
const ReasonEnterpriseRole = "enterprise_role"

// Options tune the server; zero values take the defaults.
type Options struct {
	// TicketTTL is how long a service ticket can be validated (default 10 s).
	TicketTTL time.Duration
	// LoginTTL is how long a sign-in started at /cas/login may take on the
	// login page before /cas/login/continue refuses it (default 15 min).
	LoginTTL time.Duration
	// LoginsPerIPMinute is how many sign-ins one client address may start
	// at /cas/login a minute (0: unlimited).
	LoginsPerIPMinute int
	// LogoutTimeout bounds each single-logout POST (default 3 s), and
	// LogoutBudget all of them for one session (default 5 s).
	LogoutTimeout time.Duration
	LogoutBudget  time.Duration
	// HTTPClient sends single-logout requests. The default follows no
	// redirects.
	HTTPClient *http.Client
}

// Defaults of Options.
const (
	DefaultTicketTTL     = 10 * time.Second
	DefaultLoginTTL      = 15 * time.Minute
	DefaultLogoutTimeout = 3 * time.Second
	DefaultLogoutBudget  = 5 * time.Second
)

// Deps are what the CAS server is built on.
type Deps struct {
	Registry   Registry
	Sessions   Sessions
	Store      Store
	Protector  *account.Protector
	Audit      *audit.Log
	Catalog    *i18n.Catalog
	Logger     *slog.Logger
	Now        func() time.Time
	TrustProxy bool // take the client address from X-Forwarded-For, as httpx.ClientIP does
	// Limiter bounds the pending logins one client address may start
	// (LoginsPerIPMinute a minute), each a record that lives LoginTTL.
	Limiter *ratelimit.Limiter
	// Pages shows the error and signed-out pages; nil answers them as
	// plain text.
	Pages Pages
	// Enterprises answers whom a user may act for (services registered
	// for the attribute enterprise, a minimum enterprise role); nil:
	// nobody acts for any.
	Enterprises acting.Enterprises
	Options
}

// Server is the CAS server: the /cas/ endpoints and the single-logout hook.
type Server struct {
	d     Deps
	log   *slog.Logger
	pages *pages
	http  *http.Client
	// warned is the registry listing whose invalid service patterns were
	// logged last: once per listing, not once per request.
	warned atomic.Pointer[client.Services]
}

// New returns a CAS server over d.
func New(d Deps) *Server {
	if d.TicketTTL <= 0 {
		d.TicketTTL = DefaultTicketTTL
	}
	if d.LoginTTL <= 0 {
		d.LoginTTL = DefaultLoginTTL
	}
	if d.LogoutTimeout <= 0 {
		d.LogoutTimeout = DefaultLogoutTimeout
	}
	if d.LogoutBudget <= 0 {
		d.LogoutBudget = DefaultLogoutBudget
	}
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hc := d.HTTPClient
	if hc == nil {
		hc = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &Server{d: d, log: log, pages: newPages(d.Pages, d.Catalog), http: hc}
}

// Routes lists the CAS endpoints. They are all GET, as CAS clients and
// browsers use them; a HEAD (which a mux pattern "GET …" also routes) is
// refused, so that link checkers and prefetchers neither create sign-ins
// nor use up tickets.
func (s *Server) Routes() []httpx.Route {
	return []httpx.Route{
		{Pattern: "GET /cas/login", Handler: getOnly(s.login)},
		{Pattern: "GET /cas/login/continue", Handler: getOnly(s.loginContinue)},
		{Pattern: "GET /cas/logout", Handler: getOnly(s.logout)},
		{Pattern: "POST /cas/logout", Handler: s.logout},
		{Pattern: "GET /cas/validate", Handler: getOnly(s.validate(v1))},
		{Pattern: "GET /cas/serviceValidate", Handler: getOnly(s.validate(v2))},
		{Pattern: "GET /cas/p3/serviceValidate", Handler: getOnly(s.validate(v3))},
	}
}

func getOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		h(w, r)
	}
}

// maxQueryLen bounds the query of every CAS request. A service URL is at
// most client.MaxServiceLen, three times that when every character is
// percent-encoded; with the ticket and the flags this is ample.
const maxQueryLen = 3*client.MaxServiceLen + 512

// params reads the query of r, of bounded size, in which each name CAS
// uses appears at most once. ok=false means the query is malformed, too long or repeats a name that
// CAS uses (a second "service" could be read differently by another
// component); q is then still what could be parsed, or nil.
func params(r *http.Request) (q url.Values, ok bool) {
	if len(r.URL.RawQuery) > maxQueryLen {
		return nil, false
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, false
	}
	for _, name := range []string{"service", "ticket", "renew", "gateway", "format", "id"} {
		if len(q[name]) > 1 {
			return q, false
		}
	}
	return q, true
}

// flag reports whether a CAS flag parameter (renew, gateway) is set: present
// with any value but "false" or "0". The specification says "if this
// parameter is set" and recommends the value "true".
func flag(q url.Values, name string) bool {
	v, ok := q[name]
	if !ok {
		return false
	}
	return v[0] != "false" && v[0] != "0"
}

// pendingLogin is a /cas/login waiting for the user to sign in.
type pendingLogin struct {
	Service string `json:"service"`
	Renew   bool   `json:"renew"`
}

// login is /cas/login as credential requestor (CAS 2.1). Credentials are
// never posted here: unid's own login page takes them and comes back
// through /cas/login/continue.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q, ok := params(r)
	if !ok {
		s.pages.fail(w, r, http.StatusBadRequest, "cas.error.bad_request")
		return
	}
	service := q.Get("service")
	if service == "" {
		// No service: the personal space is the "you are signed in" page,
		// and /me sends a visitor to the login page.
		noStore(w)
		http.Redirect(w, r, "/me", http.StatusFound)
		return
	}
	c, err := s.findClient(ctx, service)
	if err != nil {
		s.failLookup(w, r, err)
		return
	}
	renew := flag(q, "renew")
	gateway := flag(q, "gateway") && !renew // the specification recommends ignoring gateway with renew
	if !renew {
		sess, u, ok, err := s.d.Sessions.SignedIn(ctx, r)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		if ok {
			if s.belowLevel(w, r, c, service, u, false, gateway) {
				return
			}
			uscc, ok := s.actingFor(w, r, c, service, sess, u, gateway)
			if !ok {
				return
			}
			s.issue(w, r, c, service, sess, u, false, uscc)
			return
		}
		if gateway {
			noStore(w)
			redirect(w, service)
			return
		}
	}
	if wait, err := s.allowPendingLogin(ctx, r); err != nil {
		s.internal(w, r, err)
		return
	} else if wait > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64((wait+time.Second-1)/time.Second), 10))
		s.pages.fail(w, r, http.StatusTooManyRequests, "cas.error.too_many")
		return
	}
	now := s.now()
	f, err := flow.Start(ctx, s.d.Store, store.Flow{
		Kind: KindLogin, State: LoginPending, IssuedAt: now, ExpiresAt: now.Add(s.d.LoginTTL),
	}, pendingLogin{Service: service, Renew: renew})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	noStore(w)
	http.Redirect(w, r, loginURL(f.ID), http.StatusFound)
}

// allowPendingLogin counts a pending login against the caller's address
// (IPv6 by its /64) and returns how long to wait when over the limit.
func (s *Server) allowPendingLogin(ctx context.Context, r *http.Request) (time.Duration, error) {
	if s.d.Limiter == nil || s.d.LoginsPerIPMinute <= 0 {
		return 0, nil
	}
	ip := ratelimit.Address(httpx.ClientIP(r, s.d.TrustProxy))
	key := "cas-login-ip:" + hex.EncodeToString(s.d.Protector.MAC("cas-login-ip", []byte(ip)))
	return s.d.Limiter.Allow(ctx, s.now(), ratelimit.Rule{Key: key, Limit: int64(s.d.LoginsPerIPMinute), Window: time.Minute})
}

// loginURL is unid's login page, coming back to /cas/login/continue.
func loginURL(id string) string {
	return "/login?next=" + url.QueryEscape("/cas/login/continue?id="+id)
}

// PendingSignIn tells the login page which service a sign-in is for: next
// is the page's ?next=, which is /cas/login/continue?id=… when a /cas/login
// sent the user there. It returns the service's registered name and the
// service URL itself (without a ticket: the way back without signing in),
// or false when next is no live pending login of a registered service.
func (s *Server) PendingSignIn(ctx context.Context, next string) (clientName, backURL string, ok bool) {
	u, err := url.Parse(next)
	if err != nil || u.Path != "/cas/login/continue" {
		return "", "", false
	}
	id := u.Query().Get("id")
	if !validLoginID(id) {
		return "", "", false
	}
	f, p, err := flow.Load[pendingLogin](ctx, s.d.Store, KindLogin, id, s.now())
	if err != nil || f.State != LoginPending {
		return "", "", false
	}
	c, err := s.findClient(ctx, p.Service)
	if err != nil {
		return "", "", false
	}
	return c.Name, p.Service, true
}

// loginContinue finishes a /cas/login after the login page: it issues the
// ticket once the browser has a session — one whose credentials were
// presented after the /cas/login when it asked for renew.
func (s *Server) loginContinue(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q, ok := params(r)
	id := q.Get("id")
	if !ok || !validLoginID(id) {
		s.pages.fail(w, r, http.StatusBadRequest, "cas.error.bad_request")
		return
	}
	f, p, err := flow.Load[pendingLogin](ctx, s.d.Store, KindLogin, id, s.now())
	if err == nil && f.State != LoginPending {
		err = flow.Expired()
	}
	if err != nil {
		s.failFlow(w, r, err)
		return
	}
	sess, u, ok, err := s.d.Sessions.SignedIn(ctx, r)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	fresh := ok && !sess.AuthTime.Before(f.IssuedAt)
	if !ok || p.Renew && !fresh {
		noStore(w)
		http.Redirect(w, r, loginURL(id), http.StatusFound)
		return
	}
	// Single use: of two concurrent continues, one moves the flow on and
	// the other finds it done.
	if _, _, err := flow.Update(ctx, s.d.Store, KindLogin, id, s.now(), func(f *store.Flow, _ *pendingLogin) error {
		if f.State != LoginPending {
			return flow.Expired()
		}
		f.State = LoginDone
		return nil
	}); err != nil {
		s.failFlow(w, r, err)
		return
	}
	// The registry may have changed while the user was signing in.
	c, err := s.findClient(ctx, p.Service)
	if err != nil {
		s.failLookup(w, r, err)
		return
	}
	if s.belowLevel(w, r, c, p.Service, u, p.Renew, false) {
		return
	}
	uscc, ok := s.actingFor(w, r, c, p.Service, sess, u, false)
	if !ok {
		return
	}
	s.issue(w, r, c, p.Service, sess, u, fresh, uscc)
}

// belowLevel refuses a sign-in of u to c when u's real-name level is below
// what c requires (claims.Required: the client's registered minimum; CAS
// has no acr_values), and reports whether it did. No ticket is issued; the
// refusal is audited. The page says which level the service needs and the
// user's, and links to the upgrade page, which links back to /cas/login
// for the same service (with renew when it was asked for). Under gateway
// no page may be shown: the browser goes back to the service without a
// ticket, as for a visitor who is not signed in.
func (s *Server) belowLevel(w http.ResponseWriter, r *http.Request, c store.Client, service string, u store.User, renew, gateway bool) bool {
	need := claims.Required(c, 0)
	if claims.Satisfies(u.RealnameLevel, need) {
		return false
	}
	s.record(r.Context(), r, u.ID, ActionLoginRefused, ReasonRealnameLevel, c.ID, audit.Detail{
		"required": strconv.Itoa(need), "level": strconv.Itoa(u.RealnameLevel), "gateway": strconv.FormatBool(gateway),
	})
	noStore(w)
	if gateway {
		redirect(w, service)
		return true
	}
	back := "/cas/login?service=" + url.QueryEscape(service)
	if renew {
		back += "&renew=true"
	}
	s.pages.levelRequired(w, r, c.Name, need, claims.ClampLevel(u.RealnameLevel), "/settings/realname?next="+url.QueryEscape(back)+"&level="+strconv.Itoa(need))
	return true
}

// actingFor decides whom a sign-in of u to c acts for, when c is
// registered for the attribute enterprise or requires an enterprise role,
// or answers the request: the identity page when the session has no
// choice yet (it leads back to /cas/login for the service), a page saying
// the service requires an enterprise role (no ticket, audited). Under
// gateway no page may be shown: the browser goes back to the service
// without a ticket. ok is false when answered.
func (s *Server) actingFor(w http.ResponseWriter, r *http.Request, c store.Client, service string, sess store.Session, u store.User, gateway bool) (uscc string, ok bool) {
	ctx := r.Context()
	if !acting.Wants(c.Scopes, c) {
		return "", true
	}
	need, err := acting.NeedsChoice(ctx, s.d.Enterprises, sess, false)
	if err != nil {
		s.internal(w, r, err)
		return "", false
	}
	if need {
		noStore(w)
		if gateway {
			redirect(w, service)
			return "", false
		}
		http.Redirect(w, r, acting.IdentityPath("/cas/login?service="+url.QueryEscape(service), ""), http.StatusFound)
		return "", false
	}
	uscc, _ = session.Acting(sess)
	m, err := acting.Live(ctx, s.d.Enterprises, u.ID, uscc)
	if err != nil {
		s.internal(w, r, err)
		return "", false
	}
	if !acting.MeetsRole(c, m) {
		s.record(ctx, r, u.ID, ActionLoginRefused, ReasonEnterpriseRole, c.ID, audit.Detail{
			"required": c.MinEnterpriseRole, "gateway": strconv.FormatBool(gateway),
		})
		noStore(w)
		if gateway {
			redirect(w, service)
			return "", false
		}
		s.pages.fail(w, r, http.StatusForbidden, "cas.error.enterprise_role")
		return "", false
	}
	if m == nil {
		return "", true
	}
	return m.USCC, true
}

// failFlow answers a pending login that cannot go on (problem.Gone: start
// again) or an error reading it.
func (s *Server) failFlow(w http.ResponseWriter, r *http.Request, err error) {
	var p *problem.Problem
	if errors.As(err, &p) && p.Kind == problem.Gone {
		s.pages.fail(w, r, http.StatusGone, "cas.error.login_expired")
		return
	}
	s.internal(w, r, err)
}

// validLoginID reports whether id looks like a pending-login id (flow.NewID).
func validLoginID(id string) bool {
	if len(id) < 26 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// ticketRecord is what a service ticket stands for.
type ticketRecord struct {
	Service  string    `json:"service"`
	ClientID string    `json:"client_id"`
	UserID   string    `json:"user_id"`
	SID      string    `json:"sid"`
	NewLogin bool      `json:"new_login"` // issued right after credentials were presented
	AuthTime time.Time `json:"auth_time"`
	Acting   string    `json:"acting,omitempty"` // the enterprise the sign-in acts for (credit code); "" the person
	AMR      []string  `json:"amr,omitempty"`    // how the user signed in (store.Session.AMR)
	// SessionActing is whom the session acted for at the issue
	// (session.Acting), which the validation wants unchanged.
	SessionActing string `json:"session_acting,omitempty"`
}

// seal is the MAC of a ticket's record, kept with it (Subject) and checked
// at validation: whoever can write the store (Redis, where tickets live
// when it is configured) cannot make a ticket that names another user or
// service, or lives longer, without the key file.
func (s *Server) seal(ch store.Challenge) []byte {
	return s.d.Protector.MAC("cas-ticket", []byte(ch.ID), ch.Secret, []byte(strconv.FormatInt(ch.ExpiresAt.UnixMilli(), 10)))
}

// issue creates a service ticket for service, records it against the
// session for single logout, and sends the browser to the service with it.
func (s *Server) issue(w http.ResponseWriter, r *http.Request, c store.Client, service string, sess store.Session, u store.User, newLogin bool, uscc string) {
	ctx := r.Context()
	ticket := newTicket()
	rec := ticketRecord{Service: service, ClientID: c.ID, UserID: u.ID, SID: sess.SID, NewLogin: newLogin, AuthTime: sess.AuthTime, Acting: uscc, AMR: sess.AMR}
	rec.SessionActing, _ = session.Acting(sess)
	secret, err := json.Marshal(rec)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	now := s.now()
	// The session learns of the ticket first: a logout between issue and
	// validation then finds it, and SingleLogout deletes it unused.
	if err := s.d.Store.AddSessionClient(ctx, store.SessionClient{
		SID: sess.SID, ClientID: c.ID, Protocol: "cas", Ref: ticket, URL: service, UserID: u.ID, Acting: uscc, CreatedAt: now,
	}); err != nil {
		s.internal(w, r, err)
		return
	}
	ch := store.Challenge{Kind: KindTicket, ID: ticketKey(ticket), Secret: secret, CreatedAt: now, ExpiresAt: now.Add(s.d.TicketTTL)}
	ch.Subject = s.seal(ch)
	if err := s.d.Store.PutChallenge(ctx, ch); err != nil {
		s.internal(w, r, err)
		return
	}
	s.record(ctx, r, u.ID, ActionTicketIssued, audit.ResultOK, c.ID, audit.Detail{"new_login": strconv.FormatBool(newLogin)})
	noStore(w)
	redirect(w, client.WithTicket(service, ticket))
}

// notFound reports whether a registry or store error means "no such
// record": the registry answers an unknown client with a NotFound problem.
func notFound(err error) bool {
	if errors.Is(err, store.ErrNotFound) {
		return true
	}
	var p *problem.Problem
	return errors.As(err, &p) && p.Kind == problem.NotFound
}

// errNoService means no CAS client has a pattern the service matches.
var errNoService = errors.New("cas: service not registered")

// errServiceDisabled means the client the service matches is disabled.
var errServiceDisabled = errors.New("cas: service disabled")

// findClient returns the CAS client whose patterns allow service, the
// most specific one when several do (client.Services.Match).
func (s *Server) findClient(ctx context.Context, service string) (store.Client, error) {
	u, err := client.ParseService(service)
	if err != nil {
		return store.Client{}, err
	}
	services, err := s.d.Registry.Services(ctx)
	if err != nil {
		return store.Client{}, err
	}
	if len(services.Invalid) > 0 && s.warned.Swap(services) != services {
		s.log.WarnContext(ctx, "cas clients have invalid service patterns, which are ignored", "clients", services.Invalid)
	}
	best, ok := services.Match(u)
	if !ok {
		return store.Client{}, errNoService
	}
	// The most specific registration decides: a disabled one is not
	// passed over for a broader one.
	if client.CheckActive(best) != nil {
		return store.Client{}, errServiceDisabled
	}
	return best, nil
}

// failLookup answers a service that could not be matched: an error page,
// never a redirect.
func (s *Server) failLookup(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, client.ErrService):
		s.pages.fail(w, r, http.StatusBadRequest, "cas.error.service_invalid")
	case errors.Is(err, errNoService):
		s.log.InfoContext(r.Context(), "cas service not registered")
		s.pages.fail(w, r, http.StatusBadRequest, "cas.error.service_unknown")
	case errors.Is(err, errServiceDisabled):
		s.log.InfoContext(r.Context(), "cas service disabled")
		s.pages.fail(w, r, http.StatusForbidden, "cas.error.service_disabled")
	default:
		s.internal(w, r, err)
	}
}

// internal answers a fault of unid, or of a backend it cannot reach (the
// database, Redis): then 503 with Retry-After, "try again shortly".
func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	if store.Unavailable(err) {
		s.log.WarnContext(r.Context(), "cas request failed: a backend is unavailable", "err", err)
		w.Header().Set("Retry-After", strconv.Itoa(int(httpx.RetryUnavailable/time.Second)))
		s.pages.fail(w, r, http.StatusServiceUnavailable, "cas.error.unavailable")
		return
	}
	s.log.ErrorContext(r.Context(), "cas request failed", "err", err)
	s.pages.fail(w, r, http.StatusInternalServerError, "cas.error.internal")
}

// logout is /cas/logout: it ends the unid session — which, through the
// session manager's hooks, sends single logout to every service of the
// session — and then shows the signed-out page, or returns to service when
// it is a registered one (CAS 3.0, 2.3.2). The CAS 2.0 "url" parameter is
// ignored, as CAS 3.0 requires.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q, ok := params(r)
	if !ok {
		q = nil // a malformed query redirects nowhere
	}
	if r.Method == http.MethodPost {
		// The confirmation form: cross-origin protection has already
		// refused a POST from any other site.
		r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
		if err := r.ParseForm(); err != nil {
			s.pages.fail(w, r, http.StatusBadRequest, "cas.error.bad_request")
			return
		}
		q = url.Values{"service": {r.PostForm.Get("service")}}
	}
	// A link on another site must not sign the user out of every system
	// (CAS logout is a GET, so any page can make one): the user is asked,
	// and confirms with a POST from unid's own page.
	if r.Method == http.MethodGet && !httpx.SameOrigin(r) {
		if _, ok, err := s.d.Sessions.Current(ctx, r); err != nil {
			s.internal(w, r, err)
			return
		} else if ok {
			s.pages.confirmLogout(w, r, q.Get("service"))
			return
		}
	}
	how := session.Logout{Via: session.ViaCAS, Client: httpx.Client(r, s.d.TrustProxy)}
	if err := s.d.Sessions.End(ctx, w, r, how); err != nil {
		s.internal(w, r, err)
		return
	}
	if service := q.Get("service"); service != "" {
		if _, err := s.findClient(ctx, service); err == nil {
			noStore(w)
			redirect(w, service)
			return
		}
	}
	s.pages.signedOut(w, r)
}

// record appends the ticket event of action with result about request r:
// the user's, with the client as subject.
func (s *Server) record(ctx context.Context, r *http.Request, userID, action, result, clientID string, detail audit.Detail) {
	if s.d.Audit == nil {
		return
	}
	e := audit.Entry{Actor: audit.User(userID), Action: action, Result: result, Subject: clientID, Detail: detail, Client: clientID}
	if r != nil {
		e.IP, e.UserAgent = httpx.ClientIP(r, s.d.TrustProxy), r.UserAgent()
	}
	s.d.Audit.Append(ctx, e)
}

func (s *Server) now() time.Time { return s.d.Now().UTC().Truncate(time.Millisecond) }

// noStore keeps responses that carry or lead to a ticket out of caches
// (CAS Appendix B).
func noStore(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "0")
}

// redirect sends the browser to an absolute URL as it is: http.Redirect
// would be fine too, but writing the header leaves no doubt that the service
// URL reaches the browser byte for byte as the service sent it.
func redirect(w http.ResponseWriter, to string) {
	w.Header().Set("Location", to)
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusFound)
}
