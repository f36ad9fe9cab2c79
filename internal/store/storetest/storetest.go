package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"unid/internal/store"
)

// base is the fixed clock of the suite; times in the store never come from
// time.Now.
var base = time.Date(2030, 3, 4, 5, 6, 7, 891_000_000, time.UTC)

// concurrency is how many goroutines the concurrent cases use.
const concurrency = 8

// Run checks a backend against the contract of store.Store. newStore returns
// a fresh, migrated, empty store and arranges for it to be closed.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("Users", func(t *testing.T) { testUsers(t, newStore) })
	t.Run("UpdateUser", func(t *testing.T) { testUpdateUser(t, newStore) })
	t.Run("IDNumbers", func(t *testing.T) { testIDNumbers(t, newStore) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, newStore) })
	t.Run("UserSessions", func(t *testing.T) { testUserSessions(t, newStore) })
	t.Run("Challenges", func(t *testing.T) {
		RunChallenges(t, func(t *testing.T) store.Challenges { return newStore(t) }, true)
	})
	t.Run("Flows", func(t *testing.T) { testFlows(t, newStore) })
	t.Run("SecurityQuestions", func(t *testing.T) { testSecurityQuestions(t, newStore) })
	t.Run("Counters", func(t *testing.T) {
		RunCounters(t, func(t *testing.T) store.Counters { return newStore(t) })
	})
	t.Run("Audit", func(t *testing.T) { testAudit(t, newStore) })
	t.Run("ActorAudit", func(t *testing.T) { testActorAudit(t, newStore) })
	t.Run("AuditQuery", func(t *testing.T) { testAuditQuery(t, newStore) })
	t.Run("Clients", func(t *testing.T) { testClients(t, newStore) })
	t.Run("SessionClients", func(t *testing.T) { testSessionClients(t, newStore) })
	t.Run("ClientRecords", func(t *testing.T) { testClientRecords(t, newStore) })
	t.Run("OAuth", func(t *testing.T) { testOAuth(t, newStore) })
	t.Run("Addresses", func(t *testing.T) { testAddresses(t, newStore) })
	t.Run("Closures", func(t *testing.T) { testClosures(t, newStore) })
	t.Run("Records", func(t *testing.T) { testRecords(t, newStore) })
	t.Run("Realname", func(t *testing.T) { testRealname(t, newStore) })
	t.Run("Operators", func(t *testing.T) { testOperators(t, newStore) })
	t.Run("Imports", func(t *testing.T) { testImports(t, newStore) })
	t.Run("Enterprises", func(t *testing.T) { testEnterprises(t, newStore) })
	t.Run("UpstreamLinks", func(t *testing.T) { testUpstreamLinks(t, newStore) })
	t.Run("ConsoleLists", func(t *testing.T) { testConsoleLists(t, newStore) })
	t.Run("OperatorPasskeys", func(t *testing.T) { testOperatorPasskeys(t, newStore) })
	t.Run("Stats", func(t *testing.T) { testStats(t, newStore) })
	t.Run("OperatorTokens", func(t *testing.T) { testOperatorTokens(t, newStore) })
	t.Run("Ping", func(t *testing.T) {
		if err := newStore(t).Ping(context.Background()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
}

// randBytes returns n random bytes.
func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// randID returns a random URL-safe ID.
func randID() string { return base64.RawURLEncoding.EncodeToString(randBytes(12)) }

// sealed returns a random ciphertext with a random 32-byte blind index.
func sealed() store.Sealed {
	return store.Sealed{Cipher: randBytes(40), Index: randBytes(32)}
}

// newUser returns a complete user with unique identifiers.
func newUser() store.User {
	id := randID()
	return store.User{
		ID:            id,
		LoginName:     "User-" + id,
		LoginNameKey:  "user-" + id,
		PasswordHash:  "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
		Phone:         sealed(),
		IDNumber:      sealed(),
		Email:         sealed(),
		RealName:      store.Sealed{Cipher: randBytes(24)},
		Nickname:      store.Sealed{Cipher: randBytes(20)},
		WorkUnit:      store.Sealed{Cipher: randBytes(60)},
		RealnameLevel: 1,
		Status:        store.UserActive,
		CreatedAt:     base,
		UpdatedAt:     base.Add(1500 * time.Microsecond), // sub-millisecond part is dropped
	}
}

// stored is what u looks like after a round trip through any store.
func stored(u store.User) store.User {
	for _, p := range []*store.Sealed{&u.Phone, &u.IDNumber, &u.Email, &u.RealName, &u.Nickname, &u.WorkUnit} {
		if len(p.Cipher) == 0 {
			p.Cipher = nil
		}
		if len(p.Index) == 0 {
			p.Index = nil
		}
	}
	u.RealName.Index, u.Nickname.Index, u.WorkUnit.Index = nil, nil, nil
	u.CreatedAt = u.CreatedAt.UTC().Truncate(time.Millisecond)
	u.UpdatedAt = u.UpdatedAt.UTC().Truncate(time.Millisecond)
	return u
}

// equalUser compares users field by field, times with Equal.
func equalUser(t *testing.T, what string, got, want store.User) {
	t.Helper()
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("%s: times = %v, %v; want %v, %v", what, got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
	if got.CreatedAt.Location() != time.UTC || got.UpdatedAt.Location() != time.UTC {
		t.Errorf("%s: times are not UTC: %v", what, got.CreatedAt.Location())
	}
	got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// wantConflict checks that err is a conflict on field.
func wantConflict(t *testing.T, what string, err error, field string) {
	t.Helper()
	var ce *store.ConflictError
	switch {
	case err == nil:
		t.Errorf("%s: no error, want conflict on %s", what, field)
	case !errors.Is(err, store.ErrConflict):
		t.Errorf("%s: %v, want ErrConflict", what, err)
	case !errors.As(err, &ce):
		t.Errorf("%s: %v, want a *store.ConflictError", what, err)
	case ce.Field != field:
		t.Errorf("%s: conflict on %q, want %q", what, ce.Field, field)
	}
}

// wantNotFound checks that err is ErrNotFound.
func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: %v, want ErrNotFound", what, err)
	}
}

// parallel runs fn(i) for i in [0, concurrency) at once and waits.
func parallel(fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range concurrency {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

func testUsers(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)

	u := newUser()
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	// A user without optional identifiers; many of them must coexist.
	bare := []store.User{newUser(), newUser(), newUser()}
	for i := range bare {
		bare[i].Phone, bare[i].IDNumber, bare[i].Email, bare[i].RealName = store.Sealed{}, store.Sealed{}, store.Sealed{}, store.Sealed{}
		bare[i].Nickname, bare[i].WorkUnit = store.Sealed{}, store.Sealed{}
		bare[i].Phone.Index = []byte{} // empty, not nil: still absent
		bare[i].RealnameLevel = 0
		if err := s.CreateUser(ctx, bare[i]); err != nil {
			t.Fatalf("CreateUser without identifiers #%d: %v", i, err)
		}
	}

	t.Run("get", func(t *testing.T) {
		tests := []struct {
			name string
			get  func() (store.User, error)
			want store.User
		}{
			{"by id", func() (store.User, error) { return s.GetUser(ctx, u.ID) }, u},
			{"by login name", func() (store.User, error) { return s.GetUserByLoginName(ctx, u.LoginNameKey) }, u},
			{"by phone", func() (store.User, error) { return s.GetUserByPhone(ctx, u.Phone.Index) }, u},
			{"by verified id number", func() (store.User, error) { return s.GetUserByVerifiedIDNumber(ctx, u.IDNumber.Index) }, u},
			{"by email", func() (store.User, error) { return s.GetUserByEmail(ctx, u.Email.Index) }, u},
			{"bare by id", func() (store.User, error) { return s.GetUser(ctx, bare[1].ID) }, bare[1]},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := tt.get()
				if err != nil {
					t.Fatalf("get: %v", err)
				}
				equalUser(t, tt.name, got, stored(tt.want))
			})
		}
	})

	t.Run("not found", func(t *testing.T) {
		tests := []struct {
			name string
			get  func() (store.User, error)
		}{
			{"id", func() (store.User, error) { return s.GetUser(ctx, "nobody") }},
			{"login name", func() (store.User, error) { return s.GetUserByLoginName(ctx, "nobody") }},
			{"login name is the key, not as typed", func() (store.User, error) { return s.GetUserByLoginName(ctx, u.LoginName) }},
			{"phone", func() (store.User, error) { return s.GetUserByPhone(ctx, randBytes(32)) }},
			{"id number", func() (store.User, error) { return s.GetUserByVerifiedIDNumber(ctx, randBytes(32)) }},
			{"email", func() (store.User, error) { return s.GetUserByEmail(ctx, randBytes(32)) }},
			{"nil phone", func() (store.User, error) { return s.GetUserByPhone(ctx, nil) }},
			{"nil email", func() (store.User, error) { return s.GetUserByEmail(ctx, nil) }},
			{"empty id number", func() (store.User, error) { return s.GetUserByVerifiedIDNumber(ctx, []byte{}) }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := tt.get()
				wantNotFound(t, tt.name, err)
			})
		}
	})

	t.Run("conflict", func(t *testing.T) {
		tests := []struct {
			name   string
			change func(v *store.User)
			field  string
		}{
			{"id", func(v *store.User) { v.ID = u.ID }, "id"},
			{"login name key", func(v *store.User) { v.LoginNameKey = u.LoginNameKey }, "login_name"},
			{"phone", func(v *store.User) { v.Phone.Index = u.Phone.Index }, "phone"},
			{"id number", func(v *store.User) { v.IDNumber.Index = u.IDNumber.Index }, "id_number"},
			{"email", func(v *store.User) { v.Email.Index = u.Email.Index }, "email"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				v := newUser()
				tt.change(&v)
				wantConflict(t, "CreateUser", s.CreateUser(ctx, v), tt.field)
			})
		}
	})

	t.Run("count", func(t *testing.T) {
		n, err := s.CountUsers(ctx)
		if err != nil || n != 4 {
			t.Errorf("CountUsers = %d, %v; want 4", n, err)
		}
	})
}

