package records_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"unid/internal/i18n"
	"unid/internal/problem"
	"unid/internal/records"
	"unid/internal/store"
	"unid/internal/store/sqlite/sqlitetest"
)

// approvedParams are what the realname service tells with an event.
var approvedParams = map[string]string{"kind": "realname.counter", "reference": "K7Q2M9"}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

type fixture struct {
	svc       *records.Service
	st        store.Store
	cat       *i18n.Catalog
	clock     *clock
	zhang, li string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	st := sqlitetest.New(t)
	c := &clock{now: time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)}
	f := &fixture{svc: records.New(records.Deps{Store: st, Users: st, Catalog: cat, Now: c.Now}), st: st, cat: cat, clock: c}
	for i, name := range []string{"zhang_san", "li_si"} {
		u := store.User{ID: name + "-id", LoginName: name, LoginNameKey: name, Status: store.UserActive, CreatedAt: c.now, UpdatedAt: c.now}
		if err := st.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			f.zhang = u.ID
		} else {
			f.li = u.ID
		}
	}
	return f
}

func (f *fixture) list(t *testing.T, lang i18n.Lang, userID, after string) records.Page {
	t.Helper()
	p, err := f.svc.List(context.Background(), lang, userID, "messages", records.Filter{After: after})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return p
}

func TestPostAndListInTheReadersLanguage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.svc.Post(ctx, f.zhang, "realname.approved", approvedParams, "/settings/realname"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	if err := f.svc.Post(ctx, f.zhang, "realname.rejected", map[string]string{"reference": "K7Q2M9", "kind": "realname.counter"}, ""); err != nil {
		t.Fatal(err)
	}
	for _, lang := range i18n.Langs {
		p := f.list(t, lang, f.zhang, "")
		if len(p.Records) != 2 || p.Unread != 2 || p.Next != "" {
			t.Fatalf("%s: page = %+v", lang, p)
		}
		newest, oldest := p.Records[0], p.Records[1]
		if newest.Title != f.cat.T(lang, "message.realname.rejected.title") ||
			!strings.Contains(newest.Body, "K7Q2M9") || strings.Contains(newest.Body, "{reference}") {
			t.Errorf("%s: newest = %+v", lang, newest)
		}
		if oldest.Title != f.cat.T(lang, "message.realname.approved.title") || oldest.Link != "/settings/realname" || oldest.Read {
			t.Errorf("%s: oldest = %+v", lang, oldest)
		}
		if !newest.SubmittedAt.After(oldest.SubmittedAt) {
			t.Errorf("%s: not newest first", lang)
		}
	}
	if p := f.list(t, i18n.ZH, f.li, ""); len(p.Records) != 0 || p.Unread != 0 {
		t.Errorf("li sees zhang's messages: %+v", p)
	}
}

// TestPostRefusesWhatACitizenCouldNotRead: an event without texts, a
// text with a placeholder left unfilled, a link away from the site, and
// an account that does not exist store nothing.
func TestPostRefusesWhatACitizenCouldNotRead(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tests := []struct {
		name, user, event, link string
		params                  map[string]string
	}{
		{name: "no texts", user: f.zhang, event: "realname.unheard_of"},
		{name: "no event", user: f.zhang, event: ""},
		{name: "placeholder unfilled", user: f.zhang, event: "realname.rejected", params: map[string]string{"kind": "realname.counter"}},
		{name: "link to another host", user: f.zhang, event: "realname.approved", params: approvedParams, link: "//evil.example/"},
		{name: "link absolute URL", user: f.zhang, event: "realname.approved", params: approvedParams, link: "https://evil.example/"},
		{name: "link with backslash", user: f.zhang, event: "realname.approved", params: approvedParams, link: "/\\evil.example"},
		{name: "missing account", user: "nobody", event: "realname.approved", params: approvedParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := f.svc.Post(ctx, tt.user, tt.event, tt.params, tt.link); err == nil {
				t.Fatal("Post succeeded")
			}
			if p := f.list(t, i18n.ZH, f.zhang, ""); len(p.Records) != 0 {
				t.Fatalf("a refused message was stored: %+v", p.Records)
			}
		})
	}
	if err := f.svc.Post(ctx, "nobody", "realname.approved", approvedParams, ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Post to a missing account = %v, want ErrNotFound", err)
	}
}

