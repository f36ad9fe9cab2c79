package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"unid/internal/store/postgres/pgtest"
	"unid/internal/store/sqlite/sqlitetest"
)

// TestSchemasMatch: the SQLite and PostgreSQL migrations, each written by
// hand, end in the same tables, columns and indexes (by table, columns,
// uniqueness and whether the index is partial), so that code and
// conformance tests that pass on one backend mean the same on the other.
func TestSchemasMatch(t *testing.T) {
	ctx := context.Background()
	lite := sqliteSchema(t, ctx, sqlitetest.New(t).DB())
	pg := postgresSchema(t, ctx, pgtest.New(t).DB())
	if len(lite) < 10 {
		t.Fatalf("SQLite schema has only %d entries: %v", len(lite), lite)
	}
	for _, e := range lite {
		if !slices.Contains(pg, e) {
			t.Errorf("only in SQLite: %s", e)
		}
	}
	for _, e := range pg {
		if !slices.Contains(lite, e) {
			t.Errorf("only in PostgreSQL: %s", e)
		}
	}
}

// entries are "table t", "column t.c" and "index t(c1,c2) [unique] [partial]".

func sqliteSchema(t *testing.T, ctx context.Context, db *sql.DB) []string {
	t.Helper()
	var out []string
	tables := query(t, ctx, db, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	for _, tbl := range tables {
		out = append(out, "table "+tbl[0])
		for _, c := range query(t, ctx, db, `SELECT name FROM pragma_table_info(?)`, tbl[0]) {
			out = append(out, "column "+tbl[0]+"."+c[0])
		}
		for _, ix := range query(t, ctx, db, `SELECT name, "unique", partial FROM pragma_index_list(?) WHERE origin <> 'pk'`, tbl[0]) {
			var cols []string
			for _, c := range query(t, ctx, db, `SELECT name FROM pragma_index_info(?) ORDER BY seqno`, ix[0]) {
				cols = append(cols, c[0])
			}
			out = append(out, index(tbl[0], cols, ix[1] == "1", ix[2] == "1"))
		}
	}
	slices.Sort(out)
	return out
}

func postgresSchema(t *testing.T, ctx context.Context, db *sql.DB) []string {
	t.Helper()
	var out []string
	for _, r := range query(t, ctx, db, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`) {
		out = append(out, "table "+r[0])
	}
	for _, r := range query(t, ctx, db, `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`) {
		out = append(out, "column "+r[0]+"."+r[1])
	}
	for _, r := range query(t, ctx, db, `
		SELECT t.relname, ix.indisunique::text, (ix.indpred IS NOT NULL)::text,
		       string_agg(a.attname, ',' ORDER BY k.n)
		FROM pg_index ix
		JOIN pg_class t ON t.oid = ix.indrelid
		JOIN pg_namespace ns ON ns.oid = t.relnamespace
		CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, n)
		JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
		WHERE ns.nspname = current_schema() AND NOT ix.indisprimary
		GROUP BY ix.indexrelid, t.relname, ix.indisunique, ix.indpred IS NOT NULL`) {
		out = append(out, index(r[0], strings.Split(r[3], ","), r[1] == "true", r[2] == "true"))
	}
	slices.Sort(out)
	return out
}

func index(table string, cols []string, unique, partial bool) string {
	s := fmt.Sprintf("index %s(%s)", table, strings.Join(cols, ","))
	if unique {
		s += " unique"
	}
	if partial {
		s += " partial"
	}
	return s
}

func query(t *testing.T, ctx context.Context, db *sql.DB, q string, args ...any) [][]string {
	t.Helper()
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
