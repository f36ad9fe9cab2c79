package storetest

import (
	"context"
	"testing"

	"unid/internal/store"
)

// AuditedWrite is a store write of several records — here flows — that
// appends its audit event in the same transaction.
type AuditedWrite func(ctx context.Context, flows []store.Flow, e store.AuditEvent, seal func(store.AuditEvent) []byte) (store.AuditEvent, error)

// RunAuditedWrite checks the rule for writes that touch several records:
// the records and their audit event are committed together or not at all.
// newWrite returns a fresh, empty store and a write on it.
func RunAuditedWrite(t *testing.T, newWrite func(t *testing.T) (store.Store, AuditedWrite)) {
	ctx := context.Background()
	s, write := newWrite(t)

	flowKept := func(t *testing.T, f store.Flow) bool {
		t.Helper()
		_, err := s.GetFlow(ctx, f.ID)
		if err != nil {
			wantNotFound(t, "GetFlow", err)
		}
		return err == nil
	}
	chain := func(t *testing.T, n int) {
		t.Helper()
		events, err := s.ListAudit(ctx, 0, 100)
		if err != nil {
			t.Fatalf("ListAudit: %v", err)
		}
		checkChain(t, events, n)
	}

	// 1: both records and the event.
	a, b := newFlow(), newFlow()
	e, err := write(ctx, []store.Flow{a, b}, newEvent(1), seal)
	if err != nil {
		t.Fatalf("audited write: %v", err)
	}
	if e.Seq != 1 {
		t.Errorf("audited write returned seq %d, want 1", e.Seq)
	}
	if !flowKept(t, a) || !flowKept(t, b) {
		t.Errorf("audited write: the records are not all there")
	}
	chain(t, 1)

	// 2: the second record fails (its ID is taken), after the first was
	// written: neither the first record nor the event remains.
	c := newFlow()
	_, err = write(ctx, []store.Flow{c, a}, newEvent(2), seal)
	wantConflict(t, "audited write of a taken ID", err, "id")
	if flowKept(t, c) {
		t.Errorf("failed audited write left its first record behind")
	}
	chain(t, 1)

	// 3: the audit append fails (the seal is refused): no record remains.
	d := newFlow()
	if _, err := write(ctx, []store.Flow{d}, newEvent(3), func(store.AuditEvent) []byte { return []byte("short") }); err == nil {
		t.Errorf("audited write with a refused seal: no error")
	}
	if flowKept(t, d) {
		t.Errorf("audited write whose event was refused left its record behind")
	}
	chain(t, 1)

	// The chain goes on from where the last committed event left it.
	if _, err := s.AppendAudit(ctx, newEvent(4), seal); err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
	chain(t, 2)
}
