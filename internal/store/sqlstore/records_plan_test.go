package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"unid/internal/audit/audittest"
	"unid/internal/store"
	"unid/internal/store/postgres/pgtest"
	"unid/internal/testenv"
)

// TestRecordWritesLookUpOnlyTheirOwnKeys: a service system that began
// writing records since the database last took its statistics (as every
// new system does on a large table) must not make each later write read
// all the records it wrote before, which slowed its writes with every
// record stored. The query that reads and locks the records a write
// names looks up each key in the unique index: on PostgreSQL its plan
// reads at most one row per key, on a table of 3,000 of the system's
// records never analysed; on SQLite it searches the unique index by all
// three columns.
func TestRecordWritesLookUpOnlyTheirOwnKeys(t *testing.T) {
	for _, b := range audittest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			_, s := b.New(t)
			postgres := b.Name == "postgres"
			if postgres {
				// The statistics job must not run while the table fills.
				if _, err := s.WriteDB().ExecContext(ctx, `ALTER TABLE records SET (autovacuum_enabled = false)`); err != nil {
					t.Fatal(err)
				}
			}
			at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
			u := store.User{ID: "u-li", LoginName: "li", LoginNameKey: "li", Status: store.UserActive, CreatedAt: at, UpdatedAt: at}
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			const stored = 3000
			batch := make([]store.Record, 0, 500)
			for i := range stored {
				batch = append(batch, store.Record{ID: fmt.Sprintf("r-%d", i), Kind: store.RecordCase, UserID: u.ID,
					ClientID: "hall", ExternalID: fmt.Sprintf("case-%d", i), Title: "营业执照变更登记", Status: "submitted",
					UpdatedAt: at, CreatedAt: at})
				if len(batch) == cap(batch) {
					if _, err := s.UpsertRecords(ctx, batch); err != nil {
						t.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			keys := []string{"case-7", "case-1500", "case-2999", "case-new"}
			query, args := s.LockRecordsQuery("hall", string(store.RecordCase), keys)

			tx, err := s.WriteDB().BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if n := countRows(t, tx, query, args); n != 3 {
				t.Fatalf("the query found %d of the 3 stored records it names", n)
			}
			if !postgres {
				plan := sqlitePlan(t, tx, query, args)
				if !strings.Contains(plan, "SEARCH records USING INDEX records_source_key (client_id=? AND external_id=? AND kind=?)") {
					t.Fatalf("SQLite does not look each key up in the unique index:\n%s", plan)
				}
				return
			}
			if read, plan := recordsRowsRead(t, tx, query, args); read > len(keys) {
				t.Errorf("the plan reads %d records for %d keys:\n%s", read, len(keys), plan)
			}
		})
	}
}

func countRows(t *testing.T, tx *sql.Tx, query string, args []any) int {
	t.Helper()
	rows, err := tx.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// sqlitePlan is SQLite's EXPLAIN QUERY PLAN of query, one step a line.
func sqlitePlan(t *testing.T, tx *sql.Tx, query string, args []any) string {
	t.Helper()
	rows, err := tx.Query(`EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// recordsRowsRead runs query under PostgreSQL's EXPLAIN ANALYZE and
// returns how many rows its scans of the records table read, over all
// their loops (those they returned and those their conditions then
// removed), and the plan.
func recordsRowsRead(t *testing.T, tx *sql.Tx, query string, args []any) (int, string) {
	t.Helper()
	var raw string
	if err := tx.QueryRow(`EXPLAIN (ANALYZE, FORMAT JSON) `+query, args...).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	type node struct {
		Relation string  `json:"Relation Name"`
		Rows     float64 `json:"Actual Rows"`
		Filtered float64 `json:"Rows Removed by Filter"`
		Rechecks float64 `json:"Rows Removed by Index Recheck"`
		Loops    float64 `json:"Actual Loops"`
		Plans    []node  `json:"Plans"`
	}
	var out []struct{ Plan node }
	if err := json.Unmarshal([]byte(raw), &out); err != nil || len(out) != 1 {
		t.Fatalf("EXPLAIN: %v: %s", err, raw)
	}
	var walk func(n node) int
	walk = func(n node) int {
		read := 0
		if n.Relation == "records" {
			read += int((n.Rows + n.Filtered + n.Rechecks) * n.Loops)
		}
		for _, c := range n.Plans {
			read += walk(c)
		}
		return read
	}
	return walk(out[0].Plan), raw
}

// TestRecordWritesOnAConnectionThatBeganOnAnEmptyTable: PostgreSQL keeps
// a connection's plan of a statement it has run often, and a plan made
// while the records table was still empty, before its first statistics,
// may use any index, or none once the empty table was analysed: the
// write's lookup then read every record of its kind for each key, until
// the table was next analysed. On one connection that ran the writes
// from the start, one at a time and in batches, a write of 10 new records
// into a table of 3,000, and a write of one, read at most two records per
// key.
func TestRecordWritesOnAConnectionThatBeganOnAnEmptyTable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := pgtest.New(t).Store
	db := s.WriteDB()
	db.SetMaxOpenConns(1) // every write, and the counters, on one connection
	var version int
	if err := db.QueryRowContext(ctx, `SELECT current_setting('server_version_num')::int`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version < 150000 {
		testenv.Unavailable(t, "PostgreSQL %d: the test reads its own statistics at once with pg_stat_force_next_flush, of PostgreSQL 15", version)
	}
	// The statistics job must not run while the table fills; its one
	// analysis is of the empty table, after which a cached plan may be a
	// sequential scan.
	if _, err := db.ExecContext(ctx, `ALTER TABLE records SET (autovacuum_enabled = false)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `ANALYZE records`); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	u := store.User{ID: "u-wang", LoginName: "wang", LoginNameKey: "wang", Status: store.UserActive, CreatedAt: at, UpdatedAt: at}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	n := 0
	write := func(count int) {
		t.Helper()
		recs := make([]store.Record, count)
		for i := range recs {
			recs[i] = store.Record{ID: fmt.Sprintf("r-%d", n), Kind: store.RecordCase, UserID: u.ID, ClientID: "hall",
				ExternalID: fmt.Sprintf("case-%d", n), Status: "submitted", UpdatedAt: at, CreatedAt: at}
			n++
		}
		if _, err := s.UpsertRecords(ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	for range 10 { // small writes while the table is nearly empty
		write(1)
		write(2)
	}
	for range 6 {
		write(500)
	}
	// read is how many rows the connection's scans of records have read,
	// its own counts flushed first.
	read := func() int64 {
		t.Helper()
		if _, err := db.ExecContext(ctx, `SELECT pg_stat_force_next_flush()`); err != nil {
			t.Fatal(err)
		}
		var v int64
		if err := db.QueryRowContext(ctx, `SELECT COALESCE(seq_tup_read, 0) + COALESCE(idx_tup_fetch, 0)
			FROM pg_stat_user_tables WHERE relname = 'records'`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	// The counters move: a count of the table reads every record.
	before := read()
	if _, err := db.ExecContext(ctx, `SELECT count(*) FROM records`); err != nil {
		t.Fatal(err)
	}
	if got := read() - before; got < int64(n) {
		t.Fatalf("counting %d records read %d: the statistics do not count", n, got)
	}
	for _, count := range []int{10, 1} {
		before := read()
		write(count)
		if got := read() - before; got > int64(2*count) {
			t.Errorf("a write of %d new records into a table of %d read %d of them", count, n-count, got)
		}
	}
}
