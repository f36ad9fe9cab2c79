package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"unid/internal/account/accounttest"
	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/config"
	"unid/internal/notify"
	"unid/internal/store"
)

// zhang is the citizen most of these tests register.
var zhang = apptest.Zhang

// counts is what a bad request must not change.
type counts struct{ users, sessions int64 }

func snapshot(t *testing.T, srv *apptest.Server) counts {
	t.Helper()
	ctx := context.Background()
	u, err := srv.App.Store.CountUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := srv.App.Store.CountSessions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return counts{u, s}
}

func TestRegisterLogoutLoginByEveryIdentifier(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, start func(func(*config.Config)) *apptest.Server) {
		srv := start(nil)
		b := srv.Browser(t)

		r := b.Register(zhang)
		if r.Status != http.StatusCreated {
			t.Fatalf("register: %d %s", r.Status, r.Body)
		}
		p := r.JSON(t)
		if p["login_name"] != "zhang_san" || p["phone"] != "138****5678" || p["id_number"] != "1101**********002X" || p["realname_level"] != 0.0 {
			t.Errorf("profile after register: %v", p)
		}
		if strings.Contains(string(r.Body), "13812345678") || strings.Contains(string(r.Body), "argon2") {
			t.Errorf("profile leaks personal data or the hash: %s", r.Body)
		}
		if me := b.Get("/api/v1/me"); me.Status != http.StatusOK {
			t.Fatalf("me after register: %d %s", me.Status, me.Body)
		}
		if r := b.Do("DELETE", "/api/v1/sessions/current", "", nil); r.Status != http.StatusNoContent {
			t.Fatalf("logout: %d %s", r.Status, r.Body)
		}
		if me := b.Get("/api/v1/me"); me.Status != http.StatusUnauthorized || me.ErrCode(t) != "not_signed_in" {
			t.Fatalf("me after logout: %d %s", me.Status, me.Body)
		}
		loginAs := func(ident string) {
			t.Helper()
			b := srv.Browser(t)
			r := b.Login(ident, apptest.GoodPassword)
			if r.Status != http.StatusCreated {
				t.Fatalf("login as %q: %d %s", ident, r.Status, r.Body)
			}
			if me := b.Get("/api/v1/me"); me.Status != http.StatusOK || me.JSON(t)["login_name"] != "zhang_san" {
				t.Fatalf("me after login as %q: %d %s", ident, me.Status, me.Body)
			}
		}
		for _, ident := range []string{"13812345678", "+86 138-1234-5678", "zhang_san", "ZHANG_SAN"} {
			loginAs(ident)
		}
		// The ID number signs in once the real-name flow has verified it.
		verify(t, srv, p["id"].(string))
		loginAs("11010519491231002x")
	})
}

// verify sets the real-name level of the account to 1, as the real-name
// flow will.
func verify(t *testing.T, srv *apptest.Server, userID string) {
	t.Helper()
	if _, err := srv.App.Store.UpdateUser(context.Background(), userID, func(u store.User) (store.User, error) {
		u.RealnameLevel = 1
		return u, nil
	}); err != nil {
		t.Fatalf("verify: %v", err)
	}
}

// TestIDNumberIsNotUniqueUntilVerified: an ID number typed at registration
// proves nothing, so another account may register with it, and it signs no
// one in; answers never tell whether someone registered with it.
func TestIDNumberIsNotUniqueUntilVerified(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, start func(func(*config.Config)) *apptest.Server) {
		srv := start(nil)
		first := srv.Browser(t).Register(zhang)
		if first.Status != http.StatusCreated {
			t.Fatalf("register: %d %s", first.Status, first.Body)
		}
		srv.Clock.Advance(2 * time.Minute)
		wang := apptest.Person{Login: "wang_wu_2026", Password: apptest.GoodPassword, Phone: "13900000002", RealName: "王五", IDNumber: zhang.IDNumber}
		second := srv.Browser(t).Register(wang)
		if second.Status != http.StatusCreated {
			t.Fatalf("registering with an ID number another account holds unverified: %d %s", second.Status, second.Body)
		}
		for _, r := range []apptest.Response{first, second} {
			if p := r.JSON(t); p["id_number"] != "1101**********002X" || p["realname_level"] != 0.0 {
				t.Errorf("profile: %v", p)
			}
		}

		// Held unverified (twice), the number is answered like one nobody
		// holds and like an unknown login name.
		held := srv.Browser(t).Login(zhang.IDNumber, apptest.GoodPassword)
		unknownID := srv.Browser(t).Login("110105198001010016", apptest.GoodPassword)
		unknownName := srv.Browser(t).Login("nobody_2026", apptest.GoodPassword)
		for _, r := range []apptest.Response{unknownID, unknownName} {
			if held.Status != r.Status || !bytes.Equal(held.Body, r.Body) {
				t.Errorf("unverified holder answered %d %s, unknown identifier %d %s", held.Status, held.Body, r.Status, r.Body)
			}
		}
		if held.Status != http.StatusUnauthorized || held.ErrCode(t) != "login_failed" {
			t.Errorf("unverified holder: %d %s", held.Status, held.Body)
		}

		// Verified, it signs in the one account that verified it.
		verify(t, srv, second.JSON(t)["id"].(string))
		b := srv.Browser(t)
		if r := b.Login(zhang.IDNumber, apptest.GoodPassword); r.Status != http.StatusCreated || r.JSON(t)["login_name"] != wang.Login {
			t.Fatalf("login by verified ID number: %d %s", r.Status, r.Body)
		}
	})
}

func TestSessionCookie(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	r := b.Register(zhang)
	cookie := r.Header.Get("Set-Cookie")
	for _, want := range []string{"unid_session=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("Set-Cookie %q lacks %q", cookie, want)
		}
	}
}

