package questions

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{" Jinan ", "jinan"},
		{"ＪＩＮＡＮ", "jinan"},
		{"Huang\t\u3000 Huang", "huang huang"},
		{"１９９０年", "1990年"},
		{"实验小学", "实验小学"},
		{"STRASSE", "strasse"},
		{"　", ""},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDefaultListAndDecoy(t *testing.T) {
	l, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if len(l.All()) < 10 {
		t.Errorf("default list has %d questions", len(l.All()))
	}
	for _, q := range l.All() {
		if q.EN == "" || q.ZH == "" {
			t.Errorf("question %s lacks a language", q.ID)
		}
	}
	seeds := [][]byte{nil, []byte(strings.Repeat("a", 32)), []byte(strings.Repeat("\xff", 32))}
	for _, seed := range seeds {
		d := l.Decoy(seed)
		if d != l.Decoy(seed) {
			t.Error("decoy not stable")
		}
		if d[0] == d[1] || d[1] == d[2] || d[0] == d[2] {
			t.Errorf("decoy repeats a question: %v", d)
		}
		for _, id := range d {
			if _, ok := l.Get(id); !ok {
				t.Errorf("decoy %q not on the list", id)
			}
		}
	}
}

func TestParseRejectsBadLists(t *testing.T) {
	five := func(extra string) string {
		return `[{"id":"a","zh":"一"},{"id":"b","zh":"二"},{"id":"c","zh":"三"},{"id":"d","zh":"四"},` + extra + `]`
	}
	tests := map[string]string{
		"too short":     `[{"id":"a","zh":"一"}]`,
		"duplicate id":  five(`{"id":"a","zh":"五"}`),
		"bad id":        five(`{"id":"a b","zh":"五"}`),
		"no Chinese":    five(`{"id":"e","en":"five"}`),
		"unknown field": five(`{"id":"e","zh":"五","fr":"cinq"}`),
		"not JSON":      `questions`,
	}
	for name, in := range tests {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := Parse([]byte(five(`{"id":"e","zh":"五"}`))); err != nil {
		t.Errorf("good list: %v", err)
	}
}
