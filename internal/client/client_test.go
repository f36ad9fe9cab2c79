package client_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"unid/internal/audit"
	"unid/internal/claims"
	"unid/internal/client"
	"unid/internal/problem"
	"unid/internal/store"
	"unid/internal/store/sqlite"
	"unid/internal/store/sqlite/sqlitetest"
)

func mac(purpose string, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, []byte("test key "+purpose))
	for _, p := range parts {
		h.Write([]byte{byte(len(p) >> 8), byte(len(p))})
		h.Write(p)
	}
	return h.Sum(nil)
}

func newRegistry(t *testing.T) (*client.Registry, *sqlite.Store) {
	t.Helper()
	st := sqlitetest.New(t)
	now := func() time.Time { return time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC) }
	return client.New(st, mac, audit.New(st, now, slog.New(slog.DiscardHandler)), now), st
}

// ops is the operator making the changes in these tests.
var ops = audit.Origin{Actor: audit.Operator("wang.ops"), IP: "10.1.2.3", UserAgent: "curl/8"}

func fieldCode(err error, field string) string {
	var p *problem.Problem
	if !errors.As(err, &p) {
		return ""
	}
	return p.Fields[field]
}

func TestValidate(t *testing.T) {
	hall := func(edit func(*client.Spec)) client.Spec {
		s := client.Spec{Name: "网上办事大厅", Type: store.ClientOIDCConfidential, RedirectURIs: []string{"https://hall.example.gov.cn/cb"}, Scopes: []string{"profile"}}
		if edit != nil {
			edit(&s)
		}
		return s
	}
	tests := []struct {
		name        string
		spec        client.Spec
		field, code string
	}{
		{"good", hall(nil), "", ""},
		{"loopback http for a local system", hall(func(s *client.Spec) { s.RedirectURIs = []string{"http://127.0.0.1:9000/cb"} }), "", ""},
		{"plain http elsewhere", hall(func(s *client.Spec) { s.RedirectURIs = []string{"http://hall.example.gov.cn/cb"} }), "redirect_uris", "redirect_uri_https"},
		{"fragment", hall(func(s *client.Spec) { s.RedirectURIs = []string{"https://hall.example.gov.cn/cb#x"} }), "redirect_uris", "redirect_uri_format"},
		{"user info", hall(func(s *client.Spec) { s.RedirectURIs = []string{"https://evil@hall.example.gov.cn/cb"} }), "redirect_uris", "redirect_uri_format"},
		{"relative", hall(func(s *client.Spec) { s.RedirectURIs = []string{"/cb"} }), "redirect_uris", "redirect_uri_https"},
		{"javascript", hall(func(s *client.Spec) { s.RedirectURIs = []string{"javascript:alert(1)"} }), "redirect_uris", "redirect_uri_format"},
		{"no wildcards in OIDC: exact match only", hall(func(s *client.Spec) { s.RedirectURIs = []string{"https://hall.example.gov.cn/*"} }), "redirect_uris", "redirect_uri_format"},
		{"no redirect", hall(func(s *client.Spec) { s.RedirectURIs = nil }), "redirect_uris", "redirect_uri_required"},
		{"private scheme only for public clients", hall(func(s *client.Spec) { s.RedirectURIs = []string{"cn.gov.sd.app:/cb"} }), "redirect_uris", "redirect_uri_https"},
		{"private scheme for the app", hall(func(s *client.Spec) { s.Type = store.ClientOIDCPublic; s.RedirectURIs = []string{"cn.gov.sd.app:/cb"} }), "", ""},
		{"unknown scope", hall(func(s *client.Spec) { s.Scopes = []string{"admin"} }), "scopes", "scope_unknown"},
		{"operator scope for a confidential client", hall(func(s *client.Spec) { s.Scopes = []string{"unid.admin"} }), "", ""},
		{"operator scope only for confidential clients", hall(func(s *client.Spec) { s.Type = store.ClientOIDCPublic; s.Scopes = []string{"unid.admin"} }), "scopes", "scope_unknown"},
		{"a CAS attribute is not an OIDC scope", hall(func(s *client.Spec) { s.Scopes = []string{"login_name"} }), "scopes", "scope_unknown"},
		{"bad type", hall(func(s *client.Spec) { s.Type = "saml" }), "type", "client_type"},
		{"bad id", hall(func(s *client.Spec) { s.ID = "../x" }), "id", "client_id_format"},
		{"no name", hall(func(s *client.Spec) { s.Name = "  " }), "name", "client_name_format"},
		{"minimum level 高级", hall(func(s *client.Spec) { s.MinRealnameLevel = 3 }), "", ""},
		{"minimum level above 高级", hall(func(s *client.Spec) { s.MinRealnameLevel = 4 }), "min_realname_level", "min_realname_level_range"},
		{"negative minimum level", hall(func(s *client.Spec) { s.MinRealnameLevel = -1 }), "min_realname_level", "min_realname_level_range"},
		{"unknown enterprise role", hall(func(s *client.Spec) { s.MinEnterpriseRole = "boss" }), "min_enterprise_role", "min_enterprise_role_unknown"},
		{"cas minimum level", client.Spec{Name: "档案", Type: store.ClientCAS, RedirectURIs: []string{"https://archive.example.gov.cn/"}, MinRealnameLevel: 2}, "", ""},
		{"cas pattern", client.Spec{Name: "档案", Type: store.ClientCAS, RedirectURIs: []string{"https://archive.example.gov.cn/app/*"}, Scopes: []string{"login_name", "idcard"}}, "", ""},
		{"cas wildcard in the host", client.Spec{Name: "档案", Type: store.ClientCAS, RedirectURIs: []string{"https://*.example.gov.cn/"}}, "redirect_uris", "redirect_uri_format"},
		{"cas prefix must end in /*", client.Spec{Name: "档案", Type: store.ClientCAS, RedirectURIs: []string{"https://archive.example.gov.cn/app*"}}, "redirect_uris", "redirect_uri_format"},
		{"cas any query", client.Spec{Name: "档案", Type: store.ClientCAS, RedirectURIs: []string{"https://archive.example.gov.cn/app/*?*"}}, "", ""},
		{"cas plain http elsewhere", client.Spec{Name: "档案", Type: store.ClientCAS, RedirectURIs: []string{"http://archive.example.gov.cn/app/*"}}, "redirect_uris", "redirect_uri_https"},
		{"cas loopback http", client.Spec{Name: "档案", Type: store.ClientCAS, RedirectURIs: []string{"http://[::1]:8443/app/*"}}, "", ""},
		{"cas attribute unknown", client.Spec{Name: "档案", Type: store.ClientCAS, RedirectURIs: []string{"https://archive.example.gov.cn/"}, Scopes: []string{"openid"}}, "scopes", "scope_unknown"},
		{"cas name is released through idcard, not registered", client.Spec{Name: "档案", Type: store.ClientCAS, RedirectURIs: []string{"https://archive.example.gov.cn/"}, Scopes: []string{"name"}}, "scopes", "scope_unknown"},
		{"cas every attribute", client.Spec{Name: "档案", Type: store.ClientCAS, RedirectURIs: []string{"https://archive.example.gov.cn/"}, Scopes: claims.CASAttributes()}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := client.Validate(&tt.spec)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if got := fieldCode(err, tt.field); got != tt.code {
				t.Fatalf("Validate = %v, want %s on %s", err, tt.code, tt.field)
			}
		})
	}
}

