package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"unid/internal/account"
	"unid/internal/app"
	"unid/internal/audit"
	"unid/internal/config"
	"unid/internal/enterprise"
	"unid/internal/enterprise/legacy"
	"unid/internal/i18n"
)

const importUsage = `Usage:
  unid import legacy-enterprises FILE.csv [--dry-run] [--reject FILE] [--batch N]

Brings the enterprise accounts of the old platform over (企业账号登录去哪了).
Each row becomes a citizen account that is handler (办事人) of its
enterprise, or joins the account that already holds its contact phone when
that account's real name is the contact name. The old password keeps
working: its hash is copied as it is and replaced by argon2id at the first
sign-in. A merged account keeps its own login name and password.

FILE.csv is UTF-8 with a header row and these six columns, in this order:
  login_name       the old login name; the new account's login name
  password_hash    the old hash: md5, sha1, sha256 or sha512 as bare hex (or
                   {MD5}…, {SHA}…, {SHA256}…), salted digests {SMD5} {SSHA}
                   {SSHA256} {SSHA512} (base64 of digest(password+salt)+salt),
                   bcrypt ($2a$/$2b$/$2y$), PBKDF2 ($pbkdf2-sha256$…, Django
                   pbkdf2_sha256$…), argon2
  uscc             the unified social credit code (18 characters, GB 32100)
  enterprise_name  the enterprise's name
  contact_name     the contact's real name (stored unverified)
  contact_phone    the contact's mobile phone

A row is refused, and the import goes on, for: a bad credit code
(uscc_format), a bad phone (phone_format), a hash in no known format
(password_hash_format), a login name held by an account with another phone
(login_name_duplicate), a phone held by an account with another real name
(import_name_mismatch), a login name or name unid does not accept
(login_name_*, real_name_*). Each refused row goes to --reject FILE as CSV
(line,login_name,reasons,message; the header of FILE.csv is line 1), or to
stderr without --reject.

  --dry-run   decide every row and report, write nothing
  --reject    where refused rows go
  --batch N   new accounts written per transaction (default 500)

Running it again changes nothing, and completes an import that was
stopped. Progress (rows, rate, time left) goes to stderr; the counts, as
JSON, to stdout. Each new account is audited as account.imported, each
role as enterprise.imported, the run as import.legacy_enterprises with its
counts, by cli:<os user>. On PostgreSQL the import's own connections commit
asynchronously (synchronous_commit=off) and its last event synchronously:
a database crash during the import loses at most its last moment, which
running the command again completes.

Also takes --config FILE, --data, --database-url and --key-file (or their
UNID_* variables) to find the database.`

