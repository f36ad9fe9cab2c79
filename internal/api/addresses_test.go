package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"unid/internal/app/apptest"
)

type addressReply struct {
	ID, Recipient, Phone, Detail, Postcode string
	ProvinceCode                           string `json:"province_code"`
	CityCode                               string `json:"city_code"`
	CountyCode                             string `json:"county_code"`
	CountyName                             string `json:"county_name"`
	IsDefault                              bool   `json:"is_default"`
}

func listAddresses(t *testing.T, b *apptest.Browser) []addressReply {
	t.Helper()
	r := b.Get("/api/v1/me/addresses")
	if r.Status != http.StatusOK {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	var out struct{ Addresses []addressReply }
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	return out.Addresses
}

func jinanAddress() map[string]any {
	return map[string]any{"recipient": "张三", "phone": "13812345678", "province": "370000", "city": "370100", "county": "370102", "detail": "经十路88号3号楼2单元501室", "postcode": "250014"}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// addressState is what the owner can see, and the length of the log.
func addressState(t *testing.T, srv *apptest.Server, b *apptest.Browser) string {
	t.Helper()
	body := b.Get("/api/v1/me/addresses").Body
	events, err := srv.App.Store.ListAudit(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	return string(body) + "|" + strconv.Itoa(len(events))
}

func TestAddressesAPI(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)

	// Signed out: nothing.
	if r := b.Get("/api/v1/me/addresses"); r.Status != http.StatusUnauthorized || r.ErrCode(t) != "not_signed_in" {
		t.Fatalf("signed out: %d %s", r.Status, r.Body)
	}
	b.MustRegister(apptest.Zhang)

	// The first address is the default; the phone is masked in the answer.
	r := b.PostJSON("/api/v1/me/addresses", jinanAddress())
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var first addressReply
	json.Unmarshal(r.Body, &first)
	if !first.IsDefault || first.Phone != "138****5678" || first.CountyName != "历下区" {
		t.Fatalf("first address: %+v", first)
	}

	// Bad input: a clear error on the field, and nothing changes.
	bad := []struct {
		name  string
		body  map[string]any
		field string
		code  string
	}{
		{"bad division code", with(jinanAddress(), "county", "37010x"), "county", "county_not_in_city"},
		{"unknown province", with(jinanAddress(), "province", "990000"), "province", "province_unknown"},
		{"county not in city", with(jinanAddress(), "county", "370202"), "county", "county_not_in_city"},
		{"postcode of another province", with(jinanAddress(), "postcode", "100020"), "postcode", "postcode_province"},
		{"detail too long", with(jinanAddress(), "detail", strings.Repeat("路", 121)), "detail", "detail_length"},
		{"recipient too long", with(jinanAddress(), "recipient", strings.Repeat("张", 31)), "recipient", "recipient_format"},
		{"control characters", with(jinanAddress(), "detail", "经十路88号\u0085三号楼"), "detail", "detail_characters"},
		{"control characters the decoder stops", with(jinanAddress(), "detail", "经十路88号\x1b三号楼"), "detail", "invalid_characters"},
		{"bad phone", with(jinanAddress(), "phone", "0531-123"), "phone", "address_phone_format"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			before := addressState(t, srv, b)
			for _, req := range []struct{ method, path string }{{"POST", "/api/v1/me/addresses"}, {"PUT", "/api/v1/me/addresses/" + first.ID}} {
				r := b.Do(req.method, req.path, "application/json", strings.NewReader(mustJSON(t, tt.body)))
				var e struct {
					Error struct {
						Code   string
						Fields map[string]struct{ Code, Message string }
					}
				}
				json.Unmarshal(r.Body, &e)
				if r.Status != http.StatusBadRequest || e.Error.Fields[tt.field].Code != tt.code || e.Error.Fields[tt.field].Message == "" {
					t.Errorf("%s: %d %s; want 400 with %s on %s", req.method, r.Status, r.Body, tt.code, tt.field)
				}
			}
			if after := addressState(t, srv, b); after != before {
				t.Errorf("a refused request changed something")
			}
		})
	}

	// Up to 20; the 21st is refused and changes nothing.
	for i := 2; i <= 20; i++ {
		if r := b.PostJSON("/api/v1/me/addresses", jinanAddress()); r.Status != http.StatusCreated {
			t.Fatalf("address %d: %d %s", i, r.Status, r.Body)
		}
	}
	before := addressState(t, srv, b)
	if r := b.PostJSON("/api/v1/me/addresses", jinanAddress()); r.Status != http.StatusConflict || r.ErrCode(t) != "address_limit" {
		t.Fatalf("21st: %d %s", r.Status, r.Body)
	}
	if addressState(t, srv, b) != before {
		t.Errorf("the refused 21st address changed something")
	}
	list := listAddresses(t, b)
	if len(list) != 20 || list[0].ID != first.ID || !list[0].IsDefault || list[1].IsDefault {
		t.Fatalf("list of 20: first %+v second %+v", list[0], list[1])
	}

	// Set default, edit, delete the default.
	other := list[5].ID
	if r := b.PostJSON("/api/v1/me/addresses/"+other+"/default", nil); r.Status != http.StatusNoContent {
		t.Fatalf("set default: %d %s", r.Status, r.Body)
	}
	list = listAddresses(t, b)
	if list[0].ID != other || !list[0].IsDefault {
		t.Fatalf("after set default: %+v", list[0])
	}
	for _, a := range list[1:] {
		if a.IsDefault {
			t.Fatalf("two defaults: %+v", a)
		}
	}
	r = b.Do("PUT", "/api/v1/me/addresses/"+other, "application/json", strings.NewReader(mustJSON(t, with(jinanAddress(), "phone", "", "city", "370200", "county", "370202", "postcode", "266001", "recipient", "李四"))))
	var edited addressReply
	json.Unmarshal(r.Body, &edited)
	if r.Status != http.StatusOK || edited.Recipient != "李四" || edited.CountyCode != "370202" || edited.Phone != "138****5678" || !edited.IsDefault {
		t.Fatalf("edit: %d %s", r.Status, r.Body)
	}
	if r := b.Do("DELETE", "/api/v1/me/addresses/"+other, "", nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	list = listAddresses(t, b)
	if len(list) != 19 || !list[0].IsDefault {
		t.Fatalf("after deleting the default, %d left, first %+v", len(list), list[0])
	}

	// Another user: sees none, and every id of zhang's answers 404, as a
	// missing one does.
	li := srv.Browser(t)
	li.MustRegister(apptest.Person{Login: "li_si", Password: apptest.GoodPassword, Phone: "13912345678"})
	if got := listAddresses(t, li); len(got) != 0 {
		t.Fatalf("li sees %d addresses", len(got))
	}
	before = addressState(t, srv, b)
	target := list[0].ID
	for _, id := range []string{target, "nosuchaddress"} {
		for _, req := range []struct {
			method, path, body string
		}{
			{"PUT", "/api/v1/me/addresses/" + id, mustJSON(t, jinanAddress())},
			{"DELETE", "/api/v1/me/addresses/" + id, ""},
			{"POST", "/api/v1/me/addresses/" + id + "/default", ""},
		} {
			ct := ""
			if req.body != "" {
				ct = "application/json"
			}
			r := li.Do(req.method, req.path, ct, strings.NewReader(req.body))
			if r.Status != http.StatusNotFound || r.ErrCode(t) != "address_not_found" {
				t.Errorf("li %s %s: %d %s", req.method, req.path, r.Status, r.Body)
			}
		}
	}
	if addressState(t, srv, b) != before {
		t.Errorf("li's requests changed zhang's addresses")
	}
}

func TestDivisionsAPI(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	get := func(q string) []struct{ Code, Name string } {
		t.Helper()
		r := b.Get("/api/v1/divisions" + q)
		if r.Status != http.StatusOK {
			t.Fatalf("divisions%s: %d %s", q, r.Status, r.Body)
		}
		var out struct{ Divisions []struct{ Code, Name string } }
		json.Unmarshal(r.Body, &out)
		return out.Divisions
	}
	if p := get(""); len(p) != 31 || p[0].Name != "北京市" {
		t.Errorf("provinces: %d, first %+v", len(p), p)
	}
	found := false
	for _, c := range get("?parent=370100") {
		found = found || c.Name == "历下区"
	}
	if !found {
		t.Errorf("济南市 has no 历下区")
	}
	if c := get("?parent=441900"); len(c) != 0 {
		t.Errorf("东莞市 has counties: %v", c)
	}
	if r := b.Get("/api/v1/divisions?parent=999999"); r.Status != http.StatusNotFound || r.ErrCode(t) != "division_not_found" {
		t.Errorf("unknown parent: %d %s", r.Status, r.Body)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
