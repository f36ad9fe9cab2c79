package alipaydev

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestAuthorizePage(t *testing.T) {
	g, err := New("http://127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"app_id": {AppID}, "scope": {"auth_user"}, "redirect_uri": {"https://unid.test/cb"}, "state": {"s1"}}
	get := func(q url.Values) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		g.ServeHTTP(w, httptest.NewRequest(http.MethodGet, PathPrefix+"publicAppAuthorize.htm?"+q.Encode(), nil))
		return w
	}
	w := get(q)
	body, _ := io.ReadAll(w.Body)
	for _, want := range []string{"测试数据", `id="alipay-cancel"`, `name="viewport"`, `value="s1"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("page lacks %s", want)
		}
	}
	for _, u := range g.Users() {
		if !strings.Contains(string(body), `data-user="`+u.Key+`"`) {
			t.Errorf("page lacks a button for %s", u.Key)
		}
	}
	if strings.Contains(string(body), "src=") || strings.Contains(string(body), "href=") {
		t.Error("page loads an external resource")
	}
	bad := url.Values{"app_id": {AppID}, "scope": {"auth_user"}, "redirect_uri": {"javascript:alert(1)"}, "state": {"s"}}
	if w := get(bad); w.Code != http.StatusBadRequest {
		t.Errorf("a non-http redirect_uri got %d", w.Code)
	}
}

func TestCodeExpires(t *testing.T) {
	g, err := New("http://127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	g.now = func() time.Time { return now }
	code, _ := g.IssueCode("certified", "auth_user")
	now = now.Add(CodeTTL + time.Second)
	w := httptest.NewRecorder()
	g.token(w, "alipay_system_oauth_token_response", url.Values{"grant_type": {"authorization_code"}, "code": {code}})
	if !strings.Contains(w.Body.String(), "isv.code-invalid") {
		t.Errorf("an expired code got %s", w.Body.String())
	}
}
