package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"unid/internal/store"
)

// Store implements store.Store and store.Migrator over database/sql.
type Store struct {
	db  *sql.DB // reads
	wdb *sql.DB // writes and read-modify-write transactions
	d   Dialect

	stmts sync.Map // stmtKey → *sql.Stmt, when d.CacheStatements
	audit auditQueue
}

// stmtKey names a cached prepared statement.
type stmtKey struct {
	db    *sql.DB
	query string
}

var (
	_ store.Store    = (*Store)(nil)
	_ store.Migrator = (*Store)(nil)
)

// New returns a Store that reads through db and writes through wdb; they may
// be the same pool. The Store owns both and closes them in Close.
//
// A function passed to UpdateUser or UpdateChallenge runs inside a write
// transaction and must not write through the same Store: with SQLite's single
// write connection that would wait forever.
func New(db, wdb *sql.DB, d Dialect) *Store {
	return &Store{db: db, wdb: wdb, d: d}
}

// DB returns the pool used for reads, for tuning and diagnostics.
func (s *Store) DB() *sql.DB { return s.db }

// WriteDB returns the pool used for writes (the same as DB in PostgreSQL).
func (s *Store) WriteDB() *sql.DB { return s.wdb }

// Ping reports whether the database is reachable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("%s: ping: %w", s.d.Name, err)
	}
	return nil
}

// Close closes the pools.
func (s *Store) Close() error {
	var err error
	s.stmts.Range(func(k, v any) bool {
		err = errors.Join(err, v.(*sql.Stmt).Close())
		return true
	})
	err = errors.Join(err, s.db.Close())
	if s.wdb != s.db {
		err = errors.Join(err, s.wdb.Close())
	}
	return err
}

// ms converts a time to stored unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS converts stored unix milliseconds back to a UTC time.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// msOrZero stores a time that may be unset ("never used", "not yet") as 0.
func msOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return ms(t)
}

// fromMSOrZero reads a time stored by msOrZero: 0 is the zero time.
func fromMSOrZero(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return fromMS(v)
}

// normTime is what a time looks like after a round trip through the store.
func normTime(t time.Time) time.Time { return fromMS(ms(t)) }

// nullBytes stores an empty byte slice as NULL, so that absent values never
// collide in a unique index.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// normBytes is what a byte slice looks like after a round trip.
func normBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// conflictFields maps a fragment of a constraint or column name to the field
// that ConflictError reports. Order matters: the first match wins.
var conflictFields = []struct{ fragment, field string }{
	{"login_name_key", "login_name"},
	{"phone_index", "phone"},
	{"id_number_index", "id_number"},
	{"email_index", "email"},
	// A second pending review item of one user and kind: PostgreSQL names
	// the index, SQLite its columns.
	{"review_items_pending_key", "review_pending"},
	{"review_items.user_id, review_items.kind", "review_pending"},
	// One legal representative per enterprise; one pending application
	// of a person to an enterprise.
	{"enterprise_members_legal_rep_key", "legal_rep"},
	{"enterprise_applications_pending_key", "application_pending"},
	{"enterprise_applications.uscc, enterprise_applications.user_id", "application_pending"},
	{"enterprise_members.uscc", "legal_rep"},
	// An external identity linked twice; an account with two links of
	// one provider.
	{"upstream_links_pkey", "upstream_identity"},
	{"upstream_links.provider, upstream_links.app", "upstream_identity"},
	{"upstream_links_user_provider_key", "upstream_provider"},
	{"upstream_links.user_id, upstream_links.provider", "upstream_provider"},
}

// wrapErr turns driver errors into store errors: unique violations into a
// *store.ConflictError, and everything else wrapped with what was being done.
func (s *Store) wrapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
		return err
	}
	if c, ok := s.d.UniqueViolation(err); ok {
		field := "id"
		for _, f := range conflictFields {
			if strings.Contains(c, f.fragment) {
				field = f.field
				break
			}
		}
		return fmt.Errorf("%s: %s: %w", s.d.Name, op, &store.ConflictError{Field: field})
	}
	return fmt.Errorf("%s: %s: %w", s.d.Name, op, err)
}