func TestSessionTimeouts(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	if r := b.Register(zhang); r.Status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	// Activity every 20 minutes keeps the session past the idle timeout…
	for i := 0; i < 3; i++ {
		srv.Clock.Advance(20 * time.Minute)
		if me := b.Get("/api/v1/me"); me.Status != http.StatusOK {
			t.Fatalf("active session ended after %d×20 min: %d", i+1, me.Status)
		}
	}
	// …but 31 idle minutes end it.
	srv.Clock.Advance(31 * time.Minute)
	if me := b.Get("/api/v1/me"); me.Status != http.StatusUnauthorized {
		t.Fatalf("idle session still valid: %d", me.Status)
	}

	// The absolute limit ends even an active session.
	b2 := srv.Browser(t)
	if r := b2.Login("zhang_san", apptest.GoodPassword); r.Status != http.StatusCreated {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	for elapsed := time.Duration(0); elapsed < 12*time.Hour-20*time.Minute; elapsed += 20 * time.Minute {
		srv.Clock.Advance(20 * time.Minute)
		if me := b2.Get("/api/v1/me"); me.Status != http.StatusOK {
			t.Fatalf("session ended early at %v", elapsed)
		}
	}
	srv.Clock.Advance(20 * time.Minute)
	if me := b2.Get("/api/v1/me"); me.Status != http.StatusUnauthorized {
		t.Fatalf("session outlived its 12 h limit: %d", me.Status)
	}
}

func TestWrongIdentifierAndWrongPasswordLookAlike(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	b.Register(zhang)
	wrongPassword := srv.Browser(t).Login("zhang_san", "Wrong#Password1")
	noSuchUser := srv.Browser(t).Login("li_si_nobody", "Wrong#Password1")
	noSuchPhone := srv.Browser(t).Login("13900000000", "Wrong#Password1")
	for _, r := range []apptest.Response{wrongPassword, noSuchUser, noSuchPhone} {
		if r.Status != http.StatusUnauthorized || !bytes.Equal(r.Body, wrongPassword.Body) {
			t.Errorf("answers differ: %d %s vs %d %s", r.Status, r.Body, wrongPassword.Status, wrongPassword.Body)
		}
	}
	// Every failure states the lockout policy, the same way for everyone.
	if msg := wrongPassword.JSON(t)["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "锁定") || !strings.Contains(msg, "找回密码") {
		t.Errorf("login_failed message %q does not state the lockout policy", msg)
	}
}

// loginFrom signs in from the client address ip (the server trusts
// X-Forwarded-For).
func loginFrom(b *apptest.Browser, ip, identifier, password string) apptest.Response {
	b.T.Helper()
	id, answer := b.Captcha()
	data, err := json.Marshal(map[string]any{"identifier": identifier, "password": password, "captcha_id": id, "captcha_answer": answer})
	if err != nil {
		b.T.Fatal(err)
	}
	return b.Do(http.MethodPost, "/api/v1/sessions", "application/json", bytes.NewReader(data), "X-Forwarded-For", ip)
}

// lockNotices returns the lock notices in the dev outbox, once the
// background sending has had time to finish.
func lockNotices(t *testing.T, srv *apptest.Server, want int) []notify.OutboxMessage {
	t.Helper()
	var got []notify.OutboxMessage
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got = got[:0]
		for _, m := range srv.App.Outbox.List() {
			if m.Template == notify.TemplateAccountLocked {
				got = append(got, m)
			}
		}
		if len(got) >= want || time.Now().After(deadline) {
			break
		}
	}
	time.Sleep(50 * time.Millisecond) // and no more than want come
	got = got[:0]
	for _, m := range srv.App.Outbox.List() {
		if m.Template == notify.TemplateAccountLocked {
			got = append(got, m)
		}
	}
	return got
}

const (
	netA = "203.0.113.9"
	netB = "198.51.100.7"
	netC = "192.0.2.44"
)

// TestLockout: failures lock the network they come from out of the
// account, and a lock answers exactly like a wrong password for an
// identifier with no account, so it links no identifiers and confirms no
// password.
func TestLockout(t *testing.T) {
	srv := apptest.Start(t, func(c *config.Config) { c.TrustProxy = true })
	b := srv.Browser(t)
	if r := b.Register(zhang); r.Status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	var first apptest.Response
	for i := 1; i <= 6; i++ {
		r := loginFrom(b, netA, zhang.Login, "Wrong#Password1")
		if i == 1 {
			first = r
		}
		if r.Status != http.StatusUnauthorized || !bytes.Equal(r.Body, first.Body) || r.Header.Get("Retry-After") != "" {
			t.Fatalf("failure %d: %d %s, want the same answer as the first", i, r.Status, r.Body)
		}
		srv.Clock.Advance(time.Minute)
	}

	// Locked through the login name; the same account's phone and a
	// phone with no account now answer alike, whatever the password, and
	// both pay a password hash.
	hashes := func(login func()) uint64 {
		before := srv.App.Hasher.Runs()
		login()
		return srv.App.Hasher.Runs() - before
	}
	var nobody apptest.Response
	nobodyHashes := hashes(func() { nobody = loginFrom(b, netA, "13900000000", "Wrong#Password1") })
	for _, tt := range []struct{ name, identifier, password string }{
		{"the account's phone, right password", zhang.Phone, apptest.GoodPassword},
		{"the account's phone, wrong password", zhang.Phone, "Other#Password9"},
		{"the login name, right password", zhang.Login, apptest.GoodPassword},
	} {
		var r apptest.Response
		n := hashes(func() { r = loginFrom(b, netA, tt.identifier, tt.password) })
		if r.Status != nobody.Status || !bytes.Equal(r.Body, nobody.Body) || r.Header.Get("Retry-After") != nobody.Header.Get("Retry-After") {
			t.Errorf("%s: %d %s; a phone with no account: %d %s", tt.name, r.Status, r.Body, nobody.Status, nobody.Body)
		}
		// The same work as for no account: one password hash each.
		if n != 1 || nobodyHashes != 1 {
			t.Errorf("%s paid %d password hashes, a phone with no account %d; want 1 each", tt.name, n, nobodyHashes)
		}
	}

	// Another network is not locked by the first one's failures.
	if r := loginFrom(srv.Browser(t), netB, zhang.Phone, apptest.GoodPassword); r.Status != http.StatusCreated {
		t.Fatalf("sign-in from another network: %d %s", r.Status, r.Body)
	}

	// The owner is told once, and the notice names no secret.
	notices := lockNotices(t, srv, 1)
	if len(notices) != 1 || notices[0].To != zhang.Phone {
		t.Fatalf("lock notices: %+v, want one to the owner", notices)
	}
	for _, secret := range []string{zhang.Login, apptest.GoodPassword, "Wrong#Password1", netA, zhang.IDNumber} {
		if strings.Contains(notices[0].Text, secret) {
			t.Errorf("lock notice %q names %q", notices[0].Text, secret)
		}
	}

	srv.Clock.Advance(15 * time.Minute)
	if r := loginFrom(b, netA, zhang.Login, apptest.GoodPassword); r.Status != http.StatusCreated {
		t.Fatalf("after the lock ends: %d %s", r.Status, r.Body)
	}
}

