package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"flag"

	"unid/internal/audit"
	"unid/internal/config"
)

const auditUsage = `usage:
  unid audit verify [--from N] [--to N] [flags]
                                   check the hash chain of the audit trail in the database,
                                   from the retention anchor (or events N to N)
  unid audit verify FILE [--head HEX]
                                   check an export, with no database (and that it
                                   ends in the head printed when it was made)
  unid audit export [--from N] [--to N] [--format json|csv] [--out FILE] [flags]
                                   write events N to N (default: all) for an auditor
  unid audit archive [--before RFC3339] [flags]
                                   archive the events older than the retention (or than
                                   --before, at least 180 days ago) to a new file in the
                                   archive directory, verify it, and delete them from the
                                   database

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
	case sub == "verify" && len(rest) > 0 && rest[0] != "" && rest[0][0] != '-':
		return verifyFile(rest[0], rest[1:], stdout)
	case sub != "verify" && sub != "export" && sub != "archive":
		return errors.New(auditUsage)
	}
	var from, to int64
	var format, out, before string
	own := func(fs *flag.FlagSet) {}
	switch sub {
	case "verify":
		own = func(fs *flag.FlagSet) {
			fs.Int64Var(&from, "from", 0, "the first event (0: from the retention anchor)")
			fs.Int64Var(&to, "to", 0, "the last event (0: the newest)")
		}
	case "archive":
		own = func(fs *flag.FlagSet) {
			fs.StringVar(&before, "before", "", "archive the events before this time (RFC 3339, at least 180 days ago; default: now less audit.retention)")
		}
	case "export":
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
	if sub == "archive" {
		cut := time.Now().Add(-time.Duration(cfg.Audit.RetentionDays) * 24 * time.Hour)
		if before != "" {
			if cut, err = time.Parse(time.RFC3339, before); err != nil {
				return fmt.Errorf("--before %q: want an RFC 3339 time (2030-01-02T15:04:05+08:00)", before)
			}
		}
		log := audit.New(st, time.Now, slog.New(slog.NewTextHandler(stderr, nil)))
		got, err := log.Archive(ctx, cfg.Audit.ArchiveDir, cut)
		if err != nil {
			return err
		}
		if got.To == 0 {
			fmt.Fprintf(stdout, "no events before %s to archive\n", cut.Format(time.RFC3339))
			return nil
		}
		fmt.Fprintf(stdout, "archived events %d to %d to %s, head %s\n", got.From, got.To,
			filepath.Join(cfg.Audit.ArchiveDir, got.File), hex.EncodeToString(got.Head))
		return nil
	}
	if sub == "verify" {
		sum, err := audit.VerifyRange(ctx, st, from, to, nil)
		if err != nil {
			return fmt.Errorf("%w (%d events before it are intact)", err, sum.Events)
		}
		printSummary(stdout, "audit trail verified", sum)
		return nil
	}
	if out == "" {
		sum, err := audit.Export(ctx, st, from, to, format, stdout)
		if err != nil {
			return err
		}
		printSummary(stderr, "exported", sum)
		return nil
	}
	sum, err := audit.WriteExportFile(ctx, st, from, to, format, out)
	if err != nil {
		return err
	}
	printSummary(stdout, "exported", sum)
	return nil
}

// verifyFile runs `unid audit verify FILE [--head HEX]`.
func verifyFile(path string, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("unid audit verify FILE", flag.ContinueOnError)
	head := fs.String("head", "", "the head printed when the export was made: the file must end in it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New(auditUsage)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sum, err := audit.VerifyExport(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if got := hex.EncodeToString(sum.Head); *head != "" && !strings.EqualFold(*head, got) {
		return fmt.Errorf("%s: the export ends in %s, not in the head %s given", path, got, *head)
	}
	printSummary(stdout, "export verified", sum)
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
