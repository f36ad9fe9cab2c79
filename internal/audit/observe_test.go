package audit_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"unid/internal/audit"
	"unid/internal/store"
	"unid/internal/store/sqlite/sqlitetest"
)

// TestObserverHearsStoredEvents: the observer hears of each event the log
// stored, with its time and service system, and of none it failed to
// store.
func TestObserverHearsStoredEvents(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.New(t)
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	log := audit.New(st, func() time.Time { return now }, slog.New(slog.DiscardHandler))
	var heard []store.AuditEvent
	log.Observe(func(ev store.AuditEvent) { heard = append(heard, ev) })

	log.Append(ctx, audit.Entry{Actor: audit.User("u1"), Action: "cas.ticket_validated", Result: audit.ResultOK, Client: "archive"})
	ev := log.Event(audit.Entry{Actor: audit.User("u1"), Action: "realname.checked", Result: "fail"})
	log.Committed(ev) // as a store method that appended it in its own transaction
	if len(heard) != 2 || heard[0].Client != "archive" || !heard[0].Time.Equal(now) || heard[1].Action != "realname.checked" {
		t.Fatalf("heard %+v", heard)
	}

	st.Close()
	log.Append(ctx, audit.Entry{Actor: audit.User("u1"), Action: audit.ActionLogin, Result: audit.ResultOK})
	if len(heard) != 2 {
		t.Errorf("an event the store refused was heard: %+v", heard[len(heard)-1])
	}
}
