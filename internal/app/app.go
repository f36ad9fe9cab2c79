// Package app builds unid from its Config: it opens the store, creates every
// service, and mounts every handler in one visible list (routes). Nothing is
// registered anywhere else.
package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"unid/internal/account"
	"unid/internal/address"
	"unid/internal/admin"
	"unid/internal/api"
	"unid/internal/audit"
	"unid/internal/captcha"
	"unid/internal/client"
	"unid/internal/config"
	"unid/internal/console"
	"unid/internal/devmode"
	"unid/internal/emailcode"
	"unid/internal/enterprise"
	"unid/internal/enterprise/httpregistry"
	esandbox "unid/internal/enterprise/sandbox"
	"unid/internal/export"
	"unid/internal/flow/emailbind"
	"unid/internal/flow/login"
	"unid/internal/flow/profile"
	"unid/internal/flow/recovery"
	"unid/internal/flow/registration"
	"unid/internal/httpx"
	"unid/internal/i18n"
	"unid/internal/metrics"
	"unid/internal/notify"
	"unid/internal/operator"
	"unid/internal/questions"
	"unid/internal/ratelimit"
	"unid/internal/realname"
	"unid/internal/realname/httpverifier"
	"unid/internal/realname/sandbox"
	"unid/internal/records"
	"unid/internal/recordsapi"
	"unid/internal/review"
	"unid/internal/session"
	"unid/internal/smscode"
	"unid/internal/sso/cas"
	"unid/internal/sso/oidc"
	"unid/internal/stats"
	"unid/internal/store"
	"unid/internal/store/postgres"
	redisstore "unid/internal/store/redis"
	"unid/internal/store/sqlite"
	"unid/internal/upstream"
	"unid/internal/upstream/alipay"
	"unid/internal/upstream/alipay/alipaydev"
	"unid/internal/upstream/oidcup"
	"unid/internal/web"
)

// App is a configured unid.
type App struct {
	Config   config.Config
	Store    store.Store
	Handler  http.Handler
	Outbox   *notify.Outbox // dev mode only
	Clients  *client.Registry
	Sessions *session.Manager
	Accounts *account.Service
	Hasher   *account.Hasher // the password hashes of sign-ins; tests count its runs
	OIDC     *oidc.Provider
	// Records reads the personal and enterprise records for the pages and
	// posts unid's messages to citizens (我的消息); the services that tell
	// a citizen something post through it.
	Records *records.Service
	// Ingest is the service systems' side of the records (the records
	// API); tests flush its counted audit events.
	Ingest   *records.Ingest
	Realname *realname.Service // real-name verification and its review queue
	// Enterprise is the enterprise space; its review queue holds the
	// appeals with a business licence.
	Enterprise *enterprise.Service

	enterpriseRegistry enterprise.Registry // the configured registry (the sandbox's can be changed by tests)
	lastRecheck        time.Time           // of the daily enterprise recheck
	auditLog           *audit.Log
	lastArchive        time.Time // of the daily audit archiving

	realnameSandbox http.Handler // the sandbox verifier's H5 page; dev mode with provider sandbox only
	// AlipayGateway is the fake Alipay that signs people in in dev mode
	// when no Alipay application is configured; nil otherwise. Tests
	// switch its faults.
	AlipayGateway *alipaydev.Gateway
	Upstream      *upstream.Service
	// Operators are the console's accounts (`unid operator create`).
	Operators *operator.Service
	// Stats counts what the dashboard shows, from the audit log; tests
	// flush it.
	Stats *stats.Counter
	// Metrics is what Prometheus scrapes (--metrics-addr); tests read
	// its Handler.
	Metrics *metrics.Metrics

	api     *api.API
	records *recordsapi.API
	pages   *web.Pages
	admin   *admin.Admin
	ops     *admin.ConsoleAPI
	console *console.Console
	cas     *cas.Server
	dev     *devmode.Pages // dev mode only
	logger  *slog.Logger
	now     func() time.Time
	closers []func() error
	deps    []dependency // what /readyz checks
}

// dependency is a backend unid cannot serve without.
type dependency struct {
	name string
	ping func(context.Context) error
}

// OpenStore opens the configured database without migrating it.
func OpenStore(ctx context.Context, cfg config.Config) (interface {
	store.Store
	store.Migrator
}, error) {
	if cfg.DatabaseURL.Value != "" {
		if !cfg.Postgres() {
			return nil, fmt.Errorf("app: --database-url must start with postgres:// or postgresql://")
		}
		s, err := postgres.Open(ctx, cfg.DatabaseURL.Value, cfg.DatabaseMaxConns)
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return s, nil
	}
	s, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "unid.db"))
	if err != nil {
		return nil, err
	}
	return s, nil
}

// LoadKeys reads the personal-data key file. In dev mode a missing file is
// created; otherwise it must exist, because every instance must share it.
func LoadKeys(cfg config.Config, logger *slog.Logger) (account.Keys, error) {
	if cfg.Dev {
		k, created, err := account.LoadOrCreateKeyFile(cfg.KeyFile)
		if created {
			logger.Warn("created a new personal-data key file; back it up, data cannot be read without it", "path", cfg.KeyFile)
		}
		return k, err
	}
	k, err := account.LoadKeyFile(cfg.KeyFile)
	if errors.Is(err, fs.ErrNotExist) {
		return k, fmt.Errorf("app: key file %s does not exist: create it once with `unid keys init --key-file %s`, back it up, and give every instance the same file", cfg.KeyFile, cfg.KeyFile)
	}
	return k, err
}

