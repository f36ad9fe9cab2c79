package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"

	"unid/internal/account"
	"unid/internal/app"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/config"
	"unid/internal/i18n"
	"unid/internal/problem"
	"unid/internal/store"
)

const clientUsage = `Usage:
  unid client create --name NAME --type oidc_confidential|oidc_public|cas
                     [--id ID] --redirect-uri URI... [--scope S...] [--first-party]
                     [--post-logout-redirect-uri URI...] [--backchannel-logout-uri URI]
                     [--min-realname-level N] [--min-enterprise-role handler|admin|legal_rep]
  unid client list
  unid client show ID
  unid client rotate-secret ID
  unid client delete ID

Each command also takes --config FILE, --data, --database-url and --key-file
(or their UNID_* variables) to find the database. Output is JSON; a created
client's secret is shown once.`

// list is a repeatable string flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

// clientCmd runs `unid client …`.
func clientCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, clientUsage)
		return errors.New("a client command is required")
	}
	sub, args := args[0], args[1:]
	if isHelp(sub) {
		fmt.Fprintln(stdout, clientUsage)
		return nil
	}
	switch sub {
	case "create", "list", "show", "delete", "rotate-secret":
	default:
		fmt.Fprintln(stderr, clientUsage)
		return fmt.Errorf("unknown client command %q", sub)
	}
	var spec client.Spec
	var redirects, logouts, scopes list
	var own func(fs *flag.FlagSet)
	if sub == "create" {
		own = func(fs *flag.FlagSet) {
			fs.StringVar(&spec.ID, "id", "", "client id (generated when empty)")
			fs.StringVar(&spec.Name, "name", "", "name shown to users")
			fs.StringVar(&spec.Type, "type", "", "oidc_confidential, oidc_public or cas")
			fs.Var(&redirects, "redirect-uri", "OIDC redirect URI or CAS service pattern (repeatable)")
			fs.Var(&logouts, "post-logout-redirect-uri", "OIDC post-logout redirect URI (repeatable)")
			fs.Var(&scopes, "scope", "allowed scope (OIDC) or released attribute (CAS) (repeatable)")
			fs.BoolVar(&spec.FirstParty, "first-party", false, "a system of the platform itself: no consent page")
			fs.StringVar(&spec.BackchannelLogoutURI, "backchannel-logout-uri", "", "back-channel (OIDC) or single (CAS) logout URL")
			fs.IntVar(&spec.MinRealnameLevel, "min-realname-level", 0, "least real-name level (0-3) of a user signing in, OIDC and CAS alike; a user below it is sent to the upgrade page")
			fs.StringVar(&spec.MinEnterpriseRole, "min-enterprise-role", "", "least enterprise role (handler, admin, legal_rep) the identity signing in must act with, OIDC and CAS alike")
		}
	}
	cfg, rest, err := config.Load(config.Command{
		Name: "unid client " + sub, Usage: clientUsage, Flags: own,
		Args: sub == "show" || sub == "delete" || sub == "rotate-secret",
	}, args, getenv, stdout)
	if err != nil {
		return err
	}
	spec.RedirectURIs, spec.PostLogoutRedirectURIs, spec.Scopes = redirects, logouts, scopes
	reg, closeStore, err := app.OpenRegistry(ctx, cfg, stderr, true)
	if err != nil {
		return err
	}
	defer closeStore()
	// The registry audits each change, naming the operator.
	by := audit.Origin{Actor: cliOperator()}
	out := json.NewEncoder(stdout)
	out.SetIndent("", "  ")
	arg := func() (string, error) {
		if len(rest) != 1 {
			return "", fmt.Errorf("usage: unid client %s ID", sub)
		}
		return rest[0], nil
	}
	switch sub {
	case "create":
		c, secret, err := reg.Create(ctx, spec, by)
		if err != nil {
			return explain(err)
		}
		v := client.NewView(c)
		v.Secret = secret
		return out.Encode(v)
	case "list":
		cs, err := reg.List(ctx)
		if err != nil {
			return explain(err)
		}
		views := []client.View{}
		for _, c := range cs {
			views = append(views, client.NewView(c))
		}
		return out.Encode(views)
	case "show", "delete", "rotate-secret":
		id, err := arg()
		if err != nil {
			return err
		}
		switch sub {
		case "show":
			c, err := reg.Get(ctx, id)
			if err != nil {
				return explain(err)
			}
			return out.Encode(client.NewView(c))
		case "delete":
			if err := reg.Delete(ctx, id, by); err != nil {
				return explain(err)
			}
			return out.Encode(map[string]string{"deleted": id})
		default:
			secret, err := reg.RotateSecret(ctx, id, by)
			if err != nil {
				return explain(err)
			}
			return out.Encode(map[string]string{"id": id, "client_secret": secret})
		}
	}
	fmt.Fprintln(stderr, clientUsage)
	return fmt.Errorf("unknown client command %q", sub)
}

// openStore opens (and migrates) the database and the key file the server
// uses, for commands that work on them directly.
func openStore(ctx context.Context, cfg config.Config) (interface {
	store.Store
	store.Migrator
}, *account.Protector, error) {
	return app.OpenData(ctx, cfg, true)
}

// cliOperator is the actor of a change made with `unid client`: the
// operator named by the operating-system user who ran it, "cli:<user>".
func cliOperator() audit.Actor {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return audit.Operator("cli:" + u.Username)
	}
	return audit.Operator("cli")
}

// explain turns a problem into a sentence in the operator's language
// (LANG=en… for English, Chinese otherwise) with its fields.
func explain(err error) error {
	p := problem.As(err)
	if p.Kind == problem.Internal {
		return err
	}
	cat, cerr := i18n.Load()
	if cerr != nil {
		return err
	}
	lang := i18n.ZH
	if strings.HasPrefix(os.Getenv("LANG"), "en") {
		lang = i18n.EN
	}
	msg := cat.T(lang, "error."+p.Code)
	for f, code := range p.Fields {
		msg += fmt.Sprintf("\n  %s: %s (%s)", f, cat.T(lang, "error."+code), code)
	}
	return fmt.Errorf("%s (%s)", msg, p.Code)
}