// busyConfig makes any queue for a password hash too long: one worker,
// hashes of a few hundred milliseconds, and no wait allowed.
func busyConfig(c *config.Config) {
	c.TrustProxy = true
	c.HashWorkers, c.Argon2Time, c.HashMaxWait = 1, uint(accounttest.SlowParams.Time), time.Nanosecond
}

// TestRegistrationTheAccountRefusesKeepsTheCode: a registration the
// account itself refuses (a nickname too long) after its SMS code was
// right leaves the code for the corrected form.
func TestRegistrationTheAccountRefusesKeepsTheCode(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	code := b.SendCode(li.Phone)
	body := map[string]any{"login_name": li.Login, "password": li.Password, "password_confirm": li.Password,
		"phone": li.Phone, "sms_code": code, "agreed": true, "nickname": strings.Repeat("张", 21)}
	if r := b.PostJSON("/api/v1/users", body); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "nickname_too_long") {
		t.Fatalf("registration with a nickname too long: %d %s, want 400 nickname_too_long", r.Status, r.Body)
	}
	body["nickname"] = "小李"
	if r := b.PostJSON("/api/v1/users", body); r.Status != http.StatusCreated {
		t.Fatalf("the corrected registration with the same code: %d %s", r.Status, r.Body)
	}
}

// busyText is the body of a busy answer without its numbers: the wait it
// tells moves as the burst's hashes finish.
func busyText(r apptest.Response) string {
	return regexp.MustCompile(`[0-9]+`).ReplaceAllString(string(r.Body), "N")
}

// TestSignInWhileTheHashQueueIsFull: in a burst of sign-ins beyond what the
// cores can hash, one that would wait longer than --hash-max-wait is told
// "busy" at once, with Retry-After, the same for an account and for no
// account; nothing of it is spent: its captcha still signs in, and its
// wrong passwords count toward no lock.
func TestSignInWhileTheHashQueueIsFull(t *testing.T) {
	srv := apptest.Start(t, busyConfig)
	b := srv.Browser(t)
	if r := b.Register(zhang); r.Status != http.StatusCreated { // one hash: its time is known
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	h := srv.App.Hasher
	stop := accounttest.Burst(t, h, 50)

	id, answer := b.Captcha()
	signIn := func(identifier, password string) apptest.Response {
		data, _ := json.Marshal(map[string]any{"identifier": identifier, "password": password, "captcha_id": id, "captcha_answer": answer})
		return b.Do(http.MethodPost, "/api/v1/sessions", "application/json", bytes.NewReader(data), "X-Forwarded-For", netA)
	}
	account := signIn(zhang.Login, apptest.GoodPassword)
	nobody := signIn("13900000000", apptest.GoodPassword)
	for name, r := range map[string]apptest.Response{"an account": account, "no account": nobody} {
		if r.Status != http.StatusServiceUnavailable || r.ErrCode(t) != "busy" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("sign-in to %s in the burst: %d %s (Retry-After %q), want 503 busy with Retry-After", name, r.Status, r.Body, r.Header.Get("Retry-After"))
		}
	}
	var told struct{ Error struct{ Message string } }
	if err := json.Unmarshal(account.Body, &told); err != nil || !strings.Contains(told.Error.Message, "系统繁忙") {
		t.Errorf("busy answer %s does not tell the person the system is busy", account.Body)
	}
	// Beyond the lock's threshold, with the wrong password.
	for i := range 6 {
		if r := signIn(zhang.Login, "Wrong#Password1"); r.Status != http.StatusServiceUnavailable {
			t.Fatalf("wrong password %d in the burst: %d %s, want busy", i+1, r.Status, r.Body)
		}
	}
	if n := h.Refused(); n < 8 {
		t.Errorf("%d refusals counted, want 8", n)
	}
	stop()

	// After the burst: the same captcha, and no lock from the refused
	// wrong passwords.
	if r := signIn(zhang.Login, apptest.GoodPassword); r.Status != http.StatusCreated {
		t.Fatalf("sign-in after the burst with the captcha of the refused ones: %d %s", r.Status, r.Body)
	}
}

// TestRegisterWhileTheHashQueueIsFull: a registration that would wait too
// long for its password's hash is told "busy" before its SMS code is
// looked at, whether its login name is free or taken; the code keeps its
// attempts and registers once the burst is over.
func TestRegisterWhileTheHashQueueIsFull(t *testing.T) {
	srv := apptest.Start(t, busyConfig)
	srv.Browser(t).MustRegister(zhang) // one hash: its time is known
	b := srv.Browser(t)
	code := b.SendCode(li.Phone)
	register := func(login, code string) apptest.Response {
		return b.PostJSON("/api/v1/users", map[string]any{"login_name": login, "password": li.Password, "password_confirm": li.Password,
			"phone": li.Phone, "sms_code": code, "agreed": true})
	}
	stop := accounttest.Burst(t, srv.App.Hasher, 50)
	free, taken := register(li.Login, code), register(zhang.Login, code)
	for name, r := range map[string]apptest.Response{"a free login name": free, "a taken login name": taken} {
		if r.Status != http.StatusServiceUnavailable || r.ErrCode(t) != "busy" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("registration with %s in the burst: %d %s, want 503 busy with Retry-After", name, r.Status, r.Body)
		}
	}
	if busyText(free) != busyText(taken) {
		t.Errorf("busy answers differ with the login name free (%s) and taken (%s)", free.Body, taken.Body)
	}
	// More wrong codes than a code answers: none of them is counted.
	for i := range 6 {
		if r := register(li.Login, wrong(code)); r.Status != http.StatusServiceUnavailable {
			t.Fatalf("wrong code %d in the burst: %d %s, want busy", i+1, r.Status, r.Body)
		}
	}
	stop()
	if r := register(li.Login, code); r.Status != http.StatusCreated {
		t.Fatalf("registration after the burst with the code of the refused ones: %d %s", r.Status, r.Body)
	}
}

