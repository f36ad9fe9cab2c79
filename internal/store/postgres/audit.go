package postgres

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"unid/internal/store"
)

// scanAuditQuery reads the events of a range in order. Its columns are
// fixed: ScanAudit decodes them by position.
const scanAuditQuery = `SELECT seq, time, actor, action, result, ip, user_agent, subject, detail,
	account_id, client_id, prev_hash, hash FROM audit_events WHERE seq >= $1 AND seq <= $2 ORDER BY seq`

// ScanAudit calls fn with the events from..to (to 0: the newest), in
// order, from one query read row by row (see store.AuditLog).
//
// It reads through pgx itself, under the pool's connection, rather than
// through database/sql: every column comes in binary and is decoded in
// place, and an event's nine texts are one string allocation, where
// database/sql boxes and copies each value on its own. Walking the whole
// log (audit verification) spends most of its time here.
func (s *Store) ScanAudit(ctx context.Context, from, to int64, fn func(store.AuditEvent) error) error {
	if to <= 0 {
		to = 1<<63 - 1
	}
	conn, err := s.DB().Conn(ctx)
	if err != nil {
		return fmt.Errorf("postgres: scan audit: %w", err)
	}
	defer conn.Close()
	// Closing rows reads whatever the server has yet to send; a scan that
	// fn ends early cancels the query instead.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var fnErr error
	err = conn.Raw(func(dc any) error {
		rows, err := dc.(*stdlib.Conn).Conn().Query(ctx, scanAuditQuery,
			pgx.QueryResultFormats{pgx.BinaryFormatCode}, from, to)
		if err != nil {
			return err
		}
		defer rows.Close()
		var e store.AuditEvent
		next := rawAuditEvent(&e)
		if !allBinary(rows.FieldDescriptions()) {
			// Through PgBouncer (no prepared statements) the results come
			// as text, which pgx decodes.
			next = func(rows pgx.Rows) error {
				var t int64
				err := rows.Scan(&e.Seq, &t, &e.Actor, &e.Action, &e.Result, &e.IP, &e.UserAgent,
					&e.Subject, &e.Detail, &e.Account, &e.Client, &e.PrevHash, &e.Hash)
				e.Time = time.UnixMilli(t).UTC()
				return err
			}
		}
		for rows.Next() {
			if err := next(rows); err != nil {
				return err
			}
			if len(e.PrevHash) == 0 {
				e.PrevHash = nil
			}
			if fnErr = fn(e); fnErr != nil {
				cancel()
				return nil
			}
		}
		return rows.Err()
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("postgres: scan audit: %w", err)
	}
	return nil
}

// allBinary reports whether every column comes in binary.
func allBinary(fds []pgconn.FieldDescription) bool {
	for _, fd := range fds {
		if fd.Format != pgx.BinaryFormatCode {
			return false
		}
	}
	return len(fds) == 13
}

// rawAuditEvent returns a decoder of a row of scanAuditQuery in binary
// into e: the integers are big-endian, the texts and hashes their bytes.
// The hashes stay the row's own bytes, valid until the next row; the
// nine texts are cut out of one string.
func rawAuditEvent(e *store.AuditEvent) func(pgx.Rows) error {
	var (
		texts []byte
		ends  [9]int
	)
	fields := [9]*string{&e.Actor, &e.Action, &e.Result, &e.IP, &e.UserAgent, &e.Subject, &e.Detail, &e.Account, &e.Client}
	return func(rows pgx.Rows) error {
		v := rows.RawValues()
		if len(v) != 13 || len(v[0]) != 8 || len(v[1]) != 8 {
			return fmt.Errorf("unexpected row of %d columns", len(v))
		}
		e.Seq = int64(binary.BigEndian.Uint64(v[0]))
		e.Time = time.UnixMilli(int64(binary.BigEndian.Uint64(v[1]))).UTC()
		texts = texts[:0]
		for i, col := range v[2:11] {
			texts = append(texts, col...)
			ends[i] = len(texts)
		}
		all, at := string(texts), 0
		for i, f := range fields {
			*f, at = all[at:ends[i]], ends[i]
		}
		e.PrevHash, e.Hash = v[11], v[12]
		return nil
	}
}
