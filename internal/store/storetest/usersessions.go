package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"unid/internal/store"
)

// testUserSessions checks what the user center's list of sessions and its
// "sign out this one" and "sign out all others" rest on.
func testUserSessions(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()

	t.Run("list only the user's live sessions, most recently seen first", func(t *testing.T) {
		s := newStore(t)
		alice, bob := twoUsers(ctx, t, s)
		now := base.Add(24 * time.Hour)
		idleAfter := now.Add(-30 * time.Minute)
		tests := []struct {
			name     string
			user     string
			lastSeen time.Time
			expires  time.Time
			listed   bool
		}{
			{"seen a minute ago", alice.ID, now.Add(-time.Minute), now.Add(time.Hour), true},
			{"seen just now", alice.ID, now, now.Add(time.Hour), true},
			{"seen a millisecond within the idle limit", alice.ID, idleAfter.Add(time.Millisecond), now.Add(time.Hour), true},
			{"seen exactly at the idle limit", alice.ID, idleAfter, now.Add(time.Hour), false},
			{"idle", alice.ID, idleAfter.Add(-time.Hour), now.Add(time.Hour), false},
			{"expires exactly now", alice.ID, now.Add(-time.Minute), now, false},
			{"expired", alice.ID, now.Add(-time.Minute), now.Add(-time.Second), false},
			{"another user's", bob.ID, now.Add(-time.Minute), now.Add(time.Hour), false},
		}
		byAgent := map[string]store.Session{}
		for _, tt := range tests {
			sess := newSession(tt.user)
			sess.LastSeenAt, sess.ExpiresAt, sess.UserAgent = tt.lastSeen, tt.expires, tt.name
			if err := s.CreateSession(ctx, sess); err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
			byAgent[tt.name] = sess
		}
		got, err := s.ListUserSessions(ctx, alice.ID, now, idleAfter)
		if err != nil {
			t.Fatalf("ListUserSessions: %v", err)
		}
		var names []string
		for _, g := range got {
			names = append(names, g.UserAgent)
			equalSession(t, "listed "+g.UserAgent, g, byAgent[g.UserAgent])
		}
		want := []string{"seen just now", "seen a minute ago", "seen a millisecond within the idle limit"}
		if !reflect.DeepEqual(names, want) {
			t.Errorf("ListUserSessions = %q, want %q", names, want)
		}
		for _, tt := range tests {
			if tt.listed != slices.Contains(names, tt.name) {
				t.Errorf("%s: listed = %v, want %v", tt.name, !tt.listed, tt.listed)
			}
		}
		if got, err := s.ListUserSessions(ctx, "nobody", now, idleAfter); err != nil || len(got) != 0 {
			t.Errorf("ListUserSessions of a missing user = %v, %v; want none", got, err)
		}
	})

	t.Run("list by SID, timed out or not, only the user's own", func(t *testing.T) {
		s := newStore(t)
		alice, bob := twoUsers(ctx, t, s)
		idle := newSession(alice.ID)
		idle.LastSeenAt, idle.ExpiresAt = base.Add(-48*time.Hour), base.Add(-24*time.Hour) // idle and expired, not swept
		// A re-authentication: a new token under the same SID.
		again := newSession(alice.ID)
		again.SID = idle.SID
		other := newSession(alice.ID)
		for _, sess := range []store.Session{idle, again, other} {
			if err := s.CreateSession(ctx, sess); err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
		}
		got, err := s.ListSIDSessions(ctx, alice.ID, idle.SID)
		if err != nil || len(got) != 2 {
			t.Fatalf("ListSIDSessions = %v, %v; want the two with the SID", got, err)
		}
		for _, g := range got {
			want := idle
			if string(g.TokenHash) == string(again.TokenHash) {
				want = again
			}
			equalSession(t, "listed by SID", g, want)
		}
		if got, err := s.ListSIDSessions(ctx, bob.ID, idle.SID); err != nil || len(got) != 0 {
			t.Errorf("ListSIDSessions of another user's SID = %v, %v; want none", got, err)
		}
		if _, err := s.TakeUserSession(ctx, alice.ID, idle.SID); err != nil {
			t.Fatalf("TakeUserSession: %v", err)
		}
		if got, err := s.ListSIDSessions(ctx, alice.ID, idle.SID); err != nil || len(got) != 0 {
			t.Errorf("ListSIDSessions after the session ended = %v, %v; want none", got, err)
		}
	})

	t.Run("take one by SID, only the user's own", func(t *testing.T) {
		s := newStore(t)
		alice, bob := twoUsers(ctx, t, s)
		a1, a2, b1 := newSession(alice.ID), newSession(alice.ID), newSession(bob.ID)
		for _, sess := range []store.Session{a1, a2, b1} {
			if err := s.CreateSession(ctx, sess); err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
		}
		if err := s.AddSessionClient(ctx, store.SessionClient{SID: a1.SID, ClientID: "hall", Protocol: "cas", Ref: "ST-1", UserID: alice.ID, CreatedAt: base}); err != nil {
			t.Fatalf("AddSessionClient: %v", err)
		}

		_, err := s.TakeUserSession(ctx, alice.ID, b1.SID)
		wantNotFound(t, "TakeUserSession of another user's SID", err)
		if _, err := s.GetSession(ctx, b1.TokenHash); err != nil {
			t.Errorf("bob's session after alice named its SID: %v", err)
		}
		_, err = s.TakeUserSession(ctx, alice.ID, "no-such-sid")
		wantNotFound(t, "TakeUserSession of a missing SID", err)

		got, err := s.TakeUserSession(ctx, alice.ID, a1.SID)
		if err != nil || len(got) != 1 {
			t.Fatalf("TakeUserSession = %v, %v; want a1", got, err)
		}
		equalSession(t, "taken", got[0], a1)
		if _, err := s.GetSession(ctx, a1.TokenHash); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a1 after it was taken: %v", err)
		}
		if _, err := s.GetSession(ctx, a2.TokenHash); err != nil {
			t.Errorf("a2 after a1 was taken: %v", err)
		}
		if cs, err := s.ListSessionClients(ctx, a1.SID); err != nil || len(cs) != 1 {
			t.Errorf("client records of the taken session = %v, %v; want them kept for the logout hooks", cs, err)
		}
		_, err = s.TakeUserSession(ctx, alice.ID, a1.SID)
		wantNotFound(t, "TakeUserSession twice", err)
	})

	t.Run("take all others", func(t *testing.T) {
		s := newStore(t)
		alice, bob := twoUsers(ctx, t, s)
		keep, b1 := newSession(alice.ID), newSession(bob.ID)
		others := []store.Session{newSession(alice.ID), newSession(alice.ID), newSession(alice.ID)}
		for _, sess := range append([]store.Session{keep, b1}, others...) {
			if err := s.CreateSession(ctx, sess); err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
		}
		got, err := s.TakeOtherUserSessions(ctx, alice.ID, keep.SID)
		if err != nil || len(got) != len(others) {
			t.Fatalf("TakeOtherUserSessions = %d sessions, %v; want %d", len(got), err, len(others))
		}
		for _, o := range others {
			if !slices.ContainsFunc(got, func(g store.Session) bool { return g.SID == o.SID }) {
				t.Errorf("session %s not taken", o.SID)
			}
		}
		for _, stays := range []store.Session{keep, b1} {
			if _, err := s.GetSession(ctx, stays.TokenHash); err != nil {
				t.Errorf("session %s (%s) after TakeOtherUserSessions: %v", stays.SID, stays.UserID, err)
			}
		}
		if got, err := s.TakeOtherUserSessions(ctx, alice.ID, keep.SID); err != nil || len(got) != 0 {
			t.Errorf("TakeOtherUserSessions again = %v, %v; want none", got, err)
		}
	})
}