// TestAccountWideLockLocksEveryNetwork: failures from many networks add up
// to a lock of the account for every network.
func TestAccountWideLockLocksEveryNetwork(t *testing.T) {
	srv := apptest.Start(t, func(c *config.Config) { c.TrustProxy, c.LockoutAccountThreshold = true, 10 })
	b := srv.Browser(t)
	b.Register(zhang)
	for _, ip := range []string{netA, netB} {
		for range 5 {
			if r := loginFrom(b, ip, zhang.Login, "Wrong#Password1"); r.Status != http.StatusUnauthorized {
				t.Fatalf("failure from %s: %d %s", ip, r.Status, r.Body)
			}
		}
	}
	nobody := loginFrom(b, netC, "13900000000", apptest.GoodPassword)
	for _, ident := range []string{zhang.Phone, zhang.Login} {
		if r := loginFrom(b, netC, ident, apptest.GoodPassword); r.Status != nobody.Status || !bytes.Equal(r.Body, nobody.Body) {
			t.Errorf("right password by %s from a third network: %d %s, want %d %s", ident, r.Status, r.Body, nobody.Status, nobody.Body)
		}
	}
	// The first network lock and the account lock each told the owner.
	if n := len(lockNotices(t, srv, 2)); n != 2 {
		t.Errorf("%d lock notices, want 2", n)
	}
	var scopes []string
	events, err := srv.App.Store.ListAudit(context.Background(), 0, 200)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Action == "account.locked" {
			scopes = append(scopes, e.Detail)
		}
	}
	if want := `{"scope":"network"} {"scope":"account"} {"scope":"network"}`; strings.Join(scopes, " ") != want {
		t.Errorf("lock events %v, want %s", scopes, want)
	}
	srv.Clock.Advance(15 * time.Minute)
	if r := loginFrom(b, netC, zhang.Login, apptest.GoodPassword); r.Status != http.StatusCreated {
		t.Fatalf("after the lock ends: %d %s", r.Status, r.Body)
	}
}

