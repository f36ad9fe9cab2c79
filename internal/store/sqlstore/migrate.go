package sqlstore

import (
	"context"
	"database/sql"

	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// migration is one numbered file of a dialect's migrations.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads NNNN_name.sql files from fsys. Versions start at 1
// and have no gaps, so a missing file is noticed before anything runs.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration file %q is not named NNNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %q: want version %d", m.name, i+1)
		}
	}
	return ms, nil
}

// Migrate applies the dialect's pending migrations, each in its own
// transaction, and reports the schema version before and after. It refuses
// to run against a database that is newer than this binary.
func (s *Store) Migrate(ctx context.Context) (from, to int, err error) {
	return s.MigrateTo(ctx, 0)
}

// SchemaVersion reports the database's schema version and the newest this
// program knows, changing nothing. A database that was never migrated is
// an error (there is no schema_migrations table to read).
func (s *Store) SchemaVersion(ctx context.Context) (current, latest int, err error) {
	ms, err := loadMigrations(s.d.Migrations)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: schema version: %w", s.d.Name, err)
	}
	if current, err = schemaVersion(ctx, s.db); err != nil {
		return 0, 0, fmt.Errorf("%s: schema version: %w", s.d.Name, err)
	}
	return current, len(ms), nil
}

// MigrateTo applies the pending migrations up to version n only (0: all
// of them), leaving the schema as a release that ended at n left it. Tools
// use it to build a database of an older release and measure the upgrade;
// unid itself always migrates to the newest version.
func (s *Store) MigrateTo(ctx context.Context, n int) (from, to int, err error) {
	ms, err := loadMigrations(s.d.Migrations)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: migrate: %w", s.d.Name, err)
	}
	if n < 0 || n > len(ms) {
		return 0, 0, fmt.Errorf("%s: migrate: no schema version %d (this program has 1 to %d)", s.d.Name, n, len(ms))
	}
	if n > 0 {
		ms = ms[:n]
	}
	conn, err := s.wdb.Conn(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: migrate: %w", s.d.Name, err)
	}
	defer conn.Close()
	if s.d.LockMigrations != nil {
		unlock, err := s.d.LockMigrations(ctx, conn)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: migrate: lock: %w", s.d.Name, err)
		}
		defer func() {
			if uerr := unlock(); uerr != nil && err == nil {
				err = fmt.Errorf("%s: migrate: unlock: %w", s.d.Name, uerr)
			}
		}()
	}
	if _, err := conn.ExecContext(ctx,
		`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)`); err != nil {
		return 0, 0, fmt.Errorf("%s: migrate: %w", s.d.Name, err)
	}
	current, err := schemaVersion(ctx, conn)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: migrate: %w", s.d.Name, err)
	}
	from, to = current, current
	if current > len(ms) {
		if n > 0 {
			return from, to, fmt.Errorf("%s: migrate: database schema version %d is past %d", s.d.Name, current, n)
		}
		return from, to, fmt.Errorf("%s: migrate: database schema version %d is newer than this program's %d",
			s.d.Name, current, len(ms))
	}
	for _, m := range ms[current:] {
		if err := s.apply(ctx, conn, m); err != nil {
			return from, to, err
		}
		to = m.version
	}
	return from, to, nil
}

func schemaVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var v sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, err
	}
	return int(v.Int64), nil
}

// apply runs one migration and records it in the same transaction. Where
// there is no migration lock, a concurrent migrator that got there first
// makes the version check (or the schema_migrations primary key) fail this
// transaction instead of applying the file twice.
func (s *Store) apply(ctx context.Context, conn *sql.Conn, m migration) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: migrate %s: %w", s.d.Name, m.name, err)
	}
	defer tx.Rollback()
	v, err := schemaVersion(ctx, tx)
	if err != nil {
		return fmt.Errorf("%s: migrate %s: %w", s.d.Name, m.name, err)
	}
	if v >= m.version {
		return nil // applied by someone else meanwhile
	}
	if v != m.version-1 {
		return fmt.Errorf("%s: migrate %s: database is at version %d", s.d.Name, m.name, v)
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("%s: migrate %s: %w", s.d.Name, m.name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.version); err != nil {
		return fmt.Errorf("%s: migrate %s: %w", s.d.Name, m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: migrate %s: commit: %w", s.d.Name, m.name, err)
	}
	return nil
}
