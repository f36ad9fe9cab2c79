// Command load measures a running unid over HTTP: sign-in with password
// and image captcha, the token endpoint (client credentials, the
// authorization-code flow with PKCE and refresh), discovery, CAS, SMS
// codes and the records API, each for a fixed time from many workers over
// keep-alive connections. Before the scenarios, with the server idle, it
// measures in-process the two limits no endpoint can beat on this machine:
// argon2id verifications per second at the server's parameters (sign-in),
// and signatures per second with the server's algorithm (tokens); each
// row shows its rate as a share of its limit.
//
//	go run ./cmd/unid serve --dev --login-ip-success-limit 0 … &
//	go run ./tools/load -url http://127.0.0.1:8080 -duration 10s
//
// The server must run in development mode: the tool reads captcha answers
// and SMS codes from its /dev/ routes. It registers its own clients (a
// confidential OpenID Connect client and a CAS service, with fresh IDs)
// in the server's database, found from the same --config, --data,
// --database-url and --key-file (or UNID_* variables) as the server's, and
// deletes them at the end; it registers its citizens through the public
// API. docs/operations.md ("Load testing") says how to read the output.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"unid/internal/app"
	"unid/internal/config"
)

func main() {
	// The argon2id limit is measured in this process: with the same
	// lazy freeing of memory as the server it compares with.
	if err := app.ExecLazyFree(); err != nil {
		fmt.Fprintf(os.Stderr, "load: could not start again with GODEBUG=madvdontneed=0 (%v); memory is given back as Go does by default\n", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

var usage = `Usage: go run ./tools/load [-url URL] [-scenarios a,b,…] [-duration 10s]
       [-concurrency 32] [-json FILE] [-max-error-rate 0.01]
       [--config FILE | --data DIR | --database-url URL] [--key-file FILE]

Scenarios: ` + strings.Join(scenarioNames(), ", ") + `
(default all). The server must run with --dev; the database flags are the
server's, to register the tool's clients where the server reads them.`

// options are the tool's own flags.
type options struct {
	url          string
	scenarios    []string
	duration     time.Duration
	concurrency  int
	jsonFile     string
	maxErrorRate float64
	accounts     int
	limitTime    time.Duration
	cpuProfile   string
}

// run is the whole tool: args are its flags and the server's configuration
// flags, getenv gives UNID_* variables.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var o options
	var scenarios string
	own := func(fs *flag.FlagSet) {
		fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "base URL of the running unid")
		fs.StringVar(&scenarios, "scenarios", strings.Join(scenarioNames(), ","), "comma-separated scenarios to run")
		fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long each scenario runs")
		fs.IntVar(&o.concurrency, "concurrency", 32, "concurrent workers of each scenario")
		fs.StringVar(&o.jsonFile, "json", "", "also write the results to this file as JSON")
		fs.Float64Var(&o.maxErrorRate, "max-error-rate", 0.01, "share of failed requests of a scenario above which the tool fails")
		fs.IntVar(&o.accounts, "accounts", 0, "citizens registered for the sign-in scenario (0: one per two workers, well within --lockout-threshold)")
		fs.DurationVar(&o.limitTime, "limit-time", 2500*time.Millisecond, "how long each hardware limit is measured")
		fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the tool's own CPU profile to this file (what the generator costs)")
	}
	// The configuration is read as a dev server reads it: the server the
	// tool talks to must run in development mode.
	cfg, _, err := config.Load(config.Command{Name: "load", Usage: usage, Flags: own}, append([]string{"--dev"}, args...), getenv, stdout)
	if err != nil {
		return err
	}
	for s := range strings.SplitSeq(scenarios, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(scenarioNames(), s) {
			return fmt.Errorf("unknown scenario %q (want some of %s)", s, strings.Join(scenarioNames(), ", "))
		}
		if !slices.Contains(o.scenarios, s) {
			o.scenarios = append(o.scenarios, s)
		}
	}
	switch {
	case len(o.scenarios) == 0:
		return errors.New("-scenarios names no scenario")
	case o.duration <= 0 || o.concurrency < 1 || o.accounts < 0 || o.limitTime <= 0:
		return errors.New("-duration, -limit-time and -concurrency must be positive, -accounts not negative")
	case o.duration+time.Minute > cfg.CaptchaTTL:
		return fmt.Errorf("-duration %v: the captchas prepared for a scenario expire after --captcha-ttl %v; run shorter or raise it on both", o.duration, cfg.CaptchaTTL)
	}
	o.url = strings.TrimRight(o.url, "/")
	if o.accounts == 0 {
		o.accounts = (o.concurrency + 1) / 2
	}

	t, err := prepare(ctx, o, cfg, stderr)
	if err != nil {
		return err
	}
	defer t.cleanup(stderr)
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rep := report{Before: t.limits}
	for _, name := range o.scenarios {
		rows, err := t.runScenario(ctx, scenarioByName(name))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		rep.Rows = append(rep.Rows, rows...)
	}
	if rep.After, err = t.measureLimits(ctx); err != nil {
		// The rows stand: relate them to the limits taken before.
		logf(stderr, "measuring the limits after the scenarios: %v; the ratios use those before", err)
		rep.After = rep.Before
	}
	rep.Limits = meanLimits(rep.Before, rep.After)
	rep.relate()
	rep.print(stdout)
	if o.jsonFile != "" {
		if err := rep.writeJSON(o.jsonFile); err != nil {
			return err
		}
	}
	return rep.check(o.maxErrorRate)
}
