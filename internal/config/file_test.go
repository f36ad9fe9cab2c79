package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// write puts content in a file named name in a new directory.
func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigFile(t *testing.T) {
	tests := []struct {
		name    string
		file    string // a path, or NAME=content for a file written by the test
		args    []string
		env     map[string]string
		check   func(t *testing.T, c Config)
		wantErr []string // all must appear in the error
	}{
		{
			name: "file sets every kind of value",
			file: "testdata/full.yaml",
			check: func(t *testing.T, c Config) {
				if c.Addr != "127.0.0.1:9090" || !c.Dev || c.SessionIdle != 10*time.Minute || c.Argon2Memory != 65536 ||
					c.MaxBodyBytes != 2<<20 || c.LogFormat != "json" || c.SessionMax != 12*time.Hour {
					t.Errorf("top-level settings: %+v", c)
				}
				if c.SMS.GatewayURL != "https://sms.example.gov.cn/send" || c.SMS.GatewaySecret.Value != "from-a-file" || c.SMS.GatewayTimeout != 3*time.Second {
					t.Errorf("sms: %+v %q", c.SMS, c.SMS.GatewaySecret.Value)
				}
				if c.SMTP.Port != 465 || c.SMTP.TLS != TLSImplicit || c.SMTP.Password.Value != "s3cret: with colon" || c.SMTP.Timeout != 10*time.Second {
					t.Errorf("smtp: %+v", c.SMTP)
				}
				if c.Realname.Provider != ProviderHTTP || c.Realname.Secret.Value != "from-a-file" || c.Alipay.PrivateKey.Value != "from-a-file" || c.Alipay.SignType != "RSA2" {
					t.Errorf("realname %+v alipay %+v", c.Realname, c.Alipay)
				}
				if len(c.Upstream) != 2 || c.Upstream[0].ClientSecret.Value != "from-a-file" || strings.Join(c.Upstream[0].Scopes, " ") != "openid profile phone" ||
					strings.Join(c.Upstream[1].Scopes, " ") != "openid profile" || c.Upstream[1].ClientSecret.Value != "plain-upstream-secret" {
					t.Errorf("upstream: %+v", c.Upstream)
				}
			},
		},
		{
			name: "environment beats file",
			file: "testdata/full.yaml",
			env:  map[string]string{"UNID_ADDR": "127.0.0.1:7000", "UNID_SMTP_PORT": "2525"},
			check: func(t *testing.T, c Config) {
				if c.Addr != "127.0.0.1:7000" || c.SMTP.Port != 2525 || c.SessionIdle != 10*time.Minute {
					t.Errorf("addr %s port %d idle %v", c.Addr, c.SMTP.Port, c.SessionIdle)
				}
			},
		},
		{
			name: "flag beats environment",
			file: "testdata/full.yaml",
			args: []string{"--addr", "127.0.0.1:6000", "--smtp-port=25"},
			env:  map[string]string{"UNID_ADDR": "127.0.0.1:7000", "UNID_SMTP_PORT": "2525"},
			check: func(t *testing.T, c Config) {
				if c.Addr != "127.0.0.1:6000" || c.SMTP.Port != 25 {
					t.Errorf("addr %s port %d", c.Addr, c.SMTP.Port)
				}
			},
		},
		{
			name: "UNID_CONFIG names the file",
			env:  map[string]string{"UNID_CONFIG": "testdata/full.toml"},
			check: func(t *testing.T, c Config) {
				if c.Addr != "127.0.0.1:9090" || c.File != "testdata/full.toml" {
					t.Errorf("addr %s file %s", c.Addr, c.File)
				}
			},
		},
		{
			name: "a secret file in the environment replaces the secret of the file",
			file: "testdata/full.yaml",
			env:  map[string]string{"UNID_SMTP_PASSWORD_FILE": "testdata/secret.txt"},
			check: func(t *testing.T, c Config) {
				if c.SMTP.Password.Value != "from-a-file" {
					t.Errorf("smtp password from %q", c.SMTP.Password.File)
				}
			},
		},
		{
			name: "a secret flag replaces a secret file of the environment",
			args: []string{"--dev", "--sms-gateway-url", "http://127.0.0.1:9/", "--sms-gateway-secret", "given"},
			env:  map[string]string{"UNID_SMS_GATEWAY_SECRET_FILE": "testdata/nonexistent"},
			check: func(t *testing.T, c Config) {
				if c.SMS.GatewaySecret.Value != "given" {
					t.Errorf("secret %+v", c.SMS.GatewaySecret)
				}
			},
		},
		{
			name: "UNID_*_FILE is read, trailing newline trimmed",
			args: []string{"--dev", "--sms-gateway-url", "http://127.0.0.1:9/"},
			env:  map[string]string{"UNID_SMS_GATEWAY_SECRET_FILE": "testdata/secret.txt"},
			check: func(t *testing.T, c Config) {
				if c.SMS.GatewaySecret.Value != "from-a-file" {
					t.Errorf("secret %q", c.SMS.GatewaySecret.Value)
				}
			},
		},
		{
			name:    "unknown key named with its line",
			file:    "unid.yaml=dev: true\nsmtp:\n  host: mail.example.gov.cn\n  passwrd: x\n",
			wantErr: []string{"unid.yaml:4", `unknown key "smtp.passwrd"`},
		},
		{
			name:    "unknown top-level key",
			file:    "unid.yaml=dev: true\nsession_idle: 10m\n",
			wantErr: []string{"unid.yaml:2", `unknown key "session_idle"`},
		},
		{
			name:    "unknown key in TOML",
			file:    "unid.toml=dev = true\n[alipay]\nappid = \"x\"\n",
			wantErr: []string{"unid.toml", `unknown key "alipay.appid"`},
		},
		{
			name:    "unknown key in an upstream entry",
			file:    "unid.yaml=dev: true\nupstream:\n  - id: a\n    secret: x\n",
			wantErr: []string{"unid.yaml:4", `unknown key "upstream[0].secret"`},
		},
		{
			name:    "value of the wrong type",
			file:    "unid.yaml=dev: true\nsmtp:\n  port: twenty-five\n",
			wantErr: []string{"unid.yaml:3", "smtp.port", "integer"},
		},
		{
			name:    "a section given as a value",
			file:    "unid.yaml=dev: true\nsmtp: mail.example.gov.cn\n",
			wantErr: []string{"unid.yaml:2", "smtp", "section"},
		},
		{
			name:    "a list where a value belongs",
			file:    "unid.yaml=dev: [true]\n",
			wantErr: []string{"unid.yaml:1", "dev", "true or false"},
		},
		{
			name:    "missing secret file",
			file:    "unid.yaml=dev: true\nsmtp:\n  password-file: /nonexistent/smtp-password\n",
			wantErr: []string{"smtp.password-file", "/nonexistent/smtp-password"},
		},
		{
			name:    "secret and its file in one source",
			file:    "unid.yaml=dev: true\nsmtp:\n  username: u\n  password: x\n  password-file: testdata/secret.txt\n",
			wantErr: []string{"unid.yaml:5", "smtp.password and smtp.password-file are both given"},
		},
		{
			name:    "secret and its file in the environment",
			args:    []string{"--dev"},
			env:     map[string]string{"UNID_SMTP_PASSWORD": "x", "UNID_SMTP_PASSWORD_FILE": "testdata/secret.txt"},
			wantErr: []string{"UNID_SMTP_PASSWORD", "UNID_SMTP_PASSWORD_FILE", "both given"},
		},
		{name: "YAML syntax error", file: "unid.yaml=dev: true\n  addr: [\n", wantErr: []string{"unid.yaml"}},
		{name: "TOML syntax error", file: "unid.toml=dev = \n", wantErr: []string{"unid.toml"}},
		{name: "TOML secret without quotes", file: "unid.toml=dev = true\n[sms]\ngateway-secret = from-a-file\n", wantErr: []string{"unid.toml:3", "gateway-secret", "quotes"}},
		{name: "unknown format", file: "unid.json={}", wantErr: []string{".yaml, .yml or .toml"}},
		{name: "missing file", file: "/nonexistent/unid.yaml", wantErr: []string{"/nonexistent/unid.yaml"}},
		{name: "bad port", file: "unid.yaml=dev: true\nsmtp:\n  port: 70000\n", wantErr: []string{"smtp.port"}},
		{name: "bad tls mode", file: "unid.yaml=dev: true\nsmtp:\n  tls: ssl\n", wantErr: []string{"smtp.tls"}},
		{name: "bad URL scheme", file: "unid.yaml=dev: true\nrealname:\n  provider: http\n  url: ftp://x.example\n  secret: s\n", wantErr: []string{"realname.url"}},
		{name: "plain http issuer", file: "unid.yaml=dev: true\nupstream:\n  - {id: a, name: A, issuer: 'http://idp.example', client-id: c}\n", wantErr: []string{"upstream[0].issuer", "https"}},
		{name: "icon from elsewhere", file: "unid.yaml=dev: true\nupstream:\n  - {id: a, name: A, issuer: 'https://idp.example', client-id: c, icon: 'https://cdn.example/i.svg'}\n", wantErr: []string{"upstream[0].icon"}},
		{name: "plain SMTP to another machine", file: "unid.yaml=dev: true\nsmtp:\n  host: smtp.example.gov.cn\n  port: 25\n  tls: none\n  from: noreply@example.gov.cn\n", wantErr: []string{"smtp.tls none", "smtp.example.gov.cn"}},
		{name: "empty platform name", file: "unid.yaml=dev: true\nsite:\n  name: ' '\n", wantErr: []string{"site.name"}},
		{name: "signature with brackets", file: "unid.yaml=dev: true\nsite:\n  sms-signature: 【山东政务】\n", wantErr: []string{"site.sms-signature"}},
		{name: "help link elsewhere than http", file: "unid.yaml=dev: true\nsite:\n  help-url: 'javascript:alert(1)'\n", wantErr: []string{"site.help-url"}},
		{name: "missing privacy notice", file: "unid.yaml=dev: true\nsite:\n  privacy-file: /nonexistent/privacy.txt\n", wantErr: []string{"site.privacy-file", "/nonexistent/privacy.txt"}},
		{name: "alipay half configured", file: "unid.yaml=dev: true\nalipay:\n  app-id: '2021'\n  private-key: k\n  app-cert: c\n", wantErr: []string{"alipay.public-cert"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := tt.file
			if name, content, ok := strings.Cut(file, "="); ok {
				file = write(t, name, content)
			}
			args := tt.args
			if file != "" {
				args = append([]string{"--config", file}, args...)
			}
			c, err := Parse("test", args, env(tt.env))
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, want one naming %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not name %q", err, w)
					}
				}
				if strings.Contains(err.Error(), "from-a-file") {
					t.Errorf("error shows a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestYAMLAndTOMLGiveTheSameConfig(t *testing.T) {
	y, err := Parse("test", []string{"--config", "testdata/full.yaml"}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	tm, err := Parse("test", []string{"--config", "testdata/full.toml"}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	y.File, tm.File = "", ""
	if !reflect.DeepEqual(y, tm) {
		t.Errorf("YAML and TOML differ:\n%+v\n%+v", y, tm)
	}
	if y.Addr == Default().Addr {
		t.Error("the files set nothing")
	}
}

func TestCheckFile(t *testing.T) {
	for _, f := range []string{"testdata/full.yaml", "testdata/full.toml"} {
		if err := CheckFile(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	bad := write(t, "bad.yaml", "smtp:\n  port: 0\n  pasword: x\n")
	err := CheckFile(bad)
	if err == nil || !strings.Contains(err.Error(), "smtp.pasword") {
		t.Fatalf("CheckFile(bad) = %v", err)
	}
}

// TestExamples checks the example files of the documentation, with their
// secret files in place, and that they say the same.
func TestExamples(t *testing.T) {
	dir := t.TempDir()
	secretPath := regexp.MustCompile(`/etc/unid/[^\s"']+`)
	var got []Config
	for _, f := range []string{"../../examples/unid.yaml", "../../examples/unid.toml"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range secretPath.FindAllString(string(data), -1) {
			if err := os.WriteFile(filepath.Join(dir, filepath.Base(p)), []byte("x\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		moved := write(t, filepath.Base(f), strings.ReplaceAll(string(data), "/etc/unid/", dir+"/"))
		if err := CheckFile(moved); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		c, err := Parse("test", []string{"--config", moved}, env(nil))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		c.File = ""
		got = append(got, c)
	}
	if !reflect.DeepEqual(got[0], got[1]) {
		t.Errorf("examples/unid.yaml and unid.toml differ:\n%+v\n%+v", got[0], got[1])
	}
}

func TestSecretsAreNotPrinted(t *testing.T) {
	c, err := Parse("test", []string{"--config", "testdata/full.yaml"}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"%v", "%+v"} {
		if s := fmt.Sprintf(format, c); strings.Contains(s, "from-a-file") || strings.Contains(s, "s3cret") || strings.Contains(s, "plain-upstream-secret") {
			t.Errorf("%s of a Config shows a secret: %s", format, s)
		}
	}
}

func TestDevRefusesToBeReachedFromElsewhere(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{name: "trust-proxy", args: []string{"--dev", "--trust-proxy"}, wantErr: "--trust-proxy"},
		{name: "trust-proxy from the environment", args: []string{"--dev"}, env: map[string]string{"UNID_TRUST_PROXY": "true"}, wantErr: "--trust-proxy"},
		{name: "public https URL", args: []string{"--dev", "--public-url", "https://id.example.gov.cn"}, wantErr: "--public-url"},
		{name: "public address in the URL", args: []string{"--dev", "--public-url", "http://192.0.2.10:8080"}, wantErr: "--public-url"},
		{name: "loopback public URL", args: []string{"--dev", "--public-url", "http://127.0.0.1:8080"}},
		{name: "localhost public URL", args: []string{"--dev", "--public-url", "http://localhost:8080/"}},
		{name: "IPv6 loopback public URL", args: []string{"--dev", "--public-url", "http://[::1]:8080"}},
		{name: "trust-proxy outside dev", args: []string{"--trust-proxy", "--sms-gateway-url", "http://127.0.0.1:9/", "--sms-gateway-secret", "s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("test", tt.args, env(tt.env))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want mention of %q", err, tt.wantErr)
			}
		})
	}
}

func TestSettingNamesAreUnique(t *testing.T) {
	flags, envs := map[string]bool{}, map[string]bool{}
	for _, s := range Table() {
		if flags[s.Flag] || envs[s.Env] {
			t.Errorf("%s / %s named twice", s.Flag, s.Env)
		}
		flags[s.Flag], envs[s.Env] = true, true
		if s.Key != "" && ("--"+strings.ReplaceAll(s.Key, ".", "-") != s.Flag || EnvName(s.Key) != s.Env) {
			t.Errorf("%s: flag %s and variable %s do not follow from the key", s.Key, s.Flag, s.Env)
		}
	}
}

// TestDatabaseURLFromAFile: the database and Redis URLs hold passwords, so
// they come from files like every other secret, and printing the
// configuration does not show them.
func TestDatabaseURLFromAFile(t *testing.T) {
	db := write(t, "db-url", "postgres://unid:pw-from-file@db.internal:5432/unid\n")
	rd := write(t, "redis-url", "redis://:redis-pw@cache.internal:6379/0\n")
	c, err := Parse("test", nil, env(map[string]string{"UNID_DATABASE_URL_FILE": db, "UNID_REDIS_URL_FILE": rd, "UNID_SMS_GATEWAY_URL": "https://sms.example/", "UNID_SMS_GATEWAY_SECRET": "s"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL.Value != "postgres://unid:pw-from-file@db.internal:5432/unid" || !c.Postgres() || c.RedisURL.Value != "redis://:redis-pw@cache.internal:6379/0" {
		t.Errorf("database %q, redis %q", c.DatabaseURL.Value, c.RedisURL.Value)
	}
	if s := fmt.Sprintf("%v %+v", c, c); strings.Contains(s, "pw-from-file") || strings.Contains(s, "redis-pw") {
		t.Error("printing the configuration shows a URL's password")
	}
}