// testActorAudit checks the read behind a person's own history.
func testActorAudit(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)
	// Events 1..12 alternate between alice and bob; every third of
	// alice's is a token event, which the history skips.
	for i := 1; i <= 12; i++ {
		e := newEvent(i)
		e.Actor, e.Action = "alice", fmt.Sprintf("session.login#%d", i)
		if i%2 == 0 {
			e.Actor = "bob"
		} else if i%3 == 0 {
			e.Action = "oidc.token_issued"
		}
		if _, err := s.AppendAudit(ctx, e, seal); err != nil {
			t.Fatalf("AppendAudit: %v", err)
		}
	}
	seqs := func(es []store.AuditEvent) []int64 {
		var out []int64
		for _, e := range es {
			out = append(out, e.Seq)
		}
		return out
	}
	tests := []struct {
		name  string
		actor string
		skip  []string
		limit int
		want  []int64
	}{
		{"all of alice's, newest first", "alice", nil, 100, []int64{11, 9, 7, 5, 3, 1}},
		{"the newest two", "alice", nil, 2, []int64{11, 9}},
		{"skipping an action", "alice", []string{"oidc.token_issued"}, 100, []int64{11, 7, 5, 1}},
		{"skipping several", "alice", []string{"oidc.token_issued", "session.login#11", "cas.ticket_issued"}, 3, []int64{7, 5, 1}},
		{"bob's", "bob", nil, 3, []int64{12, 10, 8}},
		{"nobody's", "carol", nil, 10, nil},
		{"no limit", "alice", nil, 0, nil},
	}
	for _, tt := range tests {
		got, err := s.ListActorAudit(ctx, tt.actor, tt.skip, tt.limit)
		if err != nil {
			t.Fatalf("%s: ListActorAudit: %v", tt.name, err)
		}
		if !reflect.DeepEqual(seqs(got), tt.want) {
			t.Errorf("%s: seqs = %v, want %v", tt.name, seqs(got), tt.want)
		}
		for _, e := range got {
			if e.Actor != tt.actor || len(e.Hash) == 0 || e.Time.Location() != time.UTC {
				t.Errorf("%s: listed %+v", tt.name, e)
			}
		}
	}
}

// twoUsers stores two new users in s.
func twoUsers(ctx context.Context, t *testing.T, s store.Store) (alice, bob store.User) {
	t.Helper()
	alice, bob = newUser(), newUser()
	for _, u := range []store.User{alice, bob} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
	}
	return alice, bob
}
