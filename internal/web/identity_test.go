package web

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestIdentityPage: the person and each enterprise, the default (or the
// session's choice) preselected, in the user's language; a visitor goes
// to the login page and comes back; a foreign next is not followed; an
// enterprise space that cannot answer shows the unavailable page.
func TestIdentityPage(t *testing.T) {
	ids := Identities{LoginName: "zhang_san", Enterprises: []IdentityEnterprise{
		{USCC: "91350100M000100Y43", Name: "福州示例科技有限公司", Role: "handler", Labels: []string{"财务"}, Default: true},
		{USCC: "91110000600037341L", Name: "北京潮汐贸易有限公司", Role: "legal_rep"},
	}}
	var fail error
	srv := newServer(t, Options{Identities: func(r *http.Request) (Identities, bool, error) {
		if fail != nil {
			return Identities{}, false, fail
		}
		c, err := r.Cookie("sess")
		return ids, err == nil && c.Value == "1", nil
	}})
	get := func(path, lang string, signedIn bool) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if signedIn {
			req.AddCookie(&http.Cookie{Name: "sess", Value: "1"})
		}
		req.Header.Set("Accept-Language", lang)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Location"), string(b)
	}
	next := "/oidc/authorize/callback?id=abc&identity=chosen"
	path := "/sso/identity?next=" + url.QueryEscape(next)

	status, _, body := get(path, "zh-CN", true)
	for _, want := range []string{"选择办事身份", "本人（个人办事）", "福州示例科技有限公司", "经办人 · 财务 · 默认", "法定代表人",
		`value="91350100M000100Y43" checked`, `data-next="` + strings.ReplaceAll(next, "&", "&amp;") + `"`, "identity.js"} {
		if status != http.StatusOK || !strings.Contains(body, want) {
			t.Fatalf("identity page (%d) lacks %q:\n%s", status, want, body)
		}
	}
	if strings.Contains(body, `value="" checked`) {
		t.Fatal("the person is preselected although there is a default enterprise")
	}
	if _, _, body := get(path, "en", true); !strings.Contains(body, "Choose whom you act for") || !strings.Contains(body, "Legal representative") {
		t.Fatalf("English page:\n%s", body)
	}

	// The session's choice wins over the default; the person when chosen.
	ids.Chosen, ids.Acting = true, "91110000600037341L"
	if _, _, body := get(path, "zh-CN", true); !strings.Contains(body, `value="91110000600037341L" checked`) || strings.Contains(body, `value="91350100M000100Y43" checked`) {
		t.Fatalf("the session's choice is not preselected:\n%s", body)
	}
	ids.Acting = ""
	if _, _, body := get(path, "zh-CN", true); !strings.Contains(body, `value="" checked`) {
		t.Fatalf("the person, chosen, is not preselected:\n%s", body)
	}

	// A visitor signs in first and comes back here.
	status, loc, _ := get(path, "zh-CN", false)
	if status != http.StatusSeeOther || loc != "/login?next="+url.QueryEscape(path) {
		t.Fatalf("visitor: %d %q", status, loc)
	}
	// A next off this site is not followed: the personal space instead.
	if _, _, body := get("/sso/identity?next="+url.QueryEscape("https://evil.example/"), "zh-CN", true); !strings.Contains(body, `data-next="/me"`) || strings.Contains(body, "evil.example") {
		t.Fatalf("foreign next:\n%s", body)
	}
	fail = errors.New("database down")
	if status, _, _ := get(path, "zh-CN", true); status != http.StatusServiceUnavailable {
		t.Fatalf("enterprise space down: %d", status)
	}
}
