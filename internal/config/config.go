// Package config holds unid's configuration. Defaults run with no file and no
// variables; every setting is a command-line flag and an UNID_* environment
// variable (flag wins). The README's configuration table is generated from
// the same list (see Table), so the two cannot drift apart.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Config is every setting of `unid serve`.
type Config struct {
	Addr        string // listen address
	Dev         bool   // development mode: dev routes, banner, loopback only
	DataDir     string // SQLite database and key file live here
	DatabaseURL string // postgres://… to use PostgreSQL; empty for SQLite in DataDir
	RedisURL    string // redis://… to keep rate-limit counters in Redis
	PublicURL   string // the URL users reach unid at (https://… behind a proxy)
	KeyFile     string // personal-data encryption keys; default DataDir/unid.key
	LogLevel    string // debug, info, warn, error
	LogFormat   string // text or json
	TrustProxy  bool   // take the client IP from X-Forwarded-For (only behind a proxy)

	Argon2Memory  uint // KiB
	Argon2Time    uint // iterations
	Argon2Threads uint // parallelism
	HashWorkers   int  // concurrent password hashes (0: 2×CPUs)

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
	SMSGatewayURL     string
	SMSGatewaySecret  string
	SMSGatewayTimeout time.Duration

	MaxBodyBytes int64
}

// Default returns the settings unid runs with when nothing is configured.
func Default() Config {
	return Config{
		Addr:                   "127.0.0.1:8080",
		DataDir:                "./data",
		LogLevel:               "info",
		LogFormat:              "text",
		Argon2Memory:           19456,
		Argon2Time:             2,
		Argon2Threads:          1,
		SessionIdle:            30 * time.Minute,
		SessionMax:             12 * time.Hour,
		LockoutThreshold:       5,
		LockoutWindow:          15 * time.Minute,
		LockoutDuration:        15 * time.Minute,
		LoginPerIPLimit:        100,
		LoginPerIPWindow:       15 * time.Minute,
		CaptchaTTL:             5 * time.Minute,
		CaptchaPerIPMinute:     30,
		CASTicketTTL:           10 * time.Second,
		OIDCSigningAlg:         "ES256",
		OIDCCodeTTL:            time.Minute,
		OIDCAccessTokenTTL:     10 * time.Minute,
		OIDCIDTokenTTL:         10 * time.Minute,
		OIDCRefreshTTL:         30 * 24 * time.Hour,
		OIDCRefreshMaxTTL:      90 * 24 * time.Hour,
		OIDCBackchannelTimeout: 2 * time.Second,
		SMSCodeTTL:             5 * time.Minute,
		SMSPerPhoneMinute:      1,
		SMSPerPhoneHour:        5,
		SMSPerPhoneDay:         10,
		SMSPerIPHour:           30,
		SMSGlobalHour:          5000,
		SMSGlobalDay:           50000,
		SMSGatewayTimeout:      5 * time.Second,
		MaxBodyBytes:           1 << 20,
	}
}

// Setting describes one configuration setting: its flag, its environment
// variable and its meaning. Table lists all of them.
type Setting struct {
	Flag    string
	Env     string
	Default string
	Usage   string
}

