package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"unid/internal/app/apptest"
	"unid/internal/audit"
)

// TestReviewOutcomesReachMyMessages: when a reviewer decides a counter
// request, the citizen finds the outcome among their messages, with the
// reference they quoted, in their language.
func TestReviewOutcomesReachMyMessages(t *testing.T) {
	srv := apptest.Start(t, nil)
	ctx := context.Background()
	b := srv.Browser(t)
	id := b.MustRegister(apptest.Zhang)
	if r := b.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true}); r.Status != http.StatusOK {
		t.Fatalf("level 1: %d %s", r.Status, r.Body)
	}
	reviewer := audit.Origin{Actor: audit.Operator("reviewer-1"), IP: "192.0.2.9"}
	var refs []string
	for _, approve := range []bool{false, true} {
		r := b.PostJSON("/api/v1/realname/counter", map[string]any{})
		if r.Status != http.StatusCreated {
			t.Fatalf("counter request: %d %s", r.Status, r.Body)
		}
		var item struct{ ID, Reference string }
		json.Unmarshal(r.Body, &item)
		refs = append(refs, item.Reference)
		if _, err := srv.App.Realname.Decide(ctx, item.ID, approve, "核验完毕", reviewer); err != nil {
			t.Fatalf("decide: %v", err)
		}
		srv.Clock.Advance(time.Minute)
	}
	r := b.Get("/api/v1/messages")
	var got struct {
		Messages []struct{ Title, Body, Link string }
		Unread   int
	}
	if err := json.Unmarshal(r.Body, &got); err != nil || r.Status != http.StatusOK {
		t.Fatalf("messages: %d %s", r.Status, r.Body)
	}
	if len(got.Messages) != 2 || got.Unread != 2 {
		t.Fatalf("messages after two decisions: %s", r.Body)
	}
	approved, rejected := got.Messages[0], got.Messages[1]
	if approved.Title != "实名认证审核已通过" || !strings.Contains(approved.Body, refs[1]) || approved.Link != "/settings/realname" {
		t.Errorf("approved: %+v", approved)
	}
	if rejected.Title != "实名认证审核未通过" || !strings.Contains(rejected.Body, refs[0]) {
		t.Errorf("rejected: %+v", rejected)
	}
	if u, err := srv.App.Store.GetUser(ctx, id); err != nil || u.RealnameLevel != 3 {
		t.Errorf("level after the approval: %d, %v", u.RealnameLevel, err)
	}
}
