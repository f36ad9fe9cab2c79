package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"unid/internal/store"
)

// RunWithdrawalRace checks, on a store whose writers run side by side
// (PostgreSQL), that a consent withdrawal does not miss a grant redeemed
// while it runs: a request still pending when the withdrawal denies the
// approved ones is approved and redeemed before the withdrawal commits,
// the exchange having seen the consent not yet deleted. stall(grantID)
// holds that grant's row from another connection, so that the withdrawal
// waits in its revocation with the consent deleted and the requests
// denied; it returns a function that waits until the withdrawal is held
// so, and one that lets it go on (called again at the end of t, so that a
// failure leaves nothing held). Everything gives up after 30 s.
func RunWithdrawalRace(t *testing.T, s store.Store, stall func(grantID string) (waitHeld, release func())) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	f, old := consented(ctx, t, s)
	pending := newAuthRequest()
	if err := s.CreateAuthRequest(ctx, pending); err != nil {
		t.Fatal(err)
	}

	waitHeld, release := stall(old.ID)
	withdrawn := make(chan error, 1)
	go func() {
		_, err := s.WithdrawConsent(ctx, f.user.ID, f.client.ID, base.Add(time.Hour))
		withdrawn <- err
	}()
	// The withdrawal has deleted the consent and denied the approved
	// requests, and waits for the stalled grant.
	waitHeld()
	// The approval that read the consent before, and its exchange, which
	// still sees it.
	approved, err := s.UpdateAuthRequest(ctx, pending.ID, func(a store.AuthRequest) (store.AuthRequest, error) {
		a.Status, a.UserID, a.SID, a.CodeHash = store.AuthRequestApproved, f.user.ID, old.SID, randBytes(32)
		return a, nil
	})
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	if _, err := s.GetConsent(ctx, f.user.ID, f.client.ID); err != nil {
		t.Fatalf("the exchange's read of the consent: %v; the race needs it still seen", err)
	}
	racing := f.newGrant()
	if _, err := s.RedeemCode(ctx, approved, racing, nil, func(a store.AuthRequest) (store.AuthRequest, error) {
		if a.Status != store.AuthRequestApproved || !a.CodeUsedAt.IsZero() {
			return a, errors.New("the code gives nothing")
		}
		a.CodeUsedAt, a.GrantID = base.Add(time.Second), racing.ID
		return a, nil
	}); err != nil {
		t.Fatalf("redeem: %v", err)
	}
	release()
	select {
	case err := <-withdrawn:
		if err != nil {
			t.Fatalf("WithdrawConsent: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the withdrawal did not finish once let go")
	}
	if _, err := s.GetConsent(ctx, f.user.ID, f.client.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the consent after its withdrawal: %v", err)
	}
	for _, id := range []string{old.ID, racing.ID} {
		if g, err := s.GetGrant(ctx, id); err != nil || g.RevokedAt.IsZero() {
			t.Errorf("grant %s after the withdrawal: revoked at %v, %v; want revoked", id, g.RevokedAt, err)
		}
	}
}

// RunWithdrawalAllOrNothing checks that a consent withdrawal is one
// transaction: refuse() makes the database refuse to revoke a grant (and
// returns what lets it again); a withdrawal that meets the refusal leaves
// the consent, the approved request and the grant as they were, so the
// user who retries withdraws everything, not half of it.
func RunWithdrawalAllOrNothing(t *testing.T, s store.Store, refuse func() (allow func())) {
	ctx := t.Context()
	f, g := consented(ctx, t, s)
	pending := f.approvedRequest(t)
	state := func() (consent bool, request string, revoked bool) {
		t.Helper()
		_, err := s.GetConsent(ctx, f.user.ID, f.client.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		consent = err == nil
		a, err := s.GetAuthRequest(ctx, pending.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.GetGrant(ctx, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		return consent, a.Status, !got.RevokedAt.IsZero()
	}

	allow := refuse()
	n, err := s.WithdrawConsent(ctx, f.user.ID, f.client.ID, base.Add(time.Hour))
	if err == nil || errors.Is(err, store.ErrNotSwept) || n != 0 {
		t.Fatalf("WithdrawConsent with the revocation refused = %d, %v; want a failure of the whole", n, err)
	}
	if consent, request, revoked := state(); !consent || request != store.AuthRequestApproved || revoked {
		t.Fatalf("after the failed withdrawal: consent %v, request %s, grant revoked %v; want all as before", consent, request, revoked)
	}
	allow()
	if n, err := s.WithdrawConsent(ctx, f.user.ID, f.client.ID, base.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("WithdrawConsent again = %d, %v; want the grant revoked", n, err)
	}
	if consent, request, revoked := state(); consent || request != store.AuthRequestDenied || !revoked {
		t.Fatalf("after the withdrawal: consent %v, request %s, grant revoked %v; want none, denied, revoked", consent, request, revoked)
	}
}

// consented stores a user who consented to a client and has a live grant
// of it.
func consented(ctx context.Context, t *testing.T, s store.Store) (oauthFixture, store.Grant) {
	t.Helper()
	f := oauthFixtureOn(ctx, t, s)
	if err := f.putConsent(); err != nil {
		t.Fatal(err)
	}
	g := f.newGrant()
	if err := s.CreateGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	return f, g
}

// RunRevocationMeetsOneStatement checks, on a store that redeems a code in
// one statement (PostgreSQL), the order the revocations rely on: a
// redemption's statement that has the request's row holds it until its
// grant is committed, so a revocation that comes to the row meanwhile
// waits, then finds the code used and revokes the grant. hold() makes the
// next grant insert wait inside its statement; it returns a function
// that waits until n connections wait on locks, and one that lets the
// insert go on (called again at the end of t). Everything gives up
// after 30 s.
func RunRevocationMeetsOneStatement(t *testing.T, s store.Store, hold func() (waiting func(n int), release func())) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	f := oauthFixtureOn(ctx, t, s)
	a := f.approvedRequest(t)
	g := f.newGrant()
	waiting, release := hold()
	decisions := 0
	redeemed := make(chan error, 1)
	go func() {
		_, err := s.RedeemCode(ctx, a, g, nil, func(o store.AuthRequest) (store.AuthRequest, error) {
			decisions++
			if o.Status != store.AuthRequestApproved || !o.CodeUsedAt.IsZero() {
				return o, errors.New("the code gives nothing")
			}
			o.CodeUsedAt, o.GrantID = base.Add(time.Second), g.ID
			return o, nil
		})
		redeemed <- err
	}()
	waiting(1) // the redemption, inside its statement
	revoked := make(chan error, 1)
	go func() {
		_, err := s.RevokeUserGrants(ctx, f.user.ID, base.Add(2*time.Second))
		revoked <- err
	}()
	waiting(2) // and the revocation's denial, on the request's row
	release()
	if err := <-redeemed; err != nil || decisions != 1 {
		t.Fatalf("the redemption that held the row: %v after %d decisions; want it redeemed in one statement", err, decisions)
	}
	if err := <-revoked; err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetGrant(ctx, g.ID); err != nil || got.RevokedAt.IsZero() {
		t.Fatalf("the grant of the redemption the revocation waited for: %+v, %v; want it revoked", got, err)
	}
	if got, err := s.GetAuthRequest(ctx, a.ID); err != nil || got.Status != store.AuthRequestApproved || got.CodeUsedAt.IsZero() {
		t.Fatalf("the request after both: %+v, %v; want it used, not denied", got, err)
	}
}