// New builds unid from cfg. now is the clock of every part.
func New(ctx context.Context, cfg config.Config, logger *slog.Logger, now func() time.Time) (*App, error) {
	a := &App{Config: cfg, logger: logger, now: now}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	st, err := OpenStore(ctx, cfg) // creates the data directory for SQLite
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, st.Close)
	from, to, err := st.Migrate(ctx)
	if err != nil {
		return nil, fmt.Errorf("app: migrate: %w", err)
	}
	if from != to {
		logger.Info("database migrated", "from", from, "to", to)
	}
	a.Store = st
	a.deps = append(a.deps, dependency{"database", st.Ping})

	keys, err := LoadKeys(cfg, logger)
	if err != nil {
		return nil, err
	}
	protector, err := account.NewProtector(keys)
	if err != nil {
		return nil, err
	}

	var counters store.Counters = st
	var challenges store.Challenges = st
	var redisPing func(context.Context) error // nil without Redis
	if cfg.RedisURL.Value != "" {
		opt, err := redis.ParseURL(cfg.RedisURL.Value)
		if err != nil {
			// The URL may hold a password: name the fault, not the URL.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return nil, fmt.Errorf("app: --redis-url is not a valid redis:// URL: %v", redactURLs(err.Error()))
		}
		rc := redis.NewClient(opt)
		a.closers = append(a.closers, rc.Close)
		if err := rc.Ping(ctx).Err(); err != nil {
			return nil, fmt.Errorf("app: redis: %w", err)
		}
		rcounters := redisstore.NewCounters(rc, redisstore.ServerPrefix)
		counters = rcounters
		challenges = redisstore.NewChallenges(rc, redisstore.ServerPrefix, now)
		a.deps = append(a.deps, dependency{"redis", rcounters.Ping})
		redisPing = rcounters.Ping
	}
	limiter := ratelimit.New(counters)

	var sender notify.SMSSender
	if cfg.Dev {
		a.Outbox = notify.NewOutbox(now)
		sender = a.Outbox
	}
	if cfg.SMS.GatewayURL != "" {
		sender = notify.NewHTTPGateway(cfg.SMS.GatewayURL, []byte(cfg.SMS.GatewaySecret.Value), cfg.SMS.GatewayTimeout, now)
	}
	signature := cfg.Site.SMSSignature
	if signature == "" {
		signature = cfg.Site.Name
	}
	sender = notify.Signed(sender, signature)
	site, err := siteOf(cfg.Site)
	if err != nil {
		return nil, err
	}

	catalog, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	// A province may name the real-name levels otherwise (realname.level-names).
	for lang, names := range cfg.Realname.LevelNameOverrides() {
		o := map[string]string{}
		for i, n := range names {
			o["realname.level."+strconv.Itoa(i+1)+".name"] = n
		}
		if catalog, err = catalog.With(i18n.Lang(lang), o); err != nil {
			return nil, err
		}
	}
	var mailer *notify.Mailer // nil: no mail is sent, codes answer email_unavailable
	if m, err := mailSender(cfg, a.Outbox, now); err != nil {
		return nil, err
	} else if m != nil {
		mailer = notify.NewMailer(m, catalog, site.PlatformName)
	}
	auditLog := audit.New(st, now, logger)
	// The dashboard's counts, from the audit log as things happen; what
	// is counted at shutdown is written before the store closes.
	dashZone, err := time.LoadLocation(cfg.DashboardZone)
	if err != nil {
		return nil, fmt.Errorf("app: --dashboard-zone: %w", err)
	}
	a.Stats = stats.NewCounter(st, dashZone, logger)
	// The audit log feeds the dashboard and the Prometheus metrics, by one
	// table of rules (stats.Match).
	auditLog.Observe(func(ev store.AuditEvent) {
		a.Stats.Observe(ev)
		if a.Metrics != nil {
			a.Metrics.Observe(ev)
		}
	})
	a.closers = append(a.closers, func() error { return a.Stats.Flush(context.Background()) })
	checkCosts, err := stats.ParseCosts(cfg.Realname.CheckCostFen)
	if err != nil {
		return nil, fmt.Errorf("app: --realname-check-cost-fen: %w", err)
	}
	hasher := account.NewHasher(HashParams(cfg), cfg.HashWorkers).WithMaxWait(cfg.HashMaxWait)
	a.Hasher = hasher
	captchaOpts := captcha.Options{TTL: cfg.CaptchaTTL}
	if cfg.Dev {
		captchaOpts.Recent = 20 // listed on /dev/
	}
	captchas := captcha.New(challenges, now, captchaOpts)
	codes := smscode.New(challenges, limiter, sender, protector.MAC, now, smscode.Options{
		TTL: cfg.SMSCodeTTL, MaxAttempts: 5,
		Limits: smscode.Limits{
			PerPhoneMinute: int64(cfg.SMSPerPhoneMinute), PerPhoneHour: int64(cfg.SMSPerPhoneHour),
			PerPhoneDay: int64(cfg.SMSPerPhoneDay), PerIPHour: int64(cfg.SMSPerIPHour),
			GlobalHour: int64(cfg.SMSGlobalHour), GlobalDay: int64(cfg.SMSGlobalDay),
		},
		Audit: auditLog,
		BudgetReached: func(ctx context.Context, window string, limit int64) {
			logger.WarnContext(ctx, "the platform's SMS budget is used up", "window", window, "limit", limit)
			auditLog.Append(ctx, audit.Entry{Actor: audit.System(), Action: audit.ActionSMSBudget, Result: audit.ResultOK,
				Detail: audit.Detail{"window": window, "limit": strconv.FormatInt(limit, 10)}})
		},
	})
	sessions := session.New(st, auditLog, now, session.Options{Idle: cfg.SessionIdle, Max: cfg.SessionMax, Secure: cfg.Secure()})
	a.Sessions = sessions
	a.Clients = client.New(st, protector.MAC, auditLog, now)
	responder := httpx.NewResponder(catalog, logger, cfg.MaxBodyBytes)
	guard := httpx.NewGuard(sessions.SignedIn, responder.Fail, now)
	accountDeps := account.ServiceDeps{
		Store: st, Sessions: sessions, Hasher: hasher, Protector: protector, Audit: auditLog, Notifier: codes, Logger: logger, Now: now,
		CoolingOff: cfg.Closure.CoolingOff,
	}
	if mailer != nil {
		accountDeps.Mailer = mailer
	}
	accounts := account.NewService(accountDeps)
	a.Accounts = accounts
	// The enterprise space, made before the pages and single sign-on:
	// they ask it whom a session may act for (its notices reach the
	// records service, made below, only when they happen).
	a.Enterprise = a.newEnterprise(cfg, st, protector, limiter, auditLog, accounts, codes, logger, now)
	a.closers = append(a.closers, func() error { a.Enterprise.Wait(); return nil })
	enterprises := a.Enterprise
	// The login page asks the single sign-on protocols which service
	// system a pending sign-in is for; they exist once the pages do.
	var pending []func(ctx context.Context, next string) (string, string, bool)
	var recoveries *recovery.Service // made once the login service is
	pages, err := web.New(web.Options{
		Dev: cfg.Dev, Catalog: catalog, Logger: logger, SecureCookies: cfg.Secure(), Site: site,
		RecoverMethods:  func() []string { return recoveries.Methods() },
		RecoverWithCode: cfg.Recovery.Questions == config.RecoveryQuestionsWithCode,
		// The ways in through providers outside unid; the service is made
		// below, once the flows it uses are.
		Upstreams: func() []web.UpstreamButton {
			if a.Upstream == nil {
				return nil
			}
			var out []web.UpstreamButton
			for _, i := range a.Upstream.Providers() {
				out = append(out, web.UpstreamButton{ID: i.ID, Kind: i.Kind, Name: i.Name, Icon: i.Icon})
			}
			return out
		},
		Me: func(r *http.Request) (*web.Me, bool) {
			_, u, ok, err := sessions.SignedIn(r.Context(), r)
			if err != nil || !ok {
				return nil, false
			}
			p, err := account.NewProfile(protector, u)
			if err != nil {
				logger.ErrorContext(r.Context(), "profile", "err", err)
				return nil, false
			}
			return &p, true
		},
		Identities: func(r *http.Request) (web.Identities, bool, error) {
			return identities(r, sessions, enterprises, logger)
		},
		// The enterprise pages: 进入企业空间 for members, an enterprise's
		// page for its members only.
		Enterprises: func(r *http.Request, userID string) ([]web.Membership, error) {
			ms, err := enterprises.Memberships(r.Context(), userID)
			out := make([]web.Membership, 0, len(ms))
			for _, m := range ms {
				out = append(out, web.Membership{USCC: m.USCC, Name: m.Name, Role: m.Role})
			}
			return out, err
		},
		EnterpriseLabels: enterprises.Labels,
		// The records of the personal space: the tiles' unread badges and
		// the systems a list can be narrowed to.
		Unread: func(r *http.Request, userID string) (map[string]int, error) {
			return a.Records.Summary(r.Context(), userID)
		},
		RecordSystems: func(r *http.Request, lang i18n.Lang, plural string) ([]web.RecordSystem, error) {
			list, err := a.Records.Systems(r.Context(), lang, plural)
			out := make([]web.RecordSystem, 0, len(list))
			for _, s := range list {
				out = append(out, web.RecordSystem{ID: s.ID, Name: s.Name})
			}
			return out, err
		},
		Pending: func(r *http.Request, next string) (string, string, bool) {
			for _, f := range pending {
				if name, back, ok := f(r.Context(), next); ok {
					return name, back, true
				}
			}
			return "", "", false
		},
	})
	if err != nil {
		return nil, err
	}

	a.cas = cas.New(cas.Deps{
		Registry: a.Clients, Sessions: sessions, Store: casStore{challenges, st, st, st}, Protector: protector, Audit: auditLog,
		Catalog: catalog, Logger: logger, Now: now, TrustProxy: cfg.TrustProxy, Limiter: limiter, Pages: pages,
		Enterprises: enterprises,
		Options:     cas.Options{TicketTTL: cfg.CASTicketTTL, LoginsPerIPMinute: cfg.CASLoginsPerIPMinute},
	})
	sessions.OnEnd(a.cas.SingleLogout)
	issuer := cfg.PublicURL
	if issuer == "" {
		issuer = "http://" + cfg.Addr
	}
	a.OIDC, err = oidc.New(ctx, oidc.Deps{
		Store: st, Registry: a.Clients, Sessions: sessions, Protector: protector, Audit: auditLog,
		Logger: logger, Pages: OIDCPages(pages), Now: now, Enterprises: enterprises,
	}, oidc.Options{
		Issuer: issuer, Dev: cfg.Dev, TrustProxy: cfg.TrustProxy, Algorithm: cfg.OIDCSigningAlg,
		CodeTTL: cfg.OIDCCodeTTL, AccessTokenTTL: cfg.OIDCAccessTokenTTL, IDTokenTTL: cfg.OIDCIDTokenTTL,
		RefreshTTL: cfg.OIDCRefreshTTL, RefreshMaxTTL: cfg.OIDCRefreshMaxTTL, BackchannelTimeout: cfg.OIDCBackchannelTimeout,
	})
	if err != nil {
		return nil, err
	}
	logins := login.New(login.Deps{
		Accounts: accounts, Users: st, Hasher: hasher, Protector: protector, Captchas: captchas, Limiter: limiter,
		Audit: auditLog, Notifier: codes, Logger: logger, Now: now,
		Options: login.Options{
			LockoutThreshold: cfg.LockoutThreshold, AccountThreshold: cfg.LockoutAccountThreshold,
			LockoutWindow: cfg.LockoutWindow, LockoutDuration: cfg.LockoutDuration,
			PerIPLimit: cfg.LoginPerIPLimit, PerIPSuccessLimit: cfg.LoginPerIPSuccessLimit, PerIPWindow: cfg.LoginPerIPWindow,
		},
	})
	a.closers = append(a.closers, func() error { logins.Wait(); return nil })
	questionList, err := questions.Load(cfg.Recovery.QuestionsFile)
	if err != nil {
		return nil, fmt.Errorf("app: recovery.questions-file: %w", err)
	}
	emailCodes := emailcode.New(challenges, limiter, mailer, protector.MAC, now, emailcode.Options{})
	securityQuestions := questions.New(questions.Deps{Store: st, Hasher: hasher, List: questionList, Audit: auditLog, Now: now,
		Tell: func(ctx context.Context, userID, template string) {
			if u, err := st.GetUser(ctx, userID); err == nil {
				accounts.Tell(ctx, u, template)
			}
		}})
	recoveries = recovery.New(recovery.Deps{
		Accounts: accounts, Users: st, Flows: st, Questions: securityQuestions, Locks: logins, Captchas: captchas,
		Limiter: limiter, Protector: protector, Audit: auditLog, Logger: logger, Now: now,
		Channels: []recovery.Channel{recovery.PhoneChannel(codes, protector), recovery.EmailChannel(emailCodes, protector)},
		Options:  recovery.Options{QuestionsMode: cfg.Recovery.Questions},
	})
	a.closers = append(a.closers, func() error { recoveries.Wait(); codes.Wait(); emailCodes.Wait(); return nil })
	pending = append(pending, a.OIDC.PendingSignIn, a.cas.PendingSignIn)
	addresses := address.New(address.Deps{Store: st, Protector: protector, Audit: auditLog, Now: now})
	a.Records = records.New(records.Deps{
		Store: st, Users: st, Catalog: catalog, Now: now, Systems: a.Clients, Members: a.Enterprise,
		Platform: func(lang i18n.Lang) string { return site.PlatformName[lang] },
	})
	registrations := registration.New(accounts, captchas, codes, auditLog, now)
	if a.Upstream, err = a.newUpstream(cfg, st, protector, accounts, limiter, registrations, logins, recoveries, auditLog, logger, now, issuer); err != nil {
		return nil, err
	}
	if a.Realname, err = a.newRealname(cfg, st, protector, limiter, auditLog, accounts, catalog, logger, now, issuer); err != nil {
		return nil, err
	}
	jsonAPI := api.New(api.Deps{
		Responder: responder, Guard: guard, TrustProxy: cfg.TrustProxy,
		Captchas: captchas, Limiter: limiter, CaptchaRate: cfg.CaptchaPerIPMinute, Now: now,
		Registration: registrations, Login: logins, Upstream: a.Upstream, SecureCookies: cfg.Secure(),
		Sessions: sessions, Users: st, Protector: protector, Audit: auditLog,
		Consents: a.OIDC, Accounts: accounts,
		AuditLog: st,
		Profile: profile.New(profile.Deps{
			Accounts: accounts, Logins: logins, Sessions: sessions, Codes: codes, Captchas: captchas, Audit: auditLog, Now: now,
		}),
		Addresses: addresses,
		Recovery:  recoveries, Questions: securityQuestions,
		Export: export.New(export.Deps{
			Users: st, Protector: protector, Addresses: addresses, Questions: st, Sessions: sessions,
			Consents: a.OIDC, Realname: st, Records: st, Links: st, AuditLog: st, Audit: auditLog, Now: now,
		}),
		EmailBind:  emailbind.New(accounts, emailCodes, protector, auditLog, now),
		Records:    a.Records,
		Realname:   a.Realname,
		Enterprise: a.Enterprise,

		Enterprises: a.Enterprise,
	})
	a.api, a.pages = jsonAPI, pages
	a.Ingest = records.NewIngest(records.IngestDeps{Store: st, Audit: auditLog, Logger: logger, Now: now,
		Options: records.IngestOptions{Rate: cfg.Records.Rate, Burst: cfg.Records.Burst, Retention: map[store.RecordKind]time.Duration{
			store.RecordCase: cfg.Records.RetentionCases, store.RecordConsultation: cfg.Records.RetentionConsultations,
			store.RecordComplaint: cfg.Records.RetentionComplaints, store.RecordMessage: cfg.Records.RetentionMessages,
			store.RecordFavorite: cfg.Records.RetentionFavorites,
		}}})
	// The counts of the last minute are audited before the store closes.
	a.closers = append(a.closers, func() error { a.Ingest.Flush(context.Background()); return nil })
	a.records = recordsapi.New(recordsapi.Deps{Responder: responder, Ingest: a.Ingest,
		Tokens: recordsapi.Cached(recordsapi.VerifierFunc(func(ctx context.Context, raw string) (recordsapi.Token, error) {
			t, err := a.OIDC.VerifyAccessToken(ctx, raw)
			if errors.Is(err, oidc.ErrInvalidToken) {
				return recordsapi.Token{}, recordsapi.ErrInvalidToken
			}
			return recordsapi.Token{ClientID: t.ClientID, Subject: t.Subject, Scopes: t.Scopes, User: t.User, Expiry: t.Expiry, Sites: t.Sites}, err
		}), now)})
	if cfg.Dev {
		var people []sandbox.Person
		if a.realnameSandbox != nil {
			people = sandbox.People()
		}
		var enterprises []esandbox.Enterprise
		if _, ok := a.enterpriseRegistry.(*esandbox.Registry); ok {
			enterprises = esandbox.Enterprises()
		}
		var alipayUsers []alipaydev.User
		if a.AlipayGateway != nil {
			alipayUsers = a.AlipayGateway.Users()
		}
		a.dev, err = devmode.New(devmode.Deps{Outbox: a.Outbox, Captchas: captchas, Fail: responder.Fail, NotFound: pages.NotFound,
			TestPeople: people, TestEnterprises: enterprises, AlipayUsers: alipayUsers})
		if err != nil {
			return nil, err
		}
	}
	a.admin = admin.New(responder, a.Clients, cfg.TrustProxy)
	a.Operators = NewOperators(cfg, st, counters, hasher, protector, captchas, auditLog, logger, now)
	// Passkeys need a host name to be bound to; without one (an IP
	// address as the public URL) the console offers none.
	passkeys, err := operator.NewPasskeys(a.Operators, operator.PasskeyDeps{Store: st, Challenges: challenges, PublicURL: issuer, SiteName: cfg.Site.Name})
	if err != nil {
		logger.WarnContext(ctx, "operator passkeys off", "err", err)
	}
	// The review queues the console works: real-name counter
	// verifications and appeals; the real-name service also corrects a
	// locked identity.
	queues := []review.Queue{a.Realname, a.Enterprise}
	a.auditLog = auditLog
	a.ops = admin.NewConsoleAPI(admin.ConsoleDeps{
		Responder: responder, Operators: a.Operators, TrustProxy: cfg.TrustProxy, Queues: queues,
		Realname: a.Realname,
		Citizens: admin.CitizenDeps{
			Desk: account.NewDesk(accounts, logins, codes, counters), Store: st, Protector: protector,
			Sessions: sessions, Consents: a.OIDC, Locks: logins, Enterprises: a.Enterprise,
		},
		Passkeys: admin.PasskeyDeps{Passkeys: passkeys},
		Tokens:   admin.TokenDeps{Tokens: operator.NewTokens(a.Operators, operator.TokenDeps{Store: st})},
		Audit: admin.AuditDeps{Store: st, Log: auditLog, Accounts: accounts, Operators: st,
			Retention: time.Duration(cfg.Audit.RetentionDays) * 24 * time.Hour, Now: now, Logger: logger},
		Systems: admin.SystemDeps{Clients: a.Clients, Tools: a.admin, PublicURL: issuer},
		Dashboard: admin.DashboardDeps{Stats: stats.NewReader(st, dashZone, now), Counts: a.Stats, SMS: codes, Sessions: st,
			CheckCosts: checkCosts, Logger: logger},
	})
	a.console, err = console.New(console.Options{
		Dev: cfg.Dev, Catalog: catalog, Logger: logger, Operators: a.Operators, SecureCookies: cfg.Secure(),
		Kinds: func() []string {
			var kinds []string
			for _, q := range queues {
				kinds = append(kinds, q.Kinds()...)
			}
			return kinds
		},
	})
	if err != nil {
		return nil, err
	}
	a.Metrics = metrics.New(metrics.Deps{StorePing: st.Ping, RedisPing: redisPing, Budgets: codes.Budgets,
		HashWaiting: hasher.Waiting, HashRefused: hasher.Refused, Logger: logger})
	mux := http.NewServeMux()
	for _, r := range a.routes(jsonAPI, pages) {
		mux.Handle(r.Pattern, r.Handler)
	}
	allow, err := admin.ParseAllowlist(cfg.ConsoleAllow, cfg.TrustProxy)
	if err != nil {
		return nil, err
	}
	a.Handler = observe(logger, now, cfg.Secure(), a.Metrics.Request, allow.Wrap(crossOrigin(responder.Fail, a.OIDC.CrossOriginBypass(), mux),
		responder.Fail, a.console.AddressForbidden))
	if cfg.Dev && cfg.DatabaseURL.Value == "" {
		if err := a.seedDemoClient(ctx); err != nil {
			return nil, fmt.Errorf("app: demo client: %w", err)
		}
	}
	ok = true
	return a, nil
}

