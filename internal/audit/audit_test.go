package audit_test

import (
	"context"
	"encoding/hex"
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
		log.Append(ctx, audit.Entry{Actor: audit.User("u1"), Action: a, Result: audit.ResultOK, IP: "127.0.0.1", Subject: "138****5678"})
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
		{"removed last events", `DELETE FROM audit_events WHERE seq >= 3`, "event 3 and the events after it were appended after event 2 and are missing"},
		{"every event removed", `DELETE FROM audit_events`, "event 1 and the events after it were appended after event 0"},
		{"last event replaced", `UPDATE audit_events SET hash = X'00' WHERE seq = 4`, "event 4 was altered"},
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

// The hash of a stored event never changes: events written by every earlier
// release must keep verifying.
func TestHashIsStable(t *testing.T) {
	e := store.AuditEvent{
		Seq: 7, Time: time.Date(2026, 11, 26, 8, 0, 0, 123e6, time.UTC), Actor: "u1", Action: audit.ActionLogout, Result: audit.ResultOK,
		IP: "10.0.0.1", UserAgent: "Mozilla/5.0", Subject: "138****5678", Detail: `{"via":"cas"}`, PrevHash: []byte{1, 2, 3},
	}
	const want = "eafc0bb3960b88430c81774e2ebea7528e2a0dd17f65d397dc1f2fd71a618981"
	if got := hex.EncodeToString(audit.Hash(e)); got != want {
		t.Fatalf("Hash = %s, want %s: stored events would no longer verify", got, want)
	}
}

func TestActorEncoding(t *testing.T) {
	tests := []struct {
		name   string
		actor  audit.Actor
		stored string
	}{
		{"user", audit.User("k3m5q7r2t4v6x8z2b4d6f8h2j4"), "k3m5q7r2t4v6x8z2b4d6f8h2j4"},
		{"operator", audit.Operator("wang.ops"), "operator:wang.ops"},
		{"operator on the command line", audit.Operator("cli:root"), "operator:cli:root"},
		{"client", audit.ClientActor("ops-console"), "client:ops-console"},
		{"system", audit.System(), "system"},
		{"anonymous", audit.Anonymous(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.actor.Valid() {
				t.Errorf("%+v is not valid", tt.actor)
			}
			if got := tt.actor.String(); got != tt.stored {
				t.Errorf("stored as %q, want %q", got, tt.stored)
			}
			if got := audit.ParseActor(tt.stored); got != tt.actor {
				t.Errorf("ParseActor(%q) = %+v, want %+v", tt.stored, got, tt.actor)
			}
		})
	}
	// What `unid client` wrote before operators were named as such.
	if got := audit.ParseActor("cli:root"); got != audit.Operator("cli:root") {
		t.Errorf("ParseActor(cli:root) = %+v", got)
	}
	for _, bad := range []audit.Actor{{Kind: audit.KindUser}, {Kind: audit.KindOperator}, {Kind: "robot", ID: "r2"}, {Kind: audit.KindSystem, ID: "x"}, {ID: "u1"}} {
		if bad.Valid() {
			t.Errorf("%+v is valid", bad)
		}
	}
}

func TestDetailIsCanonical(t *testing.T) {
	a := audit.Detail{"via": "oidc", "sid": "S1", "client_id": "records&co<1>"}
	b := audit.Detail{}
	b["client_id"], b["sid"], b["via"] = "records&co<1>", "S1", "oidc"
	const want = `{"client_id":"records&co<1>","sid":"S1","via":"oidc"}`
	for i := range 20 { // map order is random: every run must agree
		if got := a.String(); got != want || b.String() != want {
			t.Fatalf("run %d: %s and %s, want %s", i, got, b.String(), want)
		}
	}
	if got := (audit.Detail{}).String(); got != "" {
		t.Errorf("empty detail = %q, want empty", got)
	}
	if got := audit.Detail(nil).String(); got != "" {
		t.Errorf("nil detail = %q, want empty", got)
	}
	if d, ok := audit.ParseDetail(want); !ok || d["client_id"] != "records&co<1>" || len(d) != 3 {
		t.Errorf("ParseDetail = %v, %v", d, ok)
	}
	if _, ok := audit.ParseDetail("client_id=x reason=timeout"); ok {
		t.Error("a plain-text detail parsed as structured")
	}
}

// A log written partly before actors and details were typed, partly after,
// is one chain. The event of the older form is written as an earlier
// release stored it, with a plain-text detail.
func TestVerifyMixedChain(t *testing.T) {
	ctx := context.Background()
	st := newChain(t) // four events
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	log := audit.New(st, func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	log.Append(ctx, audit.Entry{Actor: audit.User("u1"), Action: audit.ActionLogout, Result: audit.ResultOK, IP: "127.0.0.1",
		Detail: audit.Detail{"via": "cas", "sid": "S1"}})
	if _, err := st.AppendAudit(ctx, store.AuditEvent{Time: now, Actor: "client:records", Action: "oidc.token_issued", Result: audit.ResultOK, Detail: "client_id=records"}, audit.Hash); err != nil {
		t.Fatal(err)
	}
	log.Append(ctx, audit.Entry{Actor: audit.Operator("cli:root"), Action: "admin.client_delete", Result: audit.ResultOK, Subject: "records"})
	log.Append(ctx, audit.Entry{Actor: audit.System(), Action: audit.ActionSMSBudget, Result: audit.ResultOK})
	n, err := audit.Verify(ctx, st)
	if err != nil || n != 8 {
		t.Fatalf("mixed log: %d events, %v", n, err)
	}
	events, err := st.ListAudit(ctx, 4, 10)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, e := range events {
		got = append(got, e.Actor+" "+e.Action+" "+e.Detail)
	}
	want := []string{
		`u1 session.logout {"sid":"S1","via":"cas"}`,
		`client:records oidc.token_issued client_id=records`,
		`operator:cli:root admin.client_delete `,
		`system sms.budget_exhausted `,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("stored:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
