// Package config holds unid's configuration. Defaults run with no file and no
// variables. Every setting has a key in the optional configuration file
// (YAML or TOML), an UNID_* environment variable and a command-line flag;
// a later source wins: default < file < environment < flag. One list
// (settings) ties each field to its names, so the README's configuration
// table (see Table), the flags, the variables and the file cannot drift
// apart, and one function (Load) reads them for every command.
//
// Names: the file key is the flag's name, nested by section
// (--sms-gateway-url is sms.gateway-url, written as "gateway-url" under
// "sms:"); the variable is UNID_ and the key in capitals with "." and "-"
// as "_" (UNID_SMS_GATEWAY_URL). A Secret setting has a "-file" twin that
// names a file holding it (smtp.password-file, UNID_SMTP_PASSWORD_FILE).
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"unid/internal/enterprise"
	"unid/internal/realname"
)

// Config is every setting of `unid serve`.
type Config struct {
	Addr        string // listen address
	Dev         bool   // development mode: dev routes, banner, loopback only
	DataDir     string // SQLite database and key file live here
	DatabaseURL Secret // postgres://… to use PostgreSQL; empty for SQLite in DataDir (it may hold a password)
	RedisURL    Secret // redis://… to keep rate-limit counters in Redis
	PublicURL   string // the URL users reach unid at (https://… behind a proxy)
	KeyFile     string // personal-data encryption keys; default DataDir/unid.key
	LogLevel    string // debug, info, warn, error
	LogFormat   string // text or json
	TrustProxy  bool   // take the client IP from X-Forwarded-For (only behind a proxy)

	DatabaseMaxConns int // connections to PostgreSQL one instance keeps open at most

	Argon2Memory  uint          // KiB
	Argon2Time    uint          // iterations
	Argon2Threads uint          // parallelism
	HashWorkers   int           // concurrent password hashes (0: one per CPU)
	HashMaxWait   time.Duration // citizens' requests that would queue longer for a hash are told "busy" at once (0: never)

	SessionIdle time.Duration
	SessionMax  time.Duration

	LockoutThreshold int
	LockoutWindow    time.Duration
	LockoutDuration  time.Duration
	LoginPerIPLimit  int           // failed logins per IP per LoginPerIPWindow
	LoginPerIPWindow time.Duration // window of LoginPerIPLimit

	LockoutAccountThreshold int // failed logins from all networks that lock an account for everyone
	LoginPerIPSuccessLimit  int // successful logins per IP per LoginPerIPWindow

	CaptchaTTL           time.Duration
	CaptchaPerIPMinute   int
	CASTicketTTL         time.Duration // CAS service ticket lifetime
	CASLoginsPerIPMinute int

	OIDCSigningAlg         string
	OIDCCodeTTL            time.Duration
	OIDCAccessTokenTTL     time.Duration
	OIDCIDTokenTTL         time.Duration
	OIDCRefreshTTL         time.Duration
	OIDCRefreshMaxTTL      time.Duration
	OIDCBackchannelTimeout time.Duration

	SMSCodeTTL        time.Duration
	SMSPerPhoneMinute int
	SMSPerPhoneHour   int
	SMSPerPhoneDay    int
	SMSPerIPHour      int
	SMSGlobalHour     int // codes the whole platform sends per hour
	SMSGlobalDay      int // and per day

	MaxBodyBytes int64

	// ConsoleAllow lists the client networks (comma-separated CIDR
	// prefixes) the console and the operator API answer; empty: any.
	ConsoleAllow string
	// DashboardZone is the operators' time zone: the dashboard's days
	// start at midnight there.
	DashboardZone string
	// MetricsAddr is where Prometheus scrapes GET /metrics, apart from
	// the users' listener; empty or "off": no metrics listener (see
	// MetricsOn).
	MetricsAddr string

	// Providers, each in its own section of the file.
	SMS                SMS
	SMTP               SMTP
	Site               Site
	Recovery           Recovery
	Closure            Closure
	Realname           Realname
	EnterpriseRegistry EnterpriseRegistry
	Enterprise         Enterprise
	Alipay             Alipay
	Records            Records
	Upstream           []Upstream // file only: a list cannot be a flag
	Audit              Audit

	File string // the configuration file read (--config, UNID_CONFIG), if any
}

// Audit is how long the audit trail stays in the database and where its
// older events are archived to.
type Audit struct {
	// RetentionDays: events older than this many days are archived to a
	// file and deleted from the database, daily. At least 180
	// (Cybersecurity Law art. 21: six months).
	RetentionDays int
	ArchiveDir    string // default <data>/audit-archive
}

// SMS is how SMS codes are sent: to the dev outbox in --dev, to the HTTP
// gateway when GatewayURL is set (also in --dev).
type SMS struct {
	GatewayURL     string
	GatewaySecret  Secret
	GatewayTimeout time.Duration
}

// Site is how the platform presents itself: its name (header, footer,
// page titles, the SMS signature, emails), help and hotline in the footer,
// and the privacy notice and user agreement that registration links to.
// Empty texts keep the defaults shipped with unid.
type Site struct {
	Name          string // 统一身份认证平台, or e.g. 山东省统一身份认证平台
	NameEN        string
	SMSSignature  string // the carrier-registered 短信签名 without 【】; empty: Name
	HelpURL       string
	Hotline       string
	PrivacyFile   string // the privacy notice in Chinese, plain text ("## " starts a heading)
	PrivacyENFile string
	TermsFile     string // the user agreement in Chinese
	TermsENFile   string
}

