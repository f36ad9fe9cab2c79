package account_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"unid/internal/account"
	"unid/internal/account/accounttest"
	"unid/internal/audit"
	"unid/internal/httpx"
	"unid/internal/notify"
	"unid/internal/problem"
	"unid/internal/session"
	"unid/internal/store"
	"unid/internal/store/sqlite/sqlitetest"
)

// steps is what happened, in order; the logout hooks of several sessions
// note theirs side by side.
type steps struct {
	mu   sync.Mutex
	list []string
}

func (s *steps) add(step string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = append(s.list, step)
}

func (s *steps) reset() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.list
	s.list = nil
	return l
}

// orderStore notes when the account's sessions are taken and when its
// grants are revoked; with failTake, taking them fails.
type orderStore struct {
	store.Store
	steps       *steps
	failTake    bool
	afterUpdate func() // after each UpdateUser that succeeded
}

func (s orderStore) UpdateUser(ctx context.Context, id string, fn func(store.User) (store.User, error)) (store.User, error) {
	u, err := s.Store.UpdateUser(ctx, id, fn)
	if err == nil && s.afterUpdate != nil {
		s.afterUpdate()
	}
	return u, err
}

// errTake is a store that went away: what a password change answers must
// not become "try again" for it.
var errTake = fmt.Errorf("the sessions cannot be taken: %w", store.ErrUnavailable)

func (s orderStore) take() error {
	s.steps.add("take")
	if s.failTake {
		return errTake
	}
	return nil
}

func (s orderStore) TakeUserSessions(ctx context.Context, userID string) ([]store.Session, error) {
	if err := s.take(); err != nil {
		return nil, err
	}
	return s.Store.TakeUserSessions(ctx, userID)
}

func (s orderStore) TakeOtherUserSessions(ctx context.Context, userID, keepSID string) ([]store.Session, error) {
	if err := s.take(); err != nil {
		return nil, err
	}
	return s.Store.TakeOtherUserSessions(ctx, userID, keepSID)
}

func (s orderStore) DeleteUserSessions(ctx context.Context, userID string) (int64, error) {
	if err := s.take(); err != nil {
		return 0, err
	}
	return s.Store.DeleteUserSessions(ctx, userID)
}

func (s orderStore) RevokeUserGrants(ctx context.Context, userID string, at time.Time) (int64, error) {
	s.steps.add("revoke")
	return s.Store.RevokeUserGrants(ctx, userID, at)
}

// newOrderFixture is an account service over an orderStore on f, with a
// session manager (nil: none) whose logout hooks note "tell", and the
// account zhang signed in twice; it returns the service, the manager, the
// account and its SIDs.
func newOrderFixture(t *testing.T, f *accounttest.Fixture, st orderStore, manager bool) (*account.Service, *session.Manager, store.User, []string) {
	t.Helper()
	m := session.New(st, f.Audit, f.Clock, session.Options{Idle: time.Hour, Max: time.Hour})
	m.OnEnd(func(context.Context, store.Session) { st.steps.add("tell") })
	deps := account.ServiceDeps{Store: st, Hasher: f.Hasher, Protector: f.Protector, Audit: f.Audit, Notifier: f.Outbox, Now: f.Clock}
	if manager {
		deps.Sessions = m
	}
	s := account.NewService(deps)
	u := f.Create(t, zhang)
	var sids []string
	for range 2 {
		sess, err := m.SignIn(context.Background(), httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil), u.ID, "", "")
		if err != nil {
			t.Fatal(err)
		}
		sids = append(sids, sess.SID)
	}
	st.steps.reset()
	return s, m, u, sids
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
				st := orderStore{Store: f.Store, steps: &steps{}}
				s, m, u, sids := newOrderFixture(t, f, st, manager)
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
				if got := st.steps.reset(); !slices.Equal(got, want) {
					t.Fatalf("steps %s; want %s", strings.Join(got, ", "), strings.Join(want, ", "))
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

// TestPasswordChangedWhenItsSessionsCannotBeEnded: a password change whose
// sessions cannot be taken still revokes the grants, is still recorded
// (as such) and its owner told to sign the other devices out, and answers
// a problem that says the password changed; an operator's sign-out that
// fails so is recorded as incomplete.
func TestPasswordChangedWhenItsSessionsCannotBeEnded(t *testing.T) {
	ctx := context.Background()
	f := accounttest.New(t, sqlitetest.New(t))
	st := orderStore{Store: f.Store, steps: &steps{}, failTake: true}
	s, _, u, _ := newOrderFixture(t, f, st, true)
	err := s.SetPassword(ctx, u.ID, "Qingdao#2027", audit.User(u.ID))
	if p := httpx.Unavailable(problem.As(err)); !errors.Is(err, account.ErrAccessNotEnded) || p.Code != "password_changed_sessions_remain" {
		t.Fatalf("SetPassword = %v, answered as %s; want ErrAccessNotEnded as password_changed_sessions_remain", err, p.Code)
	}
	if got := st.steps.reset(); !slices.Equal(got, []string{"take", "revoke"}) {
		t.Fatalf("steps %v; want the take, then the revocation all the same", got)
	}
	events := f.Events(t, account.ActionPasswordChanged)
	if len(events) != 1 || !strings.Contains(events[0].Detail, "sessions_not_ended") {
		t.Fatalf("password_changed events %v; want one, saying the sessions were not ended", events)
	}
	var texts []string
	for _, m := range f.Outbox.List() {
		if m.Channel == notify.ChannelSMS {
			texts = append(texts, m.Text)
		}
	}
	if len(texts) != 1 || !strings.Contains(texts[0], "未能退出") || !strings.Contains(texts[0], "再次修改密码") {
		t.Fatalf("texts to the owner %q; want one saying devices could not be signed out, and what to do", texts)
	}

	_, err = account.NewDesk(s, nil, nil, nil).SignOut(ctx, u.ID, "test", audit.Origin{Actor: audit.Operator("test")})
	events = f.Events(t, account.ActionSignedOut)
	if !errors.Is(err, errTake) || len(events) != 1 || !strings.Contains(events[0].Detail, `"incomplete":"true"`) {
		t.Fatalf("SignOut = %v, events %v; want the error, recorded as incomplete", err, events)
	}
}

// TestPasswordChangeFinishesWhenTheCallerHangsUp: a caller who hangs up
// the moment the new password is stored still gets every other session
// ended and every grant revoked, and the change recorded.
func TestPasswordChangeFinishesWhenTheCallerHangsUp(t *testing.T) {
	f := accounttest.New(t, sqlitetest.New(t))
	ctx, hangUp := context.WithCancel(context.Background())
	defer hangUp()
	st := orderStore{Store: f.Store, steps: &steps{}, afterUpdate: hangUp}
	s, m, u, _ := newOrderFixture(t, f, st, true)
	if err := s.SetPassword(ctx, u.ID, "Qingdao#2027", audit.User(u.ID)); err != nil {
		t.Fatalf("SetPassword for a caller who hung up: %v", err)
	}
	if ctx.Err() == nil {
		t.Fatal("the caller did not hang up")
	}
	if got := st.steps.reset(); !slices.Equal(got, []string{"take", "revoke", "tell", "tell"}) {
		t.Fatalf("steps %v", got)
	}
	if left, err := m.ListUser(context.Background(), u.ID); err != nil || len(left) != 0 {
		t.Fatalf("sessions left: %v, %v", left, err)
	}
	if n := len(f.Events(t, account.ActionPasswordChanged)); n != 1 {
		t.Fatalf("%d password_changed events; want 1", n)
	}
}
