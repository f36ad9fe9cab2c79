package client_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/store"
)

// matched returns the ID of the CAS client r finds for service, "" for
// none.
func matched(t *testing.T, r *client.Registry, service string) string {
	t.Helper()
	u, err := client.ParseService(service)
	if err != nil {
		t.Fatalf("%s: %v", service, err)
	}
	s, err := r.Services(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c, ok := s.Match(u)
	if ok != (c.ID != "") {
		t.Fatalf("%s: Match = %q, %v", service, c.ID, ok)
	}
	return c.ID
}

// The CAS client a service URL belongs to: the most specific pattern
// decides, hosts compare without case, and nothing else matches.
func TestServicesMatchTheMostSpecificPattern(t *testing.T) {
	r, _ := newRegistry(t)
	for _, s := range []client.Spec{
		{ID: "portal", Type: store.ClientCAS, RedirectURIs: []string{"https://hall.example.gov.cn/*"}},
		{ID: "apps", Type: store.ClientCAS, RedirectURIs: []string{"https://hall.example.gov.cn/app/*"}},
		{ID: "login", Type: store.ClientCAS, RedirectURIs: []string{"https://hall.example.gov.cn/app/login", "https://tax.example.gov.cn/login"}},
		{ID: "query", Type: store.ClientCAS, RedirectURIs: []string{"https://hall.example.gov.cn/app/search?*"}},
		{ID: "oidc", Type: store.ClientOIDCConfidential, RedirectURIs: []string{"https://www.example.gov.cn/cb"}},
	} {
		s.Name = "系统 " + s.ID
		if _, _, err := r.Create(context.Background(), s, ops); err != nil {
			t.Fatalf("%s: %v", s.ID, err)
		}
	}
	for service, want := range map[string]string{
		"https://hall.example.gov.cn/":               "portal",
		"https://hall.example.gov.cn/news/1":         "portal",
		"https://hall.example.gov.cn/app/":           "apps",
		"https://hall.example.gov.cn/app/x?y=1":      "", // a prefix pattern takes no query
		"https://hall.example.gov.cn/app/login":      "login",
		"https://HALL.Example.gov.cn/app/login":      "login",
		"https://tax.example.gov.cn/login":           "login",
		"https://hall.example.gov.cn/app/search?q=1": "query",
		"https://www.example.gov.cn/cb":              "", // an OpenID Connect client's URI is no service
		"http://hall.example.gov.cn/app/login":       "", // another scheme
		"https://tax.example.gov.cn/":                "",
		"https://hall.example.gov.cn.evil.example/":  "",
	} {
		if got := matched(t, r, service); got != want {
			t.Errorf("%s: matched %q; want %q", service, got, want)
		}
	}
}

// The services (and the listing they come from) are read once for many
// logins, but a CAS client created, changed or deleted through an
// instance's registry counts at once there, and on another instance over
// the same database within client.CacheFor.
func TestServicesFollowChanges(t *testing.T) {
	ctx := context.Background()
	here, st := newRegistry(t)
	now := func() time.Time { return time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC) }
	there := client.New(st, mac, audit.New(st, now, slog.New(slog.DiscardHandler)), now)
	const login, moved = "https://tax.example.gov.cn/login", "https://tax.example.gov.cn/cas/login"

	// Both read the services before the tax office is registered.
	if matched(t, here, login) != "" || matched(t, there, login) != "" {
		t.Fatal("a service matched an empty registry")
	}
	if _, _, err := here.Create(ctx, client.Spec{ID: "tax", Name: "电子税务局", Type: store.ClientCAS, RedirectURIs: []string{"https://tax.example.gov.cn/*"}}, ops); err != nil {
		t.Fatal(err)
	}
	if got := matched(t, here, login); got != "tax" {
		t.Fatalf("after Create, the same instance matched %q; want tax at once", got)
	}
	if l, err := here.Listed(ctx); err != nil || len(l) != 1 || l[0].ID != "tax" {
		t.Fatalf("after Create, the same instance listed %+v, %v; want the tax office at once", l, err)
	}
	eventually(t, func() bool { return matched(t, there, login) == "tax" }, "another instance does not see the new service")

	if _, err := here.Update(ctx, "tax", client.Patch{RedirectURIs: &[]string{"https://tax.example.gov.cn/cas/*"}}, ops); err != nil {
		t.Fatal(err)
	}
	if matched(t, here, login) != "" || matched(t, here, moved) != "tax" {
		t.Fatal("after Update, the same instance does not follow the new pattern at once")
	}
	eventually(t, func() bool { return matched(t, there, login) == "" && matched(t, there, moved) == "tax" },
		"another instance does not follow the new pattern")

	if err := here.Delete(ctx, "tax", ops); err != nil {
		t.Fatal(err)
	}
	if got := matched(t, here, moved); got != "" {
		t.Fatalf("after Delete, the same instance still matched %q", got)
	}
	eventually(t, func() bool { return matched(t, there, moved) == "" }, "another instance still matches a deleted service")
}

// eventually fails the test unless ok holds within client.CacheFor and a
// second of slack.
func eventually(t *testing.T, ok func() bool, failure string) {
	t.Helper()
	deadline := time.Now().Add(client.CacheFor + time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s after %v", failure, client.CacheFor)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
