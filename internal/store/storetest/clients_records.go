package storetest

import (
	"context"
	"errors"
	"testing"

	"unid/internal/store"
)

// testClientRecords checks that deleting a client takes with it what it
// held by its ID: the users and enterprises it may write for and the
// records it wrote. A client registered again with the ID starts with
// nothing; another client keeps its own.
func testClientRecords(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)
	zhang := newUser()
	if err := s.CreateUser(ctx, zhang); err != nil {
		t.Fatal(err)
	}
	const uscc = "91110000600037341L"
	clientCase := func(clientID, externalID string) store.Record {
		return store.Record{
			ID: randID(), Kind: store.RecordCase, UserID: zhang.ID, ClientID: clientID, ExternalID: externalID,
			Title: "居住证办理", Status: "submitted", Link: "https://" + clientID + ".example.gov.cn/cases/" + externalID,
			UpdatedAt: base, CreatedAt: base,
		}
	}
	// "ghost" wrote records but is not registered: a DeleteClient of it
	// is not found and changes nothing.
	var recs []store.Record
	for _, id := range []string{"hall", "other", "ghost"} {
		if id != "ghost" {
			if err := s.CreateClient(ctx, newClient(id)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.AddSessionClient(ctx, store.SessionClient{SID: randID(), ClientID: id, Protocol: "oidc", UserID: zhang.ID, Acting: uscc, CreatedAt: base}); err != nil {
			t.Fatal(err)
		}
		r := clientCase(id, "c1")
		if _, err := s.UpsertRecords(ctx, []store.Record{r}); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	hall, other, ghost := recs[0], recs[1], recs[2]

	if err := s.DeleteClient(ctx, "ghost"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteClient(unregistered) = %v, want not found", err)
	}
	if _, err := s.GetSourceRecord(ctx, "ghost", store.RecordCase, "c1"); err != nil {
		t.Errorf("a DeleteClient that failed deleted the records: %v", err)
	}
	if err := s.DeleteClient(ctx, "hall"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateClient(ctx, newClient("hall")); err != nil {
		t.Fatal(err)
	}

	users, err := s.KnownUsers(ctx, "hall", []string{zhang.ID})
	if err != nil || users[zhang.ID] {
		t.Errorf("KnownUsers of the client registered again = %v, %v; want none", users, err)
	}
	ents, err := s.KnownEnterprises(ctx, "hall", []string{uscc})
	if err != nil || ents[uscc] {
		t.Errorf("KnownEnterprises of the client registered again = %v, %v; want none", ents, err)
	}
	if _, err := s.GetSourceRecord(ctx, "hall", store.RecordCase, "c1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetSourceRecord of the deleted client's record = %v, want not found", err)
	}
	if _, err := s.GetRecord(ctx, zhang.ID, "", store.RecordCase, hall.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRecord of the deleted client's record = %v, want not found", err)
	}
	if h, err := s.RecordHistory(ctx, hall.ID); err != nil || len(h) != 0 {
		t.Errorf("RecordHistory of the deleted client's record = %v, %v; want none", h, err)
	}
	list, err := s.ListRecords(ctx, store.RecordQuery{Kind: store.RecordCase, UserID: zhang.ID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range list {
		got = append(got, r.ClientID)
	}
	if len(list) != 2 || list[0].ID == hall.ID || list[1].ID == hall.ID {
		t.Errorf("the user's cases after the delete are of %v, want other and ghost", got)
	}

	// The other client keeps its users, enterprises and records.
	if users, err := s.KnownUsers(ctx, "other", []string{zhang.ID}); err != nil || !users[zhang.ID] {
		t.Errorf("KnownUsers of another client = %v, %v", users, err)
	}
	if ents, err := s.KnownEnterprises(ctx, "other", []string{uscc}); err != nil || !ents[uscc] {
		t.Errorf("KnownEnterprises of another client = %v, %v", ents, err)
	}
	for _, r := range []store.Record{other, ghost} {
		if _, err := s.GetSourceRecord(ctx, r.ClientID, store.RecordCase, "c1"); err != nil {
			t.Errorf("GetSourceRecord of %s after deleting hall: %v", r.ClientID, err)
		}
	}
}
