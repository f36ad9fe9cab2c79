package address_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"unid/internal/account"
	"unid/internal/account/accounttest"
	"unid/internal/address"
	"unid/internal/audit"
	"unid/internal/problem"
	"unid/internal/store"
	"unid/internal/store/sqlite/sqlitetest"
)

func TestNormalizePhone(t *testing.T) {
	good := map[string]string{
		"13812345678":        "13812345678",
		"+86 138-1234-5678":  "13812345678",
		"0531-88886666":      "0531-88886666",
		"(010)66668888":      "010-66668888",
		"０５３１ ８８８８ ６６６６":     "0531-88886666",
		"0531-8888666 转 123": "0531-8888666-123",
		"021-62345678-9":     "021-62345678-9",
		"0898 6666 8888":     "0898-66668888",
	}
	for in, want := range good {
		if got, err := address.NormalizePhone(in); err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "12345", "1381234567", "0531-1234567", "0531-08886666", "531-88886666", "0531-888866661", "0531-88886666 转 1234567", "0531-8888666a", "138 1234 5678 9"} {
		if got, err := address.NormalizePhone(in); err == nil {
			t.Errorf("NormalizePhone(%q) = %q, want an error", in, got)
		}
	}
	for in, want := range map[string]string{"13812345678": "138****5678", "0531-88886666": "0531-****6666", "010-6666888-12": "010-***6888", "": ""} {
		if got := address.MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeDetail(t *testing.T) {
	if got, err := address.NormalizeDetail("  历下区 经十路  88号\u3000 3号楼 "); err != nil || got != "历下区 经十路 88号 3号楼" {
		t.Errorf("NormalizeDetail = %q, %v", got, err)
	}
	for in, code := range map[string]string{
		"":                              "detail_required",
		"经十路":                           "detail_length",
		strings.Repeat("长", 121):        "detail_length",
		"经十路88号\x07":                    "detail_characters",
		"经十路88号\t3号楼":                   "detail_characters",
		"经十路\u202e88号3号楼":               "detail_characters",
		"经十路88号\u20283号楼":               "detail_characters",
		"经十路88号" + string([]byte{0xff}): "detail_characters",
	} {
		if _, err := address.NormalizeDetail(in); fieldCode(err, address.FieldDetail) != code {
			t.Errorf("NormalizeDetail(%q) = %v, want %s", in, err, code)
		}
	}
}

func fieldCode(err error, field string) string {
	var p *problem.Problem
	if !errors.As(err, &p) {
		return ""
	}
	return p.Fields[field]
}

// fixture is an address Service on SQLite with two account holders.
type fixture struct {
	*accounttest.Fixture
	svc       *address.Service
	zhang, li store.User
}

func newFixture(t *testing.T) *fixture {
	st := sqlitetest.New(t).Store
	f := &fixture{Fixture: accounttest.New(t, st)}
	f.svc = address.New(address.Deps{Store: st, Protector: f.Protector, Audit: f.Audit, Now: f.Clock})
	f.zhang = f.Create(t, account.NewAccount{LoginName: "zhang_san", Password: "Shandong#2026"})
	f.li = f.Create(t, account.NewAccount{LoginName: "li_si", Password: "Shandong#2026"})
	return f
}

func origin(u store.User) audit.Origin {
	return audit.Origin{Actor: audit.User(u.ID), IP: "198.51.100.7", UserAgent: "test"}
}

// jinan is a good address in 济南市历下区.
func jinan() address.Input {
	return address.Input{Recipient: "张三", Phone: "13812345678", Province: "370000", City: "370100", County: "370102", Detail: "经十路88号3号楼2单元501室", Postcode: "250014"}
}

// state is what a user could notice of their addresses, and the log.
func (f *fixture) state(t *testing.T, u store.User) string {
	t.Helper()
	list, err := f.svc.List(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	events, _ := f.Store.ListAudit(context.Background(), 0, 1000)
	var b strings.Builder
	for _, v := range list {
		b.WriteString(v.ID + v.Recipient + v.Phone + v.DivisionCode + v.Detail + v.Postcode)
		if v.Default {
			b.WriteString("*")
		}
		b.WriteString(";")
	}
	return b.String() + "events:" + string(rune('0'+len(events)))
}

func TestCreateRefusesBadInput(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Create(ctx, origin(f.zhang), f.zhang.ID, jinan()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		edit  func(*address.Input)
		field string
		code  string
	}{
		{"unknown division code", func(in *address.Input) { in.County = "370199" }, address.FieldCounty, "county_not_in_city"},
		{"unknown province", func(in *address.Input) { in.Province = "990000" }, address.FieldProvince, "province_unknown"},
		{"county not in the city", func(in *address.Input) { in.County = "370202" }, address.FieldCounty, "county_not_in_city"},
		{"city not in the province", func(in *address.Input) { in.City = "320100"; in.County = "320102" }, address.FieldCity, "city_not_in_province"},
		{"county missing", func(in *address.Input) { in.County = "" }, address.FieldCounty, "county_required"},
		{"postcode of another province", func(in *address.Input) { in.Postcode = "100020" }, address.FieldPostcode, "postcode_province"},
		{"postcode not six digits", func(in *address.Input) { in.Postcode = "25001" }, address.FieldPostcode, "postcode_format"},
		{"detail too long", func(in *address.Input) { in.Detail = strings.Repeat("路", 121) }, address.FieldDetail, "detail_length"},
		{"detail too short", func(in *address.Input) { in.Detail = "经十路" }, address.FieldDetail, "detail_length"},
		{"control characters in the detail", func(in *address.Input) { in.Detail = "经十路88号\x1b[2J" }, address.FieldDetail, "detail_characters"},
		{"recipient too long", func(in *address.Input) { in.Recipient = strings.Repeat("张", 31) }, address.FieldRecipient, "recipient_format"},
		{"recipient with digits", func(in *address.Input) { in.Recipient = "张3" }, address.FieldRecipient, "recipient_format"},
		{"recipient missing", func(in *address.Input) { in.Recipient = " " }, address.FieldRecipient, "recipient_required"},
		{"phone neither mobile nor landline", func(in *address.Input) { in.Phone = "12345" }, address.FieldPhone, "address_phone_format"},
		{"phone missing", func(in *address.Input) { in.Phone = "" }, address.FieldPhone, "phone_required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.state(t, f.zhang)
			in := jinan()
			tt.edit(&in)
			_, err := f.svc.Create(ctx, origin(f.zhang), f.zhang.ID, in)
			if got := fieldCode(err, tt.field); got != tt.code {
				t.Fatalf("Create: %v; want %s on %s", err, tt.code, tt.field)
			}
			if after := f.state(t, f.zhang); after != before {
				t.Errorf("a refused create changed the addresses or the log:\n%s\n%s", before, after)
			}
			// The same input refused on update, changing nothing.
			list, _ := f.svc.List(ctx, f.zhang.ID)
			if _, err := f.svc.Update(ctx, origin(f.zhang), f.zhang.ID, list[0].ID, in); tt.code != "phone_required" && fieldCode(err, tt.field) != tt.code {
				t.Fatalf("Update: %v; want %s on %s", err, tt.code, tt.field)
			}
			if tt.code == "phone_required" {
				return // an update keeps the phone when none is given
			}
			if after := f.state(t, f.zhang); after != before {
				t.Errorf("a refused update changed the addresses or the log:\n%s\n%s", before, after)
			}
		})
	}
}

func TestLimitDefaultsAndOwners(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	zo := origin(f.zhang)
	var ids []string
	for i := range address.MaxAddresses {
		in := jinan()
		in.Default = i == 5
		f.Now = f.Now.Add(time.Second)
		v, err := f.svc.Create(ctx, zo, f.zhang.ID, in)
		if err != nil {
			t.Fatalf("address %d: %v", i+1, err)
		}
		if i == 0 && !v.Default {
			t.Errorf("the first address is not the default")
		}
		if i == 1 && v.Default {
			t.Errorf("the second address took the default")
		}
		ids = append(ids, v.ID)
	}
	before := f.state(t, f.zhang)
	_, err := f.svc.Create(ctx, zo, f.zhang.ID, jinan())
	if p := problem.As(err); p.Kind != problem.Conflict || p.Code != "address_limit" {
		t.Fatalf("the 21st address: %v", err)
	}
	if f.state(t, f.zhang) != before {
		t.Errorf("the refused 21st address changed something")
	}
	list, _ := f.svc.List(ctx, f.zhang.ID)
	if len(list) != 20 || list[0].ID != ids[5] || !list[0].Default || list[0].Phone != "138****5678" {
		t.Fatalf("list: %d, first %+v", len(list), list[0])
	}
	if list[0].Place.Province.Name != "山东省" || list[0].Place.City.Name != "济南市" || list[0].Place.County.Name != "历下区" {
		t.Errorf("place = %+v", list[0].Place)
	}

	// Another user's address: not found, like a missing one; nothing changes.
	lo := origin(f.li)
	for name, err := range map[string]error{
		"update":      func() error { _, err := f.svc.Update(ctx, lo, f.li.ID, ids[0], jinan()); return err }(),
		"delete":      f.svc.Delete(ctx, lo, f.li.ID, ids[0]),
		"set default": f.svc.SetDefault(ctx, lo, f.li.ID, ids[0]),
		"missing":     f.svc.Delete(ctx, lo, f.li.ID, "nosuchaddress"),
	} {
		if p := problem.As(err); p.Kind != problem.NotFound || p.Code != "address_not_found" {
			t.Errorf("%s of another user's address: %v", name, err)
		}
	}
	if l, _ := f.svc.List(ctx, f.li.ID); len(l) != 0 {
		t.Errorf("li sees %d addresses", len(l))
	}
	// A service asked to act for someone else refuses.
	if _, err := f.svc.Create(ctx, lo, f.zhang.ID, jinan()); err == nil {
		t.Errorf("li created an address for zhang")
	}
	if f.state(t, f.zhang) != before {
		t.Errorf("another user's attempts changed zhang's addresses")
	}

	// Setting one the default unsets the other; deleting the default
	// passes it to the newest remaining address.
	if err := f.svc.SetDefault(ctx, zo, f.zhang.ID, ids[2]); err != nil {
		t.Fatal(err)
	}
	list, _ = f.svc.List(ctx, f.zhang.ID)
	if list[0].ID != ids[2] || list[1].Default {
		t.Fatalf("after SetDefault: first %s default %v, second default %v", list[0].ID, list[0].Default, list[1].Default)
	}
	if err := f.svc.Delete(ctx, zo, f.zhang.ID, ids[2]); err != nil {
		t.Fatal(err)
	}
	list, _ = f.svc.List(ctx, f.zhang.ID)
	if len(list) != 19 || list[0].ID != ids[19] || !list[0].Default {
		t.Fatalf("after deleting the default: %d, first %s default %v", len(list), list[0].ID, list[0].Default)
	}

	// Edit: an empty phone keeps the stored one.
	in := jinan()
	in.Phone, in.Recipient, in.City, in.County, in.Postcode, in.Detail = "", "李四", "370200", "370202", "266001", "香港中路10号"
	v, err := f.svc.Update(ctx, zo, f.zhang.ID, ids[0], in)
	if err != nil || v.Phone != "138****5678" || v.Recipient != "李四" || v.DivisionCode != "370202" || v.Place.City.Name != "青岛市" || v.Postcode != "266001" {
		t.Fatalf("Update = %+v, %v", v, err)
	}

	// The log: the user acted, and no personal data is in it; the store
	// holds none in the clear either.
	for _, action := range []string{address.ActionCreated, address.ActionUpdated, address.ActionDeleted} {
		events := f.Events(t, action)
		if len(events) == 0 {
			t.Errorf("no %s event", action)
		}
		for _, e := range events {
			if e.Actor != f.zhang.ID || e.IP != "198.51.100.7" {
				t.Errorf("%s: actor %q ip %q", action, e.Actor, e.IP)
			}
			for _, pd := range []string{"张三", "李四", "13812345678", "5678", "经十路", "香港中路", "250014", "370102"} {
				if strings.Contains(e.Subject+e.Detail, pd) {
					t.Errorf("%s event holds %q: %s %s", action, pd, e.Subject, e.Detail)
				}
			}
		}
	}
	stored, _ := f.Store.ListAddresses(ctx, f.zhang.ID)
	for _, a := range stored {
		for _, pd := range []string{"张三", "13812345678", "经十路"} {
			if bytes.Contains(a.Recipient.Cipher, []byte(pd)) || bytes.Contains(a.Phone.Cipher, []byte(pd)) || bytes.Contains(a.Detail.Cipher, []byte(pd)) {
				t.Errorf("the store holds %q in the clear", pd)
			}
		}
	}
}