func TestMarkRead(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.svc.Post(ctx, f.zhang, "realname.moved_away", nil, ""); err != nil {
		t.Fatal(err)
	}
	id := f.list(t, i18n.ZH, f.zhang, "").Records[0].ID
	// Another user's message is not found, exactly as a missing one.
	for _, tc := range []struct{ user, id string }{{f.li, id}, {f.zhang, "missing"}} {
		var p *problem.Problem
		if err := f.svc.MarkRead(ctx, tc.user, "messages", tc.id); !errors.As(err, &p) || p.Kind != problem.NotFound || p.Code != "record_not_found" {
			t.Errorf("MarkRead(%s, %s) = %v", tc.user, tc.id, err)
		}
	}
	if p := f.list(t, i18n.ZH, f.zhang, ""); p.Unread != 1 || p.Records[0].Read {
		t.Fatalf("another's mark changed the message: %+v", p)
	}
	if err := f.svc.MarkRead(ctx, f.zhang, "messages", id); err != nil {
		t.Fatal(err)
	}
	if p := f.list(t, i18n.ZH, f.zhang, ""); p.Unread != 0 || !p.Records[0].Read {
		t.Errorf("after MarkRead: %+v", p)
	}
}

func TestListPages(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const n = records.PageSize*2 + 3
	for range n {
		if err := f.svc.Post(ctx, f.zhang, "realname.approved", approvedParams, ""); err != nil {
			t.Fatal(err)
		}
		if f.clock.Now().Second()%2 == 0 { // some share a time
			f.clock.Advance(time.Second)
		} else {
			f.clock.Advance(time.Millisecond)
		}
	}
	seen := map[string]bool{}
	after, pages := "", 0
	for {
		p := f.list(t, i18n.EN, f.zhang, after)
		pages++
		if p.Unread != n {
			t.Errorf("page %d: unread = %d, want %d", pages, p.Unread, n)
		}
		for _, m := range p.Records {
			if seen[m.ID] {
				t.Fatalf("message %s on two pages", m.ID)
			}
			seen[m.ID] = true
		}
		if p.Next == "" {
			break
		}
		if len(p.Records) != records.PageSize || pages > 5 {
			t.Fatalf("page %d has %d messages and a next page", pages, len(p.Records))
		}
		after = p.Next
	}
	if len(seen) != n || pages != 3 {
		t.Errorf("%d messages on %d pages, want %d on 3", len(seen), pages, n)
	}
	for _, bad := range []string{"x", "!!!", "MTIz", "LTEuYQ"} { // not base64, "123" (no id), "-1.a"
		var p *problem.Problem
		if _, err := f.svc.List(ctx, i18n.ZH, f.zhang, "messages", records.Filter{After: bad}); !errors.As(err, &p) || p.Fields["after"] != "record_cursor_invalid" {
			t.Errorf("List(after=%q) = %v", bad, err)
		}
	}
}

// TestListAnEventNoLongerDescribed: a message whose event this release
// has no texts for reads as a generic notice, never as a raw key.
func TestListAnEventNoLongerDescribed(t *testing.T) {
	f := newFixture(t)
	at := f.clock.Now()
	m := store.Record{ID: "old-1", Kind: store.RecordMessage, UserID: f.zhang, ExternalID: "old-1", Event: "legacy.retired",
		UpdatedAt: at, CreatedAt: at}
	if _, err := f.st.UpsertRecords(context.Background(), []store.Record{m}); err != nil {
		t.Fatal(err)
	}
	for _, lang := range i18n.Langs {
		got := f.list(t, lang, f.zhang, "").Records
		if len(got) != 1 || got[0].Title != f.cat.T(lang, "message.unknown.title") || got[0].Body != f.cat.T(lang, "message.unknown.body") {
			t.Errorf("%s: %+v", lang, got)
		}
	}
}
