package activity

import (
	"context"

	"unid/internal/audit"
	"unid/internal/store"
)

// HistoryLimit is how many events a person's history shows.
const HistoryLimit = 50

// plumbing are the actions recorded under a person's name that are the
// protocols' own working rather than something the person would recognise
// as a sign-in or a security event: every sign-in to a service system
// issues and validates a ticket or a token, and every logout tells the
// systems. A test checks them against the constants of their packages
// (which, being adapters, this package does not import).
var plumbing = []string{
	"oidc.token_issued",
	"oidc.backchannel_logout",
	"cas.ticket_issued",
	"cas.ticket_validated",
	"cas.logout_sent",
	"cas.logout_failed",
	audit.ActionRehash,
}

// History returns the newest HistoryLimit sign-ins and security events of
// the user, newest first: the events the user is the actor of, which
// include every failed sign-in and lock of their account (the login flow
// records those under the account they were for), and nothing anyone else
// did. Events of actions unid does not describe are returned too; the
// pages show them generically.
func History(ctx context.Context, log store.AuditLog, userID string) ([]store.AuditEvent, error) {
	if userID == "" {
		return nil, nil // the empty actor is everyone anonymous, not a person
	}
	return log.ListActorAudit(ctx, audit.User(userID).String(), plumbing, HistoryLimit)
}
