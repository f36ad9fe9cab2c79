package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"unid/internal/store"
)

const recordColumns = `id, kind, user_id, uscc, handler_id, client_id, external_id, number, title, item_code,
	department, status, summary, link, event, params, submitted_at, updated_at, created_at, read_at`

const recordColumnCount = 20

// recordColumnsOf is recordColumns qualified by the table alias a.
func recordColumnsOf(a string) string {
	cols := strings.Split(recordColumns, ",")
	for i, c := range cols {
		cols[i] = a + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// recordBatchRows is how many records one multi-row statement carries:
// 10,000 parameters, within both backends' limits.
const recordBatchRows = 500

func scanRecord(r rowScanner) (store.Record, error) { return scanRecordAnd(r) }

// scanRecordAnd scans the record columns, then extra.
func scanRecordAnd(r rowScanner, extra ...any) (store.Record, error) {
	var rec store.Record
	var userID, uscc, handlerID sql.NullString
	var params string
	var submitted, updated, created int64
	var read *int64
	dest := append([]any{&rec.ID, &rec.Kind, &userID, &uscc, &handlerID, &rec.ClientID, &rec.ExternalID, &rec.Number,
		&rec.Title, &rec.ItemCode, &rec.Department, &rec.Status, &rec.Summary, &rec.Link, &rec.Event, &params,
		&submitted, &updated, &created, &read}, extra...)
	if err := r.Scan(dest...); err != nil {
		return rec, err
	}
	rec.UserID, rec.USCC, rec.HandlerID = userID.String, uscc.String, handlerID.String
	rec.SubmittedAt, rec.UpdatedAt, rec.CreatedAt = fromMS(submitted), fromMS(updated), fromMS(created)
	if read != nil {
		rec.ReadAt = fromMS(*read)
	}
	if params != "" {
		if err := json.Unmarshal([]byte(params), &rec.Params); err != nil {
			return rec, fmt.Errorf("record %s: params: %w", rec.ID, err)
		}
	}
	if len(rec.Params) == 0 {
		rec.Params = nil
	}
	return rec, nil
}

// nullString stores "" as NULL (an absent owner or handler).
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func recordArgs(r store.Record) ([]any, error) {
	params := ""
	if len(r.Params) > 0 {
		p, err := json.Marshal(r.Params)
		if err != nil {
			return nil, fmt.Errorf("record %s: params: %w", r.ID, err)
		}
		params = string(p)
	}
	return []any{r.ID, string(r.Kind), nullString(r.UserID), nullString(r.USCC), nullString(r.HandlerID), r.ClientID,
		r.ExternalID, r.Number, r.Title, r.ItemCode, r.Department, r.Status, r.Summary, r.Link, r.Event, params,
		ms(r.SubmittedAt), ms(r.UpdatedAt), ms(r.CreatedAt), nullMS(r.ReadAt)}, nil
}

// normRecord is what a write looks like once stored: times in UTC
// milliseconds, SubmittedAt defaulting to UpdatedAt, no params as nil.
func normRecord(r store.Record) store.Record {
	if r.SubmittedAt.IsZero() {
		r.SubmittedAt = r.UpdatedAt
	}
	r.SubmittedAt, r.UpdatedAt, r.CreatedAt = normTime(r.SubmittedAt), normTime(r.UpdatedAt), normTime(r.CreatedAt)
	if !r.ReadAt.IsZero() {
		r.ReadAt = normTime(r.ReadAt)
	}
	if len(r.Params) == 0 {
		r.Params = nil
	}
	return r
}

// sourceKey is what a write names: the system's record of a kind.
type sourceKey struct {
	clientID   string
	kind       store.RecordKind
	externalID string
}

func keyOf(r store.Record) sourceKey { return sourceKey{r.ClientID, r.Kind, r.ExternalID} }

// compareKeys orders source keys by system, kind and external ID: the
// order in which a transaction locks and inserts records.
func compareKeys(a, b sourceKey) int {
	return cmp.Or(strings.Compare(a.clientID, b.clientID), strings.Compare(string(a.kind), string(b.kind)),
		strings.Compare(a.externalID, b.externalID))
}

// sameContent reports whether a write would change nothing of the record
// but its time.
func sameContent(a, b store.Record) bool {
	return a.HandlerID == b.HandlerID && a.Number == b.Number && a.Title == b.Title && a.ItemCode == b.ItemCode &&
		a.Department == b.Department && a.Status == b.Status && a.Summary == b.Summary && a.Link == b.Link &&
		a.Event == b.Event && maps.Equal(a.Params, b.Params)
}

// recordPlan is what UpsertRecords decided for a batch, before it writes.
type recordPlan struct {
	results []store.UpsertResult
	inserts []*store.Record // new keys, as they end after the batch, in order of first write (upsertRecordsTx sorts them)
	updates []*store.Record // existing keys that changed (or whose time moved), final state
	// history is the status history of every record the plan inserts or
	// updates, by record ID, oldest first.
	history map[string][]store.StatusChange
}

// planUpserts applies writes, in order, to the existing records (by key;
// the map is updated in place) and says what to insert, update and append
// to the history. It is the whole upsert rule of store.Records, in Go, for
// every dialect.
func planUpserts(existing map[sourceKey]*store.Record, history map[string][]store.StatusChange, writes []store.Record) recordPlan {
	p := recordPlan{history: history}
	added := map[sourceKey]bool{}
	changed := map[sourceKey]bool{}
	var changedOrder []sourceKey
	markChanged := func(k sourceKey) {
		if !changed[k] && !added[k] {
			changedOrder = append(changedOrder, k)
		}
		changed[k] = true
	}
	for _, w := range writes {
		w = normRecord(w)
		k := keyOf(w)
		cur, ok := existing[k]
		if !ok {
			rec := w
			existing[k], added[k] = &rec, true
			p.inserts = append(p.inserts, &rec)
			if rec.Status != "" {
				p.history[rec.ID] = []store.StatusChange{{Status: rec.Status, At: rec.UpdatedAt}}
			}
			p.results = append(p.results, store.UpsertResult{Outcome: store.UpsertCreated, Record: rec})
			continue
		}
		outcome := store.UpsertUpdated
		switch {
		case cur.UserID != w.UserID || cur.USCC != w.USCC:
			outcome = store.UpsertOwner
		case w.UpdatedAt.Before(cur.UpdatedAt):
			outcome = store.UpsertStale
		case w.UpdatedAt.Equal(cur.UpdatedAt):
			outcome = store.UpsertStale
			if sameContent(*cur, w) {
				outcome = store.UpsertUnchanged
			}
		case sameContent(*cur, w):
			outcome = store.UpsertUnchanged
			cur.UpdatedAt = w.UpdatedAt
			markChanged(k)
		default:
			if w.Status != cur.Status {
				cur.ReadAt = time.Time{}
				if w.Status != "" {
					p.history[cur.ID] = append(p.history[cur.ID], store.StatusChange{Status: w.Status, At: w.UpdatedAt})
				}
			}
			cur.HandlerID, cur.Number, cur.Title, cur.ItemCode, cur.Department = w.HandlerID, w.Number, w.Title, w.ItemCode, w.Department
			cur.Status, cur.Summary, cur.Link, cur.Event, cur.Params = w.Status, w.Summary, w.Link, w.Event, w.Params
			cur.UpdatedAt = w.UpdatedAt
			markChanged(k)
		}
		p.results = append(p.results, store.UpsertResult{Outcome: outcome, Record: *cur})
	}
	for _, k := range changedOrder {
		p.updates = append(p.updates, existing[k])
	}
	return p
}

// UpsertRecords applies the writes in one transaction: one SELECT … FOR
// UPDATE of the batch's existing records per system and kind, the
// decisions in planUpserts, then multi-row INSERTs of the new records,
// one multi-row upsert of the changed ones and one of the history. Two
// transactions that create the same key at once meet on the unique
// index; the loser runs again once and finds the winner's record. One
// that PostgreSQL failed for a deadlock (see lockRecords) runs again
// too (runAgain): the system that wrote is not told of a failure it did
// not cause.
func (s *Store) UpsertRecords(ctx context.Context, writes []store.Record) ([]store.UpsertResult, error) {
	const op = "upsert records"
	if len(writes) == 0 {
		return nil, nil
	}
	var out []store.UpsertResult
	err := s.runAgain(func() error {
		return s.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			out, err = s.upsertRecordsTx(ctx, tx, writes)
			return err
		})
	}, func(err error) bool { _, unique := s.d.UniqueViolation(err); return unique })
	if err != nil && s.d.ForeignKeyViolation(err) {
		return nil, fmt.Errorf("%s: %s: owner or handler: %w", s.d.Name, op, store.ErrNotFound)
	}
	if err != nil {
		return nil, s.wrapErr(op, err)
	}
	return out, nil
}

