// Command seed fills an empty PostgreSQL database with a province's worth
// of made-up but well-formed data, for measuring unid at scale: accounts
// whose personal data is sealed with the key file exactly as the account
// service seals it, an audit log whose hash chain verifies, and a year of
// dashboard counters.
//
//	go run ./tools/seed -postgres URL -accounts 10000000 -audit 50000000 -key-file bench.key
//
// It migrates the database with unid's own migrations, drops the keys and
// secondary indexes of the tables it fills, loads them with COPY, builds
// them again and runs VACUUM (ANALYZE). Every account shares one argon2id
// password hash, computed once at start, of the password printed on
// stderr. Progress goes to stderr. A database that already holds accounts, audit events or
// counters is refused unless -force, which empties those tables first. An
// interrupted run leaves the database without some of its indexes: drop
// it and seed again.
//
// With -schema N it migrates only up to version N and fills only the
// columns and tables that exist at N, making the database of an older
// release, on which `unid migrate` can then be timed. Audit events of a
// schema before 19 name no account or service system in columns of their
// own, and are hashed without them, as that release hashed them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"unid/internal/account"
	"unid/internal/store/postgres"
)

func main() {
	var o options
	flag.StringVar(&o.url, "postgres", "", "URL of the database to fill, e.g. postgres://postgres@127.0.0.1:5432/unid_bench?sslmode=disable")
	flag.IntVar(&o.accounts, "accounts", 100_000, "how many accounts")
	flag.IntVar(&o.audit, "audit", 500_000, "how many audit events")
	flag.IntVar(&o.clients, "clients", 50, "how many service systems appear in SSO events and counters")
	flag.StringVar(&o.keyFile, "key-file", "seed.key", "personal-data key file; created (as dev mode creates it) when missing")
	flag.BoolVar(&o.force, "force", false, "empty the accounts, audit log and counters of a database that holds some")
	flag.BoolVar(&o.keepIndexes, "keep-indexes", false, "load with the indexes in place instead of building them afterwards")
	flag.Int64Var(&o.seed, "seed", 1, "seed of the random choices")
	flag.IntVar(&o.schema, "schema", 0, "migrate only up to this schema version, and fill what exists at it (0: the newest)")
	flag.Parse()
	if o.url == "" || o.accounts < 1 || o.audit < 0 || o.schema < 0 {
		fmt.Fprintln(os.Stderr, "seed: -postgres is required, -accounts must be at least 1 and -schema not negative")
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

type options struct {
	url             string
	accounts, audit int
	clients         int
	keyFile         string
	force           bool
	keepIndexes     bool
	seed            int64
	schema          int
}

func run(ctx context.Context, o options) error {
	start := time.Now()
	keys, created, err := account.LoadOrCreateKeyFile(o.keyFile)
	if err != nil {
		return err
	}
	if created {
		logf("created key file %s", o.keyFile)
	}
	prot, err := account.NewProtector(keys)
	if err != nil {
		return err
	}

	s, err := postgres.Open(ctx, o.url, 0)
	if err != nil {
		return err
	}
	from, to, err := s.MigrateTo(ctx, o.schema)
	s.Close()
	if err != nil {
		return err
	}
	logf("schema at version %d (was %d)", to, from)

	conn, err := pgx.Connect(ctx, o.url)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, q := range []string{
		`SET synchronous_commit = off`,
		`SET maintenance_work_mem = '1GB'`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	if err := makeRoom(ctx, conn, o.force); err != nil {
		return err
	}
	users, err := presentColumns(ctx, conn, "users", userColumns)
	if err != nil {
		return err
	}
	if len(users) < len(userColumns) {
		return fmt.Errorf("schema %d has not all the account columns seed fills (%v); seed a later schema", to, userColumns)
	}
	events, err := presentColumns(ctx, conn, "audit_events", auditColumns)
	if err != nil {
		return err
	}
	counters, err := presentColumns(ctx, conn, "stats", statColumns)
	if err != nil {
		return err
	}

	l := &loader{conn: conn, keepIndexes: o.keepIndexes}
	g := newWorld(o, prot, time.Now().UTC().Truncate(time.Hour))
	g.links = slices.Contains(events, "account_id")
	if err := g.hashPassword(ctx); err != nil {
		return err
	}
	logf("every account's password is %q", benchPassword)

	if err := l.load(ctx, "users", userColumns, o.accounts, g.userRow); err != nil {
		return err
	}
	if err := l.load(ctx, "audit_events", events, o.audit, only(auditColumns, events, g.auditRow)); err != nil {
		return err
	}
	if o.audit > 0 {
		last := g.chain
		if _, err := conn.Exec(ctx, `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, last.seq, last.hash); err != nil {
			return fmt.Errorf("audit head: %w", err)
		}
	}
	var stats [][]any
	if counters != nil {
		stats = g.statRows()
	} else {
		logf("schema %d keeps no dashboard counters", to)
	}
	if err := l.load(ctx, "stats", statColumns, len(stats), func(i int) ([]any, error) { return stats[i], nil }); err != nil {
		return err
	}
	var size string
	if err := conn.QueryRow(ctx, `SELECT pg_size_pretty(pg_database_size(current_database()))`).Scan(&size); err != nil {
		return err
	}
	logf("done in %v: %d accounts, %d audit events, %d counters; database size %s",
		time.Since(start).Round(time.Second), o.accounts, o.audit, len(stats), size)
	return nil
}

// seededTables are the tables seed fills, in the order -force empties them.
var seededTables = []string{"users", "audit_events", "stats"}

// makeRoom refuses a database holding anything seed would add to, or with
// force empties those tables (and, through users, what belongs to accounts).
func makeRoom(ctx context.Context, conn *pgx.Conn, force bool) error {
	var tables, busy []string
	for _, t := range seededTables {
		var exists, any bool
		if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, t).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			continue // not yet at the schema seeded
		}
		tables = append(tables, t)
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+t+`)`).Scan(&any); err != nil {
			return err
		}
		if any {
			busy = append(busy, t)
		}
	}
	if len(busy) == 0 {
		return nil
	}
	if !force {
		return fmt.Errorf("the database already holds %v; seed an empty database, or pass -force to empty them", busy)
	}
	logf("emptying %v", busy)
	// The audit trail refuses TRUNCATE (from schema 22) to everyone but
	// its owner, who must say so: this is a database for measuring, being
	// refilled.
	var guarded bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_trigger
		WHERE tgrelid = 'audit_events'::regclass AND tgname = 'audit_events_no_truncate')`).Scan(&guarded); err != nil {
		return err
	}
	truncate := `TRUNCATE ` + strings.Join(tables, ", ") + ` CASCADE;`
	if guarded {
		truncate = `ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_truncate;` + truncate +
			`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_truncate;`
	}
	if _, err := conn.Exec(ctx, `BEGIN;`+truncate+`COMMIT`); err != nil {
		return err
	}
	_, err := conn.Exec(ctx, `UPDATE audit_head SET seq = 0, hash = NULL WHERE id = 1`)
	return err
}

// presentColumns returns those of columns that table has, in their order,
// and nil when the schema has no such table.
func presentColumns(ctx context.Context, conn *pgx.Conn, table string, columns []string) ([]string, error) {
	rows, err := conn.Query(ctx, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1`, table)
	if err != nil {
		return nil, err
	}
	have, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	var kept []string
	for _, c := range columns {
		if slices.Contains(have, c) {
			kept = append(kept, c)
		}
	}
	return kept, nil
}

// only makes rows of columns into rows of kept, a subsequence of them.
func only(columns, kept []string, row func(i int) ([]any, error)) func(i int) ([]any, error) {
	if len(kept) == len(columns) {
		return row
	}
	var at []int // the positions of kept in columns, found once
	for j, c := range columns {
		if slices.Contains(kept, c) {
			at = append(at, j)
		}
	}
	return func(i int) ([]any, error) {
		r, err := row(i)
		if err != nil {
			return nil, err
		}
		out := make([]any, len(at))
		for k, j := range at {
			out[k] = r[j]
		}
		return out, nil
	}
}

// loader copies generated rows into a table.
type loader struct {
	conn        *pgx.Conn
	keepIndexes bool
}

// chunk is how many rows one COPY (one transaction) carries, so that
// progress is reported as it is made.
const chunk = 500_000

// load copies n rows made by row into table, with the table's secondary
// indexes dropped during the copy and built afterwards unless keepIndexes,
// then vacuums and analyzes it.
func (l *loader) load(ctx context.Context, table string, columns []string, n int, row func(i int) ([]any, error)) error {
	if n == 0 {
		return nil
	}
	var indexes []index
	var keys []constraint
	if !l.keepIndexes {
		var err error
		if keys, err = dropKeys(ctx, l.conn, table); err != nil {
			return err
		}
		if indexes, err = dropIndexes(ctx, l.conn, table); err != nil {
			return err
		}
	}
	start := time.Now()
	last := start
	for from := 0; from < n; from += chunk {
		to := min(from+chunk, n)
		i := from
		var rowErr error
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if i == to {
				return nil, nil
			}
			r, err := row(i)
			if err != nil {
				rowErr = err
				return nil, err
			}
			i++
			return r, nil
		})
		if _, err := l.conn.CopyFrom(ctx, pgx.Identifier{table}, columns, src); err != nil {
			return fmt.Errorf("copy %s rows %d..%d: %w", table, from, to-1, errors.Join(rowErr, err))
		}
		now := time.Now()
		logf("%s: %d/%d rows, %.0f rows/s (last chunk %.0f rows/s)", table, to, n,
			float64(to)/now.Sub(start).Seconds(), float64(to-from)/now.Sub(last).Seconds())
		last = now
	}
	copied := time.Since(start)
	logf("%s: copied %d rows in %v (%.0f rows/s)", table, n, copied.Round(time.Second), float64(n)/copied.Seconds())
	for _, k := range keys {
		t := time.Now()
		if _, err := l.conn.Exec(ctx, `ALTER TABLE `+k.table+` ADD CONSTRAINT `+pgx.Identifier{k.name}.Sanitize()+` `+k.def); err != nil {
			return fmt.Errorf("add constraint %s: %w", k.name, err)
		}
		logf("%s: added constraint %s in %v", table, k.name, time.Since(t).Round(time.Second))
	}
	for _, ix := range indexes {
		t := time.Now()
		if _, err := l.conn.Exec(ctx, ix.def); err != nil {
			return fmt.Errorf("create index %s: %w", ix.name, err)
		}
		logf("%s: built index %s in %v", table, ix.name, time.Since(t).Round(time.Second))
	}
	t := time.Now()
	// VACUUM sets the visibility map, as autovacuum does for a table in
	// service, so that index-only scans read no table pages.
	if _, err := l.conn.Exec(ctx, `VACUUM (ANALYZE) `+pgx.Identifier{table}.Sanitize()); err != nil {
		return fmt.Errorf("vacuum %s: %w", table, err)
	}
	logf("%s: loaded in %v (vacuum and analyze %v)", table, time.Since(start).Round(time.Second), time.Since(t).Round(time.Second))
	return nil
}

// constraint is a table's constraint as ALTER TABLE ... ADD CONSTRAINT
// makes it: table is the quoted name of the table it is on.
type constraint struct{ table, name, def string }

// dropKeys drops the primary key and unique constraints of table, and the
// foreign keys that refer to them (the tables holding those are empty when
// seeding), and returns how to add them again, keys first: a primary key
// over random account IDs costs a random index write per row while
// copying, and one sort afterwards.
func dropKeys(ctx context.Context, conn *pgx.Conn, table string) ([]constraint, error) {
	rows, err := conn.Query(ctx, `
		SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
		FROM pg_constraint c
		WHERE (c.conrelid = $1::regclass AND c.contype IN ('p', 'u'))
		   OR (c.confrelid = $1::regclass AND c.contype = 'f')
		ORDER BY c.contype = 'f', c.conname`, table)
	if err != nil {
		return nil, err
	}
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (constraint, error) {
		var k constraint
		return k, r.Scan(&k.table, &k.name, &k.def)
	})
	if err != nil {
		return nil, err
	}
	// Foreign keys go first, then the keys they refer to.
	for i := len(keys) - 1; i >= 0; i-- {
		k := keys[i]
		if _, err := conn.Exec(ctx, `ALTER TABLE `+k.table+` DROP CONSTRAINT `+pgx.Identifier{k.name}.Sanitize()); err != nil {
			return nil, fmt.Errorf("drop constraint %s: %w", k.name, err)
		}
	}
	if len(keys) > 0 {
		logf("%s: dropped %d constraints until the rows are in", table, len(keys))
	}
	return keys, nil
}

// index is a secondary index as its CREATE INDEX statement.
type index struct{ name, def string }

// dropIndexes drops the indexes of table that back no constraint (the
// primary key and unique constraints stay) and returns how to build them
// again.
func dropIndexes(ctx context.Context, conn *pgx.Conn, table string) ([]index, error) {
	rows, err := conn.Query(ctx, `
		SELECT i.relname, pg_get_indexdef(x.indexrelid)
		FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
		WHERE x.indrelid = $1::regclass
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid)
		ORDER BY i.relname`, table)
	if err != nil {
		return nil, err
	}
	indexes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (index, error) {
		var ix index
		return ix, r.Scan(&ix.name, &ix.def)
	})
	if err != nil {
		return nil, err
	}
	for _, ix := range indexes {
		if _, err := conn.Exec(ctx, `DROP INDEX `+pgx.Identifier{ix.name}.Sanitize()); err != nil {
			return nil, fmt.Errorf("drop index %s: %w", ix.name, err)
		}
	}
	if len(indexes) > 0 {
		logf("%s: dropped %d indexes until the rows are in", table, len(indexes))
	}
	return indexes, nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}