// realnameEvents are the SMS notices of the real-name service's events.
var realnameEvents = map[string]string{
	realname.EventApproved:  notify.TemplateRealnameApproved,
	realname.EventRejected:  notify.TemplateRealnameRejected,
	realname.EventMovedAway: notify.TemplateRealnameMovedAway,
	realname.EventCorrected: notify.TemplateRealnameCorrected,
}

// enterpriseEvents are the SMS notices of the enterprise space's events.
var enterpriseEvents = map[string]string{
	enterprise.EventGrant:               notify.TemplateEnterpriseGrant,
	enterprise.EventApplicationApproved: notify.TemplateEnterpriseApplicationApproved,
	enterprise.EventApplicationRejected: notify.TemplateEnterpriseApplicationRejected,
	enterprise.EventAppealApproved:      notify.TemplateEnterpriseAppealApproved,
	enterprise.EventAppealRejected:      notify.TemplateEnterpriseAppealRejected,
	enterprise.EventRoleRevoked:         notify.TemplateEnterpriseRoleRevoked,
	enterprise.EventUnbound:             notify.TemplateEnterpriseUnbound,
}

// newEnterprise builds the enterprise space with the configured registry:
// http, the sandbox (dev mode), or none (binding answers
// registry_unavailable). The citizen is told by a message and the
// account's notices.
func (a *App) newEnterprise(cfg config.Config, st store.Store, protector *account.Protector, limiter *ratelimit.Limiter, auditLog *audit.Log,
	accounts *account.Service, codes *smscode.Service, logger *slog.Logger, now func() time.Time) *enterprise.Service {
	switch config.Effective(cfg.EnterpriseRegistry.Provider, cfg.Dev) {
	case config.ProviderHTTP:
		a.enterpriseRegistry = httpregistry.New(httpregistry.Options{URL: cfg.EnterpriseRegistry.URL,
			Secret: []byte(cfg.EnterpriseRegistry.Secret.Value), Timeout: cfg.EnterpriseRegistry.Timeout, Now: now})
	case config.ProviderSandbox: // dev mode only (config refuses it otherwise)
		a.enterpriseRegistry = esandbox.New()
	default:
		a.enterpriseRegistry = enterprise.None{}
	}
	return enterprise.New(enterprise.Deps{
		Store: st, Registry: a.enterpriseRegistry, Protector: protector, Audit: auditLog, Codes: codes, Limiter: limiter, Logger: logger, Now: now,
		Tell: func(ctx context.Context, userID, event string, params map[string]string) {
			if err := a.Records.Post(ctx, userID, event, params, "/enterprise"); err != nil {
				logger.ErrorContext(ctx, "post a message", "event", event, "err", err)
			}
			template, ok := enterpriseEvents[event]
			if !ok {
				logger.ErrorContext(ctx, "enterprise event without a notice", "event", event)
				return
			}
			if u, err := st.GetUser(ctx, userID); err == nil {
				accounts.Tell(ctx, u, template)
			}
		},
		Options: enterprise.Options{BindMinLevel: cfg.Enterprise.BindMinLevel, GrantTTL: cfg.Enterprise.GrantTTL,
			ApplicationTTL: cfg.Enterprise.ApplicationTTL, Labels: enterprise.ParseLabels(cfg.Enterprise.Labels)},
	})
}

