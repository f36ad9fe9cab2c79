// Package legacy brings the enterprise accounts of the old platform over to
// unid (企业账号登录去哪了): each old enterprise account — a login name
// and password hash shared by whoever handled the enterprise's business —
// becomes a citizen account, or is merged into the citizen account that
// already holds its contact phone when the real names match, and that
// account becomes `handler` of its enterprise.
//
// The input is a CSV file with a header row and six columns, in this
// order:
//
//	login_name       the old login name; it stays the login name of a new account
//	password_hash    the old hash, copied as it is (account.LegacyHash): md5,
//	                 sha1, sha256 (bare hex or {MD5}/{SHA}/{SHA256}), salted
//	                 digests ({SMD5}, {SSHA}, {SSHA256}), bcrypt, PBKDF2 (PHC,
//	                 passlib, Django) and argon2
//	uscc             the enterprise's unified social credit code (GB 32100)
//	enterprise_name  the enterprise's name
//	contact_name     the contact's real name
//	contact_phone    the contact's mobile phone
//
// The old password keeps working: the login flow verifies the legacy hash
// and rehashes it to argon2id at the first successful sign-in.
//
// Rows are decided one by one, in file order: a login name unid already
// has with the same phone is this import's own account from an earlier run
// (nothing to create); a login name unid has with another phone is refused
// (login_name_duplicate); a phone unid has under another login name is
// merged when the account's real name is the contact name, refused
// (import_name_mismatch) otherwise; anything else is a new account. New
// accounts are written a batch at a time, each with its audit event, in
// one transaction (store.Imports); then every row's account is made
// handler of its enterprise (enterprise.Service.ImportHandler, one
// transaction with its own event). Both writes are idempotent, so an
// import that is killed part way is completed by running it again, and a
// second run changes nothing.
package legacy

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/enterprise"
	"unid/internal/problem"
	"unid/internal/store"
)

// Columns are the header of the CSV file, in order.
var Columns = []string{"login_name", "password_hash", "uscc", "enterprise_name", "contact_name", "contact_phone"}

// Reject reasons that are not problems of a single field.
const (
	// ReasonLoginNameDuplicate: the login name is held, in unid or by an
	// earlier row of the file, by an account with another phone.
	ReasonLoginNameDuplicate = "login_name_duplicate"
	// ReasonNameMismatch: the phone is held by an account whose real name
	// is not the contact name (or that has no real name).
	ReasonNameMismatch = "import_name_mismatch"
	// ReasonConflict: another account took the login name or phone while
	// the import ran, or the phone is in the cooling-off of a closed account.
	ReasonConflict = "import_conflict"
	// ReasonColumns: the row does not have six columns.
	ReasonColumns = "import_columns"
)

// maxEnterpriseName bounds the enterprise name, in characters.
const maxEnterpriseName = 100

// Store is what the import reads and writes accounts in.
type Store interface {
	store.Users
	store.Imports
	GetEnterpriseMember(ctx context.Context, uscc, userID string) (store.EnterpriseMember, error)
}

// Enterprises is what the import needs of the enterprise service
// (*enterprise.Service).
type Enterprises interface {
	// ImportHandler makes userID handler of uscc, creating the enterprise
	// record when unknown; an existing membership is left as it is.
	ImportHandler(ctx context.Context, userID, uscc, name string, o audit.Origin) error
}

// Deps are what an Importer is built from.
type Deps struct {
	Store       Store
	Accounts    *account.Service
	Protector   *account.Protector
	Enterprises Enterprises
	Audit       *audit.Log
	Now         func() time.Time
}

// Options are one run's choices.
type Options struct {
	DryRun bool // decide every row, write nothing
	Batch  int  // new accounts per transaction; < 1: DefaultBatch
	// Workers is how many rows are checked and looked up at once; < 1:
	// DefaultWorkers.
	Workers int
	// By is who runs the import: the CLI's cli:<os user>.
	By audit.Origin
	// Rejects receives each refused row (line number, login name,
	// reasons); nil: nowhere.
	Rejects func(Reject) error
	// Progress is called after each batch and at the end.
	Progress func(Progress)
}

// Defaults of Options.
const (
	DefaultBatch   = 500 // new accounts per transaction
	DefaultWorkers = 4   // rows checked and looked up at once
)

// Reject is a row refused, with its line number in the file (the header is
// line 1) and the codes of every reason, each with a message in the catalog
// under error.<code>.
type Reject struct {
	Line      int
	LoginName string
	Reasons   []string
}

// Progress is how far an import is.
type Progress struct {
	Done, Total int
	Elapsed     time.Duration
}

// Rate is rows per second so far.
func (p Progress) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Done) / p.Elapsed.Seconds()
}