// testIDNumbers checks that an ID number is unique only among verified
// accounts, and that only a verified holder is found by it.
func testIDNumbers(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	withLevel := func(idNumber store.Sealed, level int) store.User {
		u := newUser()
		u.IDNumber = store.Sealed{Cipher: randBytes(40), Index: idNumber.Index}
		u.RealnameLevel = level
		return u
	}

	t.Run("unverified holders may share it and are not found by it", func(t *testing.T) {
		s := newStore(t)
		id := sealed()
		a, b := withLevel(id, 0), withLevel(id, 0)
		for _, u := range []store.User{a, b} {
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatalf("CreateUser of an unverified holder: %v", err)
			}
		}
		_, err := s.GetUserByVerifiedIDNumber(ctx, id.Index)
		wantNotFound(t, "GetUserByVerifiedIDNumber with only unverified holders", err)
	})

	t.Run("one verified holder among unverified ones is the one found", func(t *testing.T) {
		s := newStore(t)
		id := sealed()
		before, verified, after := withLevel(id, 0), withLevel(id, 2), withLevel(id, 0)
		for _, u := range []store.User{before, verified, after} {
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
		}
		got, err := s.GetUserByVerifiedIDNumber(ctx, id.Index)
		if err != nil {
			t.Fatalf("GetUserByVerifiedIDNumber: %v", err)
		}
		equalUser(t, "GetUserByVerifiedIDNumber", got, stored(verified))
	})

	t.Run("two verified holders conflict", func(t *testing.T) {
		s := newStore(t)
		id := sealed()
		first := withLevel(id, 1)
		if err := s.CreateUser(ctx, first); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		wantConflict(t, "CreateUser of a second verified holder", s.CreateUser(ctx, withLevel(id, 1)), "id_number")

		// Verifying an unverified holder is the same collision.
		pending := withLevel(id, 0)
		if err := s.CreateUser(ctx, pending); err != nil {
			t.Fatalf("CreateUser of an unverified holder: %v", err)
		}
		_, err := s.UpdateUser(ctx, pending.ID, func(old store.User) (store.User, error) {
			old.RealnameLevel = 1
			return old, nil
		})
		wantConflict(t, "UpdateUser verifying a second holder", err, "id_number")
		got, _ := s.GetUser(ctx, pending.ID)
		if got.RealnameLevel != 0 {
			t.Errorf("RealnameLevel = %d after a refused verification", got.RealnameLevel)
		}
		if n, _ := s.CountUsers(ctx); n != 2 {
			t.Errorf("CountUsers = %d, want 2", n)
		}
	})
}