// Recovery is how password recovery works.
type Recovery struct {
	// Questions is RecoveryQuestionsAlone (the answers are enough) or
	// RecoveryQuestionsWithCode (the answers and a code to the bound
	// phone): security questions are weak proof, see docs/design-notes.md.
	Questions string
	// QuestionsFile is a JSON list of security questions replacing unid's
	// ([{"id": "...", "zh": "...", "en": "..."}, ...]); empty: the default.
	QuestionsFile string
}

// Closure is how account closure (注销) works.
type Closure struct {
	// CoolingOff is how long the phone and verified ID number of a closed
	// account stay barred from a new account.
	CoolingOff time.Duration
}

// Values of Recovery.Questions.
const (
	RecoveryQuestionsAlone    = "alone"
	RecoveryQuestionsWithCode = "with_code"
)

// SMTP is the mail server that sends email.
type SMTP struct {
	Host     string // empty: no email is sent
	Port     int
	TLS      string // TLSImplicit, TLSStartTLS or TLSNone
	Username string
	Password Secret
	From     string // the From address, "统一身份认证平台 <noreply@example.gov.cn>"
	Timeout  time.Duration
}

// SMTP TLS modes.
const (
	TLSImplicit = "implicit" // TLS from the first byte (port 465)
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS (port 587); required, never skipped
	TLSNone     = "none"     // no encryption: loopback relays only
)

// Provider kinds of Realname and EnterpriseRegistry.
const (
	ProviderSandbox = "sandbox" // answers from fixed test data, offline; dev mode only
	ProviderHTTP    = "http"    // a real service over HTTP
	ProviderNone    = "none"    // no service: the feature is not offered
)

// Effective returns the provider a section really uses: the one
// configured, else the sandbox in dev mode and none otherwise, so that a
// production server whose operator never chose one does not verify people
// against the public test data.
func Effective(provider string, dev bool) string {
	switch {
	case provider != "":
		return provider
	case dev:
		return ProviderSandbox
	}
	return ProviderNone
}

// Realname is the real-name verification service (实名核验).
type Realname struct {
	Provider string // ProviderSandbox or ProviderHTTP
	URL      string
	AppID    string
	Secret   Secret
	Timeout  time.Duration
	// Methods are the methods offered with the level each gives,
	// "method:level,..." (realname.ParseMethods).
	Methods          string
	ChecksPerUserDay int           // checks one account may run per day
	ChecksPerDay     int           // checks the platform runs per day (they cost money)
	FlowTTL          time.Duration // how long a redirect verification (face, 网证) may take
	// LevelNames and LevelNamesEN rename levels 1…3 ("初级,中级,高级"),
	// for a province that names them otherwise; empty keeps the catalog's.
	LevelNames, LevelNamesEN string
	// CheckCostFen is what one check costs, in fen, for the dashboard:
	// "20" at every verifier or "http=20,alipay=0"; empty: not known.
	CheckCostFen string
}

// levelNames returns the configured names of real-name levels 1…3, nil when s is
// empty (the catalog's names stand).
func levelNames(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	names := strings.Split(s, ",")
	if len(names) != 3 {
		return nil, fmt.Errorf("want three names, for levels 1, 2 and 3, separated by commas")
	}
	for i, n := range names {
		names[i] = strings.TrimSpace(n)
		if names[i] == "" || utf8.RuneCountInString(names[i]) > 16 {
			return nil, fmt.Errorf("level %d: a name is 1 to 16 characters", i+1)
		}
	}
	return names, nil
}

// LevelNameOverrides returns the configured names of levels 1…3 by
// language ("zh-CN", "en"), for the message catalog; a language without
// configured names is absent.
func (r Realname) LevelNameOverrides() map[string][]string {
	out := map[string][]string{}
	if n, err := levelNames(r.LevelNames); err == nil && n != nil {
		out["zh-CN"] = n
	}
	if n, err := levelNames(r.LevelNamesEN); err == nil && n != nil {
		out["en"] = n
	}
	return out
}

// EnterpriseRegistry is the enterprise registry (企业登记信息) service.
type EnterpriseRegistry struct {
	Provider string // ProviderSandbox or ProviderHTTP
	URL      string
	Secret   Secret
	Timeout  time.Duration
}

// Enterprise is the enterprise space (企业空间).
type Enterprise struct {
	BindMinLevel   int           // real-name level a legal representative needs to bind
	GrantTTL       time.Duration // how long a grant waits to be accepted
	ApplicationTTL time.Duration // how long a handler application waits for a decision
	Labels         string        // permission labels of handlers, "财务,人事,业务"
}

// Records are the limits of the records API (/api/records/v1) and how
// long records are kept.
type Records struct {
	// Rate is how many requests a second one service system may make of
	// one instance (a bulk request counts one per 100 lines), Burst at
	// once; 0 is no limit.
	Rate  int
	Burst int
	// Retention per kind: how long after its last update a record is
	// kept; 0 keeps it for good.
	RetentionCases, RetentionConsultations, RetentionComplaints, RetentionMessages, RetentionFavorites time.Duration
}

// Alipay is sign-in with Alipay (支付宝). It is off while AppID is empty.
// Alipay's answers are verified either with its public key (PublicKey) or,
// in certificate mode, with the three certificates.
type Alipay struct {
	AppID        string
	PrivateKey   Secret // the application's RSA private key
	PublicKey    Secret // Alipay's public key (public-key mode)
	AppCert      Secret // the application's public key certificate (certificate mode)
	PublicCert   Secret // Alipay's public key certificate (certificate mode)
	RootCert     Secret // Alipay's root certificate (certificate mode)
	GatewayURL   string
	AuthorizeURL string // publicAppAuthorize.htm, where the browser authorizes
	SignType     string // only RSA2
	Timeout      time.Duration
}

