package account

import (
	"regexp"
	"strings"
	"testing"
)

func TestMask(t *testing.T) {
	tests := []struct {
		name string
		mask func(string) string
		in   string
		want string
	}{
		{"phone", MaskPhone, "13812345678", "138****5678"},
		{"phone with country code", MaskPhone, "+86 138-1234-5678", "138****5678"},
		{"phone full width", MaskPhone, "１３８１２３４５６７８", "138****5678"},
		{"phone empty", MaskPhone, "", ""},
		{"phone short", MaskPhone, "1381234", masked},
		{"phone landline", MaskPhone, "010-12345678", masked},
		{"phone letters", MaskPhone, "call me maybe", masked},
		{"phone non-ASCII", MaskPhone, "一三八一二三四五六七八", masked},

		{"ID number", MaskIDNumber, "370102199001011231", "3701**********1231"},
		{"ID number brief example", MaskIDNumber, "370102199001011234", "3701**********1234"},
		{"ID number x", MaskIDNumber, "11010519491231002x", "1101**********002X"},
		{"ID number spaces", MaskIDNumber, " 11010519491231002X ", "1101**********002X"},
		{"ID number empty", MaskIDNumber, "", ""},
		{"ID number 15 digits", MaskIDNumber, "110105491231002", masked},
		{"ID number letters", MaskIDNumber, "ABCDEFGHIJKLMNOPQR", masked},
		{"ID number non-ASCII", MaskIDNumber, "三七零一零二一九九零零一零一一二三一", masked},

		{"email", MaskEmail, "zhangsan@example.com", "z******n@example.com"},
		{"email three", MaskEmail, "abc@example.com", "a*c@example.com"},
		{"email two", MaskEmail, "ab@example.com", "a*@example.com"},
		{"email one", MaskEmail, "a@example.com", "*@example.com"},
		{"email Chinese", MaskEmail, "张三丰@例子.中国", "张*丰@例子.中国"},
		{"email empty", MaskEmail, "", ""},
		{"email no at", MaskEmail, "zhangsan", masked},
		{"email no local", MaskEmail, "@example.com", masked},
		{"email no domain", MaskEmail, "zhangsan@", masked},
		{"email invalid UTF-8", MaskEmail, "zh\xffan@example.com", masked},
		{"email newline", MaskEmail, "zhangsan@example.com\nX", masked},

		{"name two", MaskName, "张三", "*三"},
		{"name four", MaskName, "欧阳娜娜", "***娜"},
		{"name with dot", MaskName, "阿沛·阿旺晋美", "******美"},
		{"name one", MaskName, "张", "*"},
		{"name Latin", MaskName, "Zhang San", "********n"},
		{"name empty", MaskName, "", ""},
		{"name blank", MaskName, "   ", masked},
		{"name invalid UTF-8", MaskName, "张\xff", masked},
		{"name control", MaskName, "张\x00三", masked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.mask(tt.in)
			if got != tt.want {
				t.Errorf("mask(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if tt.in != "" && got == tt.in {
				t.Errorf("mask(%q) returned its input", tt.in)
			}
		})
	}
}

// FuzzMask checks that each Mask function shows no more than its format
// allows, whatever it is given.
func FuzzMask(f *testing.F) {
	for _, s := range []string{"13812345678", "370102199001011231", "zhangsan@example.com", "张三", "a@b", "**@*", "****"} {
		f.Add(s)
	}
	phone := regexp.MustCompile(`^1[3-9][0-9]\*{4}[0-9]{4}$`)
	id := regexp.MustCompile(`^[0-9]{4}\*{10}[0-9]{3}[0-9X]$`)
	f.Fuzz(func(t *testing.T, s string) {
		for name, mask := range map[string]func(string) string{"phone": MaskPhone, "id": MaskIDNumber, "email": MaskEmail, "name": MaskName} {
			got := mask(s)
			if s == "" || got == masked {
				if got != "" && s == "" {
					t.Fatalf("%s(%q) = %q", name, s, got)
				}
				continue
			}
			ok := true
			switch name {
			case "phone":
				ok = phone.MatchString(got)
			case "id":
				ok = id.MatchString(got)
			case "email":
				at, gotAt := strings.LastIndexByte(s, '@'), strings.LastIndexByte(got, '@')
				local := []rune(got[:gotAt])
				shown := len(local) - strings.Count(got[:gotAt], "*")
				ok = gotAt > 0 && got[gotAt:] == s[at:] && len(local) == len([]rune(s[:at])) && shown <= 2
			case "name":
				r := []rune(got)
				ok = strings.Count(got, "*") >= len(r)-1
			}
			if !ok {
				t.Fatalf("%s(%q) = %q shows too much", name, s, got)
			}
		}
	})
}