func (s *Store) upsertRecordsTx(ctx context.Context, tx *sql.Tx, writes []store.Record) ([]store.UpsertResult, error) {
	existing, history, err := s.lockRecords(ctx, tx, writes)
	if err != nil {
		return nil, err
	}
	p := planUpserts(existing, history, writes)
	slices.SortFunc(p.inserts, func(a, b *store.Record) int { return compareKeys(keyOf(*a), keyOf(*b)) })
	for start := 0; start < len(p.inserts); start += recordBatchRows {
		batch := p.inserts[start:min(start+recordBatchRows, len(p.inserts))]
		if err := s.writeRecords(ctx, tx, batch, p.history, ""); err != nil {
			return nil, err
		}
	}
	for start := 0; start < len(p.updates); start += recordBatchRows {
		batch := p.updates[start:min(start+recordBatchRows, len(p.updates))]
		if err := s.writeRecords(ctx, tx, batch, p.history, ` ON CONFLICT (id) DO UPDATE SET handler_id = excluded.handler_id,
			number = excluded.number, title = excluded.title, item_code = excluded.item_code,
			department = excluded.department, status = excluded.status, summary = excluded.summary,
			link = excluded.link, event = excluded.event, params = excluded.params,
			updated_at = excluded.updated_at, read_at = excluded.read_at, history = excluded.history`); err != nil {
			return nil, err
		}
	}
	return p.results, nil
}