// newUpstream builds sign-in through Alipay and the configured OpenID
// providers. Without an Alipay application, dev mode signs people in at a
// fake Alipay that unid serves itself under /dev/alipay/, speaking
// Alipay's protocol, so that the whole path can be clicked through with
// no Alipay account.
func (a *App) newUpstream(cfg config.Config, st store.Store, protector *account.Protector, accounts *account.Service, limiter *ratelimit.Limiter, registrations *registration.Service,
	logins *login.Service, recoveries *recovery.Service, auditLog *audit.Log, logger *slog.Logger, now func() time.Time, base string) (*upstream.Service, error) {
	var providers []upstream.Provider
	ali := cfg.Alipay
	if ali.AppID == "" && cfg.Dev {
		gw, err := alipaydev.New(base)
		if err != nil {
			return nil, err
		}
		a.AlipayGateway, ali = gw, gw.Config()
	}
	if ali.AppID != "" {
		p, err := alipay.New(ali, &http.Client{Timeout: ali.Timeout}, logger)
		if err != nil {
			return nil, err
		}
		providers = append(providers, p)
	}
	for _, u := range cfg.Upstream {
		providers = append(providers, oidcup.New(u, &http.Client{Timeout: upstreamTimeout}, logger))
	}
	return upstream.New(upstream.Deps{
		Providers: providers, PublicURL: base, Store: st, Protector: protector,
		Registration: registrations, Login: logins, Recovery: recoveries, Limiter: limiter, Audit: auditLog, Logger: logger, Now: now,
		Tell: func(ctx context.Context, userID, event string, params map[string]string) {
			if err := a.Records.Post(ctx, userID, event, params, "/settings/links"); err != nil {
				logger.ErrorContext(ctx, "post a message", "event", event, "err", err)
			}
			// A new way in is told by SMS and email too: the message
			// alone would reach whoever added it.
			if event != upstream.EventLinked {
				return
			}
			if u, err := st.GetUser(ctx, userID); err == nil {
				accounts.Tell(ctx, u, notify.TemplateUpstreamLinked)
			}
		},
		// A real-name binding through Alipay stands on the link: it goes
		// with it (a.Realname is built right after this service).
		Unlinked: func(ctx context.Context, userID, providerID string) {
			if providerID != upstream.KindAlipay {
				return
			}
			if err := a.Realname.AlipayUnlinked(ctx, userID); err != nil {
				logger.ErrorContext(ctx, "remove the alipay real-name binding of an unlinked account", "user", userID, "err", err)
			}
		},
	}), nil
}

