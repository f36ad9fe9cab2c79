package session_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"unid/internal/audit"
	"unid/internal/flow"
	"unid/internal/session"
	"unid/internal/store"
	"unid/internal/store/sqlite"
	"unid/internal/store/sqlite/sqlitetest"
)

func TestCookie(t *testing.T) {
	tests := []struct {
		name   string
		secure bool
		want   []string
		reject []string
	}{
		{"plain HTTP in development", false, []string{"unid_session=", "HttpOnly", "SameSite=Lax", "Path=/"}, []string{"Secure", "__Host-"}},
		{"behind HTTPS", true, []string{"__Host-unid_session=", "HttpOnly", "SameSite=Lax", "Path=/", "Secure"}, []string{"Domain="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			st := sqlitetest.New(t)
			now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
			m := session.New(st, newLog(st), func() time.Time { return now }, session.Options{Idle: 30 * time.Minute, Max: 12 * time.Hour, Secure: tt.secure})
			w := httptest.NewRecorder()
			// The session's user must exist: sessions reference users.
			addUser(t, st, "u1")
			s, err := m.SignIn(ctx, w, httptest.NewRequest("POST", "/", nil), "u1", "127.0.0.1", "test")
			if err != nil {
				t.Fatal(err)
			}
			cookie := w.Header().Get("Set-Cookie")
			for _, want := range tt.want {
				if !strings.Contains(cookie, want) {
					t.Errorf("cookie %q lacks %q", cookie, want)
				}
			}
			for _, bad := range tt.reject {
				if strings.Contains(cookie, bad) {
					t.Errorf("cookie %q has %q", cookie, bad)
				}
			}
			// The store keeps the hash, never the token.
			token := strings.SplitN(strings.SplitN(cookie, "=", 2)[1], ";", 2)[0]
			if strings.Contains(string(s.TokenHash), token) || len(s.TokenHash) != 32 {
				t.Errorf("stored token hash looks wrong")
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Cookie", m.CookieName()+"="+token)
			if got, ok, err := m.Current(ctx, r); err != nil || !ok || got.UserID != "u1" {
				t.Fatalf("Current = %v %v %v", got, ok, err)
			}
			forged := token[:len(token)-1] + "A"
			if forged == token {
				forged = token[:len(token)-1] + "B"
			}
			r.Header.Set("Cookie", m.CookieName()+"="+forged)
			if _, ok, _ := m.Current(ctx, r); ok {
				t.Fatal("a forged token was accepted")
			}
			w = httptest.NewRecorder()
			r.Header.Set("Cookie", m.CookieName()+"="+token)
			if err := m.End(ctx, w, r, session.Logout{Via: session.ViaAPI}); err != nil {
				t.Fatal(err)
			}
			if _, ok, _ := m.Current(ctx, r); ok {
				t.Fatal("the session outlived End")
			}
			if c := w.Result().Cookies(); len(c) != 1 || c[0].MaxAge >= 0 {
				t.Fatalf("End did not clear the cookie: %v", w.Header())
			}
		})
	}
}

func TestReauthenticationKeepsSIDAndLogoutRunsHooks(t *testing.T) {
	ctx := context.Background()
	st, m, now := newManager(t, "u1", "u2")
	var ended []store.Session
	var clientsAtHook int
	m.OnEnd(func(ctx context.Context, s store.Session) {
		ended = append(ended, s)
		cs, _ := st.ListSessionClients(ctx, s.SID)
		clientsAtHook = len(cs)
	})

	// browser signs in, its cookie travels with the next request
	signIn := func(cookie, user string) (store.Session, string) {
		t.Helper()
		r := httptest.NewRequest("POST", "/", nil)
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		w := httptest.NewRecorder()
		s, err := m.SignIn(ctx, w, r, user, "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		c := w.Result().Cookies()
		return s, c[len(c)-1].Name + "=" + c[len(c)-1].Value
	}
	first, cookie1 := signIn("", "u1")
	if err := st.AddSessionClient(ctx, store.SessionClient{SID: first.SID, ClientID: "hall", Protocol: "oidc", UserID: "u1", CreatedAt: *now}); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(10 * time.Minute)
	again, cookie2 := signIn(cookie1, "u1")
	if again.SID != first.SID || cookie2 == cookie1 || !again.AuthTime.Equal(*now) || !again.ExpiresAt.Equal(first.ExpiresAt) {
		t.Fatalf("re-authentication: first %+v, again %+v", first, again)
	}
	if len(ended) != 0 {
		t.Fatal("re-authentication ran the logout hooks")
	}
	old := httptest.NewRequest("GET", "/", nil)
	old.Header.Set("Cookie", cookie1)
	if _, ok, _ := m.Current(ctx, old); ok {
		t.Fatal("the old token still works after re-authentication")
	}

	// Another user signing in on the same browser ends the first session.
	other, cookie3 := signIn(cookie2, "u2")
	if other.SID == first.SID || len(ended) != 1 || ended[0].SID != first.SID || clientsAtHook != 1 {
		t.Fatalf("switching user: ended %v, clients seen by the hook %d", ended, clientsAtHook)
	}
	if cs, _ := st.ListSessionClients(ctx, first.SID); len(cs) != 0 {
		t.Fatalf("the ended session's clients were kept: %v", cs)
	}

	// Logout runs the hooks once.
	r := httptest.NewRequest("DELETE", "/", nil)
	r.Header.Set("Cookie", cookie3)
	if err := m.End(ctx, httptest.NewRecorder(), r, session.Logout{Via: session.ViaAPI}); err != nil {
		t.Fatal(err)
	}
	if err := m.End(ctx, httptest.NewRecorder(), r, session.Logout{Via: session.ViaAPI}); err != nil {
		t.Fatal(err)
	}
	if len(ended) != 2 || ended[1].SID != other.SID {
		t.Fatalf("logout hooks: %v", ended)
	}
	// One event per session ended, naming its user and how it ended; the
	// second End found nothing to end.
	want := []string{
		`u1 {"sid":"` + first.SID + `","via":"sign_in"}`,
		`u2 {"sid":"` + other.SID + `","via":"api"}`,
	}
	if got := logouts(t, st); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("session.logout events:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// newManager is a session manager (idle 30 minutes, at most 12 hours)
// over a fresh store with the users ids, on a clock the test moves through
// the time it returns.
func newManager(t *testing.T, ids ...string) (*sqlite.Store, *session.Manager, *time.Time) {
	t.Helper()
	st := sqlitetest.New(t)
	for _, id := range ids {
		addUser(t, st, id)
	}
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	m := session.New(st, newLog(st), func() time.Time { return now }, session.Options{Idle: 30 * time.Minute, Max: 12 * time.Hour})
	return st, m, &now
}

// addUser stores an active user id: sessions reference users.
func addUser(t *testing.T, st *sqlite.Store, id string) {
	t.Helper()
	if _, err := st.WriteDB().ExecContext(context.Background(), `INSERT INTO users (id, login_name, login_name_key, password_hash, realname_level, status, created_at, updated_at) VALUES ($1, $1, $1, 'x', 0, 'active', 0, 0)`, id); err != nil {
		t.Fatal(err)
	}
}

// newLog is an audit log on st.
func newLog(st *sqlite.Store) *audit.Log {
	return audit.New(st, time.Now, slog.New(slog.DiscardHandler))
}

// logouts lists the session.logout events of st as "actor detail".
func logouts(t *testing.T, st *sqlite.Store) []string {
	t.Helper()
	events, err := st.ListAudit(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		if e.Action == audit.ActionLogout {
			out = append(out, e.Actor+" "+e.Detail)
		}
	}
	return out
}

func TestLogoutHooksRunSideBySide(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.New(t)
	addUser(t, st, "u1")
	m := session.New(st, newLog(st), time.Now, session.Options{Idle: time.Hour, Max: time.Hour})
	started := make(chan struct{}, 2)
	release := make(chan struct{})
	for range 2 {
		m.OnEnd(func(ctx context.Context, s store.Session) {
			started <- struct{}{}
			<-release // each hook waits until both have started
		})
	}
	w := httptest.NewRecorder()
	if _, err := m.SignIn(ctx, w, httptest.NewRequest("POST", "/", nil), "u1", "", ""); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("DELETE", "/", nil)
	r.Header.Set("Cookie", w.Result().Cookies()[0].String())
	done := make(chan error)
	go func() { done <- m.End(ctx, httptest.NewRecorder(), r, session.Logout{Via: session.ViaAPI}) }()
	for range 2 {
		select {
		case <-started:
		case <-time.After(5 * time.Second):
			t.Fatal("the logout hooks run one after the other")
		}
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestLogoutAfterIdleTimeoutStillTellsClients(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.New(t)
	addUser(t, st, "u1")
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	m := session.New(st, newLog(st), func() time.Time { return now }, session.Options{Idle: 30 * time.Minute, Max: 12 * time.Hour})
	var told int
	m.OnEnd(func(context.Context, store.Session) { told++ })
	w := httptest.NewRecorder()
	if _, err := m.SignIn(ctx, w, httptest.NewRequest("POST", "/", nil), "u1", "", ""); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", w.Result().Cookies()[0].String())
	now = now.Add(45 * time.Minute)
	if _, ok, _ := m.Current(ctx, r); ok {
		t.Fatal("an idle session is still current")
	}
	if err := m.End(ctx, httptest.NewRecorder(), r, session.Logout{Via: session.ViaAPI}); err != nil {
		t.Fatal(err)
	}
	if told != 1 {
		t.Fatalf("logout after the idle timeout told the clients %d times", told)
	}
	if got := logouts(t, st); len(got) != 0 {
		t.Fatalf("a session that had timed out was audited as a logout: %v", got)
	}
}

// TestShortIdleKeepsActiveSessions: with an idle timeout under a minute, a
// user who clicks every few seconds stays signed in, and one who stops is
// signed out after the timeout.
func TestShortIdleKeepsActiveSessions(t *testing.T) {
	for _, idle := range []time.Duration{20 * time.Second, 45 * time.Second, 30 * time.Minute} {
		t.Run(idle.String(), func(t *testing.T) {
			ctx := context.Background()
			st := sqlitetest.New(t)
			now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
			m := session.New(st, newLog(st), func() time.Time { return now }, session.Options{Idle: idle, Max: 12 * time.Hour})
			addUser(t, st, "u1")
			w := httptest.NewRecorder()
			if _, err := m.SignIn(ctx, w, httptest.NewRequest("POST", "/", nil), "u1", "127.0.0.1", "test"); err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Cookie", w.Header().Get("Set-Cookie"))
			// A click at two thirds of the timeout, for ten timeouts.
			step := idle * 2 / 3
			for i := range 15 {
				now = now.Add(step)
				if _, ok, err := m.Current(ctx, r); err != nil || !ok {
					t.Fatalf("click %d, %v after sign-in: signed out (%v)", i+1, time.Duration(i+1)*step, err)
				}
			}
			now = now.Add(idle)
			if _, ok, _ := m.Current(ctx, r); ok {
				t.Fatal("still signed in after a whole idle timeout without activity")
			}
		})
	}
}

// TestSignInVerifiedRefusesChangedCredentials: a sign-in whose password
// was checked just before the password changed (or the account was
// disabled) gets no session, whichever finished first.
func TestSignInVerifiedRefusesChangedCredentials(t *testing.T) {
	tests := []struct {
		name   string
		change func(u *store.User)
		want   error
	}{
		{"unchanged", func(*store.User) {}, nil},
		{"password changed meanwhile", func(u *store.User) { u.PasswordHash = "new" }, session.ErrCredentialsChanged},
		{"disabled meanwhile", func(u *store.User) { u.Status = store.UserDisabled }, session.ErrCredentialsChanged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			st := sqlitetest.New(t)
			now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
			m := session.New(st, newLog(st), func() time.Time { return now }, session.Options{Idle: time.Hour, Max: 12 * time.Hour})
			if _, err := st.WriteDB().ExecContext(ctx, `INSERT INTO users (id, login_name, login_name_key, password_hash, realname_level, status, created_at, updated_at) VALUES ('u1', 'a', 'a', 'old', 0, 'active', 0, 0)`); err != nil {
				t.Fatal(err)
			}
			verified, err := st.GetUser(ctx, "u1")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.UpdateUser(ctx, "u1", func(u store.User) (store.User, error) { tt.change(&u); return u, nil }); err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			_, err = m.SignInVerified(ctx, w, httptest.NewRequest("POST", "/", nil), verified, []string{"pwd"}, "127.0.0.1", "test")
			if !errors.Is(err, tt.want) {
				t.Fatalf("SignInVerified = %v, want %v", err, tt.want)
			}
			if n, _ := st.CountSessions(ctx); (n == 1) != (tt.want == nil) {
				t.Errorf("%d sessions stored", n)
			}
		})
	}
}

func TestSwitchingActingIdentityTellsClientsButKeepsTheBrowserSignedIn(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.New(t)
	addUser(t, st, "u1")
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	m := session.New(st, newLog(st), func() time.Time { return now }, session.Options{Idle: 30 * time.Minute, Max: 12 * time.Hour})
	var told []string
	m.OnEnd(func(ctx context.Context, s store.Session) { told = append(told, s.SID) })
	w := httptest.NewRecorder()
	s, err := m.SignIn(ctx, w, httptest.NewRequest("POST", "/", nil), "u1", "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	cookie := w.Result().Cookies()[0]
	if uscc, chosen := session.Acting(s); uscc != "" || chosen {
		t.Fatalf("a new session acts as %q (chosen %v); want the person, not chosen", uscc, chosen)
	}
	// Choosing the person the session already acts as: nothing to tell.
	s, err = m.SetActing(ctx, s, "", flowClient)
	if err != nil {
		t.Fatal(err)
	}
	if uscc, chosen := session.Acting(s); uscc != "" || !chosen || len(told) != 0 {
		t.Fatalf("after choosing the person: %q %v, told %v", uscc, chosen, told)
	}
	if err := st.AddSessionClient(ctx, store.SessionClient{SID: s.SID, ClientID: "hall", Protocol: "oidc", UserID: "u1", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	const uscc = "91350100M000100Y43"
	// The person was chosen: acting for the enterprise is a switch.
	s, err = m.SetActing(ctx, s, uscc, flowClient)
	if err != nil {
		t.Fatal(err)
	}
	if len(told) != 1 || told[0] != s.SID {
		t.Fatalf("switching told %v; want the session's clients told once", told)
	}
	if cs, _ := st.ListSessionClients(ctx, s.SID); len(cs) != 0 {
		t.Fatalf("the old identity's clients were kept: %v", cs)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(cookie)
	cur, ok, err := m.Current(ctx, r)
	if err != nil || !ok || cur.SID != s.SID {
		t.Fatalf("the browser was signed out by the switch: %v %v", ok, err)
	}
	if got, chosen := session.Acting(cur); got != uscc || !chosen {
		t.Fatalf("Current acts as %q", got)
	}
	// The same choice again changes nothing and tells nobody.
	if _, err := m.SetActing(ctx, cur, uscc, flowClient); err != nil || len(told) != 1 {
		t.Fatalf("choosing again: %v, told %v", err, told)
	}
	// A re-authentication keeps the choice.
	w = httptest.NewRecorder()
	again, err := m.SignIn(ctx, w, r, "u1", "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := session.Acting(again); got != uscc {
		t.Fatalf("re-authentication acts as %q", got)
	}
	events, _ := st.ListAudit(ctx, 0, 1000)
	var switched []string
	for _, e := range events {
		if e.Action == session.ActionActingSwitched {
			switched = append(switched, e.Actor+" "+e.Detail)
		}
	}
	want := `u1 {"from":"","sid":"` + s.SID + `","to":"` + uscc + `"}`
	if len(switched) != 1 || switched[0] != want {
		t.Fatalf("session.acting_switched events %v; want [%s]", switched, want)
	}
}

var flowClient = flow.NewClient("127.0.0.1", "test")

func TestFirstChoiceOfAnEnterpriseSignsNothingOut(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.New(t)
	addUser(t, st, "u1")
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	m := session.New(st, newLog(st), func() time.Time { return now }, session.Options{Idle: 30 * time.Minute, Max: 12 * time.Hour})
	told := 0
	m.OnEnd(func(context.Context, store.Session) { told++ })
	s, err := m.SignIn(ctx, httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil), "u1", "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddSessionClient(ctx, store.SessionClient{SID: s.SID, ClientID: "hall", Protocol: "oidc", UserID: "u1", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	s, err = m.SetActing(ctx, s, "91350100M000100Y43", flowClient)
	if err != nil || told != 0 {
		t.Fatalf("first choice: %v, told %d", err, told)
	}
	if cs, _ := st.ListSessionClients(ctx, s.SID); len(cs) != 1 {
		t.Fatalf("the first choice forgot the session's clients: %v", cs)
	}
	if _, err := m.SetActing(ctx, s, "", flowClient); err != nil || told != 1 {
		t.Fatalf("switching back to the person: %v, told %d", err, told)
	}
}

// TestEndingTheAccountRevokesBetween: EndUser and EndOthers run
// Logout.Revoke once the sessions are gone, so that a sign-in finishing
// through one of them cannot leave a grant behind, and before any service
// system is told, so that one asking for new tokens at once gets none; it
// runs when there was no session to end as well.
func TestEndingTheAccountRevokesBetween(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.New(t)
	addUser(t, st, "u1")
	m := session.New(st, newLog(st), time.Now, session.Options{Idle: time.Hour, Max: time.Hour})
	var told atomic.Int32 // the hooks of several sessions run side by side
	m.OnEnd(func(context.Context, store.Session) { told.Add(1) })
	signIn := func() store.Session {
		t.Helper()
		s, err := m.SignIn(ctx, httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil), "u1", "", "")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	var revoked int
	// revoke checks what the account looks like when it runs: only keep
	// (if any) still signed in, nobody told yet.
	revoke := func(keep string) func(context.Context) error {
		return func(ctx context.Context) error {
			revoked++
			live, err := m.ListUser(ctx, "u1")
			if err != nil {
				return err
			}
			if len(live) != 0 && (len(live) != 1 || live[0].SID != keep) {
				t.Errorf("revoking with sessions still live: %v", live)
			}
			if n := told.Load(); n != 0 {
				t.Errorf("revoking after %d service systems were told", n)
			}
			return nil
		}
	}

	signIn()
	signIn()
	if n, err := m.EndUser(ctx, "u1", session.Logout{Via: session.ViaPasswordChanged, Revoke: revoke("")}); err != nil || n != 2 {
		t.Fatalf("EndUser: %d, %v", n, err)
	}
	if revoked != 1 || told.Load() != 2 {
		t.Fatalf("EndUser: revoked %d times, told %d", revoked, told.Load())
	}

	revoked = 0
	told.Store(0)
	kept := signIn()
	signIn()
	if n, err := m.EndOthers(ctx, "u1", kept.SID, session.Logout{Via: session.ViaSignOutOthers, Revoke: revoke(kept.SID)}); err != nil || n != 1 {
		t.Fatalf("EndOthers: %d, %v", n, err)
	}
	if revoked != 1 || told.Load() != 1 {
		t.Fatalf("EndOthers: revoked %d times, told %d", revoked, told.Load())
	}

	// Nothing left to end but the kept session: the grants still go.
	revoked = 0
	told.Store(0)
	if n, err := m.EndOthers(ctx, "u1", kept.SID, session.Logout{Via: session.ViaSignOutOthers, Revoke: revoke(kept.SID)}); err != nil || n != 0 {
		t.Fatalf("EndOthers with nothing to end: %d, %v", n, err)
	}
	if revoked != 1 || told.Load() != 0 {
		t.Fatalf("EndOthers with nothing to end: revoked %d times, told %d", revoked, told.Load())
	}

	// A revocation that fails is reported, and the sessions taken are
	// still logged out.
	signIn()
	boom := errors.New("the grants cannot be revoked")
	_, err := m.EndUser(ctx, "u1", session.Logout{Via: session.ViaPasswordChanged, Revoke: func(context.Context) error { return boom }})
	if !errors.Is(err, boom) || told.Load() != 2 {
		t.Fatalf("EndUser with a failing revocation: %v, told %d", err, told.Load())
	}

	// A caller that has hung up takes nothing, but the grants still go,
	// on a context its going away does not cancel.
	gone, cancel := context.WithCancel(ctx)
	cancel()
	var revokedLive bool
	_, err = m.EndUser(gone, "u1", session.Logout{Via: session.ViaPasswordChanged, Revoke: func(ctx context.Context) error {
		revokedLive = ctx.Err() == nil
		return nil
	}})
	if err == nil || !revokedLive {
		t.Fatalf("EndUser for a caller that hung up: %v; revoked on a live context: %v", err, revokedLive)
	}
}

// TestStands: a sign-in through a session stands while the session has
// not been ended, even idle, and acts for the identity asked about; while
// a re-authentication has two tokens under the SID, both must.
func TestStands(t *testing.T) {
	ctx := context.Background()
	st, m, now := newManager(t, "u1", "u2")
	s, err := m.SignIn(ctx, httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil), "u1", "", "")
	if err != nil {
		t.Fatal(err)
	}
	stands := func(userID, sid, acting string) bool {
		t.Helper()
		ok, err := m.Stands(ctx, userID, sid, acting)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !stands("u1", s.SID, "") || stands("u1", s.SID, "91350100M000100Y4X") || stands("u2", s.SID, "") || stands("u1", "NOSUCHSID", "") {
		t.Fatal("a fresh session: stands only for its user, its SID and the person")
	}
	*now = now.Add(time.Hour) // idle, not swept
	if !stands("u1", s.SID, "") {
		t.Fatal("an idle session no longer stands")
	}
	// A second token under the SID acting for an enterprise: the two
	// disagree, and the sign-in stands for neither identity.
	other := s
	other.TokenHash = []byte("another token hash, 32 bytes....")
	other.ActingUSCC = "91350100M000100Y4X"
	if err := st.CreateSession(ctx, other); err != nil {
		t.Fatal(err)
	}
	if stands("u1", s.SID, "") || stands("u1", s.SID, "91350100M000100Y4X") {
		t.Fatal("two tokens of one SID that disagree: the sign-in still stands")
	}
	if _, err := m.EndUser(ctx, "u1", session.Logout{Via: session.ViaPasswordChanged}); err != nil {
		t.Fatal(err)
	}
	if stands("u1", s.SID, "") || stands("u1", s.SID, "91350100M000100Y4X") {
		t.Fatal("an ended session still stands")
	}
}

// failingDelete is a store whose DeleteSession of the token hash failOn
// fails, as a database that drops out between two writes does.
type failingDelete struct {
	*sqlite.Store
	failOn []byte
	failed int // deletions refused
}

func (f *failingDelete) DeleteSession(ctx context.Context, tokenHash []byte) error {
	if f.failOn != nil && string(tokenHash) == string(f.failOn) {
		f.failed++
		return errors.New("the database went away")
	}
	return f.Store.DeleteSession(ctx, tokenHash)
}

// TestReauthenticationThatCannotRetireTheOldTokenLeavesNoOther: when the
// old token of a re-authenticating browser cannot be deleted, the sign-in
// fails, no cookie is set, the new token is gone again, and the browser
// goes on with the session it had; the SID never loses its session.
func TestReauthenticationThatCannotRetireTheOldTokenLeavesNoOther(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.New(t)
	addUser(t, st, "u1")
	fd := &failingDelete{Store: st}
	m := session.New(fd, newLog(st), time.Now, session.Options{Idle: time.Hour, Max: 12 * time.Hour})
	w := httptest.NewRecorder()
	first, err := m.SignIn(ctx, w, httptest.NewRequest("POST", "/", nil), "u1", "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	cookie := w.Result().Cookies()[0]
	fd.failOn = first.TokenHash

	again := httptest.NewRequest("POST", "/", nil)
	again.AddCookie(cookie)
	w = httptest.NewRecorder()
	if _, err := m.SignIn(ctx, w, again, "u1", "127.0.0.1", "test"); err == nil || fd.failed != 1 {
		t.Fatalf("a re-authentication whose old token could not be deleted (%d refusals): %v; want a failure", fd.failed, err)
	}
	if c := w.Result().Cookies(); len(c) != 0 {
		t.Errorf("the failed re-authentication set %d cookies", len(c))
	}
	live, err := m.ListUser(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 1 || string(live[0].TokenHash) != string(first.TokenHash) {
		t.Fatalf("after the failed re-authentication the account has %d sessions, want only the first", len(live))
	}
	cur := httptest.NewRequest("GET", "/", nil)
	cur.AddCookie(cookie)
	if s, ok, err := m.Current(ctx, cur); err != nil || !ok || s.SID != first.SID {
		t.Fatalf("the browser's session after the failed re-authentication: %+v, %v, %v", s, ok, err)
	}
	if ok, err := m.Stands(ctx, "u1", first.SID, ""); err != nil || !ok {
		t.Fatalf("the sign-in through the session no longer stands: %v, %v", ok, err)
	}
}
