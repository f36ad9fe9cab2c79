package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/config"
	"unid/internal/records"
	"unid/internal/store"
)

// acme is an enterprise of the sandbox registry whose legal
// representative is 张三 (test data).
const (
	acmeUSCC = "91310115000000000Q"
	acmeName = "示例科技有限公司（测试数据）"
)

type recordsReply struct {
	Records []struct {
		ID, Kind, Title, Status, Number, System, Body, Link string
		ClientID                                            string `json:"client_id"`
		StatusLabel                                         string `json:"status_label"`
		Read, Mine                                          bool
		History                                             []struct{ Status, Label string }
	}
	Next   string
	Unread int
}

func decodeRecords(t *testing.T, r apptest.Response) recordsReply {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	var out recordsReply
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func (r recordsReply) ids() []string {
	var out []string
	for _, x := range r.Records {
		out = append(out, x.ID)
	}
	return out
}

// putRecords writes records as a system's writes through the records API
// would store them.
func putRecords(t *testing.T, srv *apptest.Server, rs ...store.Record) {
	t.Helper()
	for _, r := range rs {
		now := srv.Clock.Now().UTC().Truncate(time.Millisecond)
		r.ID = "r-" + r.ExternalID
		r.SubmittedAt, r.UpdatedAt, r.CreatedAt = now, now, now
		if _, err := srv.App.Store.UpsertRecords(context.Background(), []store.Record{r}); err != nil {
			t.Fatal(err)
		}
		srv.Clock.Advance(time.Second)
	}
}

// TestRecordsAPI: the person's lists, detail, read marks and favorites;
// another person's record is the same 404 as a missing one through every
// endpoint, and changes nothing.
func TestRecordsAPI(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, start func(func(*config.Config)) *apptest.Server) {
		srv := start(nil)
		zb, lb := srv.Browser(t), srv.Browser(t)
		if r := zb.Get("/api/v1/records/cases"); r.Status != http.StatusUnauthorized || r.ErrCode(t) != "not_signed_in" {
			t.Fatalf("signed out: %d %s", r.Status, r.Body)
		}
		zhangID := zb.MustRegister(zhang)
		liID := lb.MustRegister(apptest.Person{Login: "li_si", Password: apptest.GoodPassword, Phone: "13912345678"})
		if _, _, err := srv.App.Clients.Create(context.Background(), clientSpec("hall", "网上办事大厅"), audit.Origin{Actor: audit.Operator("test")}); err != nil {
			t.Fatal(err)
		}
		putRecords(t, srv,
			store.Record{Kind: store.RecordCase, UserID: zhangID, ClientID: "hall", ExternalID: "c1", Number: "JN-1", Title: "个体工商户设立登记", Status: records.StatusAccepted},
			store.Record{Kind: store.RecordCase, UserID: zhangID, ClientID: "hall", ExternalID: "c2", Number: "JN-2", Title: "档案查询", Status: records.StatusCompleted},
			store.Record{Kind: store.RecordFavorite, UserID: zhangID, ClientID: "hall", ExternalID: "f1", Title: "社保查询", Link: "https://hall.example/f1"},
			store.Record{Kind: store.RecordMessage, UserID: zhangID, ClientID: "hall", ExternalID: "m1", Title: "您的申请已受理", Summary: "正文"},
			store.Record{Kind: store.RecordCase, UserID: liID, ClientID: "hall", ExternalID: "c9", Title: "李四的办件", Status: records.StatusAccepted},
			store.Record{Kind: store.RecordFavorite, UserID: liID, ClientID: "hall", ExternalID: "f9", Title: "李四的收藏", Link: "https://hall.example/f9"},
		)
		if err := srv.App.Records.Post(context.Background(), zhangID, "realname.approved", approvedParams, "/settings/realname"); err != nil {
			t.Fatal(err)
		}

		sum := zb.Get("/api/v1/records").JSON(t)["unread"].(map[string]any)
		if sum["cases"] != 2.0 || sum["messages"] != 2.0 || sum["favorites"] != 1.0 || sum["complaints"] != 0.0 {
			t.Errorf("summary: %v", sum)
		}
		cases := decodeRecords(t, zb.Get("/api/v1/records/cases"))
		if !slices.Equal(cases.ids(), []string{"r-c2", "r-c1"}) || cases.Unread != 2 || cases.Records[0].System != "网上办事大厅" || cases.Records[0].StatusLabel != "已办结" {
			t.Errorf("cases: %+v", cases)
		}
		if got := decodeRecords(t, zb.Get("/api/v1/records/cases?status=accepted&client=hall&q=JN-1")); !slices.Equal(got.ids(), []string{"r-c1"}) {
			t.Errorf("filtered: %v", got.ids())
		}
		msgs := decodeRecords(t, zb.Get("/api/v1/records/messages"))
		if len(msgs.Records) != 2 || msgs.Records[0].Title != "实名认证审核已通过" || msgs.Records[1].Body != "正文" || msgs.Records[1].ClientID != "hall" {
			t.Errorf("messages: %+v", msgs)
		}
		// The first form of 我的消息 lists the same messages.
		if old := listMessages(t, zb, ""); len(old.Messages) != 2 || old.Messages[1].Title != "您的申请已受理" {
			t.Errorf("old messages list: %+v", old)
		}

		// Bad filters: each field named.
		r := zb.Get("/api/v1/records/cases?status=answered&from=2030-02-30&limit=x&after=forged")
		if r.Status != http.StatusBadRequest || r.ErrCode(t) != "invalid_fields" {
			t.Fatalf("bad filters: %d %s", r.Status, r.Body)
		}
		fields := r.JSON(t)["error"].(map[string]any)["fields"].(map[string]any)
		for f, code := range map[string]string{"status": "record_status_invalid", "from": "record_date_invalid", "limit": "record_limit_invalid", "after": "record_cursor_invalid"} {
			if fe, _ := fields[f].(map[string]any); fe == nil || fe["code"] != code || fe["message"] == "" {
				t.Errorf("field %s: %v", f, fields[f])
			}
		}
		if r := zb.Get("/api/v1/records/letters"); r.Status != http.StatusNotFound {
			t.Errorf("unknown kind: %d", r.Status)
		}

		// Every endpoint: li's records are zhang's 404, the same as a missing one.
		for _, tc := range []struct{ method, other, missing string }{
			{"GET", "/api/v1/records/cases/r-c9", "/api/v1/records/cases/r-none"},
			{"POST", "/api/v1/records/cases/r-c9/read", "/api/v1/records/cases/r-none/read"},
			{"DELETE", "/api/v1/records/favorites/r-f9", "/api/v1/records/favorites/r-none"},
			{"POST", "/api/v1/messages/r-c9/read", "/api/v1/messages/r-none/read"},
		} {
			other, missing := zb.Do(tc.method, tc.other, "", nil), zb.Do(tc.method, tc.missing, "", nil)
			if other.Status != http.StatusNotFound || other.ErrCode(t) != "record_not_found" || string(other.Body) != string(missing.Body) {
				t.Errorf("%s %s: %d %s; missing: %d %s", tc.method, tc.other, other.Status, other.Body, missing.Status, missing.Body)
			}
		}
		if got := decodeRecords(t, zb.Get("/api/v1/records/cases?q=李四")); len(got.Records) != 0 {
			t.Errorf("zhang's search finds li's case: %+v", got)
		}
		lf := decodeRecords(t, lb.Get("/api/v1/records/favorites"))
		lc := decodeRecords(t, lb.Get("/api/v1/records/cases"))
		if len(lf.Records) != 1 || lc.Unread != 1 {
			t.Errorf("zhang's requests changed li's records: %+v %+v", lf, lc)
		}

		// Detail with history; read one, then all.
		one := zb.Get("/api/v1/records/cases/r-c1")
		var detail struct {
			Title   string
			History []struct{ Status, Label string }
		}
		if err := json.Unmarshal(one.Body, &detail); err != nil || one.Status != http.StatusOK || detail.Title != "个体工商户设立登记" ||
			len(detail.History) != 1 || detail.History[0].Label != "已受理" {
			t.Errorf("detail: %d %s", one.Status, one.Body)
		}
		if r := zb.PostJSON("/api/v1/records/cases/r-c1/read", nil); r.Status != http.StatusNoContent {
			t.Fatalf("read one: %d %s", r.Status, r.Body)
		}
		if got := decodeRecords(t, zb.Get("/api/v1/records/cases")); got.Unread != 1 || !got.Records[1].Read || got.Records[0].Read {
			t.Errorf("after reading one: %+v", got)
		}
		if r := zb.PostJSON("/api/v1/records/messages/read", nil); r.Status != http.StatusNoContent {
			t.Fatalf("read all: %d %s", r.Status, r.Body)
		}
		if sum := zb.Get("/api/v1/records").JSON(t)["unread"].(map[string]any); sum["messages"] != 0.0 || sum["cases"] != 1.0 {
			t.Errorf("after reading all messages: %v", sum)
		}
		if r := zb.Do("DELETE", "/api/v1/records/favorites/r-f1", "", nil); r.Status != http.StatusNoContent {
			t.Fatalf("remove favorite: %d %s", r.Status, r.Body)
		}
		if got := decodeRecords(t, zb.Get("/api/v1/records/favorites")); len(got.Records) != 0 {
			t.Errorf("favorite still listed: %+v", got)
		}
	})
}

