// Command unid is the unified user management and identity authentication
// platform (统一用户管理及身份认证平台) in one binary.
//
//	unid serve [--dev] [--addr 127.0.0.1:8080] [--data ./data] …
//	unid migrate
//	unid keys init
//	unid version
//
// Every flag is also an UNID_* environment variable (--database-url is
// UNID_DATABASE_URL); `unid serve --help` lists them.
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
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
  unid version           print the version
  unid config            print every setting as a Markdown table

Every flag is also an UNID_* environment variable; see unid serve --help.
`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
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
		}
		return errors.New("usage: unid keys init [--key-file PATH] | unid keys rotate [--alg ES256|RS256] [flags]")
	case "version":
		fmt.Fprintln(stdout, versionString())
		return nil
	case "client":
		return clientCmd(ctx, rest, getenv, stdout, stderr)
	case "config":
		printConfigTable(stdout)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func parse(name string, args []string, getenv func(string) string) (config.Config, error) {
	return config.Parse("unid "+name, args, getenv)
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parse("serve", args, getenv)
	if err != nil {
		return err
	}
	logger := app.NewLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	a, err := app.New(ctx, cfg, logger, time.Now)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Serve(ctx, func(addr string) {
		logger.Info("unid listening", "addr", addr, "version", versionString(), "dev", cfg.Dev)
		if cfg.Dev {
			fmt.Fprintf(stdout, "\nunid is running in development mode: open http://%s/ to register and sign in.\n"+
				"Sent SMS codes: http://%s/dev/outbox.json — never use --dev in production.\n\n", addr, addr)
		}
	})
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parse("migrate", args, getenv)
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
	fs := flag.NewFlagSet("unid keys init", flag.ContinueOnError)
	path := fs.String("key-file", getenv("UNID_KEY_FILE"), "where to write the key file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		*path = "./data/unid.key"
	}
	k, err := account.GenerateKeys()
	if err != nil {
		return err
	}
	if err := account.WriteKeyFile(*path, k); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s — back it up: personal data cannot be decrypted without it\n", *path)
	return nil
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
	fmt.Fprintln(w, "| flag | environment variable | default | meaning |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, s := range config.Table() {
		d := "`" + s.Default + "`"
		if s.Default == "" {
			d = "—"
		}
		fmt.Fprintf(w, "| `%s` | `%s` | %s | %s |\n", s.Flag, s.Env, d, s.Usage)
	}
}

// keysRotate makes a new token signing key. Running instances publish it at
// once and sign with it shortly after; tokens signed before keep verifying.
func keysRotate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("unid keys rotate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := config.Default()
	fs.StringVar(&cfg.DataDir, "data", or(getenv("UNID_DATA"), cfg.DataDir), "data directory")
	fs.StringVar(&cfg.DatabaseURL, "database-url", getenv("UNID_DATABASE_URL"), "PostgreSQL URL")
	fs.StringVar(&cfg.KeyFile, "key-file", getenv("UNID_KEY_FILE"), "key file (default <data>/unid.key)")
	alg := fs.String("alg", or(getenv("UNID_OIDC_SIGNING_ALG"), cfg.OIDCSigningAlg), "algorithm of the new key: ES256 or RS256")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.KeyFile == "" {
		cfg.KeyFile = cfg.DataDir + "/unid.key"
	}
	st, protector, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	logger := app.NewLogger(stderr, "warn", "text")
	kid, err := oidc.RotateKeys(ctx, st, protector, audit.New(st, time.Now, logger), time.Now(), *alg)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(map[string]string{"kid": kid, "algorithm": *alg})
}
