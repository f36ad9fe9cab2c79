package account

import (
	"context"
	"fmt"
	"time"

	"unid/internal/audit"
	"unid/internal/notify"
	"unid/internal/problem"
	"unid/internal/session"
)

// Closing an account (注销): the owner's own decision, after
// re-authentication. What goes and what stays:
//
//   - erased from the account: phone, ID number, email, real name,
//     nickname, work unit, password hash and real-name level;
//   - deleted: addresses, security answers, consents, every session (with
//     single logout to the service systems) and every grant (its refresh
//     and access tokens stop working);
//   - kept: the audit records, which the Cybersecurity Law (网络安全法,
//     article 21) requires for at least six months, and the row with the
//     login name, which stays reserved for ever;
//   - kept for the cooling-off: the blind indexes of the phone and the
//     verified ID number, so that a new account can take them only once
//     it is over.

// ActionClosed is the audit action of Close; Detail {user, by, released}
// (the end of the cooling-off, RFC 3339).
const ActionClosed = "account.closed"

// DefaultCoolingOff is how long a closed account's phone and verified ID
// number stay barred from a new account, unless configured otherwise.
const DefaultCoolingOff = 30 * 24 * time.Hour

// CoolingOff is how long a closed account's identifiers stay barred.
func (s *Service) CoolingOff() time.Duration { return s.cool }

// phoneCoolingOff is the answer to a phone that a closed account gave up
// and whose cooling-off is not over. Only whoever just proved they hold
// the number (a code sent to it) gets this far.
func phoneCoolingOff(err error) error {
	return &problem.Problem{Kind: problem.Conflict, Code: "phone_cooling_off", Fields: map[string]string{FieldPhone: "phone_cooling_off"}, Err: err}
}

// Close closes the account userID for good: its personal data is erased,
// what hangs off it deleted (see above), in one store transaction with the
// account.closed event; then every grant is revoked and every session
// ended with single logout and back-channel logout to the service systems
// it signed in to; and the owner is told by SMS and email at the phone and
// address the account held. A closed account is found by no identifier
// and never signs in again. A missing or already closed account is
// problem.NotFound.
//
// The closure is committed before access is ended: from then on no
// sign-in can start (nothing finds the account, and a session or token
// refresh checks that it is active), and every way in that existed before
// is ended after it.
func (s *Service) Close(ctx context.Context, userID string, actor audit.Actor) error {
	if !validActor(actor) {
		return problem.Wrap(fmt.Errorf("account: close: invalid actor %+v", actor))
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	released := now.Add(s.cool)
	e := s.audit.Event(audit.Entry{Actor: actor, Action: ActionClosed, Result: audit.ResultOK,
		Detail: audit.Detail{"user": userID, "by": string(actor.Kind), "released": released.Format(time.RFC3339)}})
	old, err := s.st.CloseUser(ctx, userID, now, released, e, audit.Hash)
	if err != nil {
		return s.storeProblem("close", err)
	}
	// Closed: the rest is done whoever hangs up (each step on its own
	// detached context), and the owner is told even if ending the
	// sessions fails (the personal data to tell them by is gone after
	// this).
	err = s.endAccess(ctx, userID, now, session.ViaAccountClosed)
	tctx, cancel := session.Detach(ctx)
	defer cancel()
	s.tell(tctx, old, notify.TemplateAccountClosed)
	return err
}
