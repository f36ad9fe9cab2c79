package storetest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"unid/internal/store"
)

// oauthFixture is a store with one user and one client, which grants and
// consents refer to.
type oauthFixture struct {
	s      store.Store
	user   store.User
	client store.Client
}

func newOAuthFixture(t *testing.T, newStore func(t *testing.T) store.Store) oauthFixture {
	t.Helper()
	return oauthFixtureOn(t.Context(), t, newStore(t))
}

// oauthFixtureOn stores a new user and client in s.
func oauthFixtureOn(ctx context.Context, t *testing.T, s store.Store) oauthFixture {
	t.Helper()
	f := oauthFixture{s: s, user: newUser(), client: newClient("hall")}
	if err := s.CreateUser(ctx, f.user); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateClient(ctx, f.client); err != nil {
		t.Fatal(err)
	}
	return f
}

// putConsent stores the user's consent to the client.
func (f oauthFixture) putConsent() error {
	return f.s.PutConsent(context.Background(), store.Consent{UserID: f.user.ID, ClientID: f.client.ID, Scopes: []string{"openid"}, CreatedAt: base, UpdatedAt: base})
}

func newAuthRequest() store.AuthRequest {
	return store.AuthRequest{
		ID: randID(), ClientID: "hall", Params: []byte(`{"scopes":["openid"],"state":"s"}`),
		Status: store.AuthRequestPending, CreatedAt: base, ExpiresAt: base.Add(30 * time.Minute),
	}
}

func (f oauthFixture) newGrant() store.Grant {
	return store.Grant{
		ID: randID(), ClientID: f.client.ID, UserID: f.user.ID, SID: randID(),
		Scopes: []string{"openid", "profile", "offline_access"}, AuthTime: base.Add(-time.Minute), AMR: []string{"alipay"},
		CreatedAt: base, ExpiresAt: base.Add(90 * 24 * time.Hour),
	}
}

