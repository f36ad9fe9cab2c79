package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"flag"

	"unid/internal/audit"
	"unid/internal/config"
)

const auditUsage = `usage:
  unid audit verify [flags]        check the hash chain of the whole audit trail in the database
  unid audit verify FILE [--head HEX]
                                   check an export, with no database (and that it
                                   ends in the head printed when it was made)
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
	case sub == "verify" && len(rest) > 0 && rest[0] != "" && rest[0][0] != '-':
		return verifyFile(rest[0], rest[1:], stdout)
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
		sum, err := audit.VerifyLog(ctx, st)
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
	sum, err := exportFile(ctx, st, from, to, format, out)
	if err != nil {
		return err
	}
	printSummary(stdout, "exported", sum)
	return nil
}

// exportFile writes the export to a new file out, whole or not at all: it
// is written beside it under another name and linked to out only once
// complete and on disk, so that a failed export leaves no shorter file
// that would verify.
func exportFile(ctx context.Context, st audit.Source, from, to int64, format, out string) (audit.Summary, error) {
	if _, err := os.Lstat(out); err == nil {
		return audit.Summary{}, fmt.Errorf("%s exists; an export never overwrites a file", out)
	}
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return audit.Summary{}, err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	sum, err := audit.Export(ctx, st, from, to, format, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp, out)
	}
	return sum, err
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
