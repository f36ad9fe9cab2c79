package client_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

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
	return client.New(st, mac, func() time.Time { return time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC) }), st
}

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
	c, secret, err := r.Create(ctx, client.Spec{ID: "hall", Name: "网上办事大厅", Type: store.ClientOIDCConfidential, RedirectURIs: []string{"https://hall.example.gov.cn/cb"}})
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
	if _, _, err := r.Create(ctx, client.Spec{ID: "hall", Name: "again", Type: store.ClientOIDCPublic, RedirectURIs: []string{"https://x.example/cb"}}); problem.As(err).Code != "client_id_taken" {
		t.Fatalf("duplicate id: %v", err)
	}
	newSecret, err := r.RotateSecret(ctx, "hall")
	if err != nil || newSecret == secret {
		t.Fatal(err)
	}
	if _, err := r.Authenticate(ctx, "hall", secret); err == nil {
		t.Fatal("the old secret works after rotation")
	}
	if _, err := r.Authenticate(ctx, "hall", newSecret); err != nil {
		t.Fatalf("the new secret: %v", err)
	}
	pub, pubSecret, err := r.Create(ctx, client.Spec{Name: "掌上办事", Type: store.ClientOIDCPublic, RedirectURIs: []string{"cn.gov.sd.app:/cb"}})
	if err != nil || pubSecret != "" || pub.SecretHash != nil || pub.ID == "" {
		t.Fatalf("public client: %+v %q %v", pub, pubSecret, err)
	}
	if _, err := r.Authenticate(ctx, pub.ID, "anything"); err == nil {
		t.Fatal("a public client authenticated with a secret")
	}
	if err := r.Delete(ctx, "hall"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Authenticate(ctx, "hall", newSecret); err == nil {
		t.Fatal("a deleted client authenticated")
	}
	if err := r.Delete(ctx, "hall"); problem.As(err).Code != "client_not_found" {
		t.Fatalf("delete twice: %v", err)
	}
}
