package records_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"unid/internal/i18n"
	"unid/internal/problem"
	"unid/internal/records"
	"unid/internal/store"
)

// storeSystems is the client registry as the reading service asks it,
// over the store's clients.
type storeSystems struct{ st store.Store }

func (s storeSystems) Get(ctx context.Context, id string) (store.Client, error) {
	return s.st.GetClient(ctx, id)
}

func (s storeSystems) Listed(ctx context.Context) ([]store.Client, error) {
	return s.st.ListClients(ctx)
}

// withSystems gives the fixture a service that names systems, and
// registers the hall (it writes cases and messages) and the archive.
func (f *fixture) withSystems(t *testing.T) {
	t.Helper()
	f.svc = records.New(records.Deps{Store: f.st, Users: f.st, Catalog: f.cat, Now: f.clock.Now, Systems: storeSystems{f.st},
		Platform: func(i18n.Lang) string { return "统一身份认证平台" }})
	for _, c := range []store.Client{
		{ID: "hall", Name: "网上办事大厅", Type: store.ClientOIDCConfidential, Scopes: []string{"openid", "records.cases:write", "records.messages:write"}},
		{ID: "archive", Name: "档案系统", Type: store.ClientOIDCConfidential, Scopes: []string{"openid", "records.cases:write"}},
		{ID: "blog", Name: "博客", Type: store.ClientOIDCConfidential, Scopes: []string{"openid"}},
	} {
		c.CreatedAt, c.UpdatedAt = f.clock.Now(), f.clock.Now()
		if err := f.st.CreateClient(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
}

// put writes records as their systems would, each a second after the last.
func (f *fixture) put(t *testing.T, rs ...store.Record) []store.Record {
	t.Helper()
	var out []store.Record
	for _, r := range rs {
		now := f.clock.Now().UTC().Truncate(time.Millisecond)
		if r.ID == "" {
			r.ID = "r-" + r.ClientID + "-" + r.ExternalID
		}
		if r.UpdatedAt.IsZero() {
			r.UpdatedAt = now
		}
		if r.SubmittedAt.IsZero() {
			r.SubmittedAt = r.UpdatedAt
		}
		r.CreatedAt = now
		res, err := f.st.UpsertRecords(context.Background(), []store.Record{r})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res[0].Record)
		f.clock.Advance(time.Second)
	}
	return out
}

func ids(p records.Page) []string {
	var out []string
	for _, v := range p.Records {
		out = append(out, v.ID)
	}
	return out
}

// TestMessagesOfUnidAndOfSystemsInOneList: 我的消息 holds unid's notices,
// rendered from the catalog, and the systems' messages, their title and
// body as sent, each naming who sent it; the system filter offers unid
// and the systems that may write messages.
func TestMessagesOfUnidAndOfSystemsInOneList(t *testing.T) {
	f := newFixture(t)
	f.withSystems(t)
	ctx := context.Background()
	if err := f.svc.Post(ctx, f.zhang, "realname.approved", approvedParams, "/settings/realname"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	f.put(t, store.Record{Kind: store.RecordMessage, UserID: f.zhang, ClientID: "hall", ExternalID: "m1",
		Title: "您的申请已受理", Summary: "个体工商户设立登记已受理。", Link: "https://hall.example/cases/1"})
	for _, lang := range i18n.Langs {
		p, err := f.svc.List(ctx, lang, f.zhang, "messages", records.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Records) != 2 || p.Unread != 2 {
			t.Fatalf("%s: %+v", lang, p)
		}
		sys, unid := p.Records[0], p.Records[1]
		if sys.Title != "您的申请已受理" || sys.Body != "个体工商户设立登记已受理。" || sys.System != "网上办事大厅" || sys.ClientID != "hall" || sys.Link != "https://hall.example/cases/1" {
			t.Errorf("%s: the system's message: %+v", lang, sys)
		}
		if unid.Title != f.cat.T(lang, "message.realname.approved.title") || unid.System != "统一身份认证平台" || unid.ClientID != "" {
			t.Errorf("%s: unid's message: %+v", lang, unid)
		}
	}
	for client, want := range map[string]string{"hall": "您的申请已受理", records.UnidSystem: f.cat.T(i18n.ZH, "message.realname.approved.title")} {
		p, err := f.svc.List(ctx, i18n.ZH, f.zhang, "messages", records.Filter{Client: client})
		if err != nil || len(p.Records) != 1 || p.Records[0].Title != want {
			t.Errorf("client %s: %+v %v", client, p, err)
		}
	}
	sys, err := f.svc.Systems(ctx, i18n.ZH, "messages")
	if err != nil {
		t.Fatal(err)
	}
	if want := []records.System{{ID: records.UnidSystem, Name: "统一身份认证平台"}, {ID: "hall", Name: "网上办事大厅"}}; !slices.Equal(sys, want) {
		t.Errorf("systems of messages = %v, want %v", sys, want)
	}
	if sys, _ := f.svc.Systems(ctx, i18n.ZH, "cases"); len(sys) != 2 || sys[0].Name != "档案系统" || sys[1].Name != "网上办事大厅" {
		t.Errorf("systems of cases = %v", sys)
	}
}

// TestListFilters: each filter narrows the person's cases as a reader
// would expect; the list is newest first by submission.
func TestListFilters(t *testing.T) {
	f := newFixture(t)
	f.withSystems(t)
	day := func(d int) time.Time { return time.Date(2030, 5, d, 2, 0, 0, 0, time.UTC) } // 10:00 in China
	f.put(t,
		store.Record{Kind: store.RecordCase, UserID: f.zhang, ClientID: "hall", ExternalID: "c1", Number: "JN-2030-0001",
			Title: "个体工商户设立登记", Status: records.StatusCompleted, SubmittedAt: day(1), UpdatedAt: day(3)},
		store.Record{Kind: store.RecordCase, UserID: f.zhang, ClientID: "hall", ExternalID: "c2", Number: "JN-2030-0002",
			Title: "Business Licence renewal", Status: records.StatusProcessing, SubmittedAt: day(2), UpdatedAt: day(2)},
		store.Record{Kind: store.RecordCase, UserID: f.zhang, ClientID: "archive", ExternalID: "c3", Number: "DA-7",
			Title: "档案查询", Status: records.StatusProcessing, SubmittedAt: day(4), UpdatedAt: day(4)},
		store.Record{Kind: store.RecordCase, UserID: f.li, ClientID: "hall", ExternalID: "c4", Number: "JN-2030-0004",
			Title: "个体工商户注销登记", Status: records.StatusProcessing, SubmittedAt: day(3), UpdatedAt: day(3)},
	)
	tests := []struct {
		name string
		f    records.Filter
		want []string
	}{
		{"all, newest first", records.Filter{}, []string{"r-archive-c3", "r-hall-c2", "r-hall-c1"}},
		{"status", records.Filter{Status: records.StatusProcessing}, []string{"r-archive-c3", "r-hall-c2"}},
		{"system", records.Filter{Client: "hall"}, []string{"r-hall-c2", "r-hall-c1"}},
		{"status and system", records.Filter{Status: records.StatusProcessing, Client: "hall"}, []string{"r-hall-c2"}},
		{"from a day", records.Filter{From: "2030-05-02"}, []string{"r-archive-c3", "r-hall-c2"}},
		{"to a day, inclusive", records.Filter{To: "2030-05-02"}, []string{"r-hall-c2", "r-hall-c1"}},
		{"one day", records.Filter{From: "2030-05-02", To: "2030-05-02"}, []string{"r-hall-c2"}},
		{"RFC 3339 bounds", records.Filter{From: "2030-05-01T03:00:00Z", To: "2030-05-04T00:00:00+08:00"}, []string{"r-hall-c2"}},
		{"item name words", records.Filter{Search: "工商户"}, []string{"r-hall-c1"}},
		{"item name any case", records.Filter{Search: "licence"}, []string{"r-hall-c2"}},
		{"case number", records.Filter{Search: "DA-7"}, []string{"r-archive-c3"}},
		{"another's case number", records.Filter{Search: "JN-2030-0004"}, nil},
		{"nothing matches", records.Filter{Status: records.StatusRejected}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := f.svc.List(context.Background(), i18n.ZH, f.zhang, "cases", tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(p); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	p, _ := f.svc.List(context.Background(), i18n.EN, f.zhang, "cases", records.Filter{Client: "archive"})
	if v := p.Records[0]; v.StatusLabel != "In progress" || v.System != "档案系统" || v.Number != "DA-7" {
		t.Errorf("a case in English: %+v", v)
	}
}

// TestListFilterErrors: every bad filter is named with its code, all at
// once, and nothing is listed.
func TestListFilterErrors(t *testing.T) {
	f := newFixture(t)
	long := string(make([]rune, 101))
	tests := []struct {
		name   string
		kind   string
		f      records.Filter
		fields map[string]string
	}{
		{"status of another kind", "cases", records.Filter{Status: records.StatusAnswered}, map[string]string{"status": "record_status_invalid"}},
		{"status of a kind without", "favorites", records.Filter{Status: records.StatusSubmitted}, map[string]string{"status": "record_status_invalid"}},
		{"dates", "cases", records.Filter{From: "2030-13-01", To: "yesterday"}, map[string]string{"from": "record_date_invalid", "to": "record_date_invalid"}},
		{"range backwards", "cases", records.Filter{From: "2030-05-03", To: "2030-05-01"}, map[string]string{"to": "record_range_invalid"}},
		{"search too long", "cases", records.Filter{Search: long + "x"}, map[string]string{"q": "record_search_too_long"}},
		{"cursor", "cases", records.Filter{After: "forged"}, map[string]string{"after": "record_cursor_invalid"}},
		{"limit", "cases", records.Filter{Limit: records.MaxPageSize + 1}, map[string]string{"limit": "record_limit_invalid"}},
		{"several", "complaints", records.Filter{Status: "completed", After: "x"}, map[string]string{"status": "record_status_invalid", "after": "record_cursor_invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.List(context.Background(), i18n.ZH, f.zhang, tt.kind, tt.f)
			var p *problem.Problem
			if !errors.As(err, &p) || p.Kind != problem.Invalid || len(p.Fields) != len(tt.fields) {
				t.Fatalf("err = %v", err)
			}
			for k, v := range tt.fields {
				if p.Fields[k] != v {
					t.Errorf("field %s = %q, want %q (all %v)", k, p.Fields[k], v, p.Fields)
				}
			}
		})
	}
	var p *problem.Problem
	if _, err := f.svc.List(context.Background(), i18n.ZH, f.zhang, "letters", records.Filter{}); !errors.As(err, &p) || p.Kind != problem.NotFound {
		t.Errorf("an unknown kind: %v", err)
	}
}

// TestDetailReadAndRemove: a case's detail carries its status history; a
// status change makes it unread again; marking one and all read moves the
// counts; only a favorite is removed; another person's record is not
// found by any of them, exactly as a missing one.
func TestDetailReadAndRemove(t *testing.T) {
	f := newFixture(t)
	f.withSystems(t)
	ctx := context.Background()
	c := store.Record{Kind: store.RecordCase, UserID: f.zhang, ClientID: "hall", ExternalID: "c1", Title: "个体工商户设立登记", Status: records.StatusAccepted}
	f.put(t, c)
	c.Status = records.StatusProcessing
	c.UpdatedAt = f.clock.Now().UTC().Truncate(time.Millisecond)
	f.put(t, c,
		store.Record{Kind: store.RecordCase, UserID: f.zhang, ClientID: "hall", ExternalID: "c2", Title: "档案查询", Status: records.StatusSubmitted},
		store.Record{Kind: store.RecordFavorite, UserID: f.zhang, ClientID: "hall", ExternalID: "f1", Title: "社保查询", Link: "https://hall.example/f"},
		store.Record{Kind: store.RecordCase, UserID: f.li, ClientID: "hall", ExternalID: "c9", Title: "李四的办件", Status: records.StatusSubmitted},
	)
	v, err := f.svc.Get(ctx, i18n.ZH, f.zhang, "cases", "r-hall-c1")
	if err != nil {
		t.Fatal(err)
	}
	if len(v.History) != 2 || v.History[0].Label != "已受理" || v.History[1].Label != "办理中" || v.StatusLabel != "办理中" || v.Read {
		t.Errorf("detail: %+v", v)
	}
	sum, err := f.svc.Summary(ctx, f.zhang)
	if err != nil || sum["cases"] != 2 || sum["favorites"] != 1 || sum["messages"] != 0 || len(sum) != len(records.Kinds) {
		t.Fatalf("summary: %v %v", sum, err)
	}

	notFound := func(what string, err error) {
		t.Helper()
		var p *problem.Problem
		if !errors.As(err, &p) || p.Kind != problem.NotFound || p.Code != "record_not_found" {
			t.Errorf("%s: %v", what, err)
		}
	}
	for _, id := range []string{"r-hall-c9", "missing"} {
		_, err := f.svc.Get(ctx, i18n.ZH, f.zhang, "cases", id)
		notFound("get "+id, err)
		notFound("read "+id, f.svc.MarkRead(ctx, f.zhang, "cases", id))
	}
	notFound("remove another's favorite", f.svc.Remove(ctx, f.li, "favorites", "r-hall-f1"))
	notFound("a case as a favorite", f.svc.Remove(ctx, f.zhang, "favorites", "r-hall-c1"))
	if err := f.svc.Remove(ctx, f.zhang, "cases", "r-hall-c1"); err == nil {
		t.Error("a case was removed")
	}
	if n, _ := f.svc.Summary(ctx, f.li); n["cases"] != 1 {
		t.Errorf("li's case was touched: %v", n)
	}

	if err := f.svc.MarkRead(ctx, f.zhang, "cases", "r-hall-c1"); err != nil {
		t.Fatal(err)
	}
	if n, _ := f.svc.Summary(ctx, f.zhang); n["cases"] != 1 {
		t.Errorf("after one read: %v", n)
	}
	if err := f.svc.MarkRead(ctx, f.zhang, "cases", ""); err != nil {
		t.Fatal(err)
	}
	if n, _ := f.svc.Summary(ctx, f.zhang); n["cases"] != 0 || n["favorites"] != 1 {
		t.Errorf("after all read: %v", n)
	}
	// The system moves the case on: unread again.
	c.Status = records.StatusCompleted
	c.UpdatedAt = f.clock.Now().UTC().Truncate(time.Millisecond)
	f.put(t, c)
	if p, _ := f.svc.List(ctx, i18n.ZH, f.zhang, "cases", records.Filter{}); p.Unread != 1 || p.Records[1].Read || p.Records[1].Status != records.StatusCompleted {
		t.Errorf("after the status change: %+v", p)
	}

	if err := f.svc.Remove(ctx, f.zhang, "favorites", "r-hall-f1"); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.svc.List(ctx, i18n.ZH, f.zhang, "favorites", records.Filter{}); len(p.Records) != 0 {
		t.Errorf("the favorite is still there: %+v", p)
	}
}
