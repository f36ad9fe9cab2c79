package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets a test run the real main, exit code included, in a child
// process: UNID_TEST_MAIN_ARGS holds its arguments, separated by \x1f.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("UNID_TEST_MAIN_ARGS"); ok {
		os.Args = append([]string{"unid"}, strings.Split(args, "\x1f")...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// unidProcess runs main with args in dir and returns its exit code and output.
func unidProcess(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "UNID_TEST_MAIN_ARGS=" + strings.Join(args, "\x1f")}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), stdout.String(), stderr.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, stdout.String(), stderr.String()
}

func TestExitCodes(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("smtp:\n  host: mail.example.gov.cn\n  passwrd: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missingData := filepath.Join(t.TempDir(), "missing")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // in stdout
		wantErr  string // in stderr
	}{
		{"config check of a good file", []string{"config", "check", "testdata/full.yaml"}, 0, "ok", ""},
		{"config check of a TOML file", []string{"config", "check", "testdata/full.toml"}, 0, "ok", ""},
		{"config check names the bad key and line", []string{"config", "check", bad}, 1, "", `bad.yaml:3: unknown key "smtp.passwrd"`},
		{"config check of a missing file", []string{"config", "check", "/nonexistent/unid.yaml"}, 1, "", "/nonexistent/unid.yaml"},
		{"config check without a file", []string{"config", "check"}, 1, "", "usage"},
		{"serve refuses dev behind a proxy", []string{"serve", "--dev", "--trust-proxy", "--data", missingData}, 1, "", "--trust-proxy"},
		{"client --help", []string{"client", "--help", "--data", missingData}, 0, "unid client list", ""},
		{"operator --help", []string{"operator", "--help", "--data", missingData}, 0, "unid operator create", ""},
		{"operator create with an admin role", []string{"operator", "create", "--login", "wang", "--role", "admin", "--data", missingData}, 1, "", "sysadmin, secadmin, auditor, reviewer"},
		{"serve -h", []string{"serve", "-h", "--database-url", "postgres://nobody@127.0.0.1:1/none"}, 0, "UNID_SMTP_PASSWORD_FILE", ""},
		{"unknown flag", []string{"migrate", "--nope"}, 1, "", "-nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := unidProcess(t, "../../internal/config", tt.args...)
			if code != tt.wantCode || !strings.Contains(stdout, tt.wantOut) || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout, stderr)
			}
		})
	}
	if _, err := os.Stat(missingData); !os.IsNotExist(err) {
		t.Errorf("a refused or help command created the data directory: %v", err)
	}
}

// TestHelpOpensNothing: -h and --help of every command print its usage and
// succeed without touching a store, even one that does not exist or cannot
// be reached.
func TestHelpOpensNothing(t *testing.T) {
	commands := [][]string{
		{"serve", "-h"}, {"serve", "--help"}, {"migrate", "-h"}, {"keys", "-h"}, {"keys", "init", "-h"},
		{"keys", "rotate", "--help"}, {"client", "-h"}, {"client", "--help"}, {"client", "help"},
		{"client", "list", "-h"}, {"client", "create", "--help"}, {"client", "show", "-h"},
		{"client", "delete", "--help"}, {"client", "rotate-secret", "-h"}, {"config", "-h"},
		{"operator", "-h"}, {"operator", "--help"}, {"operator", "create", "-h"}, {"operator", "list", "--help"},
		{"import", "-h"}, {"import", "legacy-enterprises", "-h"}, {"import", "legacy-enterprises", "old.csv", "--help"},
	}
	stores := map[string]func(dir string) map[string]string{
		"missing data directory": func(dir string) map[string]string {
			return map[string]string{"UNID_DATA": filepath.Join(dir, "missing")}
		},
		"unreachable database": func(dir string) map[string]string {
			return map[string]string{"UNID_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?connect_timeout=1", "UNID_DATA": filepath.Join(dir, "missing")}
		},
	}
	for storeName, vars := range stores {
		for _, args := range commands {
			t.Run(storeName+"/"+strings.Join(args, " "), func(t *testing.T) {
				dir := t.TempDir()
				env := vars(dir)
				var stdout, stderr bytes.Buffer
				if err := run(context.Background(), args, func(k string) string { return env[k] }, &stdout, &stderr); err != nil {
					t.Fatalf("%v\n%s", err, stderr.String())
				}
				if !strings.Contains(strings.ToLower(stdout.String()), "usage") {
					t.Errorf("no usage printed: %q", stdout.String())
				}
				if _, err := os.Stat(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
					t.Errorf("help created the data directory: %v", err)
				}
			})
		}
	}
}