// TestEnterpriseRecordsAPI: the legal representative sees all of the
// enterprise's cases, each handler only their own; someone who is not a
// member gets the answer of an enterprise that does not exist.
func TestEnterpriseRecordsAPI(t *testing.T) {
	srv := apptest.Start(t, nil)
	ctx := context.Background()
	zb := srv.Browser(t)
	zb.MustRegister(zhang)
	if r := zb.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true}); r.Status != http.StatusOK {
		t.Fatalf("level 1: %d %s", r.Status, r.Body)
	}
	if r := zb.PostJSON("/api/v1/enterprises", map[string]any{"uscc": acmeUSCC, "name": acmeName}); r.Status != http.StatusCreated {
		t.Fatalf("bind: %d %s", r.Status, r.Body)
	}
	sb, qb, ob := srv.Browser(t), srv.Browser(t), srv.Browser(t)
	sunID := sb.MustRegister(apptest.Person{Login: "sun_qi", Password: apptest.GoodPassword, Phone: "13600000007"})
	qianID := qb.MustRegister(apptest.Person{Login: "qian_ba", Password: apptest.GoodPassword, Phone: "13600000008"})
	ob.MustRegister(apptest.Person{Login: "li_si", Password: apptest.GoodPassword, Phone: "13912345678"})
	for _, id := range []string{sunID, qianID} {
		if err := srv.App.Enterprise.ImportHandler(ctx, id, acmeUSCC, acmeName, audit.Origin{Actor: audit.Operator("import")}); err != nil {
			t.Fatal(err)
		}
	}
	putRecords(t, srv,
		store.Record{Kind: store.RecordCase, USCC: acmeUSCC, HandlerID: sunID, ClientID: "hall", ExternalID: "e1", Title: "税务登记", Status: records.StatusAccepted},
		store.Record{Kind: store.RecordCase, USCC: acmeUSCC, HandlerID: qianID, ClientID: "hall", ExternalID: "e2", Title: "社保开户", Status: records.StatusProcessing},
		store.Record{Kind: store.RecordCase, USCC: acmeUSCC, ClientID: "hall", ExternalID: "e3", Title: "年报", Status: records.StatusSubmitted},
		store.Record{Kind: store.RecordConsultation, USCC: acmeUSCC, HandlerID: sunID, ClientID: "hall", ExternalID: "q1", Title: "如何开票？", Status: records.StatusSubmitted},
	)
	base := "/api/v1/enterprises/" + acmeUSCC + "/records/"
	for _, tc := range []struct {
		who   string
		b     *apptest.Browser
		cases []string
		mine  bool
	}{
		{"legal rep", zb, []string{"r-e3", "r-e2", "r-e1"}, false},
		{"handler sun", sb, []string{"r-e1"}, true},
		{"handler qian", qb, []string{"r-e2"}, true},
	} {
		got := decodeRecords(t, tc.b.Get(base+"cases"))
		if !slices.Equal(got.ids(), tc.cases) {
			t.Errorf("%s sees %v, want %v", tc.who, got.ids(), tc.cases)
		}
		if len(got.Records) > 0 && got.Records[len(got.Records)-1].Mine != tc.mine {
			t.Errorf("%s: mine = %v", tc.who, got.Records[len(got.Records)-1].Mine)
		}
	}
	if got := decodeRecords(t, sb.Get(base+"consultations")); !slices.Equal(got.ids(), []string{"r-q1"}) {
		t.Errorf("sun's consultations: %v", got.ids())
	}
	if got := decodeRecords(t, zb.Get(base+"cases?status=processing")); !slices.Equal(got.ids(), []string{"r-e2"}) {
		t.Errorf("filtered: %v", got.ids())
	}
	// A handler cannot open another handler's case: the answer of a missing one.
	other, missing := sb.Get(base+"cases/r-e2"), sb.Get(base+"cases/r-none")
	if other.Status != http.StatusNotFound || other.ErrCode(t) != "record_not_found" || string(other.Body) != string(missing.Body) {
		t.Errorf("sun opens qian's case: %d %s", other.Status, other.Body)
	}
	if r := zb.Get(base + "cases/r-e2"); r.Status != http.StatusOK {
		t.Errorf("the legal rep opens qian's case: %d %s", r.Status, r.Body)
	}
	// The enterprise's records are not in anyone's personal lists.
	if got := decodeRecords(t, sb.Get("/api/v1/records/cases")); len(got.Records) != 0 {
		t.Errorf("sun's personal cases: %v", got.ids())
	}
	// Not a member, not an enterprise, not a kind it keeps: all alike.
	outsider := ob.Get(base + "cases")
	for _, r := range []apptest.Response{ob.Get("/api/v1/enterprises/91110000000000000X/records/cases"), ob.Get("/api/v1/enterprises/nonsense/records/cases"), ob.Get(base + "cases/r-e1")} {
		if r.Status != http.StatusNotFound || string(r.Body) != string(outsider.Body) {
			t.Errorf("outsider: %d %s, want %s", r.Status, r.Body, outsider.Body)
		}
	}
	if outsider.Status != http.StatusNotFound || outsider.ErrCode(t) != "enterprise_not_member" {
		t.Errorf("outsider: %d %s", outsider.Status, outsider.Body)
	}
	if r := zb.Get(base + "favorites"); r.Status != http.StatusNotFound {
		t.Errorf("an enterprise's favorites: %d", r.Status)
	}
}

// clientSpec is a service system that writes records.
func clientSpec(id, name string) client.Spec {
	return client.Spec{ID: id, Name: name, Type: store.ClientOIDCConfidential, RedirectURIs: []string{"https://hall.example/callback"},
		Scopes: []string{"openid", "records.cases:write", "records.messages:write"}}
}
