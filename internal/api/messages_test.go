package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"unid/internal/app/apptest"
	"unid/internal/config"
	"unid/internal/records"
)

// approvedParams are what the realname service tells with an event.
var approvedParams = map[string]string{"kind": "realname.counter", "reference": "K7Q2M9"}

type messagesReply struct {
	Messages []struct {
		ID, Title, Body, Link string
		CreatedAt             time.Time `json:"created_at"`
		Read                  bool
	}
	Next   string
	Unread int
}

func listMessages(t *testing.T, b *apptest.Browser, query string) messagesReply {
	t.Helper()
	r := b.Get("/api/v1/messages" + query)
	if r.Status != http.StatusOK {
		t.Fatalf("list messages: %d %s", r.Status, r.Body)
	}
	var out messagesReply
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMessagesAPI(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, start func(func(*config.Config)) *apptest.Server) {
		srv := start(nil)
		ctx := context.Background()
		zb, lb := srv.Browser(t), srv.Browser(t)

		if r := zb.Get("/api/v1/messages"); r.Status != http.StatusUnauthorized || r.ErrCode(t) != "not_signed_in" {
			t.Fatalf("signed out: %d %s", r.Status, r.Body)
		}
		zhangID := zb.MustRegister(zhang)
		liID := lb.MustRegister(apptest.Person{Login: "li_si", Password: apptest.GoodPassword, Phone: "13912345678"})
		if got := listMessages(t, zb, ""); len(got.Messages) != 0 || got.Unread != 0 || got.Next != "" {
			t.Fatalf("a new account has messages: %+v", got)
		}

		post := func(userID, event string, params map[string]string, link string) {
			t.Helper()
			if err := srv.App.Records.Post(ctx, userID, event, params, link); err != nil {
				t.Fatal(err)
			}
			srv.Clock.Advance(time.Second)
		}
		post(zhangID, "realname.approved", approvedParams, "/settings/realname")
		post(zhangID, "realname.rejected", map[string]string{"reference": "K7Q2M9", "kind": "realname.counter"}, "")
		post(liID, "realname.moved_away", nil, "")

		// Rendered in the request's language, newest first.
		got := listMessages(t, zb, "")
		if len(got.Messages) != 2 || got.Unread != 2 {
			t.Fatalf("zhang's messages: %+v", got)
		}
		if m := got.Messages[0]; m.Title != "实名认证审核未通过" || !strings.Contains(m.Body, "K7Q2M9") || m.Read {
			t.Errorf("newest: %+v", m)
		}
		if m := got.Messages[1]; m.Title != "实名认证审核已通过" || m.Link != "/settings/realname" {
			t.Errorf("oldest: %+v", m)
		}
		zb.Lang = "en"
		if m := listMessages(t, zb, "").Messages[1]; m.Title != "Your real-name verification is approved" {
			t.Errorf("in English: %+v", m)
		}
		zb.Lang = ""

		// li sees only li's; li cannot mark zhang's: the same answer as a
		// message that does not exist, and zhang's stays unread.
		if l := listMessages(t, lb, ""); len(l.Messages) != 1 || l.Messages[0].Title != "您的实名认证已转移到另一账号" {
			t.Errorf("li's messages: %+v", l)
		}
		id := got.Messages[0].ID
		other := lb.PostJSON("/api/v1/messages/"+id+"/read", nil)
		missing := lb.PostJSON("/api/v1/messages/no-such-message/read", nil)
		if other.Status != http.StatusNotFound || other.ErrCode(t) != "record_not_found" || string(other.Body) != string(missing.Body) || missing.Status != other.Status {
			t.Errorf("marking another's: %d %s; a missing one: %d %s", other.Status, other.Body, missing.Status, missing.Body)
		}
		if g := listMessages(t, zb, ""); g.Unread != 2 || g.Messages[0].Read {
			t.Errorf("another's mark changed zhang's message: %+v", g)
		}

		// zhang marks it read: once, again harmlessly.
		for range 2 {
			if r := zb.PostJSON("/api/v1/messages/"+id+"/read", nil); r.Status != http.StatusNoContent {
				t.Fatalf("mark read: %d %s", r.Status, r.Body)
			}
		}
		if g := listMessages(t, zb, ""); g.Unread != 1 || !g.Messages[0].Read || g.Messages[1].Read {
			t.Errorf("after marking: %+v", g)
		}

		// Pages: the cursor leads on, a forged one is refused.
		for range records.PageSize {
			post(zhangID, "realname.approved", approvedParams, "")
		}
		first := listMessages(t, zb, "")
		if len(first.Messages) != records.PageSize || first.Next == "" {
			t.Fatalf("first page: %d messages, next %q", len(first.Messages), first.Next)
		}
		second := listMessages(t, zb, "?after="+first.Next)
		if len(second.Messages) != 2 || second.Next != "" || second.Messages[1].ID != got.Messages[1].ID {
			t.Errorf("second page: %+v", second)
		}
		if r := zb.Get("/api/v1/messages?after=forged"); r.Status != http.StatusBadRequest || r.ErrCode(t) != "invalid_fields" {
			t.Errorf("forged cursor: %d %s", r.Status, r.Body)
		}
	})
}