func TestOIDCScopesAlwaysIncludeOpenID(t *testing.T) {
	s := client.Spec{Name: "x", Type: store.ClientOIDCConfidential, RedirectURIs: []string{"https://a.example/cb"}, Scopes: []string{"phone", "phone"}}
	if err := client.Validate(&s); err != nil || strings.Join(s.Scopes, " ") != "openid phone" {
		t.Fatalf("scopes = %v, %v", s.Scopes, err)
	}
}

func TestSecretsAndAuthentication(t *testing.T) {
	ctx := context.Background()
	r, st := newRegistry(t)
	c, secret, err := r.Create(ctx, client.Spec{ID: "hall", Name: "网上办事大厅", Type: store.ClientOIDCConfidential, RedirectURIs: []string{"https://hall.example.gov.cn/cb"}}, ops)
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) < 43 || strings.Contains(string(c.SecretHash), secret) {
		t.Fatalf("secret %q is short or stored as is", secret)
	}
	stored, _ := st.GetClient(ctx, "hall")
	if strings.Contains(string(stored.SecretHash), secret) {
		t.Fatal("the store holds the secret")
	}
	if _, err := r.Authenticate(ctx, "hall", secret); err != nil {
		t.Fatalf("right secret: %v", err)
	}
	for _, tt := range []struct{ id, secret string }{
		{"hall", secret + "x"}, {"hall", ""}, {"hall", strings.ToUpper(secret)}, {"nobody", secret}, {"../hall", secret}, {"hall", strings.Repeat("a", 10000)},
	} {
		if _, err := r.Authenticate(ctx, tt.id, tt.secret); problem.As(err).Code != "invalid_client" {
			t.Errorf("Authenticate(%q, %.10q…) = %v", tt.id, tt.secret, err)
		}
	}
	if _, _, err := r.Create(ctx, client.Spec{ID: "hall", Name: "again", Type: store.ClientOIDCPublic, RedirectURIs: []string{"https://x.example/cb"}}, ops); problem.As(err).Code != "client_id_taken" {
		t.Fatalf("duplicate id: %v", err)
	}
	newSecret, err := r.RotateSecret(ctx, "hall", ops)
	if err != nil || newSecret == secret {
		t.Fatal(err)
	}
	if _, err := r.Authenticate(ctx, "hall", secret); err == nil {
		t.Fatal("the old secret works after rotation")
	}
	if _, err := r.Authenticate(ctx, "hall", newSecret); err != nil {
		t.Fatalf("the new secret: %v", err)
	}
	pub, pubSecret, err := r.Create(ctx, client.Spec{Name: "掌上办事", Type: store.ClientOIDCPublic, RedirectURIs: []string{"cn.gov.sd.app:/cb"}}, ops)
	if err != nil || pubSecret != "" || pub.SecretHash != nil || pub.ID == "" {
		t.Fatalf("public client: %+v %q %v", pub, pubSecret, err)
	}
	if _, err := r.Authenticate(ctx, pub.ID, "anything"); err == nil {
		t.Fatal("a public client authenticated with a secret")
	}
	if err := r.Delete(ctx, "hall", ops); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Authenticate(ctx, "hall", newSecret); err == nil {
		t.Fatal("a deleted client authenticated")
	}
	if err := r.Delete(ctx, "hall", ops); problem.As(err).Code != "client_not_found" {
		t.Fatalf("delete twice: %v", err)
	}
}