// TestConcurrentFailuresCannotOutrunTheLockout: attempts sent at once must
// not all get past the lock check before the first failures are counted.
// Of a burst of wrong passwords only the first LockoutThreshold have their
// password checked; all are answered alike.
func TestConcurrentFailuresCannotOutrunTheLockout(t *testing.T) {
	srv := apptest.Start(t, nil)
	srv.Browser(t).Register(zhang)
	const burst = 12
	type attempt struct{ id, answer string }
	attempts := make([]attempt, burst)
	for i := range attempts {
		attempts[i].id, attempts[i].answer = srv.Browser(t).Captcha()
	}
	var (
		mu      sync.Mutex
		answers = map[string]int{}
		wg      sync.WaitGroup
	)
	for _, a := range attempts {
		wg.Go(func() {
			r := srv.Browser(t).PostJSON("/api/v1/sessions", map[string]any{"identifier": zhang.Login, "password": "Wrong#Password1", "captcha_id": a.id, "captcha_answer": a.answer})
			mu.Lock()
			answers[fmt.Sprint(r.Status, " ", r.ErrCode(t))]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if answers["401 login_failed"] != burst {
		t.Fatalf("%d concurrent wrong passwords were answered %v, want all 401 login_failed", burst, answers)
	}
	events, err := srv.App.Store.ListAudit(context.Background(), 0, 200)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, e := range events {
		if e.Action == "session.login_failed" && e.Result == "failed" {
			checked++
		}
	}
	if checked > 5 {
		t.Errorf("%d of a burst of %d wrong passwords were checked, want at most 5", checked, burst)
	}
	if r := srv.Browser(t).Login(zhang.Login, apptest.GoodPassword); r.Status != http.StatusUnauthorized {
		t.Fatalf("the right password right after the burst: %d %s, want it refused like a wrong one", r.Status, r.Body)
	}
}

func TestFailuresOutsideTheWindowDoNotLock(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	b.Register(zhang)
	for i := 0; i < 8; i++ {
		if r := b.Login("zhang_san", "Wrong#Password1"); r.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d spread over time locked the account: %d %s", i, r.Status, r.Body)
		}
		srv.Clock.Advance(4 * time.Minute) // 4 failures per window at most
		if i%4 == 3 {
			srv.Clock.Advance(15 * time.Minute)
		}
	}
	if r := b.Login("zhang_san", apptest.GoodPassword); r.Status != http.StatusCreated {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
}

func TestPerIPLoginLimit(t *testing.T) {
	srv := apptest.Start(t, func(c *config.Config) { c.LoginPerIPLimit = 3 })
	b := srv.Browser(t)
	for i, ident := range []string{"a_nobody1", "a_nobody2", "a_nobody3"} {
		if r := b.Login(ident, "Wrong#Password1"); r.Status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d %s", i, r.Status, r.Body)
		}
	}
	r := b.Login("a_nobody4", "Wrong#Password1")
	if r.Status != http.StatusTooManyRequests || r.ErrCode(t) != "login_rate_limited" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("4th attempt from one address: %d %s", r.Status, r.Body)
	}
	if msg := r.JSON(t)["error"].(map[string]any)["message"].(string); strings.Count(msg, "分钟") != 1 {
		t.Errorf("the message should say the wait once: %q", msg)
	}
}

// TestPerIPLoginLimitCountsFailuresNotSignIns: an office behind one NAT
// address signs in far more often than the failure limit allows failures;
// a separate, generous cap bounds its sign-ins.
func TestPerIPLoginLimitCountsFailuresNotSignIns(t *testing.T) {
	const failures, successes = 3, 8
	srv := apptest.Start(t, func(c *config.Config) {
		c.TrustProxy, c.LoginPerIPLimit, c.LoginPerIPSuccessLimit = true, failures, successes
	})
	b := srv.Browser(t)
	b.Register(zhang)
	for i := 1; i <= successes; i++ {
		if r := loginFrom(b, netA, zhang.Login, apptest.GoodPassword); r.Status != http.StatusCreated {
			t.Fatalf("sign-in %d from one address: %d %s", i, r.Status, r.Body)
		}
	}
	if r := loginFrom(b, netA, zhang.Login, apptest.GoodPassword); r.Status != http.StatusTooManyRequests || r.ErrCode(t) != "login_rate_limited" {
		t.Fatalf("sign-in %d from one address: %d %s, want login_rate_limited", successes+1, r.Status, r.Body)
	}
	for i, ident := range []string{"a_nobody1", "a_nobody2", "a_nobody3"} {
		if r := loginFrom(b, netB, ident, "Wrong#Password1"); r.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	for _, try := range []struct{ ident, password string }{{"a_nobody4", "Wrong#Password1"}, {zhang.Login, apptest.GoodPassword}} {
		if r := loginFrom(b, netB, try.ident, try.password); r.Status != http.StatusTooManyRequests || r.ErrCode(t) != "login_rate_limited" {
			t.Fatalf("%s after %d failures from one address: %d %s, want login_rate_limited", try.ident, failures, r.Status, r.Body)
		}
	}
}

// TestPerIPLoginLimitCountsAnIPv6NetworkAsOne: a client holds a whole
// IPv6 /64; a fresh address from it per request must not escape the limit.
func TestPerIPLoginLimitCountsAnIPv6NetworkAsOne(t *testing.T) {
	srv := apptest.Start(t, func(c *config.Config) { c.LoginPerIPLimit, c.TrustProxy = 3, true })
	login := func(from, ident string) apptest.Response {
		b := srv.Browser(t)
		id, answer := b.Captcha()
		body := `{"identifier":"` + ident + `","password":"Wrong#Password1","captcha_id":"` + id + `","captcha_answer":"` + answer + `"}`
		return b.Do("POST", "/api/v1/sessions", "application/json", strings.NewReader(body), "X-Forwarded-For", from)
	}
	for i, from := range []string{"2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:aaaa:bbbb:cccc:dddd"} {
		if r := login(from, "a_nobody"+string(rune('1'+i))); r.Status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d %s", i, r.Status, r.Body)
		}
	}
	if r := login("2001:db8:1:2::ffff", "a_nobody4"); r.Status != http.StatusTooManyRequests || r.ErrCode(t) != "login_rate_limited" {
		t.Fatalf("4th attempt from the same /64: %d %s", r.Status, r.Body)
	}
	if r := login("2001:db8:1:3::1", "a_nobody5"); r.Status != http.StatusUnauthorized {
		t.Fatalf("an attempt from another /64: %d %s", r.Status, r.Body)
	}
}

func TestCaptchaIsSingleUse(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	b.Register(zhang)
	b.Do("DELETE", "/api/v1/sessions/current", "", nil)
	id, answer := b.Captcha()
	body := map[string]any{"identifier": "zhang_san", "password": apptest.GoodPassword, "captcha_id": id, "captcha_answer": answer}
	if r := b.PostJSON("/api/v1/sessions", body); r.Status != http.StatusCreated {
		t.Fatalf("first use: %d %s", r.Status, r.Body)
	}
	before := snapshot(t, srv)
	if r := b.PostJSON("/api/v1/sessions", body); r.Status != http.StatusGone || r.ErrCode(t) != "captcha_expired" {
		t.Fatalf("replayed captcha: %d %s", r.Status, r.Body)
	}
	if after := snapshot(t, srv); after != before {
		t.Errorf("replayed captcha changed %v → %v", before, after)
	}
	// A wrong answer uses the captcha up as well.
	id, answer = b.Captcha()
	body["captcha_id"], body["captcha_answer"] = id, "000000x"
	if r := b.PostJSON("/api/v1/sessions", body); r.Status != http.StatusBadRequest || r.ErrCode(t) != "captcha_wrong" {
		t.Fatalf("wrong captcha: %d %s", r.Status, r.Body)
	}
	body["captcha_answer"] = answer
	if r := b.PostJSON("/api/v1/sessions", body); r.Status != http.StatusGone {
		t.Fatalf("captcha reused after a wrong answer: %d %s", r.Status, r.Body)
	}
	// Captchas expire after 5 minutes.
	id, answer = b.Captcha()
	srv.Clock.Advance(5*time.Minute + time.Second)
	body["captcha_id"], body["captcha_answer"] = id, answer
	if r := b.PostJSON("/api/v1/sessions", body); r.Status != http.StatusGone {
		t.Fatalf("expired captcha: %d %s", r.Status, r.Body)
	}
}

func TestSMSCodeExpiredAndReused(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, start func(func(*config.Config)) *apptest.Server) {
		srv := start(nil)
		b := srv.Browser(t)
		form := func(code string) map[string]any {
			return map[string]any{"login_name": "zhang_san", "password": apptest.GoodPassword, "password_confirm": apptest.GoodPassword, "phone": zhang.Phone, "sms_code": code, "agreed": true}
		}
		code := b.SendCode(zhang.Phone)
		srv.Clock.Advance(5*time.Minute + time.Second)
		before := snapshot(t, srv)
		if r := b.PostJSON("/api/v1/users", form(code)); r.Status != http.StatusGone || r.ErrCode(t) != "sms_code_expired" {
			t.Fatalf("expired code: %d %s", r.Status, r.Body)
		}
		if after := snapshot(t, srv); after != before {
			t.Fatalf("expired code changed %v → %v", before, after)
		}
		srv.Clock.Advance(time.Minute)
		code = b.SendCode(zhang.Phone)
		if r := b.PostJSON("/api/v1/users", form(code)); r.Status != http.StatusCreated {
			t.Fatalf("register: %d %s", r.Status, r.Body)
		}
		other := srv.Browser(t)
		f := form(code)
		f["login_name"] = "li_si_2026"
		before = snapshot(t, srv)
		if r := other.PostJSON("/api/v1/users", f); r.Status != http.StatusGone {
			t.Fatalf("reused code: %d %s", r.Status, r.Body)
		}
		if after := snapshot(t, srv); after != before {
			t.Fatalf("reused code changed %v → %v", before, after)
		}
	})
}

func TestSMSLimitsAnswerWithTheWait(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	b.Lang = "en"
	b.SendCode(zhang.Phone)
	sent := srv.OutboxLen(t)
	id, answer := b.Captcha()
	r := b.PostJSON("/api/v1/sms-codes", map[string]any{"phone": zhang.Phone, "purpose": "register", "captcha_id": id, "captcha_answer": answer})
	if r.Status != http.StatusTooManyRequests || r.ErrCode(t) != "sms_rate_limited" {
		t.Fatalf("second code within a minute: %d %s", r.Status, r.Body)
	}
	if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("no Retry-After: %q", ra)
	}
	if msg := r.JSON(t)["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "minute") && !strings.Contains(msg, "second") {
		t.Errorf("message does not say how long to wait: %q", msg)
	}
	if srv.OutboxLen(t) != sent {
		t.Errorf("a refused request sent an SMS")
	}
}