// MetricsOn reports whether unid serves metrics on MetricsAddr. "off"
// turns them off where an empty value cannot be given (an empty UNID_*
// variable counts as unset).
func (c Config) MetricsOn() bool { return c.MetricsAddr != "" && c.MetricsAddr != "off" }

// CertMode reports whether Alipay is configured with certificates rather
// than a public key.
func (a Alipay) CertMode() bool {
	return a.AppCert.IsSet() || a.PublicCert.IsSet() || a.RootCert.IsSet()
}

// Upstream is an OpenID provider users may sign in with (identity
// brokering). The list exists only in the configuration file.
type Upstream struct {
	ID           string // in URLs: lower-case letters, digits and "-"
	Name         string // shown on the sign-in page
	Icon         string // path of an image unid serves, "/static/…"
	Issuer       string
	ClientID     string
	ClientSecret Secret
	Scopes       []string
}

// Default returns the settings unid runs with when nothing is configured.
func Default() Config {
	return Config{
		Addr:                    "127.0.0.1:8080",
		DataDir:                 "./data",
		DatabaseMaxConns:        32,
		HashMaxWait:             5 * time.Second,
		LogLevel:                "info",
		LogFormat:               "text",
		Argon2Memory:            19456,
		Argon2Time:              2,
		Argon2Threads:           1,
		SessionIdle:             30 * time.Minute,
		SessionMax:              12 * time.Hour,
		LockoutThreshold:        5,
		LockoutAccountThreshold: 50,
		LockoutWindow:           15 * time.Minute,
		LockoutDuration:         15 * time.Minute,
		LoginPerIPLimit:         100,
		LoginPerIPSuccessLimit:  1000,
		LoginPerIPWindow:        15 * time.Minute,
		CaptchaTTL:              5 * time.Minute,
		CaptchaPerIPMinute:      30,
		CASTicketTTL:            10 * time.Second,
		CASLoginsPerIPMinute:    60,
		OIDCSigningAlg:          "ES256",
		OIDCCodeTTL:             time.Minute,
		OIDCAccessTokenTTL:      10 * time.Minute,
		OIDCIDTokenTTL:          10 * time.Minute,
		OIDCRefreshTTL:          30 * 24 * time.Hour,
		OIDCRefreshMaxTTL:       90 * 24 * time.Hour,
		OIDCBackchannelTimeout:  2 * time.Second,
		SMSCodeTTL:              5 * time.Minute,
		SMSPerPhoneMinute:       1,
		SMSPerPhoneHour:         5,
		SMSPerPhoneDay:          10,
		SMSPerIPHour:            30,
		SMSGlobalHour:           5000,
		SMSGlobalDay:            50000,
		MaxBodyBytes:            1 << 20,
		DashboardZone:           "Asia/Shanghai",
		MetricsAddr:             "127.0.0.1:9464",
		SMS:                     SMS{GatewayTimeout: 5 * time.Second},
		SMTP:                    SMTP{Port: 587, TLS: TLSStartTLS, Timeout: 10 * time.Second},
		Site:                    Site{Name: "统一身份认证平台", NameEN: "Unified Identity Authentication"},
		Recovery:                Recovery{Questions: RecoveryQuestionsAlone},
		Closure:                 Closure{CoolingOff: 30 * 24 * time.Hour},
		Realname: Realname{Timeout: 5 * time.Second,
			Methods: realname.DefaultMethods, ChecksPerUserDay: realname.DefaultChecksPerUserDay,
			ChecksPerDay: realname.DefaultChecksPerDay, FlowTTL: realname.DefaultFlowTTL},
		EnterpriseRegistry: EnterpriseRegistry{Timeout: 5 * time.Second},
		Enterprise: Enterprise{BindMinLevel: enterprise.DefaultBindMinLevel, GrantTTL: enterprise.DefaultGrantTTL,
			ApplicationTTL: enterprise.DefaultApplicationTTL, Labels: enterprise.DefaultLabels},
		Records: Records{Rate: 200, Burst: 400},
		Audit:   Audit{RetentionDays: 365},
		Alipay: Alipay{GatewayURL: "https://openapi.alipay.com/gateway.do",
			AuthorizeURL: "https://openauth.alipay.com/oauth2/publicAppAuthorize.htm", SignType: "RSA2", Timeout: 5 * time.Second},
	}
}

// DefaultUpstream is an Upstream entry before the file fills it in.
func DefaultUpstream() Upstream {
	return Upstream{Scopes: []string{"openid", "profile"}}
}

// setting is one configuration setting: its file key, the Value that sets
// its field, and what it means. Its flag and variable follow from the key.
type setting struct {
	key   string
	value flag.Value
	usage string
	twin  string // of a Secret: the key of its other half
}

// flagName is the setting's flag without dashes: sms.gateway-url is
// sms-gateway-url.
func (s setting) flagName() string { return strings.ReplaceAll(s.key, ".", "-") }

func str(p *string, key, usage string) setting {
	return setting{key: key, value: (*stringValue)(p), usage: usage}
}
func boolean(p *bool, key, usage string) setting {
	return setting{key: key, value: (*boolValue)(p), usage: usage}
}
func integer(p *int, key, usage string) setting {
	return setting{key: key, value: (*intValue)(p), usage: usage}
}
func unsigned(p *uint, key, usage string) setting {
	return setting{key: key, value: (*uintValue)(p), usage: usage}
}
func duration(p *time.Duration, key, usage string) setting {
	return setting{key: key, value: (*durationValue)(p), usage: usage}
}

// secret is the two settings of a Secret: the value and its -file twin.
func secret(p *Secret, key, usage string) []setting {
	return []setting{
		{key: key, value: secretValue{s: p}, usage: usage, twin: key + "-file"},
		{key: key + "-file", value: secretValue{s: p, file: true}, usage: "file holding " + key + " (trailing newline trimmed)", twin: key},
	}
}