func testUpdateUser(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)
	u, other := newUser(), newUser()
	for _, v := range []store.User{u, other} {
		if err := s.CreateUser(ctx, v); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
	}
	later := base.Add(time.Hour + 123*time.Millisecond)

	t.Run("changes every field but ID and CreatedAt", func(t *testing.T) {
		var seen store.User
		want := newUser()
		want.ID, want.CreatedAt, want.UpdatedAt = u.ID, u.CreatedAt, later
		want.RealnameLevel, want.Status = 3, store.UserDisabled
		want.Email = store.Sealed{}    // removing an identifier
		want.WorkUnit = store.Sealed{} // and a profile field
		got, err := s.UpdateUser(ctx, u.ID, func(old store.User) (store.User, error) {
			seen = old
			v := want
			v.CreatedAt = base.Add(-time.Hour) // ignored
			return v, nil
		})
		if err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		equalUser(t, "fn saw", seen, stored(u))
		equalUser(t, "UpdateUser returned", got, stored(want))
		got, err = s.GetUser(ctx, u.ID)
		if err != nil {
			t.Fatalf("GetUser: %v", err)
		}
		equalUser(t, "GetUser after update", got, stored(want))
		if _, err := s.GetUserByPhone(ctx, want.Phone.Index); err != nil {
			t.Errorf("GetUserByPhone of new index: %v", err)
		}
		_, err = s.GetUserByPhone(ctx, u.Phone.Index)
		wantNotFound(t, "GetUserByPhone of old index", err)
		_, err = s.GetUserByEmail(ctx, u.Email.Index)
		wantNotFound(t, "GetUserByEmail of removed index", err)
		u = want
	})

	t.Run("fn error aborts", func(t *testing.T) {
		errStop := errors.New("stop")
		got, err := s.UpdateUser(ctx, u.ID, func(old store.User) (store.User, error) {
			old.Status = store.UserActive
			return old, errStop
		})
		if err != errStop {
			t.Errorf("UpdateUser = %v, want the fn's error unchanged", err)
		}
		if got.ID != "" {
			t.Errorf("UpdateUser returned %+v with an error", got)
		}
		after, _ := s.GetUser(ctx, u.ID)
		if after.Status != store.UserDisabled {
			t.Errorf("status = %q after an aborted update", after.Status)
		}
	})

	t.Run("ID cannot change", func(t *testing.T) {
		_, err := s.UpdateUser(ctx, u.ID, func(old store.User) (store.User, error) {
			old.ID = "someone-else"
			return old, nil
		})
		if err == nil {
			t.Error("UpdateUser changed the ID without an error")
		}
		if _, err := s.GetUser(ctx, "someone-else"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetUser(new id) = %v, want ErrNotFound", err)
		}
		if _, err := s.GetUser(ctx, u.ID); err != nil {
			t.Errorf("GetUser(old id): %v", err)
		}
	})

	t.Run("missing", func(t *testing.T) {
		called := false
		_, err := s.UpdateUser(ctx, "nobody", func(old store.User) (store.User, error) {
			called = true
			return old, nil
		})
		wantNotFound(t, "UpdateUser", err)
		if called {
			t.Error("fn called for a missing user")
		}
	})

	t.Run("conflict", func(t *testing.T) {
		tests := []struct {
			name   string
			change func(v *store.User)
			field  string
		}{
			{"login name key", func(v *store.User) { v.LoginNameKey = other.LoginNameKey }, "login_name"},
			{"phone", func(v *store.User) { v.Phone = other.Phone }, "phone"},
			{"id number", func(v *store.User) { v.IDNumber = other.IDNumber }, "id_number"},
			{"email", func(v *store.User) { v.Email = other.Email }, "email"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.UpdateUser(ctx, u.ID, func(old store.User) (store.User, error) {
					tt.change(&old)
					return old, nil
				})
				wantConflict(t, "UpdateUser", err, tt.field)
				got, _ := s.GetUser(ctx, u.ID)
				equalUser(t, "after conflict", got, stored(u))
			})
		}
	})

	t.Run("concurrent updates are not lost", func(t *testing.T) {
		const each = 5
		if _, err := s.UpdateUser(ctx, other.ID, func(old store.User) (store.User, error) {
			old.RealnameLevel = 0
			return old, nil
		}); err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		parallel(func(int) {
			for range each {
				if _, err := s.UpdateUser(ctx, other.ID, func(old store.User) (store.User, error) {
					old.RealnameLevel++
					return old, nil
				}); err != nil {
					t.Errorf("UpdateUser: %v", err)
				}
			}
		})
		got, _ := s.GetUser(ctx, other.ID)
		if got.RealnameLevel != concurrency*each {
			t.Errorf("after %d concurrent increments RealnameLevel = %d", concurrency*each, got.RealnameLevel)
		}
	})
}

func newSession(userID string) store.Session {
	return store.Session{
		TokenHash:  randBytes(32),
		SID:        randID(),
		UserID:     userID,
		AuthTime:   base.Add(-time.Minute),
		CreatedAt:  base,
		LastSeenAt: base,
		ExpiresAt:  base.Add(8 * time.Hour),
		IP:         "203.0.113.7",
		UserAgent:  "Mozilla/5.0 (统一身份认证)",
		AMR:        []string{"pwd"},
	}
}