// approvedRequest stores an approved request of the fixture's user whose
// code is not used yet.
func (f oauthFixture) approvedRequest(t *testing.T) store.AuthRequest {
	t.Helper()
	a := newAuthRequest()
	a.Status, a.UserID, a.CodeHash = store.AuthRequestApproved, f.user.ID, randBytes(32)
	a.SID, a.AuthTime, a.AMR = randID(), base.Add(-time.Minute), []string{"pwd", "sms"}
	if err := f.s.CreateAuthRequest(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

// redeemHeld redeems the code of seen for g in the background, and
// returns once its fn is deciding, on seen or on the stored request (a
// seen with no status is refused at once: no stored request has none);
// that first decision waits for release. The redemption's error comes on
// the channel.
func (f oauthFixture) redeemHeld(t *testing.T, ctx context.Context, seen store.AuthRequest, g store.Grant, release <-chan struct{}) <-chan error {
	t.Helper()
	deciding := make(chan struct{})
	var once sync.Once
	redeemed := make(chan error, 1)
	go func() {
		_, err := f.s.RedeemCode(ctx, seen, g, nil, func(o store.AuthRequest) (store.AuthRequest, error) {
			if o.Status == "" {
				return o, errors.New("not a stored request")
			}
			once.Do(func() { close(deciding); <-release })
			if o.Status != store.AuthRequestApproved {
				return o, errors.New("denied")
			}
			o.CodeUsedAt, o.GrantID = base.Add(time.Second), g.ID
			return o, nil
		})
		redeemed <- err
	}()
	select {
	case <-deciding:
	case err := <-redeemed:
		t.Fatalf("the redemption ended before deciding: %v", err)
	}
	return redeemed
}

func newRefreshToken(grantID string, at time.Time) store.RefreshToken {
	return store.RefreshToken{TokenHash: randBytes(32), GrantID: grantID, CreatedAt: at, ExpiresAt: at.Add(30 * 24 * time.Hour)}
}

func newSigningKey(at time.Time) store.SigningKey {
	return store.SigningKey{
		ID: randID(), Algorithm: "ES256", Private: randBytes(200), Public: []byte(`{"kty":"EC"}`), CreatedAt: at,
	}
}

// stillNotUsed checks that a refresh token is stored and unused.
func stillNotUsed(t *testing.T, s store.Store, what string, hash []byte) {
	t.Helper()
	got, err := s.GetRefreshToken(context.Background(), hash)
	if err != nil || !got.UsedAt.IsZero() {
		t.Fatalf("%s: GetRefreshToken = %+v, %v; want it stored and unused", what, got, err)
	}
}

func testOAuth(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()

	t.Run("auth requests", func(t *testing.T) {
		f := newOAuthFixture(t, newStore)
		a := newAuthRequest()
		if err := f.s.CreateAuthRequest(ctx, a); err != nil {
			t.Fatal(err)
		}
		wantConflict(t, "CreateAuthRequest twice", f.s.CreateAuthRequest(ctx, a), "id")
		got, err := f.s.GetAuthRequest(ctx, a.ID)
		if err != nil || !reflect.DeepEqual(got, a) {
			t.Fatalf("GetAuthRequest = %+v, %v; want %+v", got, err, a)
		}
		if _, err := f.s.GetAuthRequest(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetAuthRequest(unknown) = %v", err)
		}
		if _, err := f.s.GetAuthRequestByCode(ctx, nil); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetAuthRequestByCode(nil) = %v; a request without a code must not match", err)
		}

		code := randBytes(32)
		approved, err := f.s.UpdateAuthRequest(ctx, a.ID, func(old store.AuthRequest) (store.AuthRequest, error) {
			old.Status, old.UserID, old.SID = store.AuthRequestApproved, f.user.ID, "sid-1"
			old.AuthTime, old.AMR = base.Add(1500*time.Microsecond), []string{"pwd", "alipay"}
			old.CodeHash, old.ExpiresAt = code, base.Add(time.Minute)
			return old, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !approved.AuthTime.Equal(base.Add(time.Millisecond)) {
			t.Errorf("UpdateAuthRequest returned AuthTime %v; want it at millisecond precision", approved.AuthTime)
		}
		got, err = f.s.GetAuthRequestByCode(ctx, code)
		if err != nil || !reflect.DeepEqual(got, approved) {
			t.Fatalf("GetAuthRequestByCode = %+v, %v; want %+v", got, err, approved)
		}
		if _, err := f.s.GetAuthRequestByCode(ctx, randBytes(32)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetAuthRequestByCode(unknown) = %v", err)
		}

		other := newAuthRequest()
		if err := f.s.CreateAuthRequest(ctx, other); err != nil {
			t.Fatal(err)
		}
		_, err = f.s.UpdateAuthRequest(ctx, other.ID, func(o store.AuthRequest) (store.AuthRequest, error) {
			o.CodeHash = code
			return o, nil
		})
		wantConflict(t, "a code hash used twice", err, "id")

		stop := errors.New("stop")
		if _, err := f.s.UpdateAuthRequest(ctx, a.ID, func(o store.AuthRequest) (store.AuthRequest, error) {
			o.Status = store.AuthRequestDenied
			return o, stop
		}); !errors.Is(err, stop) {
			t.Fatalf("UpdateAuthRequest with a failing fn = %v; want its error", err)
		}
		if _, err := f.s.UpdateAuthRequest(ctx, a.ID, func(o store.AuthRequest) (store.AuthRequest, error) {
			o.ID = "other"
			return o, nil
		}); err == nil {
			t.Fatal("UpdateAuthRequest changed the ID")
		}
		if _, err := f.s.UpdateAuthRequest(ctx, "nope", func(o store.AuthRequest) (store.AuthRequest, error) { return o, nil }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("UpdateAuthRequest(unknown) = %v", err)
		}
		if got, _ := f.s.GetAuthRequest(ctx, a.ID); !reflect.DeepEqual(got, approved) {
			t.Fatalf("failed updates changed the request: %+v", got)
		}
	})

	t.Run("a code is redeemed once under concurrency, with its grant", func(t *testing.T) {
		f := newOAuthFixture(t, newStore)
		a := f.approvedRequest(t)
		errUsed := errors.New("used")
		grants := make([]store.Grant, concurrency)
		tokens := make([]store.RefreshToken, concurrency)
		won := make([]bool, concurrency)
		var wg sync.WaitGroup
		for i := range concurrency {
			grants[i] = f.newGrant()
			tokens[i] = newRefreshToken(grants[i].ID, base)
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.s.RedeemCode(ctx, a, grants[i], &tokens[i], func(o store.AuthRequest) (store.AuthRequest, error) {
					if !o.CodeUsedAt.IsZero() {
						if _, err := f.s.GetGrant(ctx, o.GrantID); err != nil {
							t.Errorf("the code is used but its grant %q: %v", o.GrantID, err)
						}
						return o, errUsed
					}
					o.CodeUsedAt, o.GrantID = base.Add(time.Second), grants[i].ID
					return o, nil
				})
				won[i] = err == nil
				if err != nil && !errors.Is(err, errUsed) {
					t.Errorf("RedeemCode: %v", err)
				}
			}()
		}
		wg.Wait()
		wins := 0
		for i := range concurrency {
			_, gErr := f.s.GetGrant(ctx, grants[i].ID)
			_, tErr := f.s.GetRefreshToken(ctx, tokens[i].TokenHash)
			if !won[i] {
				if !errors.Is(gErr, store.ErrNotFound) || !errors.Is(tErr, store.ErrNotFound) {
					t.Errorf("a redemption that lost stored its grant (%v) or refresh token (%v)", gErr, tErr)
				}
				continue
			}
			wins++
			if gErr != nil || tErr != nil {
				t.Errorf("the redemption that won: grant %v, refresh token %v; want both stored", gErr, tErr)
			}
			got, err := f.s.GetAuthRequest(ctx, a.ID)
			if err != nil || got.GrantID != grants[i].ID || got.CodeUsedAt.IsZero() {
				t.Errorf("GetAuthRequest = %+v, %v; want it used, with grant %s", got, err, grants[i].ID)
			}
		}
		if wins != 1 {
			t.Fatalf("%d redemptions of one code succeeded; want 1", wins)
		}
	})

	t.Run("a redemption that fails stores nothing", func(t *testing.T) {
		f := newOAuthFixture(t, newStore)
		a := f.approvedRequest(t)
		use := func(g store.Grant) func(store.AuthRequest) (store.AuthRequest, error) {
			return func(o store.AuthRequest) (store.AuthRequest, error) {
				o.CodeUsedAt, o.GrantID = base.Add(time.Second), g.ID
				return o, nil
			}
		}
		nothingStored := func(what string, g store.Grant, rt store.RefreshToken) {
			t.Helper()
			if got, err := f.s.GetAuthRequest(ctx, a.ID); err != nil || !reflect.DeepEqual(got, a) {
				t.Fatalf("%s: the request is now %+v, %v; want it unchanged", what, got, err)
			}
			if _, err := f.s.GetGrant(ctx, g.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s: GetGrant = %v; want ErrNotFound", what, err)
			}
			if _, err := f.s.GetRefreshToken(ctx, rt.TokenHash); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s: GetRefreshToken = %v; want ErrNotFound", what, err)
			}
		}

		g := f.newGrant()
		rt := newRefreshToken(g.ID, base)
		stop := errors.New("stop")
		if _, err := f.s.RedeemCode(ctx, a, g, &rt, func(o store.AuthRequest) (store.AuthRequest, error) {
			o.CodeUsedAt = base
			return o, stop
		}); !errors.Is(err, stop) {
			t.Fatalf("RedeemCode with a failing fn = %v; want its error", err)
		}
		nothingStored("a failing fn", g, rt)

		gone := g
		gone.UserID = "nobody"
		if _, err := f.s.RedeemCode(ctx, a, gone, &rt, use(gone)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("RedeemCode for an unknown user = %v; want ErrNotFound", err)
		}
		nothingStored("an unknown user", gone, rt)

		other := f.newGrant()
		if err := f.s.CreateGrant(ctx, other); err != nil {
			t.Fatal(err)
		}
		stored := newRefreshToken(other.ID, base)
		if err := f.s.CreateRefreshToken(ctx, stored); err != nil {
			t.Fatal(err)
		}
		taken := newRefreshToken(g.ID, base)
		taken.TokenHash = stored.TokenHash
		if _, err := f.s.RedeemCode(ctx, a, g, &taken, use(g)); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("RedeemCode with a refresh token already stored = %v; want ErrConflict", err)
		}
		nothingStored("a refresh token already stored", g, rt)

		if _, err := f.s.RedeemCode(ctx, a, g, &rt, use(other)); err == nil {
			t.Fatal("RedeemCode with the request naming another grant succeeded")
		}
		nothingStored("the request naming another grant", g, rt)
		if _, err := f.s.RedeemCode(ctx, a, g, &rt, func(o store.AuthRequest) (store.AuthRequest, error) {
			o.GrantID = g.ID
			return o, nil
		}); err == nil {
			t.Fatal("RedeemCode leaving the code unused succeeded")
		}
		nothingStored("the code left unused", g, rt)

		if _, err := f.s.RedeemCode(ctx, store.AuthRequest{ID: "nope"}, g, &rt, use(g)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("RedeemCode(unknown request) = %v; want ErrNotFound", err)
		}
		nothingStored("an unknown request", g, rt)

		// Without offline_access there is no refresh token.
		got, err := f.s.RedeemCode(ctx, a, g, nil, use(g))
		if err != nil || got.GrantID != g.ID {
			t.Fatalf("RedeemCode without a refresh token = %+v, %v", got, err)
		}
		if stored, err := f.s.GetGrant(ctx, g.ID); err != nil || stored.UserID != g.UserID || !reflect.DeepEqual(stored.Scopes, g.Scopes) {
			t.Fatalf("GetGrant after the redemption = %+v, %v; want %+v", stored, err, g)
		}
	})

	t.Run("a redemption decides on the request as stored", func(t *testing.T) {
		f := newOAuthFixture(t, newStore)
		var decided []store.AuthRequest
		use := func(g store.Grant) func(store.AuthRequest) (store.AuthRequest, error) {
			return func(o store.AuthRequest) (store.AuthRequest, error) {
				decided = append(decided, o)
				if o.Status != store.AuthRequestApproved || !o.CodeUsedAt.IsZero() {
					return o, errors.New("the code gives nothing")
				}
				o.CodeUsedAt, o.GrantID = base.Add(time.Second), g.ID
				return o, nil
			}
		}
		// Seen before its approval: the approved request decides.
		a := f.approvedRequest(t)
		stale := a
		stale.Status, stale.UserID, stale.CodeHash = store.AuthRequestPending, "", nil
		g := f.newGrant()
		if got, err := f.s.RedeemCode(ctx, stale, g, nil, use(g)); err != nil || got.GrantID != g.ID || len(decided) == 0 || decided[len(decided)-1].Status != store.AuthRequestApproved {
			t.Fatalf("RedeemCode of a request seen before its approval = %+v, %v; want it redeemed as stored", got, err)
		}
		// Seen in a state that fn accepts but the store no longer holds
		// (another session): what is written is decided on the stored one.
		a = f.approvedRequest(t)
		elsewhere := a
		elsewhere.SID = "another-session"
		decided = nil
		g = f.newGrant()
		if _, err := f.s.RedeemCode(ctx, elsewhere, g, nil, use(g)); err != nil || len(decided) == 0 || decided[len(decided)-1].SID != a.SID {
			t.Fatalf("RedeemCode of a request seen with another session = %v, decisions on %v; want the last on session %q", err, decided, a.SID)
		}
		if got, err := f.s.GetAuthRequest(ctx, a.ID); err != nil || got.SID != a.SID || got.GrantID != g.ID {
			t.Fatalf("the request after its redemption = %+v, %v; want its own session and grant %s", got, err, g.ID)
		}
		// Seen as stored, read back by its code as the exchange reads it:
		// decided once, on what was seen.
		b := f.approvedRequest(t)
		read, err := f.s.GetAuthRequestByCode(ctx, b.CodeHash)
		if err != nil {
			t.Fatal(err)
		}
		decided = nil
		h := f.newGrant()
		if got, err := f.s.RedeemCode(ctx, read, h, nil, use(h)); err != nil || got.GrantID != h.ID || len(decided) != 1 {
			t.Fatalf("RedeemCode of the request as stored = %+v, %v, %d decisions; want it redeemed on one", got, err, len(decided))
		}
		// Seen unused once used: the stored request says used.
		decided = nil
		k := f.newGrant()
		if _, err := f.s.RedeemCode(ctx, read, k, nil, use(k)); err == nil || len(decided) == 0 || decided[len(decided)-1].CodeUsedAt.IsZero() {
			t.Fatalf("a code redeemed twice, or its second redemption never saw it used: %v", err)
		}
	})

	// A redemption may decide on what it saw while a revocation runs to
	// its end: whatever it then writes must not leave a live grant.
	t.Run("a revocation while a redemption decides on what it saw", func(t *testing.T) {
		f := newOAuthFixture(t, newStore)
		g := f.newGrant()
		a := f.approvedRequest(t)
		release := make(chan struct{})
		redeemed := f.redeemHeld(t, ctx, a, g, release)
		revoked := make(chan error, 1)
		go func() {
			_, err := f.s.RevokeUserGrants(ctx, f.user.ID, base.Add(2*time.Second))
			revoked <- err
		}()
		// Until the code is denied (the redemption holds no lock while it
		// decides), or for half a second where the revocation must wait
		// for the redemption (SQLite's single writer).
		for deadline := time.Now().Add(500 * time.Millisecond); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if got, err := f.s.GetAuthRequest(ctx, a.ID); err == nil && got.Status == store.AuthRequestDenied {
				break
			}
		}
		close(release)
		redeemErr := <-redeemed
		if err := <-revoked; err != nil {
			t.Fatal(err)
		}
		got, err := f.s.GetGrant(ctx, g.ID)
		switch {
		case redeemErr == nil && (err != nil || got.RevokedAt.IsZero()):
			t.Fatalf("the code was redeemed and its grant outlived the revocation: %+v, %v", got, err)
		case redeemErr != nil && !errors.Is(err, store.ErrNotFound):
			t.Fatalf("the redemption failed (%v) but its grant is stored: %v", redeemErr, err)
		}
	})

	// An identity switch, a password change or a withdrawn consent revokes
	// grants while one of the user's codes may be in the middle of its
	// exchange: the grant that exchange makes must not outlive the
	// revocation.
	t.Run("a revocation does not miss a grant being redeemed", func(t *testing.T) {
		revocations := map[string]func(f oauthFixture, sid string) error{
			"user": func(f oauthFixture, _ string) error {
				_, err := f.s.RevokeUserGrants(ctx, f.user.ID, base.Add(2*time.Second))
				return err
			},
			"session": func(f oauthFixture, sid string) error {
				_, err := f.s.RevokeSessionGrants(ctx, f.user.ID, sid, base.Add(2*time.Second))
				return err
			},
			"client": func(f oauthFixture, _ string) error {
				_, err := f.s.WithdrawConsent(ctx, f.user.ID, f.client.ID, base.Add(2*time.Second))
				return err
			},
		}
		for name, revoke := range revocations {
			t.Run(name, func(t *testing.T) {
				f := newOAuthFixture(t, newStore)
				if err := f.putConsent(); err != nil { // for the withdrawal
					t.Fatal(err)
				}
				g := f.newGrant()
				a := newAuthRequest()
				a.Status, a.UserID, a.SID, a.CodeHash = store.AuthRequestApproved, f.user.ID, g.SID, randBytes(32)
				if err := f.s.CreateAuthRequest(ctx, a); err != nil {
					t.Fatal(err)
				}
				// Seen as nothing the store holds: fn decides on the
				// request as stored, locked, on every store.
				release := make(chan struct{})
				redeemed := f.redeemHeld(t, ctx, store.AuthRequest{ID: a.ID}, g, release)
				revoked := make(chan error, 1)
				go func() { revoked <- revoke(f, g.SID) }()
				// Let the revocation reach the request's row before the
				// redemption commits; were it slower, the test would only
				// check the easy order.
				time.Sleep(200 * time.Millisecond)
				close(release)
				redeemErr := <-redeemed
				if err := <-revoked; err != nil {
					t.Fatal(err)
				}
				if redeemErr != nil {
					t.Fatalf("the redemption that held the code first: %v", redeemErr)
				}
				got, err := f.s.GetGrant(ctx, g.ID)
				if err != nil || got.RevokedAt.IsZero() {
					t.Fatalf("the revocation returned and the grant redeemed meanwhile is live: %+v, %v", got, err)
				}
			})
		}
	})

	t.Run("grants", func(t *testing.T) {
		f := newOAuthFixture(t, newStore)
		g := f.newGrant()
		if err := f.s.CreateGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
		got, err := f.s.GetGrant(ctx, g.ID)
		if err != nil || !reflect.DeepEqual(got, g) {
			t.Fatalf("GetGrant = %+v, %v; want %+v", got, err, g)
		}
		orphan := f.newGrant()
		orphan.UserID = "nobody"
		if err := f.s.CreateGrant(ctx, orphan); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("CreateGrant(unknown user) = %v; want ErrNotFound", err)
		}
		if _, err := f.s.GetGrant(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetGrant(unknown) = %v", err)
		}
		first := base.Add(time.Hour)
		if err := f.s.RevokeGrant(ctx, g.ID, first); err != nil {
			t.Fatal(err)
		}
		if err := f.s.RevokeGrant(ctx, g.ID, first.Add(time.Hour)); err != nil {
			t.Fatalf("RevokeGrant twice: %v", err)
		}
		if got, _ := f.s.GetGrant(ctx, g.ID); !got.RevokedAt.Equal(first) {
			t.Fatalf("RevokedAt = %v; want the first revocation %v", got.RevokedAt, first)
		}
		if err := f.s.RevokeGrant(ctx, "nope", first); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("RevokeGrant(unknown) = %v", err)
		}

		live1, live2 := f.newGrant(), f.newGrant()
		otherClient := newClient("archive")
		if err := f.s.CreateClient(ctx, otherClient); err != nil {
			t.Fatal(err)
		}
		elsewhere := f.newGrant()
		elsewhere.ClientID = otherClient.ID
		for _, x := range []store.Grant{live1, live2, elsewhere} {
			if err := f.s.CreateGrant(ctx, x); err != nil {
				t.Fatal(err)
			}
		}
		// Without a consent to withdraw, nothing changes.
		if n, err := f.s.WithdrawConsent(ctx, f.user.ID, f.client.ID, first.Add(2*time.Hour)); !errors.Is(err, store.ErrNotFound) || n != 0 {
			t.Fatalf("WithdrawConsent without a consent = %d, %v; want ErrNotFound", n, err)
		}
		if got, _ := f.s.GetGrant(ctx, live1.ID); !got.RevokedAt.IsZero() {
			t.Fatal("WithdrawConsent without a consent revoked a grant")
		}
		if err := f.putConsent(); err != nil {
			t.Fatal(err)
		}
		n, err := f.s.WithdrawConsent(ctx, f.user.ID, f.client.ID, first.Add(2*time.Hour))
		if err != nil || n != 2 {
			t.Fatalf("WithdrawConsent = %d, %v; want the 2 live grants of the client", n, err)
		}
		if _, err := f.s.GetConsent(ctx, f.user.ID, f.client.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the consent after its withdrawal: %v", err)
		}
		if got, _ := f.s.GetGrant(ctx, elsewhere.ID); !got.RevokedAt.IsZero() {
			t.Fatal("WithdrawConsent revoked a grant of another client")
		}
		if got, _ := f.s.GetGrant(ctx, g.ID); !got.RevokedAt.Equal(first) {
			t.Fatal("WithdrawConsent changed the revocation time of a revoked grant")
		}

		if err := f.s.DeleteClient(ctx, otherClient.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.GetGrant(ctx, elsewhere.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a grant outlived its client: %v", err)
		}
	})

	t.Run("grants of a session and the identity they act as", func(t *testing.T) {
		f := newOAuthFixture(t, newStore)
		acting, same, other := f.newGrant(), f.newGrant(), f.newGrant()
		acting.ActingUSCC = "91350100M000100Y43"
		same.SID = acting.SID
		for _, x := range []store.Grant{acting, same, other} {
			if err := f.s.CreateGrant(ctx, x); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := f.s.GetGrant(ctx, acting.ID); err != nil || got.ActingUSCC != acting.ActingUSCC {
			t.Fatalf("GetGrant = %+v, %v; want ActingUSCC kept", got, err)
		}
		if got, _ := f.s.GetGrant(ctx, other.ID); got.ActingUSCC != "" {
			t.Fatalf("a grant for the person has ActingUSCC %q", got.ActingUSCC)
		}
		// An approved request of the session whose code is not redeemed
		// yet, and one of another session.
		pending, elsewhere := newAuthRequest(), newAuthRequest()
		pending.Status, pending.UserID, pending.SID, pending.CodeHash = store.AuthRequestApproved, f.user.ID, acting.SID, []byte("code-p")
		elsewhere.Status, elsewhere.UserID, elsewhere.SID, elsewhere.CodeHash = store.AuthRequestApproved, f.user.ID, other.SID, []byte("code-e")
		for _, a := range []store.AuthRequest{pending, elsewhere} {
			if err := f.s.CreateAuthRequest(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		at := base.Add(time.Hour)
		n, err := f.s.RevokeSessionGrants(ctx, f.user.ID, acting.SID, at)
		if err != nil || n != 2 {
			t.Fatalf("RevokeSessionGrants = %d, %v; want the 2 grants of the session", n, err)
		}
		if got, _ := f.s.GetAuthRequest(ctx, pending.ID); got.Status != store.AuthRequestDenied {
			t.Errorf("the session's unredeemed approved request is %s, want denied", got.Status)
		}
		if got, _ := f.s.GetAuthRequest(ctx, elsewhere.ID); got.Status != store.AuthRequestApproved {
			t.Errorf("another session's request is %s, want approved", got.Status)
		}
		if got, _ := f.s.GetGrant(ctx, other.ID); !got.RevokedAt.IsZero() {
			t.Fatal("RevokeSessionGrants revoked a grant of another session")
		}
		if n, err := f.s.RevokeSessionGrants(ctx, "someone-else", other.SID, at); err != nil || n != 0 {
			t.Fatalf("RevokeSessionGrants of another user = %d, %v; want nothing", n, err)
		}
	})

	t.Run("revoke every grant of a user", func(t *testing.T) {
		f := newOAuthFixture(t, newStore)
		otherClient := newClient("mail")
		if err := f.s.CreateClient(ctx, otherClient); err != nil {
			t.Fatal(err)
		}
		someoneElse := newUser()
		if err := f.s.CreateUser(ctx, someoneElse); err != nil {
			t.Fatal(err)
		}
		first := base.Add(time.Hour)
		revoked, live, elsewhere, notMine := f.newGrant(), f.newGrant(), f.newGrant(), f.newGrant()
		elsewhere.ClientID, notMine.UserID = otherClient.ID, someoneElse.ID
		for _, g := range []store.Grant{revoked, live, elsewhere, notMine} {
			if err := f.s.CreateGrant(ctx, g); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.s.RevokeGrant(ctx, revoked.ID, first); err != nil {
			t.Fatal(err)
		}
		at := first.Add(time.Hour)
		n, err := f.s.RevokeUserGrants(ctx, f.user.ID, at)
		if err != nil || n != 2 {
			t.Fatalf("RevokeUserGrants = %d, %v; want the 2 live grants of the user", n, err)
		}
		for _, tt := range []struct {
			name string
			id   string
			want time.Time
		}{
			{"live grant", live.ID, at},
			{"grant of another client", elsewhere.ID, at},
			{"grant revoked before keeps its time", revoked.ID, first},
			{"grant of another user", notMine.ID, time.Time{}},
		} {
			got, err := f.s.GetGrant(ctx, tt.id)
			if err != nil || !got.RevokedAt.Equal(tt.want) {
				t.Errorf("%s: RevokedAt = %v, %v; want %v", tt.name, got.RevokedAt, err, tt.want)
			}
		}
		if n, err := f.s.RevokeUserGrants(ctx, f.user.ID, at.Add(time.Hour)); err != nil || n != 0 {
			t.Errorf("second RevokeUserGrants = %d, %v; want 0", n, err)
		}
	})

	revocations := []struct {
		name   string
		revoke func(f oauthFixture) error
		// the status left to the user's approved request of another client
		otherClient string
	}{
		{"a user's grants", func(f oauthFixture) error {
			_, err := f.s.RevokeUserGrants(ctx, f.user.ID, base.Add(time.Minute))
			return err
		}, store.AuthRequestDenied},
		{"a client's grants (consent withdrawn)", func(f oauthFixture) error {
			if err := f.putConsent(); err != nil {
				return err
			}
			_, err := f.s.WithdrawConsent(ctx, f.user.ID, f.client.ID, base.Add(time.Minute))
			return err
		}, store.AuthRequestApproved},
	}
	for _, rv := range revocations {
		t.Run("revoking "+rv.name+" denies the unredeemed codes", func(t *testing.T) {
			f := newOAuthFixture(t, newStore)
			someoneElse := newUser()
			if err := f.s.CreateUser(ctx, someoneElse); err != nil {
				t.Fatal(err)
			}
			if err := f.s.CreateClient(ctx, newClient("archive")); err != nil {
				t.Fatal(err)
			}
			approved, pending, used, others, archive := newAuthRequest(), newAuthRequest(), newAuthRequest(), newAuthRequest(), newAuthRequest()
			approved.Status, approved.UserID, approved.CodeHash = store.AuthRequestApproved, f.user.ID, []byte("code-a")
			pending.UserID = f.user.ID
			used.Status, used.UserID, used.CodeHash, used.CodeUsedAt = store.AuthRequestApproved, f.user.ID, []byte("code-u"), base
			others.Status, others.UserID, others.CodeHash = store.AuthRequestApproved, someoneElse.ID, []byte("code-o")
			archive.Status, archive.UserID, archive.CodeHash, archive.ClientID = store.AuthRequestApproved, f.user.ID, []byte("code-c"), "archive"
			for _, a := range []store.AuthRequest{approved, pending, used, others, archive} {
				if err := f.s.CreateAuthRequest(ctx, a); err != nil {
					t.Fatal(err)
				}
			}
			if err := rv.revoke(f); err != nil {
				t.Fatal(err)
			}
			for _, tt := range []struct {
				name string
				id   string
				want string
			}{
				{"approved, code not used", approved.ID, store.AuthRequestDenied},
				{"still pending (nothing issued)", pending.ID, store.AuthRequestPending},
				{"code already used (its grant is revoked)", used.ID, store.AuthRequestApproved},
				{"another user's", others.ID, store.AuthRequestApproved},
				{"another client's", archive.ID, rv.otherClient},
			} {
				got, err := f.s.GetAuthRequest(ctx, tt.id)
				if err != nil || got.Status != tt.want {
					t.Errorf("%s: status %q, %v; want %q", tt.name, got.Status, err, tt.want)
				}
			}
		})
	}

	t.Run("refresh tokens rotate once", func(t *testing.T) {
		f := newOAuthFixture(t, newStore)
		g := f.newGrant()
		if err := f.s.CreateGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
		first := newRefreshToken(g.ID, base)
		if err := f.s.CreateRefreshToken(ctx, first); err != nil {
			t.Fatal(err)
		}
		if err := f.s.CreateRefreshToken(ctx, newRefreshToken("nope", base)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("CreateRefreshToken(unknown grant) = %v", err)
		}
		got, err := f.s.GetRefreshToken(ctx, first.TokenHash)
		if err != nil || !reflect.DeepEqual(got, first) {
			t.Fatalf("GetRefreshToken = %+v, %v; want %+v", got, err, first)
		}
		second := newRefreshToken(g.ID, base.Add(time.Hour))
		if err := f.s.RotateRefreshToken(ctx, first.TokenHash, second); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.s.GetRefreshToken(ctx, first.TokenHash); !got.UsedAt.Equal(second.CreatedAt) {
			t.Fatalf("rotated token UsedAt = %v; want %v", got.UsedAt, second.CreatedAt)
		}
		stillNotUsed(t, f.s, "the successor", second.TokenHash)

		// A successor that cannot be stored leaves its predecessor unused.
		orphan := newRefreshToken("nope", base.Add(2*time.Hour))
		if err := f.s.RotateRefreshToken(ctx, second.TokenHash, orphan); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("RotateRefreshToken to a successor of an unknown grant = %v; want ErrNotFound", err)
		}
		stillNotUsed(t, f.s, "a token whose successor's grant is unknown", second.TokenHash)
		taken := newRefreshToken(g.ID, base.Add(2*time.Hour))
		taken.TokenHash = first.TokenHash
		if err := f.s.RotateRefreshToken(ctx, second.TokenHash, taken); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("RotateRefreshToken to a successor whose hash is taken = %v; want ErrConflict", err)
		}
		stillNotUsed(t, f.s, "a token whose successor's hash is taken", second.TokenHash)

		replayed := newRefreshToken(g.ID, base.Add(2*time.Hour))
		if err := f.s.RotateRefreshToken(ctx, first.TokenHash, replayed); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("RotateRefreshToken of a used token = %v; want ErrConflict", err)
		}
		if _, err := f.s.GetRefreshToken(ctx, replayed.TokenHash); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a refused rotation stored its successor: %v", err)
		}
		if err := f.s.RotateRefreshToken(ctx, randBytes(32), replayed); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("RotateRefreshToken(unknown) = %v; want ErrNotFound", err)
		}

		var wins atomic.Int32
		var wg sync.WaitGroup
		for range concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := f.s.RotateRefreshToken(ctx, second.TokenHash, newRefreshToken(g.ID, base.Add(3*time.Hour)))
				switch {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, store.ErrConflict):
					t.Errorf("RotateRefreshToken: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d concurrent rotations of one token succeeded; want 1", wins.Load())
		}
	})

	t.Run("revoked access tokens", func(t *testing.T) {
		s := newStore(t)
		if revoked, err := s.AccessTokenRevoked(ctx, "jti-1"); err != nil || revoked {
			t.Fatalf("AccessTokenRevoked(unknown) = %v, %v", revoked, err)
		}
		for range 2 {
			if err := s.RevokeAccessToken(ctx, "jti-1", base.Add(10*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		if revoked, err := s.AccessTokenRevoked(ctx, "jti-1"); err != nil || !revoked {
			t.Fatalf("AccessTokenRevoked = %v, %v", revoked, err)
		}
	})

	t.Run("consents", func(t *testing.T) {
		f := newOAuthFixture(t, newStore)
		if list, err := f.s.ListConsents(ctx, f.user.ID); err != nil || len(list) != 0 {
			t.Fatalf("ListConsents on an empty store = %v, %v", list, err)
		}
		c := store.Consent{UserID: f.user.ID, ClientID: f.client.ID, Scopes: []string{"openid", "phone"}, CreatedAt: base, UpdatedAt: base}
		if err := f.s.PutConsent(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, err := f.s.GetConsent(ctx, f.user.ID, f.client.ID)
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Fatalf("GetConsent = %+v, %v; want %+v", got, err, c)
		}
		later := c
		later.Scopes = []string{"openid", "phone", "idcard"}
		later.CreatedAt, later.UpdatedAt = base.Add(time.Hour), base.Add(time.Hour)
		if err := f.s.PutConsent(ctx, later); err != nil {
			t.Fatal(err)
		}
		got, _ = f.s.GetConsent(ctx, f.user.ID, f.client.ID)
		if !reflect.DeepEqual(got.Scopes, later.Scopes) || !got.CreatedAt.Equal(base) || !got.UpdatedAt.Equal(later.UpdatedAt) {
			t.Fatalf("after PutConsent again: %+v; want the new scopes, the first CreatedAt", got)
		}
		archive := newClient("archive")
		if err := f.s.CreateClient(ctx, archive); err != nil {
			t.Fatal(err)
		}
		if err := f.s.PutConsent(ctx, store.Consent{UserID: f.user.ID, ClientID: "archive", CreatedAt: base, UpdatedAt: base}); err != nil {
			t.Fatal(err)
		}
		list, err := f.s.ListConsents(ctx, f.user.ID)
		if err != nil || len(list) != 2 || list[0].ClientID != "archive" || list[1].ClientID != "hall" || list[0].Scopes != nil {
			t.Fatalf("ListConsents = %+v, %v", list, err)
		}
		if err := f.s.PutConsent(ctx, store.Consent{UserID: "nobody", ClientID: "hall", CreatedAt: base, UpdatedAt: base}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("PutConsent(unknown user) = %v", err)
		}
		if err := f.s.DeleteConsent(ctx, f.user.ID, "hall"); err != nil {
			t.Fatal(err)
		}
		if err := f.s.DeleteConsent(ctx, f.user.ID, "hall"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("DeleteConsent twice = %v", err)
		}
		if _, err := f.s.GetConsent(ctx, f.user.ID, "hall"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetConsent after delete = %v", err)
		}
	})

	t.Run("signing keys", func(t *testing.T) {
		s := newStore(t)
		if keys, err := s.ListSigningKeys(ctx); err != nil || len(keys) != 0 {
			t.Fatalf("ListSigningKeys on an empty store = %v, %v", keys, err)
		}
		k1 := newSigningKey(base)
		if err := s.CreateSigningKey(ctx, k1); err != nil {
			t.Fatal(err)
		}
		wantConflict(t, "a second active key", s.CreateSigningKey(ctx, newSigningKey(base)), "id")
		k2 := newSigningKey(base.Add(time.Hour))
		if err := s.RotateSigningKey(ctx, k1.ID, k2); err != nil {
			t.Fatal(err)
		}
		if err := s.RotateSigningKey(ctx, k1.ID, newSigningKey(base.Add(2*time.Hour))); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("RotateSigningKey from a retired key = %v; want ErrConflict", err)
		}
		keys, err := s.ListSigningKeys(ctx)
		retired := k1
		retired.RetiredAt = k2.CreatedAt
		if err != nil || len(keys) != 2 || !reflect.DeepEqual(keys[0], k2) || !reflect.DeepEqual(keys[1], retired) {
			t.Fatalf("ListSigningKeys = %+v, %v; want [%+v %+v]", keys, err, k2, retired)
		}
		if n, err := s.DeleteSigningKeysRetiredBefore(ctx, k2.CreatedAt); err != nil || n != 0 {
			t.Fatalf("DeleteSigningKeysRetiredBefore(retirement) = %d, %v; want 0", n, err)
		}
		if n, err := s.DeleteSigningKeysRetiredBefore(ctx, k2.CreatedAt.Add(time.Millisecond)); err != nil || n != 1 {
			t.Fatalf("DeleteSigningKeysRetiredBefore = %d, %v; want 1", n, err)
		}
		if keys, _ := s.ListSigningKeys(ctx); len(keys) != 1 || keys[0].ID != k2.ID {
			t.Fatalf("after delete: %+v; the active key must stay", keys)
		}
	})

	t.Run("one active key under concurrency", func(t *testing.T) {
		s := newStore(t)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				switch err := s.CreateSigningKey(ctx, newSigningKey(base)); {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, store.ErrConflict):
					t.Errorf("CreateSigningKey: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d instances created the first key; want 1", wins.Load())
		}
		keys, _ := s.ListSigningKeys(ctx)
		wins.Store(0)
		for range concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				switch err := s.RotateSigningKey(ctx, keys[0].ID, newSigningKey(base.Add(time.Hour))); {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, store.ErrConflict):
					t.Errorf("RotateSigningKey: %v", err)
				}
			}()
		}
		wg.Wait()
		active := 0
		keys, _ = s.ListSigningKeys(ctx)
		for _, k := range keys {
			if k.RetiredAt.IsZero() {
				active++
			}
		}
		if wins.Load() != 1 || active != 1 || len(keys) != 2 {
			t.Fatalf("%d concurrent rotations won, %d keys active of %d; want 1, 1 of 2", wins.Load(), active, len(keys))
		}
	})

	t.Run("delete expired", func(t *testing.T) {
		f := newOAuthFixture(t, newStore)
		now := base.Add(time.Hour)
		oldReq, liveReq := newAuthRequest(), newAuthRequest()
		oldReq.ExpiresAt, liveReq.ExpiresAt = now, now.Add(time.Millisecond)
		oldGrant, liveGrant := f.newGrant(), f.newGrant()
		oldGrant.ExpiresAt = now
		oldToken, liveToken, expiredToken := newRefreshToken(oldGrant.ID, base), newRefreshToken(liveGrant.ID, base), newRefreshToken(liveGrant.ID, base)
		expiredToken.ExpiresAt = now.Add(-time.Millisecond)
		for _, err := range []error{
			f.s.CreateAuthRequest(ctx, oldReq), f.s.CreateAuthRequest(ctx, liveReq),
			f.s.CreateGrant(ctx, oldGrant), f.s.CreateGrant(ctx, liveGrant),
			f.s.CreateRefreshToken(ctx, oldToken), f.s.CreateRefreshToken(ctx, liveToken), f.s.CreateRefreshToken(ctx, expiredToken),
			f.s.RevokeAccessToken(ctx, "old", now), f.s.RevokeAccessToken(ctx, "live", now.Add(time.Second)),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		// 1 request, 1 refresh token expired by itself, 1 grant (its token goes with it), 1 revoked jti.
		if n, err := f.s.DeleteExpiredOAuth(ctx, now); err != nil || n < 4 {
			t.Fatalf("DeleteExpiredOAuth = %d, %v; want at least 4", n, err)
		}
		gone := []error{}
		_, err := f.s.GetAuthRequest(ctx, oldReq.ID)
		gone = append(gone, err)
		_, err = f.s.GetGrant(ctx, oldGrant.ID)
		gone = append(gone, err)
		_, err = f.s.GetRefreshToken(ctx, oldToken.TokenHash)
		gone = append(gone, err)
		_, err = f.s.GetRefreshToken(ctx, expiredToken.TokenHash)
		gone = append(gone, err)
		for i, err := range gone {
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("expired record %d: %v; want ErrNotFound", i, err)
			}
		}
		if _, err := f.s.GetAuthRequest(ctx, liveReq.ID); err != nil {
			t.Errorf("live request: %v", err)
		}
		if _, err := f.s.GetGrant(ctx, liveGrant.ID); err != nil {
			t.Errorf("live grant: %v", err)
		}
		stillNotUsed(t, f.s, "live refresh token", liveToken.TokenHash)
		if revoked, _ := f.s.AccessTokenRevoked(ctx, "old"); revoked {
			t.Error("an expired revocation record is still there")
		}
		if revoked, _ := f.s.AccessTokenRevoked(ctx, "live"); !revoked {
			t.Error("a live revocation record is gone")
		}
	})
}