// importCmd runs `unid import …`.
func importCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, importUsage)
		return errors.New("an import command is required")
	}
	sub, args := args[0], args[1:]
	if isHelp(sub) {
		fmt.Fprintln(stdout, importUsage)
		return nil
	}
	if sub != "legacy-enterprises" {
		fmt.Fprintln(stderr, importUsage)
		return fmt.Errorf("unknown import command %q", sub)
	}
	// The file may come before the flags, as the usage writes it.
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	var dryRun bool
	var reject string
	var batch int
	cfg, rest, err := config.Load(config.Command{Name: "unid import legacy-enterprises", Usage: importUsage, Args: true, Flags: func(fs *flag.FlagSet) {
		fs.BoolVar(&dryRun, "dry-run", false, "decide every row and report, write nothing")
		fs.StringVar(&reject, "reject", "", "write refused rows (line, login name, reasons) to this CSV file")
		fs.IntVar(&batch, "batch", legacy.DefaultBatch, "new accounts written per transaction")
	}}, args, getenv, stdout)
	if err != nil {
		return err
	}
	if file == "" && len(rest) > 0 {
		file, rest = rest[0], rest[1:]
	}
	if file == "" || len(rest) > 0 {
		return errors.New("usage: unid import legacy-enterprises FILE.csv [--dry-run] [--reject FILE] [--batch N]")
	}
	if batch < 1 {
		return fmt.Errorf("--batch %d: want at least 1", batch)
	}
	in, err := os.Open(file)
	if err != nil {
		return err
	}
	defer in.Close()
	rows, err := legacy.ReadRows(in)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}

	lang := i18n.ZH
	if strings.HasPrefix(getenv("LANG"), "en") {
		lang = i18n.EN
	}
	cat, err := i18n.Load()
	if err != nil {
		return err
	}
	rejectOut, closeRejects, err := rejectWriter(reject, stderr)
	if err != nil {
		return err
	}

	// The import's own connections commit asynchronously on PostgreSQL:
	// a commit does not wait for its WAL flush, which halves the time of
	// an import of one transaction per row. A crash of the database loses
	// at most its last fraction of a second, all or nothing per
	// transaction, and the rerun completes it; the final event below is
	// committed synchronously, which flushes every commit before it.
	importCfg := cfg
	if cfg.Postgres() && !dryRun {
		importCfg.DatabaseURL.Value = asyncCommit(cfg.DatabaseURL.Value)
	}
	st, protector, err := openStore(ctx, importCfg)
	if err != nil {
		closeRejects()
		return err
	}
	defer st.Close()
	logger := app.NewLogger(stderr, "warn", "text")
	auditLog := audit.New(st, time.Now, logger)
	hasher := account.NewHasher(app.HashParams(cfg), 1)
	accounts := account.NewService(account.ServiceDeps{Store: st, Hasher: hasher, Protector: protector, Audit: auditLog, Logger: logger, Now: time.Now})
	ent := enterprise.New(enterprise.Deps{Store: st, Protector: protector, Audit: auditLog, Logger: logger, Now: time.Now})
	im := legacy.New(legacy.Deps{Store: st, Accounts: accounts, Protector: protector, Enterprises: ent, Audit: auditLog, Now: time.Now})

	last := time.Time{}
	res, err := im.RunRows(ctx, rows, legacy.Options{
		DryRun: dryRun, Batch: batch, By: audit.Origin{Actor: cliOperator()},
		Rejects: func(r legacy.Reject) error {
			msgs := make([]string, len(r.Reasons))
			for i, code := range r.Reasons {
				msgs[i] = cat.T(lang, "error."+code)
			}
			return rejectOut.Write([]string{strconv.Itoa(r.Line), spreadsheetSafe(r.LoginName), strings.Join(r.Reasons, ";"), strings.Join(msgs, " ")})
		},
		Progress: func(p legacy.Progress) {
			if p.Done < p.Total && time.Since(last) < time.Second {
				return
			}
			last = time.Now()
			fmt.Fprintf(stderr, "\r%d/%d rows  %.0f rows/s  %s left   ", p.Done, p.Total, p.Rate(), p.Remaining().Round(time.Second))
			if p.Done == p.Total {
				fmt.Fprintln(stderr)
			}
		},
	})
	if cerr := closeRejects(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(stderr)
		return fmt.Errorf("%w (run the same command again to complete the import)", err)
	}
	if !dryRun {
		if err := importFinished(ctx, cfg, file, res); err != nil {
			return err
		}
	}
	out := json.NewEncoder(stdout)
	out.SetIndent("", "  ")
	return out.Encode(res)
}

// ActionLegacyImported is the audit event of a finished import, with its
// counts.
const ActionLegacyImported = "import.legacy_enterprises"

// importFinished records the finished import over an ordinary (synchronous)
// connection: its commit waits for the WAL flush, so once it returns every
// asynchronous commit of the import is durable too.
func importFinished(ctx context.Context, cfg config.Config, file string, res legacy.Result) error {
	st, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	e := audit.Origin{Actor: cliOperator()}.Entry(ActionLegacyImported, audit.ResultOK)
	e.Detail = audit.Detail{"rows": strconv.Itoa(res.Rows), "created": strconv.Itoa(res.Created), "merged": strconv.Itoa(res.Merged),
		"existing": strconv.Itoa(res.Existing), "rejected": strconv.Itoa(res.Rejected)}
	ev := audit.New(st, time.Now, nil).Event(e)
	if _, err := st.AppendAudit(ctx, ev, audit.Hash); err != nil {
		return fmt.Errorf("the import is done, but its audit event was not written: %w", err)
	}
	return nil
}

// asyncCommit adds synchronous_commit=off, a run-time parameter of every
// connection, to a postgres:// URL.
func asyncCommit(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL // OpenStore reports it
	}
	q := u.Query()
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return u.String()
}

// csvRows is where refused rows go.
type csvRows interface{ Write([]string) error }

// rejectWriter opens the reject file (with its header), or writes refused
// rows to stderr; the returned function flushes and closes.
func rejectWriter(path string, stderr io.Writer) (csvRows, func() error, error) {
	if path == "" {
		w := csv.NewWriter(stderr)
		return flushing{w}, func() error { w.Flush(); return w.Error() }, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, nil, err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"line", "login_name", "reasons", "message"})
	return w, func() error {
		w.Flush()
		if err := w.Error(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}, nil
}

// flushing writes each row at once, so that refused rows on stderr come
// in order with the progress line.
type flushing struct{ w *csv.Writer }

func (f flushing) Write(rec []string) error {
	if err := f.w.Write(rec); err != nil {
		return err
	}
	f.w.Flush()
	return f.w.Error()
}

// spreadsheetSafe keeps a value from the imported file from running as a
// formula when an operator opens the reject file in a spreadsheet (CSV
// injection): a cell that starts like a formula gets a leading quote.
func spreadsheetSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