// notFound wraps store.ErrNotFound with what was looked for.
func (s *Store) notFound(op string) error {
	return fmt.Errorf("%s: %s: %w", s.d.Name, op, store.ErrNotFound)
}

// txAttempts is how many times runAgain runs a transaction in all.
const txAttempts = 3

// runAgain runs tx, a whole transaction, until it succeeds or fails for
// good: one that PostgreSQL failed for a deadlock or a serialization
// failure (Dialect.Retryable) may succeed from its start, and runs again,
// and so, once, does one whose error once accepts (nil: none); at most
// txAttempts runs in all.
func (s *Store) runAgain(tx func() error, once func(error) bool) error {
	onceUsed := false
	for attempt := 1; ; attempt++ {
		err := tx()
		if err == nil || attempt >= txAttempts {
			return err
		}
		if once != nil && !onceUsed && once(err) {
			onceUsed = true
			continue
		}
		if s.d.Retryable == nil || !s.d.Retryable(err) {
			return err
		}
	}
}

// inTx runs fn inside a write transaction and commits it if fn succeeds. An
// error from fn is returned unchanged.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", s.d.Name, err)
	}
	// Also when fn panics: an open transaction would keep its locks (the
	// audit chain's head among them) and its connection.
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", s.d.Name, err)
	}
	return nil
}

// prepared returns the cached prepared statement of query on db.
func (s *Store) prepared(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	k := stmtKey{db, query}
	if v, ok := s.stmts.Load(k); ok {
		return v.(*sql.Stmt), nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if v, loaded := s.stmts.LoadOrStore(k, st); loaded {
		st.Close()
		return v.(*sql.Stmt), nil
	}
	return st, nil
}

// writeStmts returns the cached prepared statements of queries on the
// write pool, for a transaction about to begin to run through txExec and
// txQueryRow. They must be asked for before it begins: inside it,
// preparing on the pool would wait forever for SQLite's one write
// connection, which the transaction holds. An entry is nil where the
// dialect does not cache statements or the query could not be prepared;
// it then runs unprepared and reports its own error.
func (s *Store) writeStmts(ctx context.Context, queries ...string) []*sql.Stmt {
	st := make([]*sql.Stmt, len(queries))
	if !s.d.CacheStatements {
		return st
	}
	for i, q := range queries {
		st[i], _ = s.prepared(ctx, s.wdb, q)
	}
	return st
}

// txExec runs query in tx, through st (from writeStmts) when it is not
// nil: the statement SQLite parsed once, on the connection tx holds.
func txExec(ctx context.Context, tx *sql.Tx, st *sql.Stmt, query string, args ...any) (sql.Result, error) {
	if st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// txQueryRow is txExec for a one-row query.
func txQueryRow(ctx context.Context, tx *sql.Tx, st *sql.Stmt, query string, args ...any) *sql.Row {
	if st != nil {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}

// queryRow runs a one-row query outside a transaction, through a cached
// prepared statement when the dialect asks for it.
func (s *Store) queryRow(ctx context.Context, db *sql.DB, query string, args ...any) *sql.Row {
	if s.d.CacheStatements {
		if st, err := s.prepared(ctx, db, query); err == nil {
			return st.QueryRowContext(ctx, args...)
		}
		// Running the query unprepared reports the error.
	}
	return db.QueryRowContext(ctx, query, args...)
}

// exec runs a statement outside a transaction, like queryRow.
func (s *Store) exec(ctx context.Context, db *sql.DB, query string, args ...any) (sql.Result, error) {
	if s.d.CacheStatements {
		if st, err := s.prepared(ctx, db, query); err == nil {
			return st.ExecContext(ctx, args...)
		}
	}
	return db.ExecContext(ctx, query, args...)
}

// execQuerier is a *sql.DB or a *sql.Tx.
type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}