// settings is the single list of settings, bound to c's fields.
func (c *Config) settings() []setting {
	s := []setting{
		str(&c.Addr, "addr", "listen address (host:port)"),
		boolean(&c.Dev, "dev", "development mode: shows sent codes and captcha answers under /dev/ to loopback requests, banner on every page; loopback addresses only, refuses --trust-proxy and a public --public-url"),
		str(&c.DataDir, "data", "data directory (SQLite database, key file)"),
		str(&c.PublicURL, "public-url", "URL users reach unid at; https:// makes cookies Secure and __Host- prefixed"),
		str(&c.KeyFile, "key-file", "personal-data encryption key file (default: <data>/unid.key)"),
		str(&c.LogLevel, "log-level", "log level: debug, info, warn, error"),
		str(&c.LogFormat, "log-format", "log format: text or json"),
		boolean(&c.TrustProxy, "trust-proxy", "take the client address from X-Forwarded-For (only behind a reverse proxy)"),
		unsigned(&c.Argon2Memory, "argon2-memory", "argon2id memory in KiB"),
		unsigned(&c.Argon2Time, "argon2-time", "argon2id iterations"),
		unsigned(&c.Argon2Threads, "argon2-threads", "argon2id parallelism"),
		integer(&c.DatabaseMaxConns, "database-max-conns", "connections to PostgreSQL this instance keeps open at most (1–1000); count every instance and command that runs at once against the server's max_connections (docs/deployment.md)"),
		integer(&c.HashWorkers, "hash-workers", "password hashes computed at once (0: one per CPU)"),
		duration(&c.HashMaxWait, "hash-max-wait", "a citizen's sign-in, registration or other request that would wait longer than this for a password hash is answered \"busy, try again\" at once (0: it waits; at most 1m)"),
		duration(&c.SessionIdle, "session-idle", "sign out after this long without activity"),
		duration(&c.SessionMax, "session-max", "sign out this long after sign-in, active or not"),
		integer(&c.LockoutThreshold, "lockout-threshold", "failed logins from one client network (IPv4 address, IPv6 /64) that lock that network out of the account"),
		duration(&c.LockoutWindow, "lockout-window", "window in which failed logins are counted"),
		duration(&c.LockoutDuration, "lockout-duration", "how long a locked account stays locked"),
		integer(&c.LoginPerIPLimit, "login-ip-limit", "failed logins allowed per client address per window"),
		duration(&c.LoginPerIPWindow, "login-ip-window", "window of the per-address login limits"),
		integer(&c.LockoutAccountThreshold, "lockout-account-threshold", "failed logins from all networks together that lock an account for everyone (0: never)"),
		integer(&c.LoginPerIPSuccessLimit, "login-ip-success-limit", "successful logins allowed per client address per window (0: no cap)"),
		duration(&c.CaptchaTTL, "captcha-ttl", "image captcha lifetime"),
		str(&c.OIDCSigningAlg, "oidc-signing-alg", "token signing algorithm: ES256 or RS256 (a change rotates to a new key at start)"),
		duration(&c.OIDCCodeTTL, "oidc-code-ttl", "OIDC authorization code lifetime"),
		duration(&c.OIDCAccessTokenTTL, "oidc-access-token-ttl", "OIDC access token lifetime"),
		duration(&c.OIDCIDTokenTTL, "oidc-id-token-ttl", "OIDC ID token lifetime"),
		duration(&c.OIDCRefreshTTL, "oidc-refresh-ttl", "OIDC refresh token lifetime, renewed at each use (sliding)"),
		duration(&c.OIDCRefreshMaxTTL, "oidc-refresh-max-ttl", "longest a chain of refresh tokens lives after sign-in (absolute)"),
		duration(&c.OIDCBackchannelTimeout, "oidc-backchannel-timeout", "timeout of one back-channel logout request to a client"),
		integer(&c.CASLoginsPerIPMinute, "cas-logins-per-ip-minute", "CAS sign-ins one client address may start per minute"),
		duration(&c.CASTicketTTL, "cas-ticket-ttl", "CAS service ticket lifetime (at most 5m)"),
		integer(&c.CaptchaPerIPMinute, "captcha-per-ip-minute", "captchas one client address may request per minute"),
		duration(&c.SMSCodeTTL, "sms-code-ttl", "SMS code lifetime"),
		integer(&c.SMSPerPhoneMinute, "sms-per-phone-minute", "SMS codes per phone per minute"),
		integer(&c.SMSPerPhoneHour, "sms-per-phone-hour", "SMS codes per phone per hour"),
		integer(&c.SMSPerPhoneDay, "sms-per-phone-day", "SMS codes per phone per day"),
		integer(&c.SMSPerIPHour, "sms-per-ip-hour", "SMS codes per client address per hour"),
		integer(&c.SMSGlobalHour, "sms-global-hour", "SMS codes the whole platform sends per hour (budget against SMS pumping)"),
		integer(&c.SMSGlobalDay, "sms-global-day", "SMS codes the whole platform sends per day"),
		{key: "max-body-bytes", value: (*int64Value)(&c.MaxBodyBytes), usage: "largest accepted request body"},
		str(&c.MetricsAddr, "metrics-addr", "listen address (host:port) of Prometheus metrics at /metrics, apart from the users' listener; empty or off: no metrics"),
		str(&c.ConsoleAllow, "console-allow", "client networks the console and the operator API answer, comma-separated CIDR prefixes (10.20.0.0/16,192.168.5.7); empty: any address"),

		str(&c.SMS.GatewayURL, "sms.gateway-url", "HTTP SMS gateway URL (signed JSON POST); required unless --dev"),
		duration(&c.SMS.GatewayTimeout, "sms.gateway-timeout", "SMS gateway request timeout (never retried)"),

		str(&c.Site.Name, "site.name", "the platform's name in Chinese: header, footer, page titles, SMS signature, emails"),
		str(&c.Site.NameEN, "site.name-en", "the platform's name in English"),
		str(&c.Site.SMSSignature, "site.sms-signature", "SMS signature (短信签名) registered with the carrier, without 【】; empty: site.name"),
		str(&c.Site.HelpURL, "site.help-url", "help page the footer links to (https://…, or a path on this site); empty: none"),
		str(&c.Site.Hotline, "site.hotline", "service telephone number shown in the footer; empty: none"),
		str(&c.Site.PrivacyFile, "site.privacy-file", "privacy notice in Chinese (UTF-8 text, \"## \" starts a heading); empty: unid's default"),
		str(&c.Site.PrivacyENFile, "site.privacy-en-file", "privacy notice in English; empty: unid's default"),
		str(&c.Site.TermsFile, "site.terms-file", "user agreement in Chinese; empty: unid's default"),
		str(&c.Site.TermsENFile, "site.terms-en-file", "user agreement in English; empty: unid's default"),
		str(&c.SMTP.Host, "smtp.host", "SMTP server host; empty: no email is sent"),
		integer(&c.SMTP.Port, "smtp.port", "SMTP server port"),
		str(&c.SMTP.TLS, "smtp.tls", "SMTP encryption: implicit (TLS, port 465), starttls (required STARTTLS) or none (loopback relays only)"),
		str(&c.SMTP.Username, "smtp.username", "SMTP user name; empty: no authentication"),
		str(&c.SMTP.From, "smtp.from", "From address of sent email"),
		duration(&c.SMTP.Timeout, "smtp.timeout", "SMTP connection and send timeout"),

		str(&c.Recovery.Questions, "recovery.questions", "password recovery by security questions: alone (the answers suffice) or with_code (the answers and a code to the bound phone)"),
		str(&c.Recovery.QuestionsFile, "recovery.questions-file", "JSON list of security questions ([{\"id\", \"zh\", \"en\"}, ...]); empty: unid's default list"),

		duration(&c.Closure.CoolingOff, "closure.cooling-off", "how long a closed account's phone and ID number stay barred from a new account"),

		str(&c.Realname.Provider, "realname.provider", "real-name verification: http, none, or sandbox (test data, --dev only); empty: sandbox with --dev, else none"),
		str(&c.Realname.URL, "realname.url", "real-name verification service URL (provider http)"),
		str(&c.Realname.AppID, "realname.app-id", "application id at the real-name verification service"),
		duration(&c.Realname.Timeout, "realname.timeout", "real-name verification request timeout"),
		str(&c.Realname.Methods, "realname.methods", "real-name methods offered, method:level,... (registry:1 required; bank_card, carrier, netid, face, netid_face, counter, alipay)"),
		integer(&c.Realname.ChecksPerUserDay, "realname.checks-per-user-day", "real-name checks one account may run per day"),
		integer(&c.Realname.ChecksPerDay, "realname.checks-per-day", "real-name checks the platform runs per day (each check costs money)"),
		duration(&c.Realname.FlowTTL, "realname.flow-ttl", "how long a redirect verification (face, netid) may take"),
		str(&c.Realname.LevelNames, "realname.level-names", "names of real-name levels 1,2,3 on Chinese pages (empty: 初级,中级,高级)"),
		str(&c.Realname.CheckCostFen, "realname.check-cost-fen", "what one real-name check costs in fen (分), for the dashboard: 20 at every verifier, or http=20,alipay=0; empty: not known"),
		str(&c.DashboardZone, "dashboard-zone", "the operators' time zone: the dashboard's days start at midnight there"),
		str(&c.Realname.LevelNamesEN, "realname.level-names-en", "names of real-name levels 1,2,3 on English pages (empty: Basic,Intermediate,Advanced)"),

		str(&c.EnterpriseRegistry.Provider, "enterprise-registry.provider", "enterprise registry: http, none, or sandbox (test data, --dev only); empty: sandbox with --dev, else none"),
		str(&c.EnterpriseRegistry.URL, "enterprise-registry.url", "enterprise registry service URL (provider http)"),
		duration(&c.EnterpriseRegistry.Timeout, "enterprise-registry.timeout", "enterprise registry request timeout"),

		integer(&c.Enterprise.BindMinLevel, "enterprise.bind-min-level", "real-name level (1-3) a legal representative needs to bind an enterprise"),
		duration(&c.Enterprise.GrantTTL, "enterprise.grant-ttl", "how long an enterprise role grant waits to be accepted"),
		duration(&c.Enterprise.ApplicationTTL, "enterprise.application-ttl", "how long a handler application waits for a decision"),
		str(&c.Enterprise.Labels, "enterprise.labels", "permission labels a handler may carry, comma-separated"),

		integer(&c.Records.Rate, "records.rate", "records API requests one service system may make per second of each instance (a bulk request counts one per 100 lines; 0: no limit)"),
		integer(&c.Records.Burst, "records.burst", "records API requests one service system may make at once (at least records.rate)"),
		duration(&c.Records.RetentionCases, "records.retention-cases", "how long a case is kept after its last update (0: for good)"),
		duration(&c.Records.RetentionConsultations, "records.retention-consultations", "how long a consultation is kept after its last update (0: for good)"),
		duration(&c.Records.RetentionComplaints, "records.retention-complaints", "how long a complaint is kept after its last update (0: for good)"),
		duration(&c.Records.RetentionMessages, "records.retention-messages", "how long a message (unid's own too) is kept after it was last updated (0: for good)"),
		duration(&c.Records.RetentionFavorites, "records.retention-favorites", "how long a favorite is kept after its last update (0: for good)"),

		str(&c.Alipay.AppID, "alipay.app-id", "Alipay application id; empty: no sign-in with Alipay"),
		str(&c.Alipay.GatewayURL, "alipay.gateway-url", "Alipay open platform gateway"),
		str(&c.Alipay.SignType, "alipay.sign-type", "Alipay signature type (RSA2 only)"),
		str(&c.Alipay.AuthorizeURL, "alipay.authorize-url", "Alipay's authorization page (publicAppAuthorize.htm)"),
		duration(&c.Alipay.Timeout, "alipay.timeout", "Alipay gateway request timeout"),

		integer(&c.Audit.RetentionDays, "audit.retention", "days the audit trail stays in the database before it is archived to a file and deleted (at least 180)"),
		str(&c.Audit.ArchiveDir, "audit.archive-dir", "directory of the audit trail's archive files (default: <data>/audit-archive)"),
	}
	s = append(s, secret(&c.SMS.GatewaySecret, "sms.gateway-secret", "shared secret that signs requests to the SMS gateway")...)
	s = append(s, secret(&c.SMTP.Password, "smtp.password", "SMTP password")...)
	s = append(s, secret(&c.DatabaseURL, "database-url", "PostgreSQL URL (postgres://…); empty: SQLite in the data directory")...)
	s = append(s, secret(&c.RedisURL, "redis-url", "Redis URL (redis://…) for rate-limit counters and challenges (captchas, SMS and email codes, CAS tickets, passkey ceremonies); empty: both in the database")...)
	s = append(s, secret(&c.Realname.Secret, "realname.secret", "secret shared with the real-name verification service")...)
	s = append(s, secret(&c.EnterpriseRegistry.Secret, "enterprise-registry.secret", "secret shared with the enterprise registry")...)
	s = append(s, secret(&c.Alipay.PrivateKey, "alipay.private-key", "the application's RSA private key (PEM or base64)")...)
	s = append(s, secret(&c.Alipay.PublicKey, "alipay.public-key", "Alipay's public key (public-key mode)")...)
	s = append(s, secret(&c.Alipay.AppCert, "alipay.app-cert", "the application's public key certificate (certificate mode)")...)
	s = append(s, secret(&c.Alipay.PublicCert, "alipay.public-cert", "Alipay's public key certificate (certificate mode)")...)
	s = append(s, secret(&c.Alipay.RootCert, "alipay.root-cert", "Alipay's root certificate (certificate mode)")...)
	slices.SortFunc(s, func(a, b setting) int { return strings.Compare(a.flagName(), b.flagName()) })
	return s
}