// upstreamTimeout bounds each request to an OpenID provider.
const upstreamTimeout = 10 * time.Second

// newRealname builds real-name verification with the configured verifier:
// the http provider, or the sandbox, whose H5 page is served in dev mode.
// The citizen is told of review outcomes by a message (records) and the
// account's notices. 支付宝认证 reads the Alipay links of a.Upstream,
// built before.
func (a *App) newRealname(cfg config.Config, st store.Store, protector *account.Protector, limiter *ratelimit.Limiter,
	auditLog *audit.Log, accounts *account.Service, catalog *i18n.Catalog, logger *slog.Logger, now func() time.Time, base string) (*realname.Service, error) {
	methods, err := realname.ParseMethods(cfg.Realname.Methods)
	if err != nil {
		return nil, err
	}
	var provider realname.Provider
	switch config.Effective(cfg.Realname.Provider, cfg.Dev) {
	case config.ProviderHTTP:
		provider = httpverifier.New(httpverifier.Options{URL: cfg.Realname.URL, AppID: cfg.Realname.AppID,
			Secret: []byte(cfg.Realname.Secret.Value), Timeout: cfg.Realname.Timeout, Now: now})
	case config.ProviderSandbox: // dev mode only (config refuses it otherwise)
		sb := sandbox.New(base, catalog)
		provider, a.realnameSandbox = sb, sb
	default:
		// No verification service: no method is offered, and the
		// 实名认证 page says so.
		provider, methods = realname.None{}, []realname.Method{}
	}
	// 支付宝认证 reads the account's Alipay link, when unid signs people
	// in with Alipay.
	var alipayEvidence realname.AlipayEvidence
	if _, ok := a.Upstream.Provider(upstream.KindAlipay); ok {
		alipayEvidence = realname.AlipayEvidenceFunc(func(ctx context.Context, userID string) (realname.LinkEvidence, error) {
			ev, err := a.Upstream.Evidence(ctx, userID, upstream.KindAlipay)
			return realname.LinkEvidence{Linked: ev.Linked, Certified: ev.Certified, Display: ev.Display, IDNumberIndex: ev.IDNumberIndex}, err
		})
	}
	return realname.New(realname.Deps{
		Store: st, Provider: provider, Protector: protector, Limiter: limiter, Audit: auditLog, Logger: logger, Now: now,
		Access: accounts, Alipay: alipayEvidence,
		Tell: func(ctx context.Context, userID, event string, params map[string]string) {
			// A message in the personal space (我的消息), then an SMS.
			if err := a.Records.Post(ctx, userID, event, params, "/settings/realname"); err != nil {
				logger.ErrorContext(ctx, "post a message", "event", event, "err", err)
			}
			template, ok := realnameEvents[event]
			if !ok {
				logger.ErrorContext(ctx, "real-name event without a notice", "event", event)
				return
			}
			if u, err := st.GetUser(ctx, userID); err == nil {
				accounts.Tell(ctx, u, template)
			}
		},
		Options: realname.Options{
			Methods: methods, ChecksPerUserDay: cfg.Realname.ChecksPerUserDay, ChecksPerDay: cfg.Realname.ChecksPerDay,
			FlowTTL: cfg.Realname.FlowTTL, CallbackURL: strings.TrimSuffix(base, "/") + "/realname/callback",
		},
	})
}