// recordTypes are the SQL types of recordColumns, for insertRows.
var recordTypes = []string{"text", "text", "text", "text", "text", "text", "text", "text", "text", "text",
	"text", "text", "text", "text", "text", "text", "bigint", "bigint", "bigint", "bigint", "text"}

// histEntry is one entry of the history column: a JSON array, oldest
// first, kept in the record's own row so that a write touches one row.
type histEntry struct {
	Status string `json:"s"`
	At     int64  `json:"at"`
}

func encodeHistory(h []store.StatusChange) (string, error) {
	if len(h) == 0 {
		return "", nil
	}
	out := make([]histEntry, len(h))
	for i, c := range h {
		out[i] = histEntry{Status: c.Status, At: ms(c.At)}
	}
	b, err := json.Marshal(out)
	return string(b), err
}

func decodeHistory(raw string) ([]store.StatusChange, error) {
	if raw == "" {
		return nil, nil
	}
	var in []histEntry
	if err := json.Unmarshal([]byte(raw), &in); err != nil {
		return nil, fmt.Errorf("record history: %w", err)
	}
	out := make([]store.StatusChange, len(in))
	for i, e := range in {
		out[i] = store.StatusChange{Status: e.Status, At: fromMS(e.At)}
	}
	return out, nil
}

// writeRecords inserts recs with one statement; suffix is its ON CONFLICT
// clause, if any.
func (s *Store) writeRecords(ctx context.Context, tx *sql.Tx, recs []*store.Record, history map[string][]store.StatusChange, suffix string) error {
	rows := make([][]any, 0, len(recs))
	for _, r := range recs {
		a, err := recordArgs(*r)
		if err != nil {
			return err
		}
		h, err := encodeHistory(history[r.ID])
		if err != nil {
			return err
		}
		rows = append(rows, append(a, h))
	}
	return s.insertRows(ctx, tx, `INSERT INTO records (`+recordColumns+`, history)`, recordTypes, rows, suffix)
}

// arrayRows is the fewest rows that insertRows passes as arrays: a few
// rows are cheaper as plain values.
const arrayRows = 8