// Every change that happened is one audit event naming who made it; a
// change that failed, or that nobody named asked for, is none.
func TestChangesAreAudited(t *testing.T) {
	ctx := context.Background()
	r, st := newRegistry(t)
	spec := func() client.Spec {
		return client.Spec{ID: "hall", Name: "网上办事大厅", Type: store.ClientOIDCConfidential, RedirectURIs: []string{"https://hall.example.gov.cn/cb"}, MinRealnameLevel: 2}
	}
	_, secret, err := r.Create(ctx, spec(), ops)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Create(ctx, spec(), ops); problem.As(err).Code != "client_id_taken" {
		t.Fatalf("duplicate: %v", err)
	}
	if _, _, err := r.Create(ctx, client.Spec{ID: "tax", Name: "税务", Type: store.ClientCAS, RedirectURIs: []string{"https://tax.example.gov.cn/*"}}, audit.Origin{}); problem.As(err).Kind != problem.Internal {
		t.Fatalf("a change without an actor: %v", err)
	}
	if _, err := st.GetClient(ctx, "tax"); err == nil {
		t.Fatal("a change without an actor was made")
	}
	bad := spec()
	bad.ID, bad.MinRealnameLevel = "hall2", 9
	if _, _, err := r.Create(ctx, bad, ops); problem.As(err).Fields["min_realname_level"] != "min_realname_level_range" {
		t.Fatalf("minimum level 9: %v", err)
	}
	if _, err := st.GetClient(ctx, "hall2"); err == nil {
		t.Fatal("a client with minimum level 9 was registered")
	}
	if c, err := st.GetClient(ctx, "hall"); err != nil || c.MinRealnameLevel != 2 {
		t.Fatalf("registered minimum level = %d, %v", c.MinRealnameLevel, err)
	}
	cli := audit.Origin{Actor: audit.Operator("cli:root")}
	rotated, err := r.RotateSecret(ctx, "hall", cli)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.RotateSecret(ctx, "nobody", cli); problem.As(err).Code != "client_not_found" {
		t.Fatalf("rotate unknown: %v", err)
	}
	if err := r.Delete(ctx, "hall", audit.Origin{Actor: audit.ClientActor("ops-console"), IP: "10.9.9.9"}); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, "hall", ops); problem.As(err).Code != "client_not_found" {
		t.Fatalf("delete twice: %v", err)
	}
	events, err := st.ListAudit(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, strings.Join([]string{e.Actor, e.Action, e.Result, e.Subject, e.IP, e.UserAgent, e.Detail}, " "))
		if strings.Contains(e.Detail, secret) || strings.Contains(e.Detail, rotated) {
			t.Errorf("event %d holds a secret", e.Seq)
		}
	}
	want := []string{
		`operator:wang.ops admin.client_create ok hall 10.1.2.3 curl/8 {"min_realname_level":"2","type":"oidc_confidential"}`,
		`operator:cli:root admin.client_secret_rotate ok hall   `,
		`client:ops-console admin.client_delete ok hall 10.9.9.9  `,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