func TestDuplicates(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, start func(func(*config.Config)) *apptest.Server) {
		srv := start(nil)
		srv.Browser(t).Register(zhang)
		tests := []struct {
			name   string
			p      apptest.Person
			code   string
			fields string
		}{
			{"login name, any case", apptest.Person{Login: "Zhang_San", Password: apptest.GoodPassword, Phone: "13900000001"}, "login_name_taken", "login_name"},
			{"phone", apptest.Person{Login: "li_si_2026", Password: apptest.GoodPassword, Phone: zhang.Phone}, "phone_registered", "phone"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := snapshot(t, srv)
				srv.Clock.Advance(2 * time.Minute) // past the per-phone minute limit
				r := srv.Browser(t).Register(tt.p)
				if r.Status != http.StatusConflict || r.ErrCode(t) != tt.code {
					t.Fatalf("got %d %s, want 409 %s", r.Status, r.Body, tt.code)
				}
				if strings.Contains(string(r.Body), "zhang") || strings.Contains(string(r.Body), "138") {
					t.Errorf("answer names the other account: %s", r.Body)
				}
				if tt.fields != "" {
					if _, ok := r.JSON(t)["error"].(map[string]any)["fields"].(map[string]any)[tt.fields]; !ok {
						t.Errorf("field %s not marked: %s", tt.fields, r.Body)
					}
				}
				if after := snapshot(t, srv); after != before {
					t.Errorf("duplicate changed %v → %v", before, after)
				}
			})
		}
	})
}

// TestTakenLoginNameOnlyForTheHolderOfThePhone: whether a login name is
// taken is told only with a right SMS code, and that code stays usable for
// another name.
func TestTakenLoginNameOnlyForTheHolderOfThePhone(t *testing.T) {
	srv := apptest.Start(t, nil)
	srv.Browser(t).Register(zhang)
	probe := func(login, code string) apptest.Response {
		return srv.Browser(t).PostJSON("/api/v1/users", map[string]any{
			"login_name": login, "password": apptest.GoodPassword, "password_confirm": apptest.GoodPassword, "phone": "13900000003", "sms_code": code, "agreed": true,
		})
	}
	taken, free := probe(zhang.Login, "123456"), probe("nobody_2026", "123456")
	if taken.Status != free.Status || !bytes.Equal(taken.Body, free.Body) {
		t.Fatalf("without a code, a taken login name is answered %d %s and a free one %d %s", taken.Status, taken.Body, free.Status, free.Body)
	}

	b := srv.Browser(t)
	code := b.SendCode("13900000003")
	if r := probe(zhang.Login, code); r.Status != http.StatusConflict || r.ErrCode(t) != "login_name_taken" {
		t.Fatalf("taken login name with the right code: %d %s", r.Status, r.Body)
	}
	if r := probe("li_si_2026", code); r.Status != http.StatusCreated {
		t.Fatalf("the same code for a free login name: %d %s", r.Status, r.Body)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, start func(func(*config.Config)) *apptest.Server) {
		srv := start(nil)
		srv.Browser(t).Register(zhang)
		b := srv.Browser(t)
		huge := `{"login_name":"` + strings.Repeat("a", 1<<20) + `"}`
		injections := []string{
			"' OR '1'='1", "admin'--", "1; DROP TABLE users;--", `" OR ""="`, "zhang_san' /*",
			"13812345678' OR 1=1--", "<script>alert(1)</script>", "\x00", "ﾟ", "1' UNION SELECT password_hash FROM users--",
		}
		type tc struct {
			name, path, ctype, body string
			status                  int
			code                    string
		}
		tests := []tc{
			{"malformed json", "/api/v1/users", "application/json", `{"login_name": "x",`, 400, "malformed_json"},
			{"not an object", "/api/v1/sessions", "application/json", `[1,2,3]`, 400, "malformed_json"},
			{"trailing data", "/api/v1/sessions", "application/json", `{"identifier":"a"} {"x":1}`, 400, "malformed_json"},
			{"empty body", "/api/v1/users", "application/json", ``, 400, "body_required"},
			{"oversize body", "/api/v1/users", "application/json", huge, 413, "body_too_large"},
			{"wrong type", "/api/v1/users", "application/json", `{"login_name": 123}`, 400, "wrong_type"},
			{"wrong nested type", "/api/v1/sessions", "application/json", `{"password": {"a":1}}`, 400, "wrong_type"},
			{"unknown field", "/api/v1/users", "application/json", `{"login_name":"zhang_si","is_admin":true}`, 400, "unknown_field"},
			{"form post", "/api/v1/sessions", "application/x-www-form-urlencoded", `identifier=zhang_san`, 400, "content_type_json"},
			{"no content type", "/api/v1/users", "", `{}`, 400, "content_type_json"},
			{"missing fields", "/api/v1/users", "application/json", `{"agreed":true}`, 400, "invalid_fields"},
			{"no agreement", "/api/v1/users", "application/json", `{}`, 400, "agreement_required"},
			{"purpose", "/api/v1/sms-codes", "application/json", `{"phone":"13812345678","purpose":"reset_everything","captcha_id":"x","captcha_answer":"1"}`, 400, "purpose_invalid"},
			{"bad phone for a code", "/api/v1/sms-codes", "application/json", `{"phone":"12345","purpose":"register","captcha_id":"x","captcha_answer":"1"}`, 400, "invalid_fields"},
			{"unknown captcha", "/api/v1/sessions", "application/json", `{"identifier":"zhang_san","password":"x","captcha_id":"nope","captcha_answer":"123456"}`, 410, "captcha_expired"},
			{"unknown api path", "/api/v1/admin/users", "application/json", `{}`, 404, "not_found"},
			{"huge field", "/api/v1/sessions", "application/json", `{"identifier":"` + strings.Repeat("x", 5000) + `"}`, 400, "invalid_fields"},
			{"escaped NUL", "/api/v1/sessions", "application/json", `{"identifier":"zhang\u0000san"}`, 400, "invalid_fields"},
		}
		for _, s := range injections {
			q, _ := json.Marshal(s)
			v := string(q)
			loginStatus, loginCode := 410, "captcha_expired" // the captcha is checked first
			if strings.ContainsRune(s, 0) {
				loginStatus, loginCode = 400, "invalid_fields" // control characters never reach a flow
			}
			tests = append(tests,
				tc{"injection in register: " + s, "/api/v1/users", "application/json",
					`{"login_name":` + v + `,"password":` + v + `,"password_confirm":` + v + `,"phone":` + v + `,"sms_code":` + v + `,"real_name":` + v + `,"id_number":` + v + `,"agreed":true}`, 400, "invalid_fields"},
				tc{"injection in login: " + s, "/api/v1/sessions", "application/json",
					`{"identifier":` + v + `,"password":` + v + `,"captcha_id":` + v + `,"captcha_answer":` + v + `}`, loginStatus, loginCode},
				tc{"injection in sms: " + s, "/api/v1/sms-codes", "application/json",
					`{"phone":` + v + `,"purpose":"register","captcha_id":` + v + `,"captcha_answer":` + v + `}`, 400, "invalid_fields"},
			)
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := snapshot(t, srv)
				sent := srv.OutboxLen(t)
				r := b.Do("POST", tt.path, tt.ctype, strings.NewReader(tt.body))
				if r.Status != tt.status || r.ErrCode(t) != tt.code {
					t.Fatalf("got %d %s, want %d %s", r.Status, r.Body, tt.status, tt.code)
				}
				if msg := r.JSON(t)["error"].(map[string]any)["message"]; msg == "" || msg == nil {
					t.Errorf("no message: %s", r.Body)
				}
				if after := snapshot(t, srv); after != before {
					t.Errorf("bad request changed %v → %v", before, after)
				}
				if srv.OutboxLen(t) != sent {
					t.Errorf("bad request sent an SMS")
				}
				if r.Status < 500 && bytes.Contains(r.Body, []byte("sql")) {
					t.Errorf("answer mentions SQL: %s", r.Body)
				}
			})
		}
		if r := srv.Browser(t).Login("zhang_san", apptest.GoodPassword); r.Status != http.StatusCreated {
			t.Fatalf("the account no longer works after the bad requests: %d %s", r.Status, r.Body)
		}
	})
}

