package realname_test

import (
	"testing"

	"unid/internal/realname"
	"unid/internal/store"
)

func TestParseMethods(t *testing.T) {
	ms, err := realname.ParseMethods(realname.DefaultMethods)
	if err != nil || len(ms) != 8 || ms[0].Name != realname.MethodRegistry || ms[len(ms)-1].Level != 3 {
		t.Fatalf("default: %+v %v", ms, err)
	}
	for _, bad := range []string{
		"", "bank_card:2", "registry:2", "registry:1,face:1", "registry:1,face:4", "registry:1,alipay:1", "alipay:2",
		"registry:1,sms:2", "registry:1,face", "registry:1,face:3,face:2",
	} {
		if _, err := realname.ParseMethods(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if ms, err := realname.ParseMethods(" registry:1 , counter:2 "); err != nil || len(ms) != 2 || ms[1].Kind != realname.KindReview {
		t.Errorf("a province's own table: %+v %v", ms, err)
	}
	// Alipay's certification is evidence above level 1, never level 1.
	for _, good := range []string{"registry:1,alipay:2", "registry:1,alipay:3"} {
		if ms, err := realname.ParseMethods(good); err != nil || len(ms) != 2 || ms[1].Kind != realname.KindLink {
			t.Errorf("%q: %+v %v", good, ms, err)
		}
	}
}

func TestLevel(t *testing.T) {
	b := func(m string, l int) store.RealnameBinding { return store.RealnameBinding{Method: m, Level: l} }
	tests := []struct {
		name string
		bs   []store.RealnameBinding
		want int
	}{
		{"none", nil, 0},
		{"registry", []store.RealnameBinding{b("registry", 1)}, 1},
		{"registry and card", []store.RealnameBinding{b("registry", 1), b("bank_card", 2)}, 2},
		{"face without registry counts for nothing", []store.RealnameBinding{b("face", 3)}, 0},
		{"highest wins", []store.RealnameBinding{b("registry", 1), b("face", 3), b("carrier", 2)}, 3},
	}
	for _, tt := range tests {
		if got := realname.Level(tt.bs); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
	face := realname.Method{Name: "face", Level: 3}
	reg := realname.Method{Name: "registry", Level: 1}
	if realname.Allowed(0, face) || !realname.Allowed(1, face) || !realname.Allowed(0, reg) || realname.Allowed(1, reg) {
		t.Error("Allowed: level 1 first, then anything above")
	}
}