// Remaining estimates the time left at the rate so far.
func (p Progress) Remaining() time.Duration {
	r := p.Rate()
	if r <= 0 || p.Done >= p.Total {
		return 0
	}
	return time.Duration(float64(p.Total-p.Done) / r * float64(time.Second))
}

// Result counts what a run did (or, dry, would do).
type Result struct {
	Rows     int  `json:"rows"`
	Created  int  `json:"created"`  // new accounts
	Merged   int  `json:"merged"`   // rows joined to an account that held the phone
	Existing int  `json:"existing"` // rows whose account an earlier run created
	Rejected int  `json:"rejected"`
	DryRun   bool `json:"dry_run"`
}

// Importer runs imports.
type Importer struct{ d Deps }

// New returns an Importer over d.
func New(d Deps) *Importer { return &Importer{d: d} }

// Row is one data row of the file.
type Row struct {
	line                                       int
	login, hash, uscc, entName, contact, phone string
}

// Line is the row's line number in the file.
func (r Row) Line() int { return r.line }

// ReadRows reads the whole file: its header must be Columns (in any case,
// a UTF-8 byte-order mark allowed). A row of the wrong width is kept, to
// be refused with its line number.
func ReadRows(r io.Reader) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	head, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("legacy import: the file is empty; the first line must be the header " + strings.Join(Columns, ","))
	}
	if err != nil {
		return nil, fmt.Errorf("legacy import: %w", err)
	}
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\uFEFF")
	}
	got := make([]string, len(head))
	for i, h := range head {
		got[i] = strings.ToLower(strings.TrimSpace(h))
	}
	if !slices.Equal(got, Columns) {
		return nil, fmt.Errorf("legacy import: the header is %q, want %s", strings.Join(head, ","), strings.Join(Columns, ","))
	}
	var rows []Row
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("legacy import: %w", err)
		}
		line, _ := cr.FieldPos(0)
		rw := Row{line: line}
		if len(rec) == len(Columns) {
			rw.login, rw.hash, rw.uscc, rw.entName, rw.contact, rw.phone = rec[0], rec[1], rec[2], rec[3], rec[4], rec[5]
		} else {
			rw.hash = "\x00columns" // refused with ReasonColumns
			if len(rec) > 0 {
				rw.login = rec[0]
			}
		}
		rows = append(rows, rw)
	}
}

// decided is a row ready to write: its account (new, or found), and its
// enterprise.
type decided struct {
	Row
	user    store.User
	how     string // "create", "existing" (an earlier run's), "merge"
	uscc    string
	entName string
}

// Run imports the rows of r.
func (im *Importer) Run(ctx context.Context, r io.Reader, o Options) (Result, error) {
	rows, err := ReadRows(r)
	if err != nil {
		return Result{}, err
	}
	return im.RunRows(ctx, rows, o)
}

// RunRows imports rows read by ReadRows.
func (im *Importer) RunRows(ctx context.Context, rows []Row, o Options) (Result, error) {
	if o.Batch < 1 {
		o.Batch = DefaultBatch
	}
	if o.Workers < 1 {
		o.Workers = DefaultWorkers
	}
	if !o.By.Actor.Valid() || o.By.Actor.Kind == "" {
		return Result{}, fmt.Errorf("legacy import: invalid actor %+v", o.By.Actor)
	}
	start := time.Now()
	res := Result{Rows: len(rows), DryRun: o.DryRun}
	// This run's own accounts by login name and by phone, so that later
	// rows of the file see earlier ones before they are stored.
	run := &runState{byLogin: map[string]store.User{}, byPhone: map[string]store.User{}}
	progress := func(done int) {
		if o.Progress != nil {
			o.Progress(Progress{Done: done, Total: len(rows), Elapsed: time.Since(start)})
		}
	}
	for i := 0; i < len(rows); i += o.Batch {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("legacy import stopped at line %d: %w", rows[i].line, context.Cause(ctx))
		}
		batch := rows[i:min(i+o.Batch, len(rows))]
		// The checks and the reads of a batch run side by side; the
		// decisions, which depend on the rows before, in file order.
		checks := make([]checked, len(batch))
		parallel(len(batch), o.Workers, func(j int) { checks[j] = im.check(ctx, batch[j]) })
		var ready []decided
		for _, c := range checks {
			d, reasons, err := im.resolve(run, c)
			if err != nil {
				return res, err
			}
			if len(reasons) > 0 {
				if err := im.reject(&res, o, c.d.Row, reasons); err != nil {
					return res, err
				}
				continue
			}
			ready = append(ready, d)
		}
		if err := im.write(ctx, &res, run, o, ready); err != nil {
			return res, err
		}
		progress(i + len(batch))
	}
	if len(rows) == 0 {
		progress(0)
	}
	return res, nil
}