func equalSession(t *testing.T, what string, got, want store.Session) {
	t.Helper()
	if !bytes.Equal(got.TokenHash, want.TokenHash) || got.UserID != want.UserID ||
		got.SID != want.SID || !got.AuthTime.Equal(want.AuthTime) ||
		!got.CreatedAt.Equal(want.CreatedAt.Truncate(time.Millisecond)) ||
		!got.LastSeenAt.Equal(want.LastSeenAt.Truncate(time.Millisecond)) ||
		!got.ExpiresAt.Equal(want.ExpiresAt.Truncate(time.Millisecond)) ||
		got.IP != want.IP || got.UserAgent != want.UserAgent || got.ActingUSCC != want.ActingUSCC ||
		!slices.Equal(got.AMR, want.AMR) || got.ExpiresAt.Location() != time.UTC {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func testSessions(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)
	alice, bob := newUser(), newUser()
	for _, u := range []store.User{alice, bob} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
	}

	t.Run("create and get", func(t *testing.T) {
		sess := newSession(alice.ID)
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		got, err := s.GetSession(ctx, sess.TokenHash)
		if err != nil {
			t.Fatalf("GetSession: %v", err)
		}
		equalSession(t, "GetSession", got, sess)
		wantConflict(t, "CreateSession twice", s.CreateSession(ctx, sess), "id")
		_, err = s.GetSession(ctx, randBytes(32))
		wantNotFound(t, "GetSession of unknown token", err)
	})

	t.Run("unknown user", func(t *testing.T) {
		err := s.CreateSession(ctx, newSession("nobody"))
		wantNotFound(t, "CreateSession for a missing user", err)
	})

	t.Run("touch", func(t *testing.T) {
		sess := newSession(alice.ID)
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		at := base.Add(10*time.Minute + 5*time.Millisecond)
		if err := s.TouchSession(ctx, sess.TokenHash, at); err != nil {
			t.Fatalf("TouchSession: %v", err)
		}
		got, _ := s.GetSession(ctx, sess.TokenHash)
		sess.LastSeenAt = at
		equalSession(t, "after touch", got, sess)
		wantNotFound(t, "TouchSession of unknown token", s.TouchSession(ctx, randBytes(32), at))
	})

	t.Run("set auth time", func(t *testing.T) {
		sess, other := newSession(alice.ID), newSession(alice.ID)
		for _, v := range []store.Session{sess, other} {
			if err := s.CreateSession(ctx, v); err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
		}
		at := base.Add(40*time.Minute + 7*time.Millisecond)
		if err := s.SetSessionAuth(ctx, sess.TokenHash, at, []string{"alipay", "sms"}); err != nil {
			t.Fatalf("SetSessionAuth: %v", err)
		}
		got, _ := s.GetSession(ctx, sess.TokenHash)
		sess.AuthTime, sess.AMR = at, []string{"alipay", "sms"}
		equalSession(t, "after SetSessionAuth", got, sess)
		got, _ = s.GetSession(ctx, other.TokenHash)
		equalSession(t, "another session of the user", got, other)
		wantNotFound(t, "SetSessionAuth of unknown token", s.SetSessionAuth(ctx, randBytes(32), at, nil))
	})

	t.Run("set acting", func(t *testing.T) {
		sess, other := newSession(alice.ID), newSession(alice.ID)
		for _, v := range []store.Session{sess, other} {
			if err := s.CreateSession(ctx, v); err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
		}
		if got, _ := s.GetSession(ctx, sess.TokenHash); got.ActingUSCC != "" {
			t.Fatalf("a new session acts as %q; want the person", got.ActingUSCC)
		}
		for _, uscc := range []string{"91350100M000100Y43", ""} {
			if err := s.SetSessionActing(ctx, sess.TokenHash, uscc); err != nil {
				t.Fatalf("SetSessionActing(%q): %v", uscc, err)
			}
			got, _ := s.GetSession(ctx, sess.TokenHash)
			sess.ActingUSCC = uscc
			equalSession(t, "after SetSessionActing", got, sess)
		}
		if err := s.SetSessionActing(ctx, other.TokenHash, "91350100M000100Y43"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.GetSession(ctx, sess.TokenHash); got.ActingUSCC != "" {
			t.Fatal("SetSessionActing changed another session")
		}
		list, err := s.ListUserSessions(ctx, alice.ID, base, base.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range list {
			if bytes.Equal(l.TokenHash, other.TokenHash) && l.ActingUSCC != "91350100M000100Y43" {
				t.Fatalf("ListUserSessions: ActingUSCC %q", l.ActingUSCC)
			}
		}
		wantNotFound(t, "SetSessionActing of unknown token", s.SetSessionActing(ctx, randBytes(32), ""))
	})

	t.Run("delete", func(t *testing.T) {
		sess := newSession(alice.ID)
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		if err := s.DeleteSession(ctx, sess.TokenHash); err != nil {
			t.Fatalf("DeleteSession: %v", err)
		}
		_, err := s.GetSession(ctx, sess.TokenHash)
		wantNotFound(t, "GetSession after delete", err)
		wantNotFound(t, "DeleteSession twice", s.DeleteSession(ctx, sess.TokenHash))
	})

	t.Run("delete user sessions", func(t *testing.T) {
		s := newStore(t)
		for _, u := range []store.User{alice, bob} {
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
		}
		var bobs store.Session
		for i := range 3 {
			if err := s.CreateSession(ctx, newSession(alice.ID)); err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
			if i == 0 {
				bobs = newSession(bob.ID)
				if err := s.CreateSession(ctx, bobs); err != nil {
					t.Fatalf("CreateSession: %v", err)
				}
			}
		}
		n, err := s.DeleteUserSessions(ctx, alice.ID)
		if err != nil || n != 3 {
			t.Errorf("DeleteUserSessions = %d, %v; want 3", n, err)
		}
		if n, err := s.CountSessions(ctx); err != nil || n != 1 {
			t.Errorf("CountSessions = %d, %v; want 1 (bob's)", n, err)
		}
		if _, err := s.GetSession(ctx, bobs.TokenHash); err != nil {
			t.Errorf("bob's session: %v", err)
		}
		if n, err := s.DeleteUserSessions(ctx, alice.ID); err != nil || n != 0 {
			t.Errorf("DeleteUserSessions again = %d, %v; want 0", n, err)
		}
	})

	t.Run("take user sessions", func(t *testing.T) {
		s := newStore(t)
		for _, u := range []store.User{alice, bob} {
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
		}
		a1, a2, b1 := newSession(alice.ID), newSession(alice.ID), newSession(bob.ID)
		for _, sess := range []store.Session{a1, a2, b1} {
			if err := s.CreateSession(ctx, sess); err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
		}
		if err := s.AddSessionClient(ctx, store.SessionClient{SID: a1.SID, ClientID: "hall", Protocol: "oidc", Ref: "r", UserID: alice.ID, CreatedAt: base}); err != nil {
			t.Fatalf("AddSessionClient: %v", err)
		}
		got, err := s.TakeUserSessions(ctx, alice.ID)
		if err != nil || len(got) != 2 {
			t.Fatalf("TakeUserSessions = %d sessions, %v; want 2", len(got), err)
		}
		sids := []string{got[0].SID, got[1].SID}
		if !slices.Contains(sids, a1.SID) || !slices.Contains(sids, a2.SID) || !got[0].AuthTime.Equal(a1.AuthTime) {
			t.Errorf("TakeUserSessions returned %+v", got)
		}
		if _, err := s.GetSession(ctx, a1.TokenHash); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("alice's session after TakeUserSessions: %v", err)
		}
		if _, err := s.GetSession(ctx, b1.TokenHash); err != nil {
			t.Errorf("bob's session: %v", err)
		}
		if cs, err := s.ListSessionClients(ctx, a1.SID); err != nil || len(cs) != 1 {
			t.Errorf("client records of a taken session = %v, %v; want them kept for the logout hooks", cs, err)
		}
		if got, err := s.TakeUserSessions(ctx, alice.ID); err != nil || len(got) != 0 {
			t.Errorf("TakeUserSessions again = %v, %v; want none", got, err)
		}
	})

	t.Run("take other sessions", func(t *testing.T) {
		s := newStore(t)
		for _, u := range []store.User{alice, bob} {
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
		}
		a1, a2, a3, b1 := newSession(alice.ID), newSession(alice.ID), newSession(alice.ID), newSession(bob.ID)
		for _, sess := range []store.Session{a1, a2, a3, b1} {
			if err := s.CreateSession(ctx, sess); err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
		}
		got, err := s.TakeOtherUserSessions(ctx, alice.ID, a2.SID)
		if err != nil || len(got) != 2 {
			t.Fatalf("TakeOtherUserSessions = %d sessions, %v; want 2", len(got), err)
		}
		if sids := []string{got[0].SID, got[1].SID}; !slices.Contains(sids, a1.SID) || !slices.Contains(sids, a3.SID) {
			t.Errorf("TakeOtherUserSessions returned %+v", got)
		}
		for _, kept := range []store.Session{a2, b1} {
			if _, err := s.GetSession(ctx, kept.TokenHash); err != nil {
				t.Errorf("session %s after TakeOtherUserSessions: %v", kept.SID, err)
			}
		}
		if got, err := s.TakeOtherUserSessions(ctx, alice.ID, a2.SID); err != nil || len(got) != 0 {
			t.Errorf("TakeOtherUserSessions again = %v, %v; want none", got, err)
		}
	})

	t.Run("delete expired", func(t *testing.T) {
		s := newStore(t)
		if err := s.CreateUser(ctx, alice); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		now := base.Add(24 * time.Hour)
		idleBefore := now.Add(-30 * time.Minute)
		tests := []struct {
			name       string
			lastSeen   time.Time
			expires    time.Time
			wantDelete bool
		}{
			{"live", now.Add(-time.Minute), now.Add(time.Hour), false},
			{"expired", now.Add(-time.Minute), now.Add(-time.Millisecond), true},
			{"expires exactly now", now.Add(-time.Minute), now, true},
			{"idle", idleBefore.Add(-time.Millisecond), now.Add(time.Hour), true},
			{"last seen exactly at the idle limit", idleBefore, now.Add(time.Hour), false},
		}
		for i := range tests {
			sess := newSession(alice.ID)
			sess.LastSeenAt, sess.ExpiresAt = tests[i].lastSeen, tests[i].expires
			sess.UserAgent = tests[i].name
			if err := s.CreateSession(ctx, sess); err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
			defer func(tok []byte, tt int) {
				_, err := s.GetSession(ctx, tok)
				gone := errors.Is(err, store.ErrNotFound)
				if gone != tests[tt].wantDelete {
					t.Errorf("%s: deleted = %v, want %v (%v)", tests[tt].name, gone, tests[tt].wantDelete, err)
				}
			}(sess.TokenHash, i)
		}
		n, err := s.DeleteExpiredSessions(ctx, now, idleBefore)
		if err != nil || n != 3 {
			t.Errorf("DeleteExpiredSessions = %d, %v; want 3", n, err)
		}
	})

}

func newChallenge(kind string) store.Challenge {
	return store.Challenge{
		Kind:      kind,
		ID:        randID(),
		Secret:    randBytes(32),
		Subject:   randBytes(32),
		Attempts:  0,
		CreatedAt: base,
		ExpiresAt: base.Add(5 * time.Minute),
	}
}

func equalChallenge(t *testing.T, what string, got, want store.Challenge) {
	t.Helper()
	want.CreatedAt = want.CreatedAt.UTC().Truncate(time.Millisecond)
	want.ExpiresAt = want.ExpiresAt.UTC().Truncate(time.Millisecond)
	if len(want.Subject) == 0 {
		want.Subject = nil
	}
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) || got.ExpiresAt.Location() != time.UTC {
		t.Errorf("%s: times %v, %v; want %v, %v", what, got.CreatedAt, got.ExpiresAt, want.CreatedAt, want.ExpiresAt)
	}
	got.CreatedAt, got.ExpiresAt, want.CreatedAt, want.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// RunChallenges runs the store.Challenges contract against fresh stores
// from newStore. sweeps says whether DeleteExpiredChallenges deletes what
// has expired (the databases) or the store expires its records by itself
// (Redis), in which case it must only leave live ones alone.
func RunChallenges(t *testing.T, newStore func(t *testing.T) store.Challenges, sweeps bool) {
	ctx := context.Background()
	s := newStore(t)

	t.Run("put and get", func(t *testing.T) {
		c := newChallenge(store.ChallengeCaptcha)
		c.Subject = nil
		if err := s.PutChallenge(ctx, c); err != nil {
			t.Fatalf("PutChallenge: %v", err)
		}
		got, err := s.GetChallenge(ctx, c.Kind, c.ID)
		if err != nil {
			t.Fatalf("GetChallenge: %v", err)
		}
		equalChallenge(t, "GetChallenge", got, c)
		_, err = s.GetChallenge(ctx, store.ChallengeSMS, c.ID)
		wantNotFound(t, "GetChallenge of the same ID with another kind", err)
	})

	t.Run("put replaces", func(t *testing.T) {
		c := newChallenge(store.ChallengeSMS)
		c.Attempts = 2
		if err := s.PutChallenge(ctx, c); err != nil {
			t.Fatalf("PutChallenge: %v", err)
		}
		c2 := c
		c2.Secret, c2.Subject, c2.Attempts = randBytes(32), randBytes(32), 0
		c2.CreatedAt, c2.ExpiresAt = base.Add(time.Minute), base.Add(6*time.Minute)
		if err := s.PutChallenge(ctx, c2); err != nil {
			t.Fatalf("PutChallenge again: %v", err)
		}
		got, _ := s.GetChallenge(ctx, c.Kind, c.ID)
		equalChallenge(t, "after replace", got, c2)
	})

	t.Run("update attempts", func(t *testing.T) {
		c := newChallenge(store.ChallengeSMS)
		if err := s.PutChallenge(ctx, c); err != nil {
			t.Fatalf("PutChallenge: %v", err)
		}
		parallel(func(int) {
			if _, err := s.UpdateChallenge(ctx, c.Kind, c.ID, func(old store.Challenge) (store.Challenge, error) {
				old.Attempts++
				return old, nil
			}); err != nil {
				t.Errorf("UpdateChallenge: %v", err)
			}
		})
		got, _ := s.GetChallenge(ctx, c.Kind, c.ID)
		c.Attempts = concurrency
		equalChallenge(t, "after concurrent updates", got, c)

		errStop := errors.New("too many attempts")
		_, err := s.UpdateChallenge(ctx, c.Kind, c.ID, func(old store.Challenge) (store.Challenge, error) {
			old.Attempts = 100
			return old, errStop
		})
		if err != errStop {
			t.Errorf("UpdateChallenge = %v, want the fn's error unchanged", err)
		}
		got, _ = s.GetChallenge(ctx, c.Kind, c.ID)
		equalChallenge(t, "after aborted update", got, c)

		_, err = s.UpdateChallenge(ctx, c.Kind, c.ID, func(old store.Challenge) (store.Challenge, error) {
			old.ID = "other"
			return old, nil
		})
		if err == nil {
			t.Error("UpdateChallenge changed the ID without an error")
		}
		_, err = s.UpdateChallenge(ctx, c.Kind, "missing", func(old store.Challenge) (store.Challenge, error) { return old, nil })
		wantNotFound(t, "UpdateChallenge of a missing challenge", err)
	})

	t.Run("take exactly once", func(t *testing.T) {
		for round := range 5 {
			c := newChallenge(store.ChallengeCaptcha)
			if err := s.PutChallenge(ctx, c); err != nil {
				t.Fatalf("PutChallenge: %v", err)
			}
			var mu sync.Mutex
			var won int
			parallel(func(int) {
				got, err := s.TakeChallenge(ctx, c.Kind, c.ID)
				switch {
				case err == nil:
					mu.Lock()
					won++
					mu.Unlock()
					equalChallenge(t, "TakeChallenge", got, c)
				case !errors.Is(err, store.ErrNotFound):
					t.Errorf("TakeChallenge: %v", err)
				}
			})
			if won != 1 {
				t.Errorf("round %d: %d of %d concurrent takers got the challenge, want 1", round, won, concurrency)
			}
			_, err := s.GetChallenge(ctx, c.Kind, c.ID)
			wantNotFound(t, "GetChallenge after take", err)
		}
	})

	t.Run("delete", func(t *testing.T) {
		c := newChallenge(store.ChallengeCaptcha)
		if err := s.PutChallenge(ctx, c); err != nil {
			t.Fatalf("PutChallenge: %v", err)
		}
		if err := s.DeleteChallenge(ctx, c.Kind, c.ID); err != nil {
			t.Fatalf("DeleteChallenge: %v", err)
		}
		wantNotFound(t, "DeleteChallenge twice", s.DeleteChallenge(ctx, c.Kind, c.ID))
	})

	t.Run("delete expired", func(t *testing.T) {
		s := newStore(t)
		now := base.Add(time.Hour)
		tests := []struct {
			name       string
			expires    time.Time
			wantDelete bool
		}{
			{"live", now.Add(time.Millisecond), false},
			{"expires now", now, true},
			{"expired", now.Add(-time.Minute), true},
		}
		for _, tt := range tests {
			c := newChallenge(store.ChallengeSMS)
			c.ID, c.ExpiresAt = tt.name, tt.expires
			if err := s.PutChallenge(ctx, c); err != nil {
				t.Fatalf("PutChallenge: %v", err)
			}
			if c.Valid(now) == tt.wantDelete {
				t.Fatalf("%s: table disagrees with Challenge.Valid", tt.name)
			}
		}
		var want int64 // a store that expires its records itself deletes none here
		if sweeps {
			want = 2
		}
		n, err := s.DeleteExpiredChallenges(ctx, now)
		if err != nil || n != want {
			t.Errorf("DeleteExpiredChallenges = %d, %v; want %d", n, err, want)
		}
		for _, tt := range tests {
			_, err := s.GetChallenge(ctx, store.ChallengeSMS, tt.name)
			if gone, wantGone := errors.Is(err, store.ErrNotFound), tt.wantDelete && sweeps; gone != wantGone {
				t.Errorf("%s: deleted = %v, want %v (%v)", tt.name, gone, wantGone, err)
			}
		}
	})
}

// seal is a stand-in for the audit package's hash: SHA-256 over every field
// of the completed event, the previous hash included.
func seal(e store.AuditEvent) []byte {
	h := sha256.New()
	binary.Write(h, binary.BigEndian, e.Seq)
	binary.Write(h, binary.BigEndian, e.Time.UnixMilli())
	for _, f := range []string{e.Time.Location().String(), e.Actor, e.Action, e.Result, e.IP, e.UserAgent, e.Subject, e.Detail} {
		binary.Write(h, binary.BigEndian, int64(len(f)))
		h.Write([]byte(f))
	}
	h.Write(e.PrevHash)
	return h.Sum(nil)
}

func newEvent(i int) store.AuditEvent {
	return store.AuditEvent{
		Seq:       999, // assigned by the store
		Time:      base.Add(time.Duration(i)*time.Second + 250*time.Microsecond).In(time.FixedZone("CST", 8*3600)),
		Actor:     fmt.Sprintf("user-%d", i),
		Action:    "session.login",
		Result:    "ok",
		IP:        "198.51.100.1",
		UserAgent: "curl/8",
		Subject:   "138****5678",
		Detail:    `{"method":"password"}`,
		PrevHash:  []byte("ignored"),
		Hash:      []byte("ignored"),
	}
}

// checkChain checks that events are seq 1..n, linked by PrevHash, each
// sealed over what was stored.
func checkChain(t *testing.T, events []store.AuditEvent, n int) {
	t.Helper()
	if len(events) != n {
		t.Fatalf("%d events, want %d", len(events), n)
	}
	var prev []byte
	for i, e := range events {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
		if !bytes.Equal(e.PrevHash, prev) {
			t.Fatalf("seq %d: prev_hash %x, want %x", e.Seq, e.PrevHash, prev)
		}
		if !bytes.Equal(e.Hash, seal(e)) {
			t.Fatalf("seq %d: stored hash does not match the stored event", e.Seq)
		}
		if e.Time.Location() != time.UTC {
			t.Fatalf("seq %d: time %v is not UTC", e.Seq, e.Time)
		}
		prev = e.Hash
	}
}

func testAudit(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()

	t.Run("append and list", func(t *testing.T) {
		s := newStore(t)
		if got, err := s.ListAudit(ctx, 0, 10); err != nil || len(got) != 0 {
			t.Fatalf("ListAudit of empty log = %v, %v", got, err)
		}
		const n = 5
		var appended []store.AuditEvent
		for i := range n {
			in := newEvent(i)
			var sealedWith store.AuditEvent
			got, err := s.AppendAudit(ctx, in, func(e store.AuditEvent) []byte {
				sealedWith = e
				return seal(e)
			})
			if err != nil {
				t.Fatalf("AppendAudit: %v", err)
			}
			if sealedWith.Seq != int64(i+1) || len(sealedWith.Hash) != 0 {
				t.Errorf("seal called with seq %d, hash %x; want seq %d and no hash", sealedWith.Seq, sealedWith.Hash, i+1)
			}
			if !sealedWith.Time.Equal(in.Time.Truncate(time.Millisecond)) || sealedWith.Actor != in.Actor || sealedWith.Detail != in.Detail {
				t.Errorf("seal called with %+v, not the completed event", sealedWith)
			}
			if !bytes.Equal(got.Hash, seal(sealedWith)) {
				t.Errorf("returned hash is not seal's")
			}
			appended = append(appended, got)
		}
		all, err := s.ListAudit(ctx, 0, 100)
		if err != nil {
			t.Fatalf("ListAudit: %v", err)
		}
		checkChain(t, all, n)
		for i := range all {
			if !reflect.DeepEqual(all[i], appended[i]) {
				t.Errorf("listed %+v\nappended %+v", all[i], appended[i])
			}
		}

		tests := []struct {
			after    int64
			limit    int
			wantSeqs []int64
		}{
			{0, 2, []int64{1, 2}},
			{2, 2, []int64{3, 4}},
			{4, 2, []int64{5}},
			{5, 2, nil},
			{1, 100, []int64{2, 3, 4, 5}},
			{0, 0, nil},
		}
		for _, tt := range tests {
			page, err := s.ListAudit(ctx, tt.after, tt.limit)
			if err != nil {
				t.Fatalf("ListAudit(%d, %d): %v", tt.after, tt.limit, err)
			}
			var seqs []int64
			for _, e := range page {
				seqs = append(seqs, e.Seq)
			}
			if !reflect.DeepEqual(seqs, tt.wantSeqs) {
				t.Errorf("ListAudit(%d, %d) seqs = %v, want %v", tt.after, tt.limit, seqs, tt.wantSeqs)
			}
		}
	})

	t.Run("scan reads a range in order, one event at a time", func(t *testing.T) {
		s := newStore(t)
		scan := func(from, to int64) []store.AuditEvent {
			t.Helper()
			var got []store.AuditEvent
			err := s.ScanAudit(ctx, from, to, func(e store.AuditEvent) error {
				// The hashes are the store's until fn returns.
				e.PrevHash, e.Hash = bytes.Clone(e.PrevHash), bytes.Clone(e.Hash)
				got = append(got, e)
				return nil
			})
			if err != nil {
				t.Fatalf("ScanAudit(%d, %d): %v", from, to, err)
			}
			return got
		}
		if got := scan(0, 0); len(got) != 0 {
			t.Fatalf("ScanAudit of empty log = %v", got)
		}
		const n = 6
		for i := range n {
			if _, err := s.AppendAudit(ctx, newEvent(i), seal); err != nil {
				t.Fatalf("AppendAudit: %v", err)
			}
		}
		all, err := s.ListAudit(ctx, 0, 100)
		if err != nil {
			t.Fatalf("ListAudit: %v", err)
		}
		if got := scan(0, 0); !reflect.DeepEqual(got, all) {
			t.Errorf("ScanAudit(0, 0) =\n%+v\nListAudit =\n%+v", got, all)
		}
		checkChain(t, scan(1, 0), n)
		for _, tt := range []struct {
			from, to int64
			wantSeqs []int64
		}{
			{2, 4, []int64{2, 3, 4}},
			{5, 0, []int64{5, 6}},
			{6, 6, []int64{6}},
			{0, 2, []int64{1, 2}},
			{7, 0, nil},
			{4, 3, nil},
		} {
			if got := auditSeqs(scan(tt.from, tt.to)); !reflect.DeepEqual(got, tt.wantSeqs) {
				t.Errorf("ScanAudit(%d, %d) seqs = %v, want %v", tt.from, tt.to, got, tt.wantSeqs)
			}
		}

		stop := errors.New("enough")
		var seen []int64
		err = s.ScanAudit(ctx, 0, 0, func(e store.AuditEvent) error {
			seen = append(seen, e.Seq)
			if e.Seq == 3 {
				return stop
			}
			return nil
		})
		if err != stop || !reflect.DeepEqual(seen, []int64{1, 2, 3}) {
			t.Errorf("ScanAudit stopped at 3 = %v after %v; want the error unchanged after 1, 2, 3", err, seen)
		}
	})

	t.Run("bad seal is refused", func(t *testing.T) {
		s := newStore(t)
		_, err := s.AppendAudit(ctx, newEvent(0), func(store.AuditEvent) []byte { return nil })
		if err == nil {
			t.Error("AppendAudit stored an event without a hash")
		}
		e, err := s.AppendAudit(ctx, newEvent(1), seal)
		if err != nil || e.Seq != 1 {
			t.Errorf("AppendAudit after a refused one = seq %d, %v; want seq 1", e.Seq, err)
		}
	})

	t.Run("concurrent appends form one chain", func(t *testing.T) {
		s := newStore(t)
		const each = 20
		var mu sync.Mutex
		returned := map[int64]store.AuditEvent{}
		parallel(func(g int) {
			for i := range each {
				e, err := s.AppendAudit(ctx, newEvent(g*each+i), seal)
				if err != nil {
					t.Errorf("AppendAudit: %v", err)
					continue
				}
				mu.Lock()
				returned[e.Seq] = e
				mu.Unlock()
			}
		})
		var all []store.AuditEvent
		for after := int64(0); ; {
			page, err := s.ListAudit(ctx, after, 7)
			if err != nil {
				t.Fatalf("ListAudit: %v", err)
			}
			if len(page) == 0 {
				break
			}
			all = append(all, page...)
			after = page[len(page)-1].Seq
		}
		checkChain(t, all, concurrency*each)
		for _, e := range all {
			if !reflect.DeepEqual(returned[e.Seq], e) {
				t.Errorf("seq %d: the caller was given %+v, the log holds %+v", e.Seq, returned[e.Seq], e)
			}
		}
	})

	t.Run("an append outlives its caller's cancelled context", func(t *testing.T) {
		s := newStore(t)
		gone, cancel := context.WithCancel(ctx)
		cancel()
		e, err := s.AppendAudit(gone, newEvent(0), seal)
		if err != nil || e.Seq != 1 {
			t.Fatalf("AppendAudit with a cancelled context = seq %d, %v; want it recorded", e.Seq, err)
		}
		if all, _ := s.ListAudit(ctx, 0, 10); len(all) != 1 {
			t.Fatalf("the log holds %d events, want 1", len(all))
		}
	})

	t.Run("a panicking seal fails its callers, not the appends after it", func(t *testing.T) {
		s := newStore(t)
		// The panic comes back as an error; were it to reach the caller,
		// the test would end here.
		if _, err := s.AppendAudit(ctx, newEvent(0), func(store.AuditEvent) []byte { panic("seal bug") }); err == nil {
			t.Error("an append whose seal panicked was reported recorded")
		}
		done := make(chan error, 1)
		go func() {
			_, err := s.AppendAudit(ctx, newEvent(1), seal)
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("the append after a panicking one: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the append after a panicking one never returned: the queue is stuck")
		}
		all, _ := s.ListAudit(ctx, 0, 10)
		checkChain(t, all, 1)
	})

	t.Run("a bad seal among concurrent appends fails only its own", func(t *testing.T) {
		s := newStore(t)
		const each = 10
		var failed, bad atomic.Int64
		parallel(func(g int) {
			for i := range each {
				sealer := seal
				if (g*each+i)%7 == 3 {
					bad.Add(1)
					sealer = func(store.AuditEvent) []byte { return []byte("short") }
				}
				if _, err := s.AppendAudit(ctx, newEvent(g*each+i), sealer); err != nil {
					failed.Add(1)
				}
			}
		})
		if failed.Load() != bad.Load() {
			t.Errorf("%d appends failed, want the %d with a bad seal", failed.Load(), bad.Load())
		}
		all, err := s.ListAudit(ctx, 0, 10_000)
		if err != nil {
			t.Fatal(err)
		}
		checkChain(t, all, concurrency*each-int(bad.Load()))
	})
}