// bind ties every field to a flag; it is the single list of settings.
func (c *Config) bind(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (host:port)")
	fs.BoolVar(&c.Dev, "dev", c.Dev, "development mode: shows sent codes and captcha answers under /dev/, banner on every page; loopback addresses only")
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data directory (SQLite database, key file)")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "PostgreSQL URL (postgres://…); empty: SQLite in the data directory")
	fs.StringVar(&c.RedisURL, "redis-url", c.RedisURL, "Redis URL (redis://…) for rate-limit counters; empty: counters in the database")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "URL users reach unid at; https:// makes cookies Secure and __Host- prefixed")
	fs.StringVar(&c.KeyFile, "key-file", c.KeyFile, "personal-data encryption key file (default: <data>/unid.key)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json")
	fs.BoolVar(&c.TrustProxy, "trust-proxy", c.TrustProxy, "take the client address from X-Forwarded-For (only behind a reverse proxy)")
	fs.UintVar(&c.Argon2Memory, "argon2-memory", c.Argon2Memory, "argon2id memory in KiB")
	fs.UintVar(&c.Argon2Time, "argon2-time", c.Argon2Time, "argon2id iterations")
	fs.UintVar(&c.Argon2Threads, "argon2-threads", c.Argon2Threads, "argon2id parallelism")
	fs.IntVar(&c.HashWorkers, "hash-workers", c.HashWorkers, "password hashes computed at once (0: twice the CPUs)")
	fs.DurationVar(&c.SessionIdle, "session-idle", c.SessionIdle, "sign out after this long without activity")
	fs.DurationVar(&c.SessionMax, "session-max", c.SessionMax, "sign out this long after sign-in, active or not")
	fs.IntVar(&c.LockoutThreshold, "lockout-threshold", c.LockoutThreshold, "failed logins from one client network (IPv4 address, IPv6 /64) that lock that network out of the account")
	fs.DurationVar(&c.LockoutWindow, "lockout-window", c.LockoutWindow, "window in which failed logins are counted")
	fs.DurationVar(&c.LockoutDuration, "lockout-duration", c.LockoutDuration, "how long a locked account stays locked")
	fs.IntVar(&c.LoginPerIPLimit, "login-ip-limit", c.LoginPerIPLimit, "failed logins allowed per client address per window")
	fs.DurationVar(&c.LoginPerIPWindow, "login-ip-window", c.LoginPerIPWindow, "window of the per-address login limits")
	fs.IntVar(&c.LockoutAccountThreshold, "lockout-account-threshold", c.LockoutAccountThreshold, "failed logins from all networks together that lock an account for everyone (0: never)")
	fs.IntVar(&c.LoginPerIPSuccessLimit, "login-ip-success-limit", c.LoginPerIPSuccessLimit, "successful logins allowed per client address per window (0: no cap)")
	fs.DurationVar(&c.CaptchaTTL, "captcha-ttl", c.CaptchaTTL, "image captcha lifetime")
	fs.StringVar(&c.OIDCSigningAlg, "oidc-signing-alg", c.OIDCSigningAlg, "token signing algorithm: ES256 or RS256 (a change rotates to a new key at start)")
	fs.DurationVar(&c.OIDCCodeTTL, "oidc-code-ttl", c.OIDCCodeTTL, "OIDC authorization code lifetime")
	fs.DurationVar(&c.OIDCAccessTokenTTL, "oidc-access-token-ttl", c.OIDCAccessTokenTTL, "OIDC access token lifetime")
	fs.DurationVar(&c.OIDCIDTokenTTL, "oidc-id-token-ttl", c.OIDCIDTokenTTL, "OIDC ID token lifetime")
	fs.DurationVar(&c.OIDCRefreshTTL, "oidc-refresh-ttl", c.OIDCRefreshTTL, "OIDC refresh token lifetime, renewed at each use (sliding)")
	fs.DurationVar(&c.OIDCRefreshMaxTTL, "oidc-refresh-max-ttl", c.OIDCRefreshMaxTTL, "longest a chain of refresh tokens lives after sign-in (absolute)")
	fs.DurationVar(&c.OIDCBackchannelTimeout, "oidc-backchannel-timeout", c.OIDCBackchannelTimeout, "timeout of one back-channel logout request to a client")
	fs.IntVar(&c.CASLoginsPerIPMinute, "cas-logins-per-ip-minute", c.CASLoginsPerIPMinute, "CAS sign-ins one client address may start per minute")
	fs.DurationVar(&c.CASTicketTTL, "cas-ticket-ttl", c.CASTicketTTL, "CAS service ticket lifetime (at most 5m)")
	fs.IntVar(&c.CaptchaPerIPMinute, "captcha-per-ip-minute", c.CaptchaPerIPMinute, "captchas one client address may request per minute")
	fs.DurationVar(&c.SMSCodeTTL, "sms-code-ttl", c.SMSCodeTTL, "SMS code lifetime")
	fs.IntVar(&c.SMSPerPhoneMinute, "sms-per-phone-minute", c.SMSPerPhoneMinute, "SMS codes per phone per minute")
	fs.IntVar(&c.SMSPerPhoneHour, "sms-per-phone-hour", c.SMSPerPhoneHour, "SMS codes per phone per hour")
	fs.IntVar(&c.SMSPerPhoneDay, "sms-per-phone-day", c.SMSPerPhoneDay, "SMS codes per phone per day")
	fs.IntVar(&c.SMSPerIPHour, "sms-per-ip-hour", c.SMSPerIPHour, "SMS codes per client address per hour")
	fs.IntVar(&c.SMSGlobalHour, "sms-global-hour", c.SMSGlobalHour, "SMS codes the whole platform sends per hour (budget against SMS pumping)")
	fs.IntVar(&c.SMSGlobalDay, "sms-global-day", c.SMSGlobalDay, "SMS codes the whole platform sends per day")
	fs.StringVar(&c.SMSGatewayURL, "sms-gateway-url", c.SMSGatewayURL, "HTTP SMS gateway URL (signed JSON POST); required unless --dev")
	fs.StringVar(&c.SMSGatewaySecret, "sms-gateway-secret", c.SMSGatewaySecret, "shared secret that signs requests to the SMS gateway")
	fs.DurationVar(&c.SMSGatewayTimeout, "sms-gateway-timeout", c.SMSGatewayTimeout, "SMS gateway request timeout (never retried)")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "largest accepted request body")
}