// runState is what a run has decided so far.
type runState struct {
	byLogin map[string]store.User // login name key → account
	byPhone map[string]store.User // phone blind index → account
}

func (im *Importer) reject(res *Result, o Options, rw Row, reasons []string) error {
	res.Rejected++
	if o.Rejects == nil {
		return nil
	}
	return o.Rejects(Reject{Line: rw.line, LoginName: rw.login, Reasons: reasons})
}

// checked is a row checked, with the accounts the store holds under its
// login name and its phone.
type checked struct {
	d                decided
	u                store.User // the account to create for it
	reasons          []string
	err              error
	byLogin, byPhone store.User
	inLogin, inPhone bool
}

// check checks one row and reads the accounts that hold its login name
// and phone; it may run beside the checks of other rows.
func (im *Importer) check(ctx context.Context, rw Row) (c checked) {
	c.d = decided{Row: rw}
	if rw.hash == "\x00columns" {
		c.reasons = []string{ReasonColumns}
		return c
	}
	u, err := im.d.Accounts.PrepareImport(account.LegacyAccount{
		LoginName: rw.login, PasswordHash: rw.hash, Phone: rw.phone, RealName: rw.contact,
	}, im.d.Now())
	if err != nil {
		p := problem.As(err)
		if p.Kind == problem.Internal {
			c.err = err
			return c
		}
		for _, f := range []string{account.FieldLoginName, "password_hash", account.FieldPhone, account.FieldRealName} {
			if code, ok := p.Fields[f]; ok {
				c.reasons = append(c.reasons, code)
			}
		}
	}
	if c.d.uscc, err = enterprise.ParseUSCC(rw.uscc); err != nil {
		c.reasons = append(c.reasons, fieldCode(err, "uscc_format"))
	}
	c.d.entName = strings.Join(strings.Fields(rw.entName), " ")
	switch n := utf8.RuneCountInString(c.d.entName); {
	case n == 0:
		c.reasons = append(c.reasons, "import_enterprise_name_required")
	case n > maxEnterpriseName || !utf8.ValidString(c.d.entName):
		c.reasons = append(c.reasons, "import_enterprise_name_format")
	}
	if len(c.reasons) > 0 {
		return c
	}
	c.u = u
	if c.byLogin, c.inLogin, c.err = lookedUp(im.d.Store.GetUserByLoginName(ctx, u.LoginNameKey)); c.err != nil {
		return c
	}
	if !c.inLogin {
		c.byPhone, c.inPhone, c.err = lookedUp(im.d.Store.GetUserByPhone(ctx, u.Phone.Index))
	}
	return c
}

// lookedUp turns a store lookup into found or not.
func lookedUp(u store.User, err error) (store.User, bool, error) {
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, false, nil
	}
	if err != nil {
		return store.User{}, false, fmt.Errorf("legacy import: find account: %w", err)
	}
	return u, true, nil
}

// resolve decides a checked row in file order: the run's own accounts
// (from earlier rows) first, then the store's. reasons are why it is
// refused, err a failure of the store.
func (im *Importer) resolve(run *runState, c checked) (decided, []string, error) {
	if c.err != nil || len(c.reasons) > 0 {
		return decided{}, c.reasons, c.err
	}
	d, u := c.d, c.u
	// By login name: this import's own account (same phone), or someone
	// else's.
	found, ok := run.byLogin[u.LoginNameKey]
	if !ok {
		found, ok = c.byLogin, c.inLogin
	}
	if ok {
		if !bytes.Equal(found.Phone.Index, u.Phone.Index) {
			return decided{}, []string{ReasonLoginNameDuplicate}, nil
		}
		if same, err := im.sameName(found, d.contact); err != nil || !same {
			return decided{}, []string{ReasonNameMismatch}, err
		}
		d.user, d.how = found, "existing"
		return d, nil, nil
	}
	// By phone: a citizen account to merge into if the names match.
	found, ok = run.byPhone[string(u.Phone.Index)]
	if !ok {
		found, ok = c.byPhone, c.inPhone
	}
	if ok {
		same, err := im.sameName(found, d.contact)
		if err != nil {
			return decided{}, nil, err
		}
		if !same {
			return decided{}, []string{ReasonNameMismatch}, nil
		}
		d.user, d.how = found, "merge"
		return d, nil, nil
	}
	d.user, d.how = u, "create"
	run.byLogin[u.LoginNameKey] = u
	run.byPhone[string(u.Phone.Index)] = u
	return d, nil, nil
}