// NewOperators builds the operator service the server and `unid operator`
// share: the console's accounts, set-up links and sessions.
// captchas may be nil where nobody signs in (the command line).
func NewOperators(cfg config.Config, st store.Store, counters store.Counters, hasher *account.Hasher, protector *account.Protector, captchas *captcha.Service, log *audit.Log, logger *slog.Logger, now func() time.Time) *operator.Service {
	issuer := cfg.Site.Name
	if issuer == "" {
		issuer = "unid"
	}
	return operator.New(operator.Deps{
		Store: st, Counters: counters, Captchas: captchas, Hasher: hasher, Protector: protector, Audit: log, Logger: logger, Now: now,
		Options: operator.Options{Secure: cfg.Secure(), Issuer: issuer},
	})
}

// mailSender is the configured way mail leaves unid: the SMTP server of
// the config's smtp section, else the dev outbox, else none (nil).
func mailSender(cfg config.Config, outbox *notify.Outbox, now func() time.Time) (notify.EmailSender, error) {
	if cfg.SMTP.Host != "" {
		return notify.NewSMTPSender(notify.SMTPOptions{
			Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, TLS: cfg.SMTP.TLS,
			Username: cfg.SMTP.Username, Password: cfg.SMTP.Password.Value,
			From: cfg.SMTP.From, FromName: cfg.Site.Name, Timeout: cfg.SMTP.Timeout, Now: now,
		})
	}
	if outbox != nil {
		return outbox, nil
	}
	return nil, nil
}