func TestFieldErrorsAllAtOnceInTheRequestLanguage(t *testing.T) {
	srv := apptest.Start(t, nil)
	for _, tt := range []struct{ lang, want string }{{"en", "at least 8"}, {"zh-CN,zh;q=0.9", "至少 8 位"}, {"", "至少 8 位"}} {
		b := srv.Browser(t)
		b.Lang = tt.lang
		r := b.PostJSON("/api/v1/users", map[string]any{"login_name": "1abc", "password": "short", "password_confirm": "other", "phone": "123", "sms_code": "", "agreed": true})
		if r.Status != http.StatusBadRequest {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		fields := r.JSON(t)["error"].(map[string]any)["fields"].(map[string]any)
		for _, f := range []string{"login_name", "password", "password_confirm", "phone", "sms_code"} {
			if _, ok := fields[f]; !ok {
				t.Errorf("lang %q: field %s not reported: %s", tt.lang, f, r.Body)
			}
		}
		if msg := fields["password"].(map[string]any)["message"].(string); !strings.Contains(msg, tt.want) {
			t.Errorf("lang %q: password message %q lacks %q", tt.lang, msg, tt.want)
		}
	}
}

func TestCrossSiteRequestsRefused(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	b.Register(zhang)
	r := b.Do("DELETE", "/api/v1/sessions/current", "", nil, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if r.Status != http.StatusForbidden || r.ErrCode(t) != "cross_origin" {
		t.Fatalf("cross-site logout: %d %s", r.Status, r.Body)
	}
	if me := b.Get("/api/v1/me"); me.Status != http.StatusOK {
		t.Fatalf("cross-site request signed the user out: %d", me.Status)
	}
	r = b.Do("POST", "/api/v1/captchas", "application/json", strings.NewReader("{}"), "Sec-Fetch-Site", "same-origin")
	if r.Status != http.StatusCreated {
		t.Fatalf("same-origin request refused: %d %s", r.Status, r.Body)
	}
}

func TestCaptchaMedia(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	r := b.PostJSON("/api/v1/captchas", map[string]any{})
	c := r.JSON(t)
	img := b.Get(c["image_url"].(string))
	if img.Status != 200 || img.Header.Get("Content-Type") != "image/png" || !bytes.HasPrefix(img.Body, []byte("\x89PNG")) {
		t.Fatalf("image: %d %s", img.Status, img.Header.Get("Content-Type"))
	}
	audio := b.Get(c["audio_url"].(string))
	if audio.Status != 200 || !bytes.HasPrefix(audio.Body, []byte("RIFF")) {
		t.Fatalf("audio: %d", audio.Status)
	}
	for _, id := range []string{"nope", "%00", strings.Repeat("A", 27), "..%2F..%2Fetc"} {
		if r := b.Get("/api/v1/captchas/" + id + "/image"); r.Status != 404 {
			t.Errorf("captcha image %q: %d %s", id, r.Status, r.Body)
		}
	}
}

func TestHealth(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := b.Get(p); r.Status != 200 {
			t.Errorf("%s: %d %s", p, r.Status, r.Body)
		}
	}
}

func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	srv := apptest.Start(t, nil)
	r := srv.Browser(t).Get("/api/openapi.json")
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("not an OpenAPI 3 document: %v", err)
	}
	for _, route := range srv.App.APIRoutes() {
		method, path, _ := strings.Cut(route, " ")
		if _, ok := doc.Paths[path][strings.ToLower(method)]; !ok {
			t.Errorf("%s is not in /api/openapi.json", route)
		}
	}
}

func TestSecurityEventsAreAuditedAndSecretsNeverLogged(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	b.MustRegister(zhang)
	code := srv.LastCode(t, zhang.Phone)
	b.Do("DELETE", "/api/v1/sessions/current", "", nil)
	for i := 0; i < 5; i++ {
		b.Login(zhang.IDNumber, "Wrong#Password1")
	}
	srv.Clock.Advance(16 * time.Minute)
	if r := b.Login(zhang.Phone, apptest.GoodPassword); r.Status != http.StatusCreated {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}

	events, err := srv.App.Store.ListAudit(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action+":"+e.Result)
		if e.Action == audit.ActionLogout {
			// Written once, by the session manager, naming the API.
			if d, _ := audit.ParseDetail(e.Detail); d["via"] != "api" || d["sid"] == "" || e.Actor == "" || e.IP == "" {
				t.Errorf("logout event: %+v", e)
			}
		}
		row := strings.Join([]string{e.Actor, e.Subject, e.Detail, e.IP, e.UserAgent}, " ")
		for _, secret := range []string{zhang.Phone, zhang.IDNumber, zhang.RealName, apptest.GoodPassword, code} {
			if strings.Contains(row, secret) {
				t.Errorf("audit event %d holds %q unmasked: %s", e.Seq, secret, row)
			}
		}
	}
	// The dev demo client is registered (by unid itself) at start-up.
	want := []string{"admin.client_create:ok", "sms.sent:ok", "user.register:ok", "session.logout:ok",
		"session.login_failed:failed", "session.login_failed:failed", "session.login_failed:failed", "session.login_failed:failed", "session.login_failed:failed",
		"account.locked:ok", "session.login:ok"}
	if strings.Join(actions, " ") != strings.Join(want, " ") {
		t.Errorf("audit trail:\n got %v\nwant %v", actions, want)
	}
	logs := srv.Logs.String()
	if !strings.Contains(logs, "/api/v1/sessions") {
		t.Fatalf("the access log is missing: %q", logs)
	}
	for _, secret := range []string{zhang.Phone, zhang.IDNumber, zhang.RealName, apptest.GoodPassword, code, "Wrong#Password1"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}

