package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"unid/internal/account"
	"unid/internal/app"
	"unid/internal/audit"
	"unid/internal/config"
	"unid/internal/operator"
	"unid/internal/problem"
	"unid/internal/store"
)

const operatorUsage = `Usage:
  unid operator create --login NAME --role ROLE[,ROLE…]
  unid operator list
  unid operator disable --login NAME     stop an operator signing in; their sessions end
  unid operator enable --login NAME
  unid operator reset --login NAME       a lost authenticator or password: a new set-up link

Roles (separation of duties, 三员分立): sysadmin (service systems,
configuration, operators), secadmin (citizens' accounts), auditor (reads the
audit trail and the review queues, changes nothing), reviewer (decides the
review queues). There is no "admin" role: it is sysadmin or secadmin.

create prints a one-time set-up link, valid for 24 hours, where the operator
chooses a password and enrolls an authenticator app (TOTP); give it to them
in person or over a trusted channel. The link is built on --public-url, else
on http://--addr. Only this command creates operators, so nobody grants a
role through the console, least of all to themselves.

Each command also takes --config FILE, --data, --database-url and --key-file
(or their UNID_* variables) to find the database. Output is JSON.`

// operatorCmd runs `unid operator …`.
func operatorCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, operatorUsage)
		return errors.New("an operator command is required")
	}
	sub, args := args[0], args[1:]
	if isHelp(sub) {
		fmt.Fprintln(stdout, operatorUsage)
		return nil
	}
	if !slices.Contains([]string{"create", "list", "disable", "enable", "reset"}, sub) {
		fmt.Fprintln(stderr, operatorUsage)
		return fmt.Errorf("unknown operator command %q", sub)
	}
	var login string
	var roles list
	var own func(fs *flag.FlagSet)
	switch sub {
	case "create":
		own = func(fs *flag.FlagSet) {
			fs.StringVar(&login, "login", "", "the operator's login name (2–64 letters, digits, . _ -)")
			fs.Var(&roles, "role", "sysadmin, secadmin, auditor or reviewer; comma-separated or repeated")
		}
	case "disable", "enable", "reset":
		own = func(fs *flag.FlagSet) {
			fs.StringVar(&login, "login", "", "the operator's login name")
		}
	}
	cfg, _, err := config.Load(config.Command{Name: "unid operator " + sub, Usage: operatorUsage, Flags: own}, args, getenv, stdout)
	if err != nil {
		return err
	}
	if sub == "create" {
		// Check the roles before opening anything, and name the valid ones.
		if _, err := operator.ParseRoles(roles); err != nil {
			return fmt.Errorf("--role %q: the roles are %s (there is no \"admin\" role: it is sysadmin or secadmin): %w",
				strings.Join(roles, ","), strings.Join(operator.Roles, ", "), explain(err))
		}
	}
	st, protector, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	logger := app.NewLogger(stderr, "warn", "text")
	hasher := account.NewHasher(app.HashParams(cfg), 1)
	ops := app.NewOperators(cfg, st, st, hasher, protector, nil, audit.New(st, time.Now, logger), logger, time.Now)
	out := json.NewEncoder(stdout)
	out.SetIndent("", "  ")
	if sub == "list" {
		list, err := ops.List(ctx)
		if err != nil {
			return err
		}
		type row struct {
			ID        string    `json:"id"`
			LoginName string    `json:"login_name"`
			Roles     []string  `json:"roles"`
			Status    string    `json:"status"`
			SetUp     bool      `json:"set_up"`
			CreatedAt time.Time `json:"created_at"`
		}
		rows := []row{}
		for _, o := range list {
			rows = append(rows, row{o.ID, o.LoginName, o.Roles, o.Status, o.PasswordHash != "", o.CreatedAt})
		}
		return out.Encode(rows)
	}
	by := audit.Origin{Actor: cliOperator()}
	var o store.Operator
	var token string
	switch sub {
	case "disable", "enable":
		change := ops.Disable
		if sub == "enable" {
			change = ops.Enable
		}
		if o, err = change(ctx, login, by); err != nil {
			return explain(err)
		}
		return out.Encode(map[string]any{"id": o.ID, "login_name": o.LoginName, "status": o.Status})
	case "reset":
		o, token, err = ops.Reset(ctx, login, by)
	default:
		o, token, err = ops.Create(ctx, login, roles, by)
	}
	if err != nil {
		var p *problem.Problem
		if errors.As(err, &p) {
			return explain(err)
		}
		return err
	}
	base := cfg.PublicURL
	if base == "" {
		base = "http://" + cfg.Addr
	}
	return out.Encode(map[string]any{
		"id": o.ID, "login_name": o.LoginName, "roles": o.Roles,
		"setup_link": operator.SetupLink(base, token), "setup_expires_at": o.SetupExpiresAt,
	})
}
