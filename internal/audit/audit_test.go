package audit_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"unid/internal/audit"
	"unid/internal/store"
	"unid/internal/store/sqlite"
	"unid/internal/store/sqlite/sqlitetest"
)

// newChain returns a store holding four chained events.
func newChain(t *testing.T) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	st := sqlitetest.New(t)
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	log := audit.New(st, func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for i, a := range []string{audit.ActionRegister, audit.ActionLogin, audit.ActionLoginFail, audit.ActionLogout} {
		log.Record(ctx, audit.Event{Actor: "u1", Action: a, Result: audit.ResultOK, IP: "127.0.0.1", Subject: "138****5678"})
		now = now.Add(time.Duration(i+1) * time.Second)
	}
	return st
}

func TestChainVerifies(t *testing.T) {
	st := newChain(t)
	n, err := audit.Verify(context.Background(), st)
	if err != nil || n != 4 {
		t.Fatalf("intact log: %d events, %v", n, err)
	}
	if _, err := st.DB().ExecContext(context.Background(), `UPDATE audit_events SET result = 'ok' WHERE seq = 3`); err == nil {
		t.Fatal("the store allowed an UPDATE of an audit event")
	}
}

// Someone with the database file can drop the append-only guard; the chain
// still tells.
func TestChainDetectsTampering(t *testing.T) {
	tests := []struct {
		name, sql, want string
	}{
		{"edited field", `UPDATE audit_events SET subject = '139****0000' WHERE seq = 2`, "event 2 was altered"},
		{"removed event", `DELETE FROM audit_events WHERE seq = 3`, "missing"},
		{"broken link", `UPDATE audit_events SET prev_hash = X'00' WHERE seq = 4`, "does not link"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			st := newChain(t)
			for _, q := range []string{"DROP TRIGGER IF EXISTS audit_events_no_update", "DROP TRIGGER IF EXISTS audit_events_no_delete", tt.sql} {
				if _, err := st.WriteDB().ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := audit.Verify(ctx, st); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestHashCoversEveryField(t *testing.T) {
	// Moving a byte from one field to the next must change the hash.
	h1 := audit.Hash(storeEvent("ab", "c"))
	h2 := audit.Hash(storeEvent("a", "bc"))
	if string(h1) == string(h2) {
		t.Fatal("field boundaries are not part of the hash")
	}
}

func storeEvent(actor, action string) store.AuditEvent {
	return store.AuditEvent{Seq: 1, Time: time.Unix(0, 0).UTC(), Actor: actor, Action: action}
}
