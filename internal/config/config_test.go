package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(t *testing.T, c Config)
		wantErr string
	}{
		{
			name: "defaults run in dev with no set-up",
			args: []string{"--dev"},
			check: func(t *testing.T, c Config) {
				if c.Addr != "127.0.0.1:8080" || c.DataDir != "./data" || c.KeyFile != "data/unid.key" {
					t.Errorf("defaults: %+v", c)
				}
			},
		},
		{
			name: "environment sets a flag",
			args: []string{"--dev"},
			env:  map[string]string{"UNID_SESSION_IDLE": "10m", "UNID_ADDR": "127.0.0.1:9000"},
			check: func(t *testing.T, c Config) {
				if c.SessionIdle != 10*time.Minute || c.Addr != "127.0.0.1:9000" {
					t.Errorf("got idle %v addr %v", c.SessionIdle, c.Addr)
				}
			},
		},
		{
			name: "flag wins over environment",
			args: []string{"--dev", "--addr", "127.0.0.1:9001"},
			env:  map[string]string{"UNID_ADDR": "127.0.0.1:9000"},
			check: func(t *testing.T, c Config) {
				if c.Addr != "127.0.0.1:9001" {
					t.Errorf("addr %v", c.Addr)
				}
			},
		},
		{name: "dev refuses a public address", args: []string{"--dev", "--addr", "0.0.0.0:8080"}, wantErr: "loopback"},
		{name: "dev refuses all interfaces", args: []string{"--dev", "--addr", ":8080"}, wantErr: "loopback"},
		{name: "dev accepts ::1", args: []string{"--dev", "--addr", "[::1]:8080"}},
		{name: "production needs an SMS gateway", args: nil, wantErr: "sms-gateway-url"},
		{name: "gateway needs a secret", args: []string{"--sms-gateway-url", "http://127.0.0.1:1/sms"}, wantErr: "sms-gateway-secret"},
		{name: "weak argon2 refused", args: []string{"--dev", "--argon2-memory", "1024"}, wantErr: "OWASP"},
		{name: "bad env value named", args: []string{"--dev"}, env: map[string]string{"UNID_SESSION_MAX": "forever"}, wantErr: "UNID_SESSION_MAX"},
		{name: "unknown flag", args: []string{"--dev", "--nope"}, wantErr: "nope"},
		{name: "stray argument", args: []string{"--dev", "extra"}, wantErr: "unexpected"},
		{name: "bad public url", args: []string{"--dev", "--public-url", "example.org"}, wantErr: "public-url"},
		{name: "idle longer than max", args: []string{"--dev", "--session-idle", "13h"}, wantErr: "idle"},
		{name: "sandbox verifier outside dev mode", args: []string{"--sms-gateway-url", "http://127.0.0.1:1/sms", "--sms-gateway-secret", "s", "--realname-provider", "sandbox"}, wantErr: "realname.provider sandbox"},
		{name: "two level names for three levels", args: []string{"--dev", "--realname-level-names", "一级,二级"}, wantErr: "realname.level-names"},
		{name: "an empty level name", args: []string{"--dev", "--realname-level-names-en", "One,,Three"}, wantErr: "realname.level-names-en"},
		{
			name: "metrics on loopback by default, in --dev too",
			args: []string{"--dev"},
			check: func(t *testing.T, c Config) {
				if c.MetricsAddr != "127.0.0.1:9464" {
					t.Errorf("metrics addr %q", c.MetricsAddr)
				}
			},
		},
		{
			name: "empty metrics address turns metrics off",
			args: []string{"--dev", "--metrics-addr", ""},
			check: func(t *testing.T, c Config) {
				if c.MetricsOn() {
					t.Errorf("metrics addr %q, want off", c.MetricsAddr)
				}
			},
		},
		{
			name: "off in the environment turns metrics off",
			args: []string{"--dev"},
			env:  map[string]string{"UNID_METRICS_ADDR": "off"},
			check: func(t *testing.T, c Config) {
				if c.MetricsOn() {
					t.Errorf("metrics addr %q, want off", c.MetricsAddr)
				}
			},
		},
		{name: "metrics address without a port", args: []string{"--dev", "--metrics-addr", "127.0.0.1"}, wantErr: "metrics-addr"},
		{name: "no connections to the database", args: []string{"--dev", "--database-max-conns", "0"}, wantErr: "--database-max-conns must be 1–1000"},
		{name: "more connections than a database takes", args: []string{"--dev", "--database-max-conns", "100000"}, wantErr: "--database-max-conns must be 1–1000"},
		{
			name: "connections to the database from the environment",
			args: []string{"--dev"},
			env:  map[string]string{"UNID_DATABASE_MAX_CONNS": "12"},
			check: func(t *testing.T, c Config) {
				if c.DatabaseMaxConns != 12 || Default().DatabaseMaxConns != 32 {
					t.Errorf("database-max-conns %d (default %d), want 12 (32)", c.DatabaseMaxConns, Default().DatabaseMaxConns)
				}
			},
		},
		{name: "a negative wait for a hash", args: []string{"--dev", "--hash-max-wait", "-1s"}, wantErr: "--hash-max-wait must be 0 (no bound) to 1m"},
		{name: "a wait for a hash beyond a proxy's patience", args: []string{"--dev", "--hash-max-wait", "2m"}, wantErr: "--hash-max-wait must be 0 (no bound) to 1m"},
		{
			name: "no bound on the wait for a hash",
			args: []string{"--dev", "--hash-max-wait", "0"},
			check: func(t *testing.T, c Config) {
				if c.HashMaxWait != 0 || Default().HashMaxWait != 5*time.Second {
					t.Errorf("hash-max-wait %s (default %s), want 0 (5s)", c.HashMaxWait, Default().HashMaxWait)
				}
			},
		},
		{name: "account lockout below the network lockout", args: []string{"--dev", "--lockout-account-threshold", "3"}, wantErr: "lockout-account-threshold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("test", tt.args, env(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want mention of %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestTableCoversEveryFlagWithEnv(t *testing.T) {
	rows := Table()
	if len(rows) < 25 {
		t.Fatalf("only %d settings listed", len(rows))
	}
	for _, r := range rows {
		if !strings.HasPrefix(r.Env, "UNID_") || r.Usage == "" {
			t.Errorf("setting %+v lacks env or usage", r)
		}
	}
}

func TestSecure(t *testing.T) {
	c := Default()
	if c.Secure() {
		t.Error("plain default is not secure")
	}
	c.PublicURL = "https://id.example.gov.cn"
	if !c.Secure() {
		t.Error("https public URL must make cookies secure")
	}
}

// TestEffectiveProvider: with no provider chosen, dev mode uses the
// sandbox's test people and production offers nothing, never the sandbox.
func TestEffectiveProvider(t *testing.T) {
	tests := []struct {
		provider string
		dev      bool
		want     string
	}{
		{"", true, ProviderSandbox},
		{"", false, ProviderNone},
		{ProviderHTTP, false, ProviderHTTP},
		{ProviderNone, true, ProviderNone},
	}
	for _, tt := range tests {
		if got := Effective(tt.provider, tt.dev); got != tt.want {
			t.Errorf("Effective(%q, dev=%v) = %q, want %q", tt.provider, tt.dev, got, tt.want)
		}
	}
}