// EnvName is the environment variable of a flag: --sms-gateway-url is
// UNID_SMS_GATEWAY_URL.
func EnvName(flagName string) string {
	return "UNID_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Parse reads settings from args (flags) over env (UNID_* variables) over
// the defaults, then checks them.
func Parse(name string, args []string, getenv func(string) string) (Config, error) {
	c := Default()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	c.bind(fs)
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		v := getenv(EnvName(f.Name))
		if v == "" || envErr != nil {
			return
		}
		if err := f.Value.Set(v); err != nil {
			envErr = fmt.Errorf("config: %s=%q: %w", EnvName(f.Name), v, err)
		}
	})
	if envErr != nil {
		return c, envErr
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("config: unexpected arguments %q", fs.Args())
	}
	if c.KeyFile == "" {
		c.KeyFile = filepath.Join(c.DataDir, "unid.key")
	}
	return c, c.Check()
}

// Table lists every setting for documentation and --help.
func Table() []Setting {
	c := Default()
	fs := flag.NewFlagSet("unid", flag.ContinueOnError)
	c.bind(fs)
	var out []Setting
	fs.VisitAll(func(f *flag.Flag) {
		out = append(out, Setting{Flag: "--" + f.Name, Env: EnvName(f.Name), Default: f.DefValue, Usage: f.Usage})
	})
	return out
}

// Check reports settings that cannot work together.
func (c Config) Check() error {
	var errs []error
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		errs = append(errs, fmt.Errorf("config: --addr %q: %w", c.Addr, err))
	}
	if c.Dev && err == nil && !isLoopback(host) {
		errs = append(errs, fmt.Errorf("config: --dev shows codes and captcha answers to anyone, so it only listens on loopback addresses (127.0.0.1, ::1, localhost), not %q", host))
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("config: --public-url %q must be an absolute http(s) URL", c.PublicURL))
		}
	}
	if !c.Dev && c.SMSGatewayURL == "" {
		errs = append(errs, errors.New("config: --sms-gateway-url (UNID_SMS_GATEWAY_URL) is required outside --dev: unid cannot send SMS codes without it"))
	}
	if c.SMSGatewayURL != "" && c.SMSGatewaySecret == "" {
		errs = append(errs, errors.New("config: --sms-gateway-secret is required with --sms-gateway-url"))
	}
	if c.Argon2Memory < 19456 || c.Argon2Time < 1 || c.Argon2Threads < 1 || c.Argon2Threads > 255 {
		errs = append(errs, errors.New("config: argon2id below the OWASP minimum (memory ≥ 19456 KiB, time ≥ 1, threads 1–255)"))
	}
	if c.SessionIdle <= 0 || c.SessionMax <= 0 || c.SessionIdle > c.SessionMax {
		errs = append(errs, errors.New("config: --session-idle and --session-max must be positive and idle ≤ max"))
	}
	if c.LockoutThreshold < 1 || c.LockoutWindow <= 0 || c.LockoutDuration <= 0 {
		errs = append(errs, errors.New("config: lockout threshold, window and duration must be positive"))
	}
	if c.LockoutAccountThreshold != 0 && c.LockoutAccountThreshold < c.LockoutThreshold {
		errs = append(errs, errors.New("config: --lockout-account-threshold must be 0 (never) or at least --lockout-threshold"))
	}
	if c.CASTicketTTL <= 0 || c.CASTicketTTL > 5*time.Minute {
		errs = append(errs, errors.New("config: --cas-ticket-ttl must be positive and at most 5m (CAS 3.1.1)"))
	}
	if c.OIDCSigningAlg != "ES256" && c.OIDCSigningAlg != "RS256" {
		errs = append(errs, fmt.Errorf("config: --oidc-signing-alg %q: want ES256 or RS256", c.OIDCSigningAlg))
	}
	for _, d := range []time.Duration{c.OIDCCodeTTL, c.OIDCAccessTokenTTL, c.OIDCIDTokenTTL, c.OIDCRefreshTTL, c.OIDCRefreshMaxTTL, c.OIDCBackchannelTimeout} {
		if d <= 0 {
			errs = append(errs, errors.New("config: OIDC lifetimes and timeouts must be positive"))
			break
		}
	}
	if c.OIDCRefreshTTL > c.OIDCRefreshMaxTTL {
		errs = append(errs, errors.New("config: --oidc-refresh-ttl must not exceed --oidc-refresh-max-ttl"))
	}
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, errors.New("config: --max-body-bytes must be at least 1024"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("config: --log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("config: --log-format %q: want text or json", c.LogFormat))
	}
	return errors.Join(errs...)
}

// Secure reports whether unid is reached over HTTPS, so cookies must be
// Secure and may use the __Host- prefix.
func (c Config) Secure() bool { return strings.HasPrefix(c.PublicURL, "https://") }

// Postgres reports whether the database is PostgreSQL.
func (c Config) Postgres() bool {
	return strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
