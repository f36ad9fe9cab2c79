package client_test

import (
	"context"
	"reflect"
	"testing"

	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/problem"
	"unid/internal/store"
)

func TestUpdateDisableCheck(t *testing.T) {
	r, st := newRegistry(t)
	ctx := context.Background()
	c, secret, err := r.Create(ctx, client.Spec{ID: "hall", Name: "办事大厅", Type: store.ClientOIDCConfidential,
		RedirectURIs: []string{"https://hall.example.gov.cn/cb"}, Scopes: []string{"profile"}}, ops)
	if err != nil {
		t.Fatal(err)
	}

	// Check judges like Create and writes nothing; a taken ID is a field problem.
	if err := r.Check(ctx, client.Spec{ID: "hall", Name: "x", Type: store.ClientCAS, RedirectURIs: []string{"https://a.example/*"}}); fieldCode(err, "id") != "client_id_taken" {
		t.Fatalf("Check(taken) = %v", err)
	}
	if err := r.Check(ctx, client.Spec{Name: "", Type: "saml"}); fieldCode(err, "name") != "client_name_format" || fieldCode(err, "type") != "client_type" {
		t.Fatalf("Check(bad) = %v", err)
	}

	c, _ = r.Get(ctx, "hall")
	bad := []string{"https://*"}
	if _, err := r.Update(ctx, "hall", client.Patch{RedirectURIs: &bad}, ops); fieldCode(err, "redirect_uris") == "" {
		t.Fatalf("Update(bad) = %v", err)
	}
	if got, _ := r.Get(ctx, "hall"); !reflect.DeepEqual(got, c) {
		t.Fatalf("a refused update changed the client: %+v", got)
	}
	name, level := "省网上办事大厅", 2
	got, err := r.Update(ctx, "hall", client.Patch{Name: &name, MinRealnameLevel: &level}, ops)
	if err != nil || got.Name != name || got.MinRealnameLevel != 2 || got.Scopes[0] != "openid" || !reflect.DeepEqual(got.SecretHash, c.SecretHash) {
		t.Fatalf("Update = %+v, %v", got, err)
	}
	if _, err := r.Update(ctx, "hall", client.Patch{Name: &name}, ops); err != nil { // nothing changes: no event
		t.Fatal(err)
	}

	if _, err := r.Disable(ctx, "hall", ops); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Authenticate(ctx, "hall", secret); problem.As(err).Code != "invalid_client" {
		t.Fatalf("Authenticate(disabled) = %v", err)
	}
	if _, err := r.Active(ctx, "hall"); problem.As(err).Kind != problem.NotFound || problem.As(err).Code != "client_disabled" {
		t.Fatalf("Active(disabled) = %v", err)
	}
	if _, err := r.Disable(ctx, "hall", ops); err != nil { // again: no event
		t.Fatal(err)
	}
	if _, err := r.Enable(ctx, "hall", ops); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Authenticate(ctx, "hall", secret); err != nil {
		t.Fatalf("Authenticate(enabled) = %v", err)
	}
	if _, err := r.Disable(ctx, "nope", ops); problem.As(err).Code != "client_not_found" {
		t.Fatalf("Disable(unknown) = %v", err)
	}
	if _, err := r.Disable(ctx, "hall", audit.Origin{}); err == nil {
		t.Fatalf("Disable without an actor = %v", err)
	}
	list, err := st.ListAudit(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, e := range list {
		events = append(events, e.Action)
	}
	want := []string{client.ActionCreate, client.ActionUpdate, client.ActionDisable, client.ActionEnable}
	if !reflect.DeepEqual(events, want) {
		t.Fatalf("audit = %v; want %v", events, want)
	}
	if v := client.Vocabulary(); len(v[store.ClientCAS]) == 0 || contains(v[store.ClientOIDCPublic], "unid.admin") || !contains(v[store.ClientOIDCConfidential], "unid.admin") {
		t.Fatalf("Vocabulary = %v", v)
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