// insertRows runs head (INSERT INTO t (columns)) with rows, whose values
// are strings, int64s or nil (NULL) of the SQL types types ("text",
// "bigint"), in one statement, then suffix: as a multi-row VALUES list,
// or with Arrays (and arrayRows rows or more) as one array per column,
// unnested.
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, head string, types []string, rows [][]any, suffix string) error {
	if !s.d.Arrays || len(rows) < arrayRows {
		args := make([]any, 0, len(rows)*len(types))
		for _, r := range rows {
			args = append(args, r...)
		}
		_, err := tx.ExecContext(ctx, head+` VALUES `+placeholders(len(rows), len(types), s.d.Positional)+suffix, args...)
		return err
	}
	args := make([]any, len(types))
	var q strings.Builder
	q.WriteString(head + ` SELECT * FROM unnest(`)
	for c, typ := range types {
		if c > 0 {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "$%d::%s[]", c+1, typ)
		switch typ {
		case "text":
			col := make([]*string, len(rows))
			for i, r := range rows {
				if v, ok := r[c].(string); ok {
					col[i] = &v
				}
			}
			args[c] = col
		case "bigint":
			col := make([]*int64, len(rows))
			for i, r := range rows {
				if v, ok := r[c].(int64); ok {
					col[i] = &v
				}
			}
			args[c] = col
		default:
			return fmt.Errorf("insert rows: column type %q", typ)
		}
	}
	q.WriteString(")" + suffix)
	_, err := tx.ExecContext(ctx, q.String(), args...)
	return err
}

// lockRecords reads, and on PostgreSQL locks, the stored records that the
// writes name: one query per system and kind (a batch has one of each,
// usually), through the unique index on (client_id, external_id, kind).
// On PostgreSQL the stored records are locked here, and the new ones
// inserted afterwards, each in the order of compareKeys, so two
// UpsertRecords transactions cannot deadlock: one waiting here holds
// only row locks taken in that order; one waiting on an insert waits for
// another's uncommitted record of the same key, which is past its own
// locking; the updates touch only rows already locked. Marking all read,
// the retention's deletes and closing an account lock the stored records
// in the same order first (inKeyOrder, lockInKeyOrder). Deleting a
// system does not: locking 100,000 records in order first made it five
// times slower. A write that PostgreSQL fails for a deadlock runs again
// (UpsertRecords).
func (s *Store) lockRecords(ctx context.Context, tx *sql.Tx, writes []store.Record) (map[sourceKey]*store.Record, map[string][]store.StatusChange, error) {
	type group struct {
		clientID string
		kind     store.RecordKind
	}
	ids := map[group][]string{}
	seen := map[sourceKey]bool{}
	for _, w := range writes {
		k := keyOf(w)
		if seen[k] {
			continue
		}
		seen[k] = true
		g := group{w.ClientID, w.Kind}
		ids[g] = append(ids[g], w.ExternalID)
	}
	order := slices.SortedFunc(maps.Keys(ids), func(a, b group) int {
		return compareKeys(sourceKey{a.clientID, a.kind, ""}, sourceKey{b.clientID, b.kind, ""})
	})
	out, history := map[sourceKey]*store.Record{}, map[string][]store.StatusChange{}
	const chunk = 1000
	for _, g := range order {
		all := ids[g]
		slices.Sort(all)
		for start := 0; start < len(all); start += chunk {
			part := all[start:min(start+chunk, len(all))]
			query, args := s.lockRecordsQuery(g.clientID, string(g.kind), part)
			rows, err := tx.QueryContext(ctx, query, args...)
			if err != nil {
				return nil, nil, err
			}
			for rows.Next() {
				var raw string
				rec, err := scanRecordAnd(rows, &raw)
				if err != nil {
					rows.Close()
					return nil, nil, err
				}
				if history[rec.ID], err = decodeHistory(raw); err != nil {
					rows.Close()
					return nil, nil, err
				}
				out[keyOf(rec)] = &rec
			}
			// Next ends the rows at an error (a deadlock, a lost
			// connection) and Close then reports none: Err does.
			if err := rows.Err(); err != nil {
				return nil, nil, err
			}
		}
	}
	return out, history, nil
}

