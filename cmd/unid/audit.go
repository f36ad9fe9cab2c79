package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"flag"

	"unid/internal/audit"
	"unid/internal/config"
)

const auditUsage = `usage:
  unid audit verify [flags]        check the hash chain of the whole audit trail in the database
  unid audit verify FILE           check an export, with no database
  unid audit export [--from N] [--to N] [--format json|csv] [--out FILE] [flags]
                                   write events N to N (default: all) for an auditor

verify and export print the range and the chain head (the hash of the last
event); an export verified later must end in the head printed when it was
made.`

// auditCmd runs `unid audit …`.
func auditCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(auditUsage)
	}
	sub, rest := args[0], args[1:]
	switch {
	case isHelp(sub):
		fmt.Fprintln(stdout, auditUsage)
		return nil
	case sub == "verify" && len(rest) == 1 && rest[0] != "" && rest[0][0] != '-':
		f, err := os.Open(rest[0])
		if err != nil {
			return err
		}
		defer f.Close()
		sum, err := audit.VerifyExport(f)
		if err != nil {
			return fmt.Errorf("%s: %w", rest[0], err)
		}
		printSummary(stdout, "export verified", sum)
		return nil
	case sub != "verify" && sub != "export":
		return errors.New(auditUsage)
	}
	var from, to int64
	var format, out string
	own := func(fs *flag.FlagSet) {}
	if sub == "export" {
		own = func(fs *flag.FlagSet) {
			fs.Int64Var(&from, "from", 1, "the first event (sequence number)")
			fs.Int64Var(&to, "to", 0, "the last event (0: the newest)")
			fs.StringVar(&format, "format", "json", "json or csv")
			fs.StringVar(&out, "out", "", "the file to write (default: standard output)")
		}
	}
	cfg, _, err := config.Load(config.Command{Name: "unid audit " + sub, Usage: auditUsage, Flags: own}, rest, getenv, stdout)
	if err != nil {
		return err
	}
	if sub == "export" && format != "json" && format != "csv" {
		return fmt.Errorf("--format %q: json or csv", format)
	}
	st, _, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if sub == "verify" {
		n, err := audit.Verify(ctx, st)
		if err != nil {
			return fmt.Errorf("%w (%d events before it are intact)", err, n)
		}
		fmt.Fprintf(stdout, "audit trail verified: %d events\n", n)
		return nil
	}
	w := stdout
	if out != "" {
		f, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	sum, err := audit.Export(ctx, st, from, to, format, w)
	if err != nil {
		return err
	}
	if out != "" {
		printSummary(stdout, "exported", sum)
	} else {
		printSummary(stderr, "exported", sum)
	}
	return nil
}

func printSummary(w io.Writer, what string, s audit.Summary) {
	fmt.Fprintf(w, "%s: events %d to %d (%d), linked to %s, head %s\n",
		what, s.From, s.To, s.Events, orNone(hex.EncodeToString(s.PrevHash)), orNone(hex.EncodeToString(s.Head)))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
