// Package audit writes the tamper-evident security event log. Every event is
// appended through the store, which assigns its sequence number and the hash
// of the event before it; audit computes the event's own hash over a
// canonical encoding of its fields and that previous hash. Changing, removing
// or reordering any stored event breaks every hash after it, which Verify
// reports.
//
// Only masked personal data enters an event: callers pass masked subjects
// (138****5678), never codes, passwords or tokens.
//
// Services audit, handlers do not. A service appends an Entry naming its
// Actor explicitly (User, Operator, ClientActor, System, or Anonymous), with
// a structured Detail stored as canonical JSON; one happening is one event
// whichever protocol asked for it. A service that changes something on a
// caller's behalf takes an Origin (the actor and the request's address and
// user agent) from that caller.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"log/slog"
	"time"

	"unid/internal/store"
)

// Actions recorded by unid.
const (
	ActionRegister    = "user.register"
	ActionSMSSent     = "sms.sent"
	ActionLogin       = "session.login"
	ActionLoginFail   = "session.login_failed"
	ActionLockout     = "account.locked"
	ActionLogout      = "session.logout" // by the session manager; Detail {via, sid, client_id}
	ActionRehash      = "account.password_rehashed"
	ActionSMSBudget   = "sms.budget_exhausted"
	ResultOK          = "ok"
	ResultFailed      = "failed"
	ResultRateLimited = "rate_limited"
)

// Log appends events. A failure to write an audit event is logged loudly and
// returned, but the callers that record after the fact (a login already
// happened) only log it: the store being down fails the request anyway.
type Log struct {
	store   store.AuditLog
	now     func() time.Time
	logger  *slog.Logger
	observe func(store.AuditEvent)
}

// New returns a Log writing to s.
func New(s store.AuditLog, now func() time.Time, logger *slog.Logger) *Log {
	return &Log{store: s, now: now, logger: logger}
}

// Entry is one happening, as a service records it: who acted (an explicit
// Actor), what they did, how it ended, and a structured Detail. Time and
// the chain fields are filled in by Append.
type Entry struct {
	Actor     Actor
	Action    string
	Result    string
	IP        string // of the request that carried it; empty for the command line and unid itself
	UserAgent string
	Subject   string // masked
	Detail    Detail // masked values only
	// Account is the ID of the account the event concerns when Actor is
	// not that account: an operator acting on it, a stranger failing to
	// sign in to it. The viewer finds an account's events by it and by
	// Actor. Leave it empty when Actor is the account.
	Account string
	// Client is the service system the event happened at, if any.
	Client string
}

// Append adds e to the log.
func (l *Log) Append(ctx context.Context, e Entry) {
	ev := l.Event(e)
	if _, err := l.store.AppendAudit(ctx, ev, Hash); err != nil {
		l.logger.ErrorContext(ctx, "audit append failed", "action", ev.Action, "result", ev.Result, "err", err)
		return
	}
	l.Committed(ev)
}

// Observe makes the log tell fn of every event once it is stored (the
// dashboard counts them). fn must be quick and must not block. Call it
// before the log is used.
func (l *Log) Observe(fn func(store.AuditEvent)) { l.observe = fn }

// Committed tells the observer of ev, an event made by Event that a store
// method appended in its own transaction, once that transaction has
// committed. Append calls it itself.
func (l *Log) Committed(ev store.AuditEvent) {
	if l.observe != nil {
		l.observe(ev)
	}
}

// Event is e as the store keeps it, at the log's current time, for a
// store method that writes records and appends their event in one
// transaction (with Hash as the seal); Append uses it too.
func (l *Log) Event(e Entry) store.AuditEvent {
	return store.AuditEvent{
		Time:  l.now().UTC().Truncate(time.Millisecond),
		Actor: e.Actor.String(), Action: e.Action, Result: e.Result,
		IP: e.IP, UserAgent: e.UserAgent, Subject: e.Subject, Detail: e.Detail.String(),
		Account: e.Account, Client: e.Client,
	}
}

// Hash is the chained hash of an event: SHA-256 over the previous hash and
// every field, each length-prefixed so that no two events encode alike.
// Account and Client, which events have carried since schema 19, are
// hashed after the rest only when either is set, so that every earlier
// event keeps its hash; clearing them from a later event changes its
// hash all the same.
func Hash(e store.AuditEvent) []byte {
	var h hasher
	sum := h.sum(e)
	return sum[:]
}

// hasher computes Hash into a buffer it keeps, so that a chain checked
// event after event allocates nothing per event.
type hasher struct{ buf []byte }

func (h *hasher) sum(e store.AuditEvent) [sha256.Size]byte {
	b := h.buf[:0]
	field := func(p []byte) {
		b = binary.BigEndian.AppendUint64(b, uint64(len(p)))
		b = append(b, p...)
	}
	str := func(s string) {
		b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
	}
	var seq [8]byte
	binary.BigEndian.PutUint64(seq[:], uint64(e.Seq))
	str("unid audit v1")
	field(e.PrevHash)
	field(seq[:])
	// The time's RFC 3339 text, length-prefixed, appended in place.
	at := len(b)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	b = e.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	binary.BigEndian.PutUint64(b[at:], uint64(len(b)-at-8))
	for _, s := range []string{e.Actor, e.Action, e.Result, e.IP, e.UserAgent, e.Subject, e.Detail} {
		str(s)
	}
	if e.Account != "" || e.Client != "" {
		str(e.Account)
		str(e.Client)
	}
	h.buf = b
	return sha256.Sum256(b)
}

// check reports whether e.Hash is the hash of e.
func (h *hasher) check(e store.AuditEvent) bool {
	sum := h.sum(e)
	return bytes.Equal(sum[:], e.Hash)
}
