package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"unid/internal/store"
)

// testConsoleLists checks the console's citizen list (ListUsers) and the
// enterprise search (FindEnterprises).
func testConsoleLists(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()

	t.Run("ListUsers pages newest first, stable and filtered", func(t *testing.T) {
		s := newStore(t)
		// Seven accounts: three share a creation time, so that the ID
		// breaks the tie; two are disabled.
		var want []store.User
		for i := range 7 {
			u := newUser()
			u.CreatedAt = base.Add(time.Duration(min(i, 4)) * time.Minute)
			if i == 1 || i == 5 {
				u.Status = store.UserDisabled
			}
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			want = append(want, u)
		}
		slices.SortFunc(want, func(a, b store.User) int {
			if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
				return c
			}
			return strings.Compare(b.ID, a.ID)
		})
		ids := func(us []store.User) []string {
			out := []string{}
			for _, u := range us {
				out = append(out, u.ID)
			}
			return out
		}
		page := func(status string, size int) []string {
			var got []store.User
			var cur store.UserCursor
			for range 10 {
				p, err := s.ListUsers(ctx, cur, status, size)
				if err != nil {
					t.Fatal(err)
				}
				if len(p) > size {
					t.Fatalf("page of %d for limit %d", len(p), size)
				}
				got = append(got, p...)
				if len(p) < size {
					return ids(got)
				}
				last := p[len(p)-1]
				cur = store.UserCursor{CreatedAt: last.CreatedAt, ID: last.ID}
			}
			t.Fatal("paging never ended")
			return nil
		}
		if got := page("", 3); !slices.Equal(got, ids(want)) {
			t.Errorf("pages of 3 = %v\nwant %v", got, ids(want))
		}
		if got := page("", 100); !slices.Equal(got, ids(want)) {
			t.Errorf("one page = %v\nwant %v", got, ids(want))
		}
		var disabled []store.User
		for _, u := range want {
			if u.Status == store.UserDisabled {
				disabled = append(disabled, u)
			}
		}
		if got := page(store.UserDisabled, 1); !slices.Equal(got, ids(disabled)) {
			t.Errorf("disabled, pages of 1 = %v\nwant %v", got, ids(disabled))
		}
		first, err := s.ListUsers(ctx, store.UserCursor{}, "", 1)
		if err != nil || len(first) != 1 {
			t.Fatal(first, err)
		}
		equalUser(t, "the newest account", first[0], stored(want[0]))
		if p, err := s.ListUsers(ctx, store.UserCursor{}, store.UserClosed, 10); err != nil || len(p) != 0 {
			t.Errorf("closed accounts = %v, %v; want none", ids(p), err)
		}
	})

	t.Run("FindEnterprises by name prefix, keyset", func(t *testing.T) {
		s := newStore(t)
		names := map[string]string{
			"91350100M000100Y43": "福州示例科技有限公司",
			"91310115000000000Q": "福州示例科技有限公司", // same name, told apart by the code
			"91110000000000000A": "福州示例贸易有限公司",
			"91110000000000001B": "福州港务集团",
			"91110000000000002C": "厦门示例有限公司",
			"91110000000000003D": "Fuzhou Example Ltd",
			"91110000000000004E": "fuzhou lower case",
		}
		for uscc, name := range names {
			e := store.Enterprise{USCC: uscc, Name: name, Status: "active", CheckedAt: base, CreatedAt: base}
			if err := s.ChangeEnterprise(ctx, store.EnterpriseChange{Enterprise: &e}, newEvent(1), seal); err != nil {
				t.Fatal(err)
			}
		}
		find := func(prefix string, size int) []string {
			var out []string
			an, au := "", ""
			for range 10 {
				p, err := s.FindEnterprises(ctx, prefix, an, au, size)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range p {
					out = append(out, e.USCC)
				}
				if len(p) < size {
					return out
				}
				an, au = p[len(p)-1].Name, p[len(p)-1].USCC
			}
			t.Fatal("paging never ended")
			return nil
		}
		tests := []struct {
			prefix string
			want   []string
		}{
			{"福州示例", []string{"91310115000000000Q", "91350100M000100Y43", "91110000000000000A"}},
			{"福州", []string{"91110000000000001B", "91310115000000000Q", "91350100M000100Y43", "91110000000000000A"}},
			{"福州示例科技有限公司", []string{"91310115000000000Q", "91350100M000100Y43"}},
			{"Fuzhou", []string{"91110000000000003D"}}, // exact case: no folding
			{"示例", nil}, // a prefix, not a substring
			{"泉州", nil},
		}
		for _, tt := range tests {
			for _, size := range []int{1, 2, 50} {
				got := find(tt.prefix, size)
				// 港 sorts before 示 by code point (U+6E2F < U+793A).
				if !slices.Equal(got, tt.want) {
					t.Errorf("FindEnterprises(%q) in pages of %d = %v; want %v", tt.prefix, size, got, tt.want)
				}
			}
		}
		all := find("", 3)
		if len(all) != len(names) {
			t.Errorf("no prefix, pages of 3: %d enterprises, want %d", len(all), len(names))
		}
		p, err := s.FindEnterprises(ctx, "福州港", "", "", 5)
		if err != nil || len(p) != 1 || p[0].Name != "福州港务集团" || p[0].Status != "active" {
			t.Errorf("FindEnterprises(福州港) = %+v, %v", p, err)
		}
	})
}