// sameName reports whether u's real name is name, both normalised.
func (im *Importer) sameName(u store.User, name string) (bool, error) {
	if u.RealName.Empty() {
		return false, nil
	}
	have, err := im.d.Protector.Open(account.FieldRealName, u.RealName)
	if err != nil {
		return false, fmt.Errorf("legacy import: open real name: %w", err)
	}
	a, err1 := account.NormalizeRealName(have)
	b, err2 := account.NormalizeRealName(name)
	return err1 == nil && err2 == nil && a == b, nil
}

// write stores a batch's new accounts with their events, then makes every
// row's account handler of its enterprise.
func (im *Importer) write(ctx context.Context, res *Result, run *runState, o Options, ready []decided) error {
	var users []store.User
	var events []store.AuditEvent
	for _, d := range ready {
		if d.how == "create" {
			users = append(users, d.user)
			events = append(events, im.event(o, d))
		}
	}
	created := map[string]bool{}
	if !o.DryRun && len(users) > 0 {
		err := im.d.Store.ImportUsers(ctx, users, events, audit.Hash)
		switch {
		case err == nil:
			for _, u := range users {
				created[u.ID] = true
			}
		case errors.Is(err, store.ErrConflict):
			// Someone took a login name or phone since the rows were
			// decided: store them one by one to find which.
			for i, u := range users {
				err := im.d.Store.ImportUsers(ctx, users[i:i+1], events[i:i+1], audit.Hash)
				if errors.Is(err, store.ErrConflict) {
					continue
				}
				if err != nil {
					return fmt.Errorf("legacy import: store accounts: %w", err)
				}
				created[u.ID] = true
			}
		default:
			return fmt.Errorf("legacy import: store accounts: %w", err)
		}
	}
	// Every row's account becomes handler, one transaction each (they all
	// queue on the audit chain's head, so running them side by side gains
	// nothing).
	// A row whose account lost a race (its own, or an earlier row's of
	// the batch with the same login name or phone) is refused.
	lostIDs := map[string]bool{}
	for _, u := range users {
		lostIDs[u.ID] = !o.DryRun && !created[u.ID]
	}
	lost := func(d decided) bool { return lostIDs[d.user.ID] }
	reasons := make([]string, len(ready))
	errs := make([]error, len(ready))
	if !o.DryRun {
		for i, d := range ready {
			if !lost(d) {
				if reasons[i], errs[i] = im.handler(ctx, d, o); errs[i] != nil {
					break
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for i, d := range ready {
		if lost(d) {
			// Lost a race: refused, and forgotten so later rows look again.
			delete(run.byLogin, d.user.LoginNameKey)
			delete(run.byPhone, string(d.user.Phone.Index))
			if err := im.reject(res, o, d.Row, []string{ReasonConflict}); err != nil {
				return err
			}
			continue
		}
		if reasons[i] != "" {
			if err := im.reject(res, o, d.Row, []string{reasons[i]}); err != nil {
				return err
			}
			continue
		}
		switch d.how {
		case "create":
			res.Created++
		case "existing":
			res.Existing++
		default:
			res.Merged++
		}
	}
	return nil
}

// handler makes d's account handler of d's enterprise, unless it is a
// member of it already (of any role: it stays as it is, and no event is
// added). reason is why the enterprise service refused, err a failure.
func (im *Importer) handler(ctx context.Context, d decided, o Options) (reason string, err error) {
	if d.how != "create" {
		_, err := im.d.Store.GetEnterpriseMember(ctx, d.uscc, d.user.ID)
		if err == nil {
			return "", nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return "", fmt.Errorf("legacy import: line %d: %w", d.line, err)
		}
	}
	if err := im.d.Enterprises.ImportHandler(ctx, d.user.ID, d.uscc, d.entName, o.By); err != nil {
		if p := problem.As(err); p.Kind != problem.Internal {
			return p.Code, nil
		}
		return "", fmt.Errorf("legacy import: line %d: %w", d.line, err)
	}
	return "", nil
}

// event is the audit event of a new account.
func (im *Importer) event(o Options, d decided) store.AuditEvent {
	e := o.By.Entry(account.ActionImported, audit.ResultOK)
	e.Detail = audit.Detail{"user": d.user.ID, "by": string(o.By.Actor.Kind), "line": strconv.Itoa(d.line), "uscc": d.uscc}
	return im.d.Audit.Event(e)
}

// fieldCode is the code of a field problem, or def.
func fieldCode(err error, def string) string {
	p := problem.As(err)
	for _, code := range p.Fields {
		return code
	}
	if p.Kind != problem.Internal && p.Code != "" {
		return p.Code
	}
	return def
}

// parallel calls fn(0) … fn(n-1) on at most workers goroutines and waits.
func parallel(n, workers int, fn func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
