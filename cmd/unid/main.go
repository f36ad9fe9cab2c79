// Command unid is the unified user management and identity authentication
// platform (统一用户管理及身份认证平台) in one binary.
//
//	unid serve [--dev] [--addr 127.0.0.1:8080] [--data ./data] …
//	unid migrate
//	unid keys init
//	unid version
//
// Every setting is a flag, an UNID_* environment variable (--database-url is
// UNID_DATABASE_URL) and a key of the optional configuration file (--config
// FILE, YAML or TOML); `unid serve --help` lists them. Every command reads
// them the same way (config.Load).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"unid/internal/account"
	"unid/internal/app"
	"unid/internal/audit"
	"unid/internal/config"
	"unid/internal/sso/oidc"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		// A server hashes passwords: see app.ExecLazyFree.
		if err := app.ExecLazyFree(); err != nil {
			fmt.Fprintf(os.Stderr, "unid: could not start again with GODEBUG=madvdontneed=0 (%v); memory is given back as Go does by default\n", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "unid:", err)
		os.Exit(1)
	}
}

const usage = `unid — unified user management and identity authentication (统一身份认证平台)

Usage:
  unid serve [flags]     run the server (try: unid serve --dev)
  unid migrate [flags]   bring the database schema up to date and exit
  unid keys init [flags] create the personal-data key file (production)
  unid keys rotate       make a new token signing key (OIDC); the old one stays published
  unid client …          register service systems (create, list, show, rotate-secret, delete)
  unid operator …        console operators (create with a one-time set-up link, list)
  unid import legacy-enterprises FILE.csv
                         bring the old platform's enterprise accounts over
  unid audit …           verify the audit trail's hash chain; export a range and verify the file
  unid version           print the version
  unid config            print every setting as a Markdown table
  unid config check FILE check a configuration file (.yaml, .yml, .toml)

Every flag is also an UNID_* environment variable and a key of the file given
with --config FILE (or UNID_CONFIG); see unid serve --help. Every command
takes -h.
`

// run runs one command. Asking for help (-h, --help) is not an error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, getenv, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func dispatch(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("a command is required")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, rest, getenv, stdout, stderr)
	case "keys":
		switch {
		case len(rest) > 0 && rest[0] == "init":
			return keysInit(rest[1:], getenv, stdout)
		case len(rest) > 0 && rest[0] == "rotate":
			return keysRotate(ctx, rest[1:], getenv, stdout, stderr)
		case len(rest) > 0 && isHelp(rest[0]):
			fmt.Fprintln(stdout, keysUsage)
			return nil
		}
		return errors.New(keysUsage)
	case "version":
		fmt.Fprintln(stdout, versionString())
		return nil
	case "client":
		return clientCmd(ctx, rest, getenv, stdout, stderr)
	case "operator":
		return operatorCmd(ctx, rest, getenv, stdout, stderr)
	case "import":
		return importCmd(ctx, rest, getenv, stdout, stderr)
	case "config":
		return configCmd(rest, getenv, stdout)
	case "audit":
		return auditCmd(ctx, rest, getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

const keysUsage = "usage: unid keys init [--key-file PATH] | unid keys rotate [--alg ES256|RS256] [flags]"

func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "help"
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, _, err := config.Load(config.Command{
		Name:  "unid serve",
		Usage: "Usage: unid serve [--config FILE] [flags]\n\nRuns unid until interrupted; try `unid serve --dev`.",
		Serve: true,
	}, args, getenv, stdout)
	if err != nil {
		return err
	}
	logger := app.NewLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	started := app.StartLean(getenv)
	a, err := app.New(ctx, cfg, logger, time.Now)
	started()
	if err != nil {
		return err
	}
	defer a.Close()
	memoryLimit := a.TuneMemory(getenv)
	return a.Serve(ctx, func(addr string) {
		logger.Info("unid listening", "addr", addr, "version", versionString(), "dev", cfg.Dev, "memory_limit_mib", memoryLimit>>20)
		if cfg.Dev {
			fmt.Fprintf(stdout, "\nunid is running in development mode: open http://%s/ to register and sign in.\n"+
				"Sent SMS codes and captcha answers: http://%s/dev/ — never use --dev in production.\n\n", addr, addr)
		}
	})
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, _, err := config.Load(config.Command{
		Name:  "unid migrate",
		Usage: "Usage: unid migrate [--config FILE] [flags]\n\nBrings the database schema up to date and exits.",
	}, args, getenv, stdout)
	if err != nil {
		return err
	}
	st, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	from, to, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema version %d → %d\n", from, to)
	return nil
}

func keysInit(args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, _, err := config.Load(config.Command{
		Name:  "unid keys init",
		Usage: "Usage: unid keys init [--key-file PATH]\n\nWrites a new personal-data key file (default <data>/unid.key); it never overwrites one.",
	}, args, getenv, stdout)
	if err != nil {
		return err
	}
	k, err := account.GenerateKeys()
	if err != nil {
		return err
	}
	if err := account.WriteKeyFile(cfg.KeyFile, k); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s — back it up: personal data cannot be decrypted without it\n", cfg.KeyFile)
	return nil
}

// configCmd prints the settings table, or checks a configuration file.
func configCmd(args []string, getenv func(string) string, stdout io.Writer) error {
	switch {
	case len(args) == 0:
		printConfigTable(stdout)
		return nil
	case isHelp(args[0]):
		fmt.Fprintln(stdout, "usage: unid config | unid config check FILE\n\n`unid config` prints every setting as a Markdown table; `unid config check FILE`\nreports every problem of a configuration file and exits non-zero if there is one.")
		return nil
	case args[0] == "check" && len(args) <= 2:
		file := getenv("UNID_CONFIG")
		if len(args) == 2 {
			file = args[1]
		}
		if file == "" {
			return errors.New("usage: unid config check FILE")
		}
		if err := config.CheckFile(file); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: ok\n", file)
		return nil
	}
	return errors.New("usage: unid config | unid config check FILE")
}

func versionString() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}

// printConfigTable prints every setting, its environment variable and its
// default; the README's configuration table is this output.
func printConfigTable(w io.Writer) {
	code := func(s string) string {
		if s == "" {
			return "—"
		}
		return "`" + s + "`"
	}
	fmt.Fprintln(w, "| flag | environment variable | file key | default | meaning |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, s := range config.Table() {
		fmt.Fprintf(w, "| `%s` | `%s` | %s | %s | %s |\n", s.Flag, s.Env, code(s.Key), code(s.Default), s.Usage)
	}
}

// keysRotate makes a new token signing key. Running instances publish it at
// once and sign with it shortly after; tokens signed before keep verifying.
func keysRotate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var alg string
	cfg, _, err := config.Load(config.Command{
		Name:  "unid keys rotate",
		Usage: "Usage: unid keys rotate [--alg ES256|RS256] [flags]\n\nMakes a new token signing key; running instances publish it at once.",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&alg, "alg", "", "algorithm of the new key: ES256 or RS256 (default: --oidc-signing-alg)")
		},
	}, args, getenv, stdout)
	if err != nil {
		return err
	}
	if alg == "" {
		alg = cfg.OIDCSigningAlg
	}
	st, protector, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	logger := app.NewLogger(stderr, "warn", "text")
	kid, err := oidc.RotateKeys(ctx, st, protector, audit.New(st, time.Now, logger), audit.Origin{Actor: cliOperator()}, time.Now(), alg)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(map[string]string{"kid": kid, "algorithm": alg})
}