// keyOrderLock is the query that locks the stored records matching
// where in the order of compareKeys, byte by byte whatever the
// database's collation (Dialect.Bytewise). A statement that locked
// several records in the order it met them (by a person, a time, or the
// table's own order) could take one that a write wanted next while
// waiting for one the write held: a deadlock, which PostgreSQL ends
// after a second by failing one of the two. Only on PostgreSQL, whose
// writers lock rows.
func (s *Store) keyOrderLock(where string) string {
	b := s.d.Bytewise
	return `SELECT id FROM records WHERE ` + where + ` ORDER BY client_id` + b + `, kind` + b + `, external_id` + b + s.d.ForUpdate
}

// inKeyOrder returns a condition on records for an UPDATE or a DELETE of
// those matching where, which on PostgreSQL locks them first in the order
// of compareKeys (keyOrderLock). A row that changed while the statement
// waited for it is taken only if it still matches where.
func (s *Store) inKeyOrder(where string) string {
	if s.d.ForUpdate == "" {
		return where
	}
	return `id IN (` + s.keyOrderLock(where) + `)`
}

// lockInKeyOrder locks, on PostgreSQL, the records matching where in the
// order of compareKeys, for a transaction that then changes them in
// several statements.
func (s *Store) lockInKeyOrder(ctx context.Context, tx *sql.Tx, where string, args ...any) error {
	if s.d.ForUpdate == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, s.keyOrderLock(where), args...)
	return err
}

// lockRecordsQuery is the query of lockRecords for the records of one
// system and kind with the given external IDs, and its arguments. It
// must look each key up in the unique index however few records the
// planner believed the table or the system to hold:
//
//   - On PostgreSQL several keys go as an array, each looked up by a
//     LATERAL subquery, which runs once per key. As a plain join (or
//     = ANY), for a system the statistics did not know (every new one,
//     until the next ANALYZE, which on a large table comes only after
//     it grew by a tenth), the planner read all of the system's records
//     for each batch instead.
//   - The query is planned at every run (Dialect.PlanEachRun). A plan
//     that a connection made while the table was nearly empty, and kept
//     for a statement it runs often, chose an index by a tie (the
//     retention index, led by kind) or, after the empty table was
//     analysed, a sequential scan, and read every record of the kind for
//     each key until the table was next analysed.
//
// Either fault made each write cost more with every record stored: the
// load tool's single writes fell from 4,680 to 1,088 a second within
// 10 s on PostgreSQL. SQLite looks up each member of the IN list.
func (s *Store) lockRecordsQuery(clientID, kind string, externalIDs []string) (string, []any) {
	var args []any
	if s.d.PlanEachRun != nil {
		args = append(args, s.d.PlanEachRun)
	}
	args = append(args, clientID, kind)
	if s.d.Arrays && len(externalIDs) > 1 {
		args = append(args, externalIDs)
		return `SELECT ` + recordColumnsOf("r") + `, r.history FROM unnest($3::text[]) AS k (external_id)
			CROSS JOIN LATERAL (SELECT * FROM records WHERE client_id = $1 AND external_id = k.external_id AND kind = $2` + s.d.ForUpdate + `) AS r`, args
	}
	for _, id := range externalIDs {
		args = append(args, id)
	}
	return `SELECT ` + recordColumns + `, history FROM records WHERE client_id = ` + s.param(1) + ` AND kind = ` + s.param(2) +
		` AND external_id IN (` + s.params(3, len(externalIDs)) + `)` + s.d.ForUpdate, args
}

// param is the placeholder of the nth argument of a query built here.
func (s *Store) param(n int) string {
	if s.d.Positional {
		return "?"
	}
	return fmt.Sprintf("$%d", n)
}

// params is "$from, $from+1, …" for count arguments.
func (s *Store) params(from, count int) string {
	var b strings.Builder
	for i := range count {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s.param(from + i))
	}
	return b.String()
}

// GetSourceRecord returns the system's record.
func (s *Store) GetSourceRecord(ctx context.Context, clientID string, kind store.RecordKind, externalID string) (store.Record, error) {
	const op = "get source record"
	rec, err := scanRecord(s.queryRow(ctx, s.db, `SELECT `+recordColumns+` FROM records
		WHERE client_id = $1 AND external_id = $2 AND kind = $3`, clientID, externalID, string(kind)))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Record{}, s.notFound(op)
	}
	return rec, s.wrapErr(op, err)
}