// settings of one upstream entry; "scopes" is a list and read apart.
func (u *Upstream) settings() []setting {
	s := []setting{
		str(&u.ID, "id", "identifier in URLs (lower-case letters, digits, -)"),
		str(&u.Name, "name", "name on the sign-in button"),
		str(&u.Icon, "icon", "path of an image served by unid (/static/…)"),
		str(&u.Issuer, "issuer", "OpenID provider issuer URL (https://…)"),
		str(&u.ClientID, "client-id", "client id at the provider"),
	}
	return append(s, secret(&u.ClientSecret, "client-secret", "client secret at the provider")...)
}

// Check reports whether the settings can serve: the values are valid
// (validate) and the settings work together.
func (c Config) Check() error {
	errs := []error{c.validate()}
	host, _, err := net.SplitHostPort(c.Addr)
	if c.Dev && err == nil && !isLoopback(host) {
		errs = append(errs, fmt.Errorf("config: --dev shows codes and captcha answers to anyone, so it only listens on loopback addresses (127.0.0.1, ::1, localhost), not %q", host))
	}
	if c.Dev && c.TrustProxy {
		errs = append(errs, errors.New("config: --dev refuses --trust-proxy: a reverse proxy would show every SMS code and captcha answer under /dev/ to the network"))
	}
	if c.Dev && c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err == nil && !isLoopback(u.Hostname()) {
			errs = append(errs, fmt.Errorf("config: --dev refuses --public-url %q: development mode is reached on this machine only (http://127.0.0.1:…, http://localhost:…)", c.PublicURL))
		}
	}
	if !c.Dev && c.SMS.GatewayURL == "" {
		errs = append(errs, errors.New("config: --sms-gateway-url (UNID_SMS_GATEWAY_URL, sms.gateway-url) is required outside --dev: unid cannot send SMS codes without it"))
	}
	return errors.Join(errs...)
}

