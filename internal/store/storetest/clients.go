package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"unid/internal/store"
)

func newClient(id string) store.Client {
	return store.Client{
		ID: id, Name: "省网上办事大厅", Type: store.ClientOIDCConfidential, SecretHash: randBytes(32),
		RedirectURIs:           []string{"https://hall.example.gov.cn/callback", "https://hall.example.gov.cn/cb2"},
		PostLogoutRedirectURIs: []string{"https://hall.example.gov.cn/"},
		Scopes:                 []string{"openid", "profile", "phone"},
		FirstParty:             true, BackchannelLogoutURI: "https://hall.example.gov.cn/bcl",
		MinRealnameLevel: 2, MinEnterpriseRole: "handler", CreatedAt: base, UpdatedAt: base,
	}
}

func testClients(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)
	if list, err := s.ListClients(ctx); err != nil || len(list) != 0 {
		t.Fatalf("ListClients on an empty store = %v, %v", list, err)
	}
	hall := newClient("hall")
	if err := s.CreateClient(ctx, hall); err != nil {
		t.Fatal(err)
	}
	wantConflict(t, "CreateClient twice", s.CreateClient(ctx, hall), "id")
	cas := store.Client{ID: "archive", Name: "档案系统", Type: store.ClientCAS, RedirectURIs: []string{"https://archive.example.gov.cn/*"}, CreatedAt: base, UpdatedAt: base}
	if err := s.CreateClient(ctx, cas); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetClient(ctx, "hall")
	if err != nil || !reflect.DeepEqual(got, hall) {
		t.Fatalf("GetClient = %+v, %v; want %+v", got, err, hall)
	}
	got, err = s.GetClient(ctx, "archive")
	if err != nil || got.SecretHash != nil || len(got.Scopes) != 0 || got.FirstParty || got.MinRealnameLevel != 0 || got.MinEnterpriseRole != "" || got.Disabled {
		t.Fatalf("GetClient(cas) = %+v, %v", got, err)
	}
	if _, err := s.GetClient(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetClient(unknown) = %v", err)
	}
	list, err := s.ListClients(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "archive" || list[1].ID != "hall" {
		t.Fatalf("ListClients = %v, %v", list, err)
	}

	later := base.Add(time.Hour)
	updated, err := s.UpdateClient(ctx, "hall", func(c store.Client) (store.Client, error) {
		c.Scopes = append(c.Scopes, "idcard")
		c.FirstParty = false
		c.MinRealnameLevel = 3
		c.MinEnterpriseRole = "admin"
		c.Disabled = true
		c.UpdatedAt = later
		c.CreatedAt = later // ignored
		return c, nil
	})
	if err != nil || len(updated.Scopes) != 4 || updated.FirstParty || updated.MinRealnameLevel != 3 || updated.MinEnterpriseRole != "admin" || !updated.Disabled || !updated.UpdatedAt.Equal(later) || !updated.CreatedAt.Equal(base) {
		t.Fatalf("UpdateClient = %+v, %v", updated, err)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateClient(ctx, "hall", func(c store.Client) (store.Client, error) { return c, boom }); !errors.Is(err, boom) {
		t.Fatalf("UpdateClient with failing fn = %v", err)
	}
	if _, err := s.UpdateClient(ctx, "hall", func(c store.Client) (store.Client, error) { c.ID = "other"; return c, nil }); err == nil {
		t.Fatal("UpdateClient changed the ID")
	}
	if got, err := s.GetClient(ctx, "hall"); err != nil || !got.Disabled {
		t.Fatalf("GetClient after disabling = %+v, %v", got, err)
	}
	if list, err := s.ListClients(ctx); err != nil || len(list) != 2 || list[0].Disabled || !list[1].Disabled {
		t.Fatalf("ListClients after disabling = %+v, %v", list, err)
	}
	if _, err := s.UpdateClient(ctx, "nope", func(c store.Client) (store.Client, error) { return c, nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateClient(unknown) = %v", err)
	}
	if err := s.DeleteClient(ctx, "hall"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteClient(ctx, "hall"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteClient twice = %v", err)
	}
}

func testSessionClients(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)
	records := []store.SessionClient{
		{SID: "s1", ClientID: "hall", Protocol: "oidc", UserID: "u1", CreatedAt: base},
		{SID: "s1", ClientID: "archive", Protocol: "cas", Ref: "ST-1", URL: "https://archive.example.gov.cn/a", UserID: "u1", CreatedAt: base.Add(time.Second)},
		{SID: "s1", ClientID: "archive", Protocol: "cas", Ref: "ST-2", URL: "https://archive.example.gov.cn/b", UserID: "u1", CreatedAt: base.Add(2 * time.Second)},
		{SID: "s2", ClientID: "hall", Protocol: "oidc", UserID: "u2", CreatedAt: base},
	}
	for _, r := range records {
		if err := s.AddSessionClient(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddSessionClient(ctx, records[0]); err != nil {
		t.Fatalf("recording the same client again: %v", err)
	}
	got, err := s.ListSessionClients(ctx, "s1")
	if err != nil || !reflect.DeepEqual(got, records[:3]) {
		t.Fatalf("ListSessionClients = %+v, %v", got, err)
	}
	if n, err := s.DeleteSessionClients(ctx, "s1"); err != nil || n != 3 {
		t.Fatalf("DeleteSessionClients = %d, %v", n, err)
	}
	if got, _ := s.ListSessionClients(ctx, "s1"); len(got) != 0 {
		t.Fatalf("records left: %v", got)
	}
	if got, _ := s.ListSessionClients(ctx, "s2"); len(got) != 1 {
		t.Fatalf("another session's records were touched: %v", got)
	}

	// A session that expires takes its records with it; a live one keeps them.
	u := newUser()
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	live, dead := newSession(u.ID), newSession(u.ID)
	dead.ExpiresAt = base.Add(time.Minute)
	for _, sess := range []store.Session{live, dead} {
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
		if err := s.AddSessionClient(ctx, store.SessionClient{SID: sess.SID, ClientID: "hall", Protocol: "oidc", UserID: u.ID, CreatedAt: base}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.DeleteExpiredSessions(ctx, base.Add(2*time.Minute), base.Add(-time.Hour)); err != nil || n != 1 {
		t.Fatalf("DeleteExpiredSessions = %d, %v", n, err)
	}
	if got, _ := s.ListSessionClients(ctx, dead.SID); len(got) != 0 {
		t.Errorf("an expired session's clients were kept: %v", got)
	}
	if got, _ := s.ListSessionClients(ctx, live.SID); len(got) != 1 {
		t.Errorf("a live session's clients were dropped: %v", got)
	}
	// Signing a user out everywhere drops the records too.
	if n, err := s.DeleteUserSessions(ctx, u.ID); err != nil || n != 1 {
		t.Fatalf("DeleteUserSessions = %d, %v", n, err)
	}
	if got, _ := s.ListSessionClients(ctx, live.SID); len(got) != 0 {
		t.Errorf("clients of sessions signed out everywhere were kept: %v", got)
	}
}