func TestPasswordRehashedWhenParametersChange(t *testing.T) {
	dir := t.TempDir()
	old := apptest.Start(t, func(c *config.Config) { c.DataDir, c.KeyFile, c.Argon2Time = dir, dir+"/unid.key", 3 })
	old.Browser(t).Register(zhang)
	hash := func(srv *apptest.Server) string {
		u, err := srv.App.Store.GetUserByLoginName(context.Background(), "zhang_san")
		if err != nil {
			t.Fatal(err)
		}
		return u.PasswordHash
	}
	if h := hash(old); !strings.Contains(h, "t=3,") {
		t.Fatalf("hash made with t=3 reads %s", h)
	}
	// The operator lowers the time cost and raises memory; the next login
	// stores a hash with the new parameters.
	cur := apptest.Start(t, func(c *config.Config) {
		c.DataDir, c.KeyFile, c.Argon2Time, c.Argon2Memory = dir, dir+"/unid.key", 2, 20480
	})
	if r := cur.Browser(t).Login("zhang_san", apptest.GoodPassword); r.Status != http.StatusCreated {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	if h := hash(cur); !strings.Contains(h, "m=20480,t=2,") {
		t.Fatalf("hash not upgraded on login: %s", h)
	}
	if r := cur.Browser(t).Login("zhang_san", apptest.GoodPassword); r.Status != http.StatusCreated {
		t.Fatalf("login with the upgraded hash: %d %s", r.Status, r.Body)
	}
}

func TestCaptchaRequestsAreLimitedPerAddress(t *testing.T) {
	srv := apptest.Start(t, func(c *config.Config) { c.CaptchaPerIPMinute = 3 })
	b := srv.Browser(t)
	for i := 0; i < 3; i++ {
		if r := b.PostJSON("/api/v1/captchas", map[string]any{}); r.Status != http.StatusCreated {
			t.Fatalf("captcha %d: %d", i, r.Status)
		}
	}
	r := b.PostJSON("/api/v1/captchas", map[string]any{})
	if r.Status != http.StatusTooManyRequests || r.ErrCode(t) != "captcha_rate_limited" || r.Header.Get("Retry-After") != "60" {
		t.Fatalf("4th captcha in a minute: %d %s %q", r.Status, r.Body, r.Header.Get("Retry-After"))
	}
	srv.Clock.Advance(time.Minute)
	if r := b.PostJSON("/api/v1/captchas", map[string]any{}); r.Status != http.StatusCreated {
		t.Fatalf("a minute later: %d", r.Status)
	}
}

func TestUnknownLoginNamesAreMaskedInTheAudit(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	b.Register(zhang)
	// A password typed into the identifier box looks like a login name.
	b.Login("Secret_Passw0rd", apptest.GoodPassword)
	b.Login("zhang_san", "Wrong#Password1")
	events, err := srv.App.Store.ListAudit(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, e := range events {
		if e.Action == "session.login_failed" {
			subjects = append(subjects, e.Subject)
		}
	}
	if strings.Join(subjects, ",") != "S***,zhang_san" {
		t.Fatalf("failed-login subjects = %v", subjects)
	}
}

func TestCaptchaAudioIsLimitedPerAddress(t *testing.T) {
	srv := apptest.Start(t, func(c *config.Config) { c.CaptchaPerIPMinute = 3 })
	b := srv.Browser(t)
	id, _ := b.Captcha()
	for i := 0; i < 3; i++ {
		if r := b.Get("/api/v1/captchas/" + id + "/audio"); r.Status != http.StatusOK {
			t.Fatalf("audio %d: %d", i, r.Status)
		}
	}
	r := b.Get("/api/v1/captchas/" + id + "/audio")
	if r.Status != http.StatusTooManyRequests || r.ErrCode(t) != "captcha_rate_limited" || r.Header.Get("Retry-After") != "60" {
		t.Fatalf("4th audio in a minute: %d %s", r.Status, r.Body)
	}
	// The image limit is counted apart: listening does not use it up.
	if r := b.PostJSON("/api/v1/captchas", map[string]any{}); r.Status != http.StatusCreated {
		t.Fatalf("a new captcha after the audio limit: %d %s", r.Status, r.Body)
	}
}

// TestSMSBudget: when the platform's hourly SMS budget is used up, a new
// phone from a new address is refused with its own message, and the audit
// log says so once.
func TestSMSBudget(t *testing.T) {
	srv := apptest.Start(t, func(c *config.Config) { c.SMSGlobalHour, c.TrustProxy = 2, true })
	for i := range 4 {
		b := srv.Browser(t)
		b.Lang = "zh-CN"
		id, answer := b.Captcha()
		phone := fmt.Sprintf("1390000000%d", i)
		r := b.Do("POST", "/api/v1/sms-codes", "application/json",
			strings.NewReader(fmt.Sprintf(`{"phone":%q,"purpose":"register","captcha_id":%q,"captcha_answer":%q}`, phone, id, answer)),
			"X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
		if i < 2 {
			if r.Status != http.StatusAccepted {
				t.Fatalf("code %d within the budget: %d %s", i, r.Status, r.Body)
			}
			continue
		}
		if r.Status != http.StatusTooManyRequests || r.ErrCode(t) != "sms_budget_exhausted" || !strings.Contains(string(r.Body), "短信验证码过多") {
			t.Fatalf("code %d over the budget: %d %s", i, r.Status, r.Body)
		}
	}
	if n := srv.OutboxLen(t); n != 2 {
		t.Errorf("%d texts sent, want 2", n)
	}
	events, err := srv.App.Store.ListAudit(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	budget := 0
	for _, e := range events {
		if e.Action == "sms.budget_exhausted" {
			budget++
			if e.Actor != "system" || e.Detail != `{"limit":"2","window":"hour"}` {
				t.Errorf("budget event %+v", e)
			}
		}
	}
	if budget != 1 {
		t.Errorf("%d budget events, want 1", budget)
	}
}