// routes is every endpoint of unid, in one list.
func (a *App) routes(jsonAPI *api.API, pages *web.Pages) []httpx.Route {
	routes := []httpx.Route{
		{Pattern: "GET /healthz", Handler: a.healthz},
		{Pattern: "GET /readyz", Handler: a.readyz},
	}
	routes = append(routes, jsonAPI.Routes()...)
	routes = append(routes, a.records.Routes()...)
	routes = append(routes, a.ops.Routes()...)
	routes = append(routes, a.cas.Routes()...)
	routes = append(routes, a.OIDC.Routes()...)
	if a.dev != nil {
		routes = append(routes, httpx.Route{Pattern: "/dev/", Handler: a.dev.ServeHTTP})
	}
	// The sandboxes answer requests made on this machine only.
	local := func(h http.Handler) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if !devmode.Local(r) {
				pages.NotFound(w, r)
				return
			}
			h.ServeHTTP(w, r)
		}
	}
	if a.realnameSandbox != nil {
		routes = append(routes, httpx.Route{Pattern: sandbox.PathPrefix, Handler: local(a.realnameSandbox)})
	}
	if a.AlipayGateway != nil {
		routes = append(routes, httpx.Route{Pattern: alipaydev.PathPrefix, Handler: local(a.AlipayGateway)})
	}
	routes = append(routes, a.console.Routes()...)
	return append(routes,
		httpx.Route{Pattern: "/api/", Handler: jsonAPI.NotFound},
		httpx.Route{Pattern: "GET /{$}", Handler: pages.Home},
		httpx.Route{Pattern: "GET /login", Handler: pages.Login},
		httpx.Route{Pattern: "GET /register", Handler: pages.Register},
		httpx.Route{Pattern: "GET /recover", Handler: pages.Recover},
		httpx.Route{Pattern: "GET /upstream/continue", Handler: pages.UpstreamContinue},
		httpx.Route{Pattern: "GET /me", Handler: pages.Me},
		httpx.Route{Pattern: "GET /me/cases", Handler: pages.Records("cases")},
		httpx.Route{Pattern: "GET /me/consultations", Handler: pages.Records("consultations")},
		httpx.Route{Pattern: "GET /me/messages", Handler: pages.Records("messages")},
		httpx.Route{Pattern: "GET /me/complaints", Handler: pages.Records("complaints")},
		httpx.Route{Pattern: "GET /me/favorites", Handler: pages.Records("favorites")},
		httpx.Route{Pattern: "GET /enterprise", Handler: pages.Enterprises},
		httpx.Route{Pattern: "GET /enterprise/{uscc}", Handler: pages.Enterprise},
		httpx.Route{Pattern: "GET /sso/identity", Handler: pages.Identity},
		httpx.Route{Pattern: "GET /settings", Handler: pages.Settings},
		httpx.Route{Pattern: "GET /settings/{section}", Handler: pages.SettingsSection},
		httpx.Route{Pattern: "GET /privacy", Handler: pages.Privacy},
		httpx.Route{Pattern: "GET /terms", Handler: pages.Terms},
		httpx.Route{Pattern: "GET /static/", Handler: pages.Static().ServeHTTP},
		httpx.Route{Pattern: "/", Handler: pages.NotFound},
	)
}

// APIRoutes lists the patterns of the JSON and operator APIs ("POST
// /api/v1/users"), for the test that keeps the OpenAPI document complete.
func (a *App) APIRoutes() []string {
	var out []string
	for _, r := range a.routes(a.api, a.pages) {
		if _, path, _ := strings.Cut(r.Pattern, " "); strings.HasPrefix(path, "/api/") && strings.Contains(r.Pattern, " ") {
			out = append(out, r.Pattern)
		}
	}
	return out
}

// ConsoleAccess lists the operator API's endpoints with the roles each
// needs, for the test that holds every role to its part.
func (a *App) ConsoleAccess() []admin.Access { return a.ops.Access() }

func (a *App) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// readyz answers 200 when every backend unid needs (the database, and
// Redis when configured) answers within two seconds, and 503 with
// Retry-After naming the ones that do not, so that a load balancer sends
// no traffic to an instance that cannot serve it.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	errs := make([]error, len(a.deps))
	var wg sync.WaitGroup
	for i, d := range a.deps {
		wg.Go(func() { errs[i] = d.ping(ctx) })
	}
	wg.Wait()
	var b strings.Builder
	ready := true
	for i, d := range a.deps {
		state := "ok"
		if errs[i] != nil {
			ready, state = false, "unreachable"
			a.logger.ErrorContext(ctx, "backend not ready", "backend", d.name, "err", errs[i])
		}
		fmt.Fprintf(&b, "%s: %s\n", d.name, state)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !ready {
		w.Header().Set("Retry-After", strconv.Itoa(int(httpx.RetryUnavailable/time.Second)))
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("not ready\n" + b.String()))
		return
	}
	_, _ = w.Write([]byte("ready\n" + b.String()))
}

