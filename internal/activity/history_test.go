package activity_test

import (
	"context"
	"slices"
	"testing"

	"unid/internal/activity"
	"unid/internal/audit"
	"unid/internal/sso/cas"
	"unid/internal/sso/oidc"
	"unid/internal/store"
)

// askedLog records what History asks of the audit log.
type askedLog struct {
	store.AuditLog
	calls int
	actor string
	skip  []string
	limit int
}

func (l *askedLog) ListActorAudit(_ context.Context, actor string, skip []string, limit int) ([]store.AuditEvent, error) {
	l.calls++
	l.actor, l.skip, l.limit = actor, skip, limit
	return nil, nil
}

func TestHistoryAsksForThePersonsOwnEventsWithoutTheProtocolsPlumbing(t *testing.T) {
	log := &askedLog{}
	if _, err := activity.History(context.Background(), log, "u1"); err != nil {
		t.Fatal(err)
	}
	if log.actor != audit.User("u1").String() || log.limit != activity.HistoryLimit || activity.HistoryLimit != 50 {
		t.Errorf("History asked for actor %q, limit %d", log.actor, log.limit)
	}
	for _, a := range []string{
		oidc.ActionTokenIssued, oidc.ActionBackchannelLogout,
		cas.ActionTicketIssued, cas.ActionTicketValidated, cas.ActionLogoutSent, cas.ActionLogoutFailed,
		audit.ActionRehash,
	} {
		if !slices.Contains(log.skip, a) {
			t.Errorf("History shows %s, the protocols' own working", a)
		}
	}
	for _, a := range []string{
		audit.ActionLogin, audit.ActionLoginFail, audit.ActionLockout, audit.ActionLogout,
		oidc.ActionConsentGranted, oidc.ActionConsentRevoked, oidc.ActionCodeReuse, oidc.ActionRefreshReuse,
	} {
		if slices.Contains(log.skip, a) {
			t.Errorf("History leaves out %s", a)
		}
	}

	// The empty actor is every anonymous event: never a person's history.
	log = &askedLog{}
	if got, err := activity.History(context.Background(), log, ""); err != nil || got != nil || log.calls != 0 {
		t.Errorf("History of no user = %v, %v after %d reads", got, err, log.calls)
	}
}
