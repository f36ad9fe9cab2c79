package account_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"unid/internal/account"
	"unid/internal/account/accounttest"
	"unid/internal/audit"
	"unid/internal/session"
	"unid/internal/store"
	"unid/internal/store/sqlite/sqlitetest"
)

// orderStore notes, in steps, when the account's sessions are taken and
// when its grants are revoked.
type orderStore struct {
	store.Store
	steps *[]string
}

func (s orderStore) TakeUserSessions(ctx context.Context, userID string) ([]store.Session, error) {
	*s.steps = append(*s.steps, "take")
	return s.Store.TakeUserSessions(ctx, userID)
}

func (s orderStore) TakeOtherUserSessions(ctx context.Context, userID, keepSID string) ([]store.Session, error) {
	*s.steps = append(*s.steps, "take")
	return s.Store.TakeOtherUserSessions(ctx, userID, keepSID)
}

func (s orderStore) DeleteUserSessions(ctx context.Context, userID string) (int64, error) {
	*s.steps = append(*s.steps, "take")
	return s.Store.DeleteUserSessions(ctx, userID)
}

func (s orderStore) RevokeUserGrants(ctx context.Context, userID string, at time.Time) (int64, error) {
	*s.steps = append(*s.steps, "revoke")
	return s.Store.RevokeUserGrants(ctx, userID, at)
}

// TestEndingAnAccountsAccessTakesSessionsFirst: whatever ends an
// account's sessions and grants (a password change, keeping the changing
// browser or not; disabling the account; an operator's sign-out) takes the
// sessions before it revokes the grants, so that a sign-in finishing
// meanwhile through one of them cannot leave a grant behind, and tells the
// service systems last, so that one asking for new tokens at once gets
// none. Without a session manager the order is the same.
func TestEndingAnAccountsAccessTakesSessionsFirst(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		end  func(s *account.Service, userID, keepSID string) error
		keep bool
	}{
		{name: "password change", end: func(s *account.Service, userID, _ string) error {
			return s.SetPassword(ctx, userID, "Qingdao#2027", audit.User(userID))
		}},
		{name: "password change keeping this browser", keep: true, end: func(s *account.Service, userID, keepSID string) error {
			return s.SetPasswordKeeping(ctx, userID, "Qingdao#2027", account.Keep{SID: keepSID}, audit.User(userID))
		}},
		{name: "disabled", end: func(s *account.Service, userID, _ string) error {
			return s.Disable(ctx, userID, audit.Operator("test"), "test")
		}},
		{name: "operator's sign-out", end: func(s *account.Service, userID, _ string) error {
			_, err := account.NewDesk(s, nil, nil, nil).SignOut(ctx, userID, "test", audit.Origin{Actor: audit.Operator("test")})
			return err
		}},
	} {
		for _, manager := range []bool{true, false} {
			name := tt.name
			if !manager {
				name += " without a session manager"
			}
			t.Run(name, func(t *testing.T) {
				f := accounttest.New(t, sqlitetest.New(t))
				var steps []string
				st := orderStore{Store: f.Store, steps: &steps}
				m := session.New(st, f.Audit, f.Clock, session.Options{Idle: time.Hour, Max: time.Hour})
				m.OnEnd(func(context.Context, store.Session) { steps = append(steps, "tell") })
				deps := account.ServiceDeps{Store: st, Hasher: f.Hasher, Protector: f.Protector, Audit: f.Audit, Now: f.Clock}
				if manager {
					deps.Sessions = m
				}
				s := account.NewService(deps)
				u := f.Create(t, zhang)
				var sids []string
				for range 2 {
					sess, err := m.SignIn(ctx, httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil), u.ID, "", "")
					if err != nil {
						t.Fatal(err)
					}
					sids = append(sids, sess.SID)
				}
				steps = nil
				if err := tt.end(s, u.ID, sids[0]); err != nil {
					t.Fatal(err)
				}
				want := []string{"take", "revoke", "tell", "tell"}
				switch {
				case tt.keep && manager:
					want = want[:3]
				case !manager:
					want = want[:2]
				}
				if !slices.Equal(steps, want) {
					t.Fatalf("steps %s; want %s", strings.Join(steps, ", "), strings.Join(want, ", "))
				}
				left, err := m.ListUser(ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				if tt.keep && (len(left) != 1 || left[0].SID != sids[0]) || !tt.keep && len(left) != 0 {
					t.Fatalf("sessions left: %v", left)
				}
			})
		}
	}
}