// DeleteSourceRecord deletes the system's record; its history goes with
// it (ON DELETE CASCADE).
func (s *Store) DeleteSourceRecord(ctx context.Context, clientID string, kind store.RecordKind, externalID string) error {
	return s.execOne(ctx, "delete source record", `DELETE FROM records
		WHERE client_id = $1 AND external_id = $2 AND kind = $3`, clientID, externalID, string(kind))
}

// likePattern is a LIKE pattern that finds s anywhere, its % and _ (and
// the escape character) taken literally.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// ListRecords returns the page q selects. The owner and kind lead the
// index on (user_id | uscc, kind, submitted_at, id), and the row
// comparison with the cursor walks it, so a page costs the same however
// far down the list it is; the other filters are checked on the rows the
// walk meets.
func (s *Store) ListRecords(ctx context.Context, q store.RecordQuery) ([]store.Record, error) {
	const op = "list records"
	var where strings.Builder
	var args []any
	cond := func(sql string, vals ...any) {
		if where.Len() > 0 {
			where.WriteString(" AND ")
		}
		for _, v := range vals {
			args = append(args, v)
			sql = strings.Replace(sql, "?", fmt.Sprintf("$%d", len(args)), 1)
		}
		where.WriteString(sql)
	}
	switch {
	case q.UserID != "":
		cond("user_id = ?", q.UserID)
	case q.USCC != "":
		cond("uscc = ?", q.USCC)
		if q.HandlerID != "" {
			cond("handler_id = ?", q.HandlerID)
		}
	default:
		return nil, fmt.Errorf("%s: %s: no owner", s.d.Name, op)
	}
	cond("kind = ?", string(q.Kind))
	if q.Status != "" {
		cond("status = ?", q.Status)
	}
	switch q.ClientID {
	case "":
	case "-":
		cond("client_id = ''")
	default:
		cond("client_id = ?", q.ClientID)
	}
	if !q.From.IsZero() {
		cond("submitted_at >= ?", ms(q.From))
	}
	if !q.To.IsZero() {
		cond("submitted_at < ?", ms(q.To))
	}
	if q.Search != "" {
		cond(`(lower(title) LIKE lower(?) ESCAPE '\' OR number = ?)`, likePattern(q.Search), q.Search)
	}
	if q.Unread {
		cond("read_at IS NULL")
	}
	if q.After.ID != "" || !q.After.SubmittedAt.IsZero() {
		cond("(submitted_at, id) < (?, ?)", ms(q.After.SubmittedAt), q.After.ID)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 20
	}
	args = append(args, limit)
	return listRows(ctx, s, op, scanRecord, `SELECT `+recordColumns+` FROM records WHERE `+where.String()+
		fmt.Sprintf(` ORDER BY submitted_at DESC, id DESC LIMIT $%d`, len(args)), args...)
}

// GetRecord returns the owner's record id of kind.
func (s *Store) GetRecord(ctx context.Context, userID, uscc string, kind store.RecordKind, id string) (store.Record, error) {
	const op = "get record"
	owner, val := "user_id", userID
	if userID == "" {
		owner, val = "uscc", uscc
	}
	if val == "" {
		return store.Record{}, s.notFound(op)
	}
	rec, err := scanRecord(s.queryRow(ctx, s.db, `SELECT `+recordColumns+` FROM records
		WHERE id = $1 AND kind = $2 AND `+owner+` = $3`, id, string(kind), val))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Record{}, s.notFound(op)
	}
	return rec, s.wrapErr(op, err)
}

// RecordHistory returns the record's status history, oldest first.
func (s *Store) RecordHistory(ctx context.Context, id string) ([]store.StatusChange, error) {
	const op = "record history"
	var raw string
	err := s.queryRow(ctx, s.db, `SELECT history FROM records WHERE id = $1`, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, s.wrapErr(op, err)
	}
	h, err := decodeHistory(raw)
	return h, s.wrapErr(op, err)
}

// CountUnreadRecords counts the person's unread records per kind, from
// the partial index of unread records alone.
func (s *Store) CountUnreadRecords(ctx context.Context, userID string) (map[store.RecordKind]int, error) {
	type count struct {
		kind store.RecordKind
		n    int
	}
	rows, err := listRows(ctx, s, "count unread records", func(r rowScanner) (count, error) {
		var c count
		err := r.Scan(&c.kind, &c.n)
		return c, err
	}, `SELECT kind, count(*) FROM records WHERE user_id = $1 AND read_at IS NULL GROUP BY kind`, userID)
	if err != nil {
		return nil, err
	}
	out := make(map[store.RecordKind]int, len(rows))
	for _, c := range rows {
		out[c.kind] = c.n
	}
	return out, nil
}

