package httpx_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"unid/internal/httpx"
	"unid/internal/i18n"
	"unid/internal/store"
)

func TestGuard(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	rs := httpx.NewResponder(cat, nil, 1<<10)
	tests := []struct {
		name     string
		signedIn bool
		authAgo  time.Duration
		recent   bool // guard with Recent(5m) instead of SignedIn
		want     int
		wantCode string
	}{
		{"anonymous", false, 0, false, http.StatusUnauthorized, "not_signed_in"},
		{"signed in", true, time.Hour, false, http.StatusOK, ""},
		{"anonymous, sensitive", false, 0, true, http.StatusUnauthorized, "not_signed_in"},
		{"signed in just now, sensitive", true, time.Minute, true, http.StatusOK, ""},
		{"at the limit, sensitive", true, 5 * time.Minute, true, http.StatusOK, ""},
		{"signed in an hour ago, sensitive", true, time.Hour, true, http.StatusUnauthorized, "reauthentication_required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signedIn := func(ctx context.Context, r *http.Request) (store.Session, store.User, bool, error) {
				if !tt.signedIn {
					return store.Session{}, store.User{}, false, nil
				}
				return store.Session{AuthTime: now.Add(-tt.authAgo)}, store.User{ID: "u1"}, true, nil
			}
			g := httpx.NewGuard(signedIn, rs.Fail, func() time.Time { return now })
			ran := false
			h := func(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
				ran = s.User.ID == "u1"
				w.WriteHeader(http.StatusOK)
			}
			handler := g.SignedIn(h)
			if tt.recent {
				handler = g.Recent(5*time.Minute, h)
			}
			rec := httptest.NewRecorder()
			handler(rec, httptest.NewRequest("POST", "/api/v1/me/password", nil))
			if rec.Code != tt.want || ran != (tt.want == http.StatusOK) {
				t.Fatalf("status %d, handler ran %v; want %d", rec.Code, ran, tt.want)
			}
			if tt.wantCode != "" {
				var body struct {
					Error struct{ Code, Message string }
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != tt.wantCode || body.Error.Message == "" {
					t.Fatalf("body %s; want code %s with a message", rec.Body, tt.wantCode)
				}
			}
		})
	}
}

func TestSameOrigin(t *testing.T) {
	tests := []struct {
		name   string
		header []string
		want   bool
	}{
		{"typed or bookmarked", []string{"Sec-Fetch-Site", "none"}, true},
		{"one of unid's pages", []string{"Sec-Fetch-Site", "same-origin"}, true},
		{"another site", []string{"Sec-Fetch-Site", "cross-site"}, false},
		{"another origin of the same site", []string{"Sec-Fetch-Site", "same-site"}, false},
		{"another site that also sends Origin", []string{"Sec-Fetch-Site", "cross-site", "Origin", "http://unid.example"}, false},
		{"no Sec-Fetch-Site, other origin", []string{"Origin", "https://evil.example"}, false},
		{"no Sec-Fetch-Site, own origin", []string{"Origin", "http://unid.example"}, true},
		{"no Sec-Fetch-Site, opaque origin", []string{"Origin", "null"}, false},
		{"no Sec-Fetch-Site, other referer", []string{"Referer", "https://evil.example/page"}, false},
		{"no Sec-Fetch-Site, own referer", []string{"Referer", "http://unid.example/me"}, true},
		{"a link with rel=noreferrer on plain HTTP: no evidence", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://unid.example/cas/logout", nil)
			for i := 0; i+1 < len(tt.header); i += 2 {
				r.Header.Set(tt.header[i], tt.header[i+1])
			}
			if got := httpx.SameOrigin(r); got != tt.want {
				t.Errorf("SameOrigin = %v, want %v", got, tt.want)
			}
		})
	}
}
