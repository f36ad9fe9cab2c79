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