// MarkRecordsRead sets the read time of the person's unread record id of
// kind, or of all of them when id is "".
func (s *Store) MarkRecordsRead(ctx context.Context, userID string, kind store.RecordKind, id string, at time.Time) (int64, error) {
	const op = "mark records read"
	if id == "" {
		return s.execCount(ctx, op, `UPDATE records SET read_at = $3
			WHERE `+s.inKeyOrder(`user_id = $1 AND kind = $2 AND read_at IS NULL`), userID, string(kind), ms(at))
	}
	n, err := s.execCount(ctx, op, `UPDATE records SET read_at = $4
		WHERE id = $1 AND user_id = $2 AND kind = $3 AND read_at IS NULL`, id, userID, string(kind), ms(at))
	if err != nil || n > 0 {
		return n, err
	}
	if _, err := s.GetRecord(ctx, userID, "", kind, id); err != nil {
		return 0, err
	}
	return 0, nil
}

// DeleteRecord deletes the person's record id of kind and its history.
func (s *Store) DeleteRecord(ctx context.Context, userID string, kind store.RecordKind, id string) error {
	if userID == "" {
		return s.notFound("delete record")
	}
	return s.execOne(ctx, "delete record", `DELETE FROM records WHERE id = $1 AND user_id = $2 AND kind = $3`,
		id, userID, string(kind))
}

// DeleteRecordsUpdatedBefore deletes at most limit records of kind last
// updated before cut, oldest first, through the index on (kind,
// updated_at). A record that a system updated while the statement
// waited for it is no longer old, and stays.
func (s *Store) DeleteRecordsUpdatedBefore(ctx context.Context, kind store.RecordKind, cut time.Time, limit int) (int64, error) {
	where := `id IN (SELECT id FROM records WHERE kind = $1 AND updated_at < $2 ORDER BY updated_at LIMIT $3)`
	if s.d.ForUpdate != "" {
		// SQLite's writers take turns, and without statistics its
		// planner would drive the delete through the retention index,
		// over every old record, if it had the condition twice.
		where = s.inKeyOrder(`kind = $1 AND updated_at < $2 AND ` + where)
	}
	return s.execCount(ctx, "delete records updated before", `DELETE FROM records WHERE `+where,
		string(kind), ms(cut), limit)
}

// KnownUsers returns those of userIDs that signed in to the client and
// whose account is not closed.
func (s *Store) KnownUsers(ctx context.Context, clientID string, userIDs []string) (map[string]bool, error) {
	return s.known(ctx, "known users", `SELECT cu.user_id FROM client_users cu JOIN users u ON u.id = cu.user_id
		WHERE cu.client_id = $1 AND u.status <> $2 AND cu.user_id IN `, []any{clientID, store.UserClosed}, userIDs)
}

// KnownEnterprises returns those of usccs that were acted for in a sign-in
// to the client.
func (s *Store) KnownEnterprises(ctx context.Context, clientID string, usccs []string) (map[string]bool, error) {
	return s.known(ctx, "known enterprises", `SELECT uscc FROM client_enterprises
		WHERE client_id = $1 AND uscc IN `, []any{clientID}, usccs)
}

// known runs query (which ends in "IN ") with the list of ids, a thousand
// at a time, and returns the ids it gives back.
func (s *Store) known(ctx context.Context, op, query string, fixed []any, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	const chunk = 1000
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		args := append([]any{}, fixed...)
		var in strings.Builder
		for i, id := range part {
			if i > 0 {
				in.WriteString(", ")
			}
			args = append(args, id)
			fmt.Fprintf(&in, "$%d", len(args))
		}
		got, err := listRows(ctx, s, op, func(r rowScanner) (string, error) {
			var id string
			return id, r.Scan(&id)
		}, query+"("+in.String()+")", args...)
		if err != nil {
			return nil, err
		}
		for _, id := range got {
			out[id] = true
		}
	}
	return out, nil
}