// validate reports values that are wrong on their own or within their
// section, whichever command reads them; `unid config check` shows these.
func (c Config) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("config: "+format, args...)) }
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("--addr %q: %w", c.Addr, err)
	}
	if c.MetricsOn() {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("--metrics-addr %q: %w (empty or off turns metrics off)", c.MetricsAddr, err)
		}
	}
	if c.PublicURL != "" && checkURL(c.PublicURL) != nil {
		bad("--public-url %q must be an absolute http(s) URL", c.PublicURL)
	}
	if c.Argon2Memory < 19456 || c.Argon2Time < 1 || c.Argon2Threads < 1 || c.Argon2Threads > 255 {
		bad("argon2id below the OWASP minimum (memory ≥ 19456 KiB, time ≥ 1, threads 1–255)")
	}
	if c.SessionIdle <= 0 || c.SessionMax <= 0 || c.SessionIdle > c.SessionMax {
		bad("--session-idle and --session-max must be positive and idle ≤ max")
	}
	if c.LockoutThreshold < 1 || c.LockoutWindow <= 0 || c.LockoutDuration <= 0 {
		bad("lockout threshold, window and duration must be positive")
	}
	if c.LockoutAccountThreshold != 0 && c.LockoutAccountThreshold < c.LockoutThreshold {
		errs = append(errs, errors.New("config: --lockout-account-threshold must be 0 (never) or at least --lockout-threshold"))
	}
	if c.CASTicketTTL <= 0 || c.CASTicketTTL > 5*time.Minute {
		bad("--cas-ticket-ttl must be positive and at most 5m (CAS 3.1.1)")
	}
	if c.OIDCSigningAlg != "ES256" && c.OIDCSigningAlg != "RS256" {
		bad("--oidc-signing-alg %q: want ES256 or RS256", c.OIDCSigningAlg)
	}
	for _, d := range []time.Duration{c.OIDCCodeTTL, c.OIDCAccessTokenTTL, c.OIDCIDTokenTTL, c.OIDCRefreshTTL, c.OIDCRefreshMaxTTL, c.OIDCBackchannelTimeout} {
		if d <= 0 {
			bad("OIDC lifetimes and timeouts must be positive")
			break
		}
	}
	if c.OIDCRefreshTTL > c.OIDCRefreshMaxTTL {
		bad("--oidc-refresh-ttl must not exceed --oidc-refresh-max-ttl")
	}
	if c.DatabaseMaxConns < 1 || c.DatabaseMaxConns > 1000 {
		bad("--database-max-conns must be 1–1000")
	}
	if c.HashMaxWait < 0 || c.HashMaxWait > time.Minute {
		bad("--hash-max-wait must be 0 (no bound) to 1m")
	}
	if c.MaxBodyBytes < 1024 {
		bad("--max-body-bytes must be at least 1024")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("--log-format %q: want text or json", c.LogFormat)
	}

	if c.SMS.GatewayURL != "" {
		if err := checkURL(c.SMS.GatewayURL); err != nil {
			bad("sms.gateway-url (--sms-gateway-url): %v", err)
		}
		if !c.SMS.GatewaySecret.IsSet() {
			bad("--sms-gateway-secret (sms.gateway-secret) is required with --sms-gateway-url")
		}
	}
	positive(&errs, "sms.gateway-timeout", c.SMS.GatewayTimeout)
	positive(&errs, "closure.cooling-off", c.Closure.CoolingOff)

	if q := c.Recovery.Questions; q != RecoveryQuestionsAlone && q != RecoveryQuestionsWithCode {
		bad("recovery.questions %q: want %s or %s", q, RecoveryQuestionsAlone, RecoveryQuestionsWithCode)
	}
	if strings.TrimSpace(c.Site.Name) == "" || strings.TrimSpace(c.Site.NameEN) == "" {
		bad("site.name and site.name-en must not be empty")
	}
	if sig := c.Site.SMSSignature; strings.ContainsAny(sig, "【】[]") || utf8.RuneCountInString(sig) > 20 {
		bad("site.sms-signature %q: the signature without 【】, at most 20 characters", sig)
	}
	if h := c.Site.HelpURL; h != "" && !strings.HasPrefix(h, "/") {
		if err := checkURL(h); err != nil {
			bad("site.help-url: %v", err)
		}
	}
	for _, f := range []struct{ key, path string }{
		{"site.privacy-file", c.Site.PrivacyFile}, {"site.privacy-en-file", c.Site.PrivacyENFile},
		{"site.terms-file", c.Site.TermsFile}, {"site.terms-en-file", c.Site.TermsENFile},
	} {
		if f.path == "" {
			continue
		}
		if b, err := os.ReadFile(f.path); err != nil {
			bad("%s: %v", f.key, err)
		} else if !utf8.Valid(b) || len(strings.TrimSpace(string(b))) == 0 {
			bad("%s %s: want non-empty UTF-8 text", f.key, f.path)
		}
	}

	if c.SMTP.Port < 1 || c.SMTP.Port > 65535 {
		bad("smtp.port %d: want a port number 1–65535", c.SMTP.Port)
	}
	switch c.SMTP.TLS {
	case TLSImplicit, TLSStartTLS:
	case TLSNone:
		// Mail carries codes that recover accounts: in clear only to a
		// relay on this machine.
		if c.SMTP.Host != "" && !isLoopback(c.SMTP.Host) {
			bad("smtp.tls none would send codes unencrypted to %s; use implicit or starttls (none is for a relay on this machine)", c.SMTP.Host)
		}
	default:
		bad("smtp.tls %q: want implicit, starttls or none", c.SMTP.TLS)
	}
	if c.SMTP.Host != "" {
		if _, err := mail.ParseAddress(c.SMTP.From); err != nil {
			bad("smtp.from %q: want an email address such as noreply@example.gov.cn", c.SMTP.From)
		}
	}
	if c.SMTP.Password.IsSet() && c.SMTP.Username == "" {
		bad("smtp.password needs smtp.username")
	}
	positive(&errs, "smtp.timeout", c.SMTP.Timeout)

	checkProvider(&errs, c.Dev, "realname", c.Realname.Provider, c.Realname.URL, c.Realname.Secret, c.Realname.Timeout)
	if _, err := realname.ParseMethods(c.Realname.Methods); err != nil {
		bad("realname.methods: %v", err)
	}
	positive(&errs, "realname.flow-ttl", c.Realname.FlowTTL)
	if _, err := levelNames(c.Realname.LevelNames); err != nil {
		bad("realname.level-names: %v", err)
	}
	if _, err := levelNames(c.Realname.LevelNamesEN); err != nil {
		bad("realname.level-names-en: %v", err)
	}
	if c.Realname.ChecksPerUserDay <= 0 || c.Realname.ChecksPerDay <= 0 {
		bad("realname.checks-per-user-day and realname.checks-per-day must be positive: every check costs money")
	}
	if c.Enterprise.BindMinLevel < 1 || c.Enterprise.BindMinLevel > 3 {
		bad("enterprise.bind-min-level: a real-name level, 1 to 3")
	}
	positive(&errs, "enterprise.grant-ttl", c.Enterprise.GrantTTL)
	positive(&errs, "enterprise.application-ttl", c.Enterprise.ApplicationTTL)
	if r := c.Records; r.Rate < 0 || r.Burst < 0 || r.RetentionCases < 0 || r.RetentionConsultations < 0 ||
		r.RetentionComplaints < 0 || r.RetentionMessages < 0 || r.RetentionFavorites < 0 {
		bad("records.rate, records.burst and the records.retention-* durations must not be negative")
	}
	checkProvider(&errs, c.Dev, "enterprise-registry", c.EnterpriseRegistry.Provider, c.EnterpriseRegistry.URL, c.EnterpriseRegistry.Secret, c.EnterpriseRegistry.Timeout)

	if a := c.Alipay; a.AppID != "" {
		if !a.PrivateKey.IsSet() {
			bad("alipay.private-key is required with alipay.app-id")
		}
		switch {
		case a.CertMode() && a.PublicKey.IsSet():
			bad("alipay: give alipay.public-key or the certificates (alipay.app-cert, alipay.public-cert, alipay.root-cert), not both")
		case a.CertMode() && !(a.AppCert.IsSet() && a.PublicCert.IsSet() && a.RootCert.IsSet()):
			bad("alipay: certificate mode needs alipay.app-cert, alipay.public-cert and alipay.root-cert")
		case !a.CertMode() && !a.PublicKey.IsSet():
			bad("alipay: alipay.public-key (or the certificates) is required with alipay.app-id")
		}
	}
	if err := checkURL(c.Alipay.GatewayURL); err != nil {
		bad("alipay.gateway-url: %v", err)
	}
	if err := checkURL(c.Alipay.AuthorizeURL); err != nil {
		bad("alipay.authorize-url: %v", err)
	}
	positive(&errs, "alipay.timeout", c.Alipay.Timeout)
	if c.Audit.RetentionDays < 180 {
		bad("audit.retention %d: the audit trail must be kept at least 180 days (six months, Cybersecurity Law art. 21)", c.Audit.RetentionDays)
	}
	if c.Alipay.SignType != "RSA2" {
		bad("alipay.sign-type %q: only RSA2 is supported", c.Alipay.SignType)
	}

	seen := map[string]bool{}
	for i, u := range c.Upstream {
		at := fmt.Sprintf("upstream[%d]", i)
		switch {
		case !upstreamID.MatchString(u.ID):
			bad("%s.id %q: want lower-case letters, digits and -", at, u.ID)
		case seen[u.ID]:
			bad("%s.id %q is used twice", at, u.ID)
		case u.ID == "alipay":
			bad("%s.id %q is Alipay's: name the OpenID provider otherwise", at, u.ID)
		}
		seen[u.ID] = true
		if u.Name == "" {
			bad("%s.name is required", at)
		}
		if u.Icon != "" && (!strings.HasPrefix(u.Icon, "/") || strings.HasPrefix(u.Icon, "//")) {
			bad("%s.icon %q: want a path unid serves (/static/…): pages load nothing from elsewhere", at, u.Icon)
		}
		if err := checkIssuer(u.Issuer); err != nil {
			bad("%s.issuer: %v", at, err)
		}
		if u.ClientID == "" {
			bad("%s.client-id is required", at)
		}
		if !slices.Contains(u.Scopes, "openid") {
			bad("%s.scopes must contain openid", at)
		}
	}
	return errors.Join(errs...)
}

