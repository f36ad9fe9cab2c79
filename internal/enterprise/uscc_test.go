package enterprise

import (
	"strings"
	"testing"

	"unid/internal/problem"
)

func TestParseUSCC(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"91350100M000100Y43", "91350100M000100Y43"}, // a known valid code
		{" 91350100m000100y43 ", "91350100M000100Y43"},
		{"91310115000000000Q", "91310115000000000Q"},
		{"91350100M000100Y44", ""}, // wrong check character
		{"91350100M000100Y4", ""},  // 17 characters
		{"91350100M000100Y430", ""},
		{"9135010OM000100Y43", ""}, // O is not of the alphabet
		{"91350100I000100Y43", ""},
		{"", ""},
		{"九一350100M000100Y43", ""},
	}
	for _, tt := range tests {
		got, err := ParseUSCC(tt.in)
		if got != tt.want || (tt.want == "") != (err != nil) {
			t.Errorf("ParseUSCC(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if err != nil {
			if p := problem.As(err); p.Fields["uscc"] != "uscc_format" {
				t.Errorf("ParseUSCC(%q): %+v, want field uscc uscc_format", tt.in, p)
			}
		}
	}
}

// A code built by USCCCheck parses; changing any one character breaks it.
func FuzzParseUSCC(f *testing.F) {
	f.Add("91350100M000100Y43")
	f.Add("91310115000000000Q")
	f.Add("abc")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseUSCC(s)
		if err != nil {
			return
		}
		if len(got) != 18 || got != strings.ToUpper(strings.TrimSpace(s)) {
			t.Fatalf("ParseUSCC(%q) = %q", s, got)
		}
		c, ok := USCCCheck(got[:17])
		if !ok || c != got[17] {
			t.Fatalf("ParseUSCC(%q) accepted a wrong check character", s)
		}
		for i := range 17 {
			for _, r := range usccAlphabet {
				if byte(r) == got[i] {
					continue
				}
				bad := got[:i] + string(r) + got[i+1:]
				if _, err := ParseUSCC(bad); err == nil {
					t.Fatalf("%q with position %d changed to %c still parses", got, i, r)
				}
			}
		}
	})
}

func TestAtLeast(t *testing.T) {
	roles := []string{RoleHandler, RoleAdmin, RoleLegalRep}
	for i, r := range roles {
		for j, m := range roles {
			if got := AtLeast(r, m); got != (i >= j) {
				t.Errorf("AtLeast(%s, %s) = %v", r, m, got)
			}
		}
		if AtLeast(r, "") || AtLeast("", r) || AtLeast("owner", r) {
			t.Errorf("an unknown role compares with %s", r)
		}
	}
}