// Serve listens on cfg.Addr, and for Prometheus on cfg.MetricsAddr unless
// metrics are off, until ctx ends or either server fails, then shuts both
// down gracefully.
// ready, if not nil, receives the bound address once listening.
func (a *App) Serve(ctx context.Context, ready func(addr string)) error {
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return fmt.Errorf("app: listen: %w", err)
	}
	srv := &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
	}
	servers := []*http.Server{srv}
	errc := make(chan error, 2)
	if a.Config.MetricsOn() {
		mln, err := net.Listen("tcp", a.Config.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("app: listen for metrics (--metrics-addr): %w", err)
		}
		msrv := &http.Server{
			Handler:           a.Metrics.Handler(),
			ReadHeaderTimeout: 10 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
		}
		servers = append(servers, msrv)
		a.logger.Info("metrics listening", "addr", mln.Addr().String())
		go func() { errc <- msrv.Serve(mln) }()
	}
	go a.janitor(ctx)
	go a.Stats.Run(ctx, stats.FlushEvery)
	// Start-up (migrations, the pages' dry run) leaves garbage that an idle
	// instance would otherwise hold for minutes: hand it back now.
	debug.FreeOSMemory()
	if ready != nil {
		ready(ln.Addr().String())
	}
	go func() { errc <- srv.Serve(ln) }()
	var served error
	select {
	case served = <-errc:
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for _, s := range servers {
		errs = append(errs, s.Shutdown(shutdownCtx))
	}
	if served != nil {
		return served
	}
	return errors.Join(errs...)
}

// janitor deletes expired sessions, challenges, counters, OpenID Connect
// records and flows, and forgets the identifiers of closed accounts whose
// cooling-off is over, once a minute; it deletes the records past their
// retention and audits the records API's counts of the minute.
func (a *App) janitor(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := a.now()
		_, err1 := a.Store.DeleteExpiredSessions(ctx, now, now.Add(-a.Config.SessionIdle))
		_, err2 := a.Store.DeleteExpiredChallenges(ctx, now)
		_, err3 := a.Store.DeleteExpiredCounters(ctx, now)
		err4 := a.OIDC.Cleanup(ctx)
		_, err5 := a.Store.DeleteExpiredFlows(ctx, now)
		_, err6 := a.Store.DeleteReleasedIdentifiers(ctx, now)
		_, err7 := a.Operators.DeleteExpired(ctx)
		_, err8 := a.Ingest.Prune(ctx)
		_, err9 := a.Store.DeleteExpiredOperatorTokens(ctx, now.Add(-operator.KeepExpiredTokens))
		if err := errors.Join(err1, err2, err3, err4, err5, err6, err7, err8, err9); err != nil && ctx.Err() == nil {
			a.logger.WarnContext(ctx, "cleaning expired records", "err", err)
		}
		a.recheckEnterprises(ctx, now)
		a.archiveAudit(ctx, now)
		a.Ingest.Flush(ctx) // one records.ingest event per system and minute
		// The collector lets the heap grow well past what is live
		// (TuneMemory): an instance that has gone quiet would keep that
		// garbage until it is busy again.
		debug.FreeOSMemory()
	}
}

// archiveAudit moves the audit events past their retention to a file in
// the archive directory once a day (the first run an hour after start).
// Instances that run it at once are kept apart by the store's cut: one
// moves the anchor, the others end with a conflict, logged and harmless.
func (a *App) archiveAudit(ctx context.Context, now time.Time) {
	if a.lastArchive.IsZero() {
		a.lastArchive = now.Add(-23 * time.Hour)
	}
	if now.Sub(a.lastArchive) < 24*time.Hour {
		return
	}
	a.lastArchive = now
	before := now.Add(-time.Duration(a.Config.Audit.RetentionDays) * 24 * time.Hour)
	got, err := a.auditLog.Archive(ctx, a.Config.Audit.ArchiveDir, before)
	switch {
	case err != nil && ctx.Err() == nil:
		a.logger.WarnContext(ctx, "audit archiving", "err", err)
	case got.To > 0:
		a.logger.InfoContext(ctx, "audit events archived", "from", got.From, "to", got.To, "file", got.File)
	}
}

// EnterpriseRegistry is the configured enterprise registry (tests change
// the sandbox's legal representatives through it).
func (a *App) EnterpriseRegistry() enterprise.Registry { return a.enterpriseRegistry }

// recheckEnterprises asks the registry about every bound enterprise
// once a day (the first run a day after start): a legal representative
// the registry no longer names loses the role.
func (a *App) recheckEnterprises(ctx context.Context, now time.Time) {
	if a.lastRecheck.IsZero() {
		a.lastRecheck = now
	}
	if now.Sub(a.lastRecheck) < 24*time.Hour {
		return
	}
	a.lastRecheck = now
	if err := a.Enterprise.RecheckAll(ctx); err != nil && ctx.Err() == nil {
		a.logger.WarnContext(ctx, "enterprise recheck", "err", err)
	}
}

// Close releases the store and other connections.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}

// redactURLs hides the password of any URL in s ("redis://:secret@h"
// becomes "redis://:xxxxx@h"), for errors that quote what they could not
// parse.
func redactURLs(s string) string {
	return userinfo.ReplaceAllString(s, "://xxxxx@")
}

var userinfo = regexp.MustCompile(`://[^/@\s]*@`)

// casStore is what the CAS server keeps: its tickets among the
// challenges (in Redis when there is one), the rest in the database.
type casStore struct {
	store.Challenges
	store.Flows
	store.Users
	store.SessionClients
}