var upstreamID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func positive(errs *[]error, key string, d time.Duration) {
	if d <= 0 {
		*errs = append(*errs, fmt.Errorf("config: %s must be positive", key))
	}
}

func checkProvider(errs *[]error, dev bool, section, provider, u string, secret Secret, timeout time.Duration) {
	switch provider {
	case "", ProviderNone:
	case ProviderSandbox:
		if !dev {
			*errs = append(*errs, fmt.Errorf("config: %s.provider sandbox answers from public test data: it runs only with --dev; use http, or none", section))
		}
	case ProviderHTTP:
		if err := checkURL(u); err != nil {
			*errs = append(*errs, fmt.Errorf("config: %s.url: %w", section, err))
		}
		if !secret.IsSet() {
			*errs = append(*errs, fmt.Errorf("config: %s.secret is required with provider http", section))
		}
	default:
		*errs = append(*errs, fmt.Errorf("config: %s.provider %q: want http, none or sandbox", section, provider))
	}
	positive(errs, section+".timeout", timeout)
}

// checkURL accepts an absolute http or https URL.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return nil
}

// checkIssuer accepts an https issuer, or http on this machine (tests).
func checkIssuer(s string) error {
	if err := checkURL(s); err != nil {
		return err
	}
	if u, _ := url.Parse(s); u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return fmt.Errorf("%q: an OpenID issuer must be https", s)
	}
	return nil
}

// Secure reports whether unid is reached over HTTPS, so cookies must be
// Secure and may use the __Host- prefix.
func (c Config) Secure() bool { return strings.HasPrefix(c.PublicURL, "https://") }

// Postgres reports whether the database is PostgreSQL.
func (c Config) Postgres() bool {
	return strings.HasPrefix(c.DatabaseURL.Value, "postgres://") || strings.HasPrefix(c.DatabaseURL.Value, "postgresql://")
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
