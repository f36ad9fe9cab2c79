package enterprise

import (
	"testing"
	"time"
)

func TestMayGrant(t *testing.T) {
	for _, tt := range []struct {
		role, target string
		want         bool
	}{
		{RoleLegalRep, RoleAdmin, true}, {RoleLegalRep, RoleHandler, true}, {RoleLegalRep, RoleLegalRep, false},
		{RoleAdmin, RoleHandler, true}, {RoleAdmin, RoleAdmin, false}, {RoleAdmin, RoleLegalRep, false},
		{RoleHandler, RoleHandler, false}, {"", RoleHandler, false},
	} {
		if got := mayGrant(tt.role, tt.target); got != tt.want {
			t.Errorf("mayGrant(%s, %s) = %v", tt.role, tt.target, got)
		}
	}
}

func TestSameName(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"示例科技有限公司（测试数据）", "示例科技有限公司(测试数据)", true},
		{" 示例科技 有限公司", "示例科技有限公司", true},
		{"示例科技有限公司", "示例科技有限责任公司", false},
		{"", "", false},
	} {
		if got := sameName(tt.a, tt.b); got != tt.want {
			t.Errorf("sameName(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}

func TestParseValidUntil(t *testing.T) {
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	s := New(Deps{Now: func() time.Time { return now }})
	for _, tt := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"", time.Time{}, true},
		{"2027-01-31", time.Date(2027, 1, 31, 15, 59, 59, 999e6, time.UTC), true}, // the end of that day in China
		{"2027-01-31T00:00:00Z", time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC), true},
		{"2026-11-29", time.Time{}, false},
		{"31/01/2027", time.Time{}, false},
	} {
		got, err := s.parseValidUntil(tt.in)
		if (err == nil) != tt.ok || !got.Equal(tt.want) {
			t.Errorf("parseValidUntil(%q) = %v, %v", tt.in, got, err)
		}
	}
}
