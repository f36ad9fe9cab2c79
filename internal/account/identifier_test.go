package account

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"unid/internal/problem"
)

// wantCode checks that err is nil when code is "", and otherwise an Invalid
// *problem.Problem whose code is code, about field.
func wantCode(t *testing.T, err error, field, code string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("err = %v, want nil", err)
		}
		return
	}
	var p *problem.Problem
	if !errors.As(err, &p) {
		t.Fatalf("err = %v, want a *problem.Problem %q", err, code)
	}
	if p.Kind != problem.Invalid || p.Code != code || p.Fields[field] != code || len(p.Fields) != 1 {
		t.Fatalf("problem = %+v, want Invalid %q on field %q", p, code, field)
	}
}

func TestRecognize(t *testing.T) {
	tests := []struct {
		in   string
		kind Kind
		norm string
	}{
		{"zhangsan", KindLoginName, "zhangsan"},
		{"  ZhangSan_01 ", KindLoginName, "ZhangSan_01"},
		{"admin", KindLoginName, "admin"}, // reserved, but still a login name to look up
		{"13812345678", KindPhone, "13812345678"},
		{" +86 138-1234-5678 ", KindPhone, "13812345678"},
		{"008613812345678", KindPhone, "13812345678"},
		{"8613812345678", KindPhone, "13812345678"},
		{"１３８１２３４５６７８", KindPhone, "13812345678"},
		{"11010519491231002X", KindIDNumber, "11010519491231002X"},
		{"11010519491231002x", KindIDNumber, "11010519491231002X"},
		{" 370102199001011231\t", KindIDNumber, "370102199001011231"},
		{"440524188001010014", KindIDNumber, "440524188001010014"}, // born 1880: only ParseIDNumber refuses it
		{"370102199001011234", KindUnknown, "370102199001011234"},  // wrong check digit
		{"12812345678", KindUnknown, "12812345678"},                // no mobile starts with 12
		{"1381234567", KindUnknown, "1381234567"},
		{"abc", KindUnknown, "abc"}, // too short for a login name
		{"zhang san", KindUnknown, "zhang san"},
		{"张三", KindUnknown, "张三"},
		{"_zhangsan", KindUnknown, "_zhangsan"},
		{"zhangsan@example.com", KindUnknown, "zhangsan@example.com"},
		{"", KindUnknown, ""},
		{"   ", KindUnknown, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			kind, norm := Recognize(tt.in)
			if kind != tt.kind || norm != tt.norm {
				t.Errorf("Recognize(%q) = %v, %q; want %v, %q", tt.in, kind, norm, tt.kind, tt.norm)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindUnknown: "unknown", KindLoginName: "login_name", KindPhone: "phone", KindIDNumber: "id_number", Kind(99): "unknown"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}

func TestValidateLoginName(t *testing.T) {
	tests := []struct {
		in, code string
	}{
		{"zhangsan", ""},
		{"Zhang_San_2024", ""},
		{"abcd", ""},
		{"a" + strings.Repeat("b", 31), ""},
		{"", "login_name_required"},
		{"abc", "login_name_length"},
		{"a" + strings.Repeat("b", 32), "login_name_length"},
		{"张三", "login_name_format"},
		{"张三丰来", "login_name_format"},
		{"1zhangsan", "login_name_format"},
		{"_zhangsan", "login_name_format"},
		{"zhang-san", "login_name_format"},
		{"zhang san", "login_name_format"},
		{"zhang.san", "login_name_format"},
		{"zhangsan@x", "login_name_format"},
		{"zhängsan", "login_name_format"},
		{"ｚｈａｎｇｓａｎ", "login_name_format"},
		{"admin", "login_name_reserved"},
		{"Admin", "login_name_reserved"},
		{"ROOT", "login_name_reserved"},
		{"unid", "login_name_reserved"},
		{"operator", "login_name_reserved"},
		{"administrator", "login_name_reserved"},
		{"admin1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			wantCode(t, ValidateLoginName(tt.in), FieldLoginName, tt.code)
			if tt.code == "" || tt.code == "login_name_reserved" {
				if k, _ := Recognize(tt.in); k != KindLoginName {
					t.Errorf("Recognize(%q) = %v, want a login name", tt.in, k)
				}
			}
		})
	}
}

func TestLoginNameKey(t *testing.T) {
	if LoginNameKey("ZhangSan") != LoginNameKey("zhangsan") || LoginNameKey("ZhangSan") != "zhangsan" {
		t.Error("login names differing in case must have the same key")
	}
}

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		in, want, code string
	}{
		{"13812345678", "13812345678", ""},
		{"19912345678", "19912345678", ""},
		{"138 1234 5678", "13812345678", ""},
		{"138-1234-5678", "13812345678", ""},
		{"+8613812345678", "13812345678", ""},
		{"+86 138 1234 5678", "13812345678", ""},
		{"+86-13812345678", "13812345678", ""},
		{"008613812345678", "13812345678", ""},
		{"0086 138 1234 5678", "13812345678", ""},
		{"8613812345678", "13812345678", ""},
		{"１３８１２３４５６７８", "13812345678", ""},
		{"＋８６　１３８１２３４５６７８", "13812345678", ""},
		{"", "", "phone_required"},
		{"  ", "", "phone_required"},
		{"12812345678", "", "phone_format"}, // second digit 2
		{"10012345678", "", "phone_format"},
		{"23812345678", "", "phone_format"},
		{"1381234567", "", "phone_format"},
		{"138123456789", "", "phone_format"},
		{"+1 650 555 1234", "", "phone_format"},
		{"+8513812345678", "", "phone_format"},
		{"86+13812345678", "", "phone_format"},
		{"+86+13812345678", "", "phone_format"},
		{"(138)12345678", "", "phone_format"},
		{"138.1234.5678", "", "phone_format"},
		{"1381234567a", "", "phone_format"},
		{"86 86 13812345678", "", "phone_format"},
		{"8612812345678", "", "phone_format"},
		{strings.Repeat("1", 40), "", "phone_format"},
		{"0138123456789", "", "phone_format"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizePhone(tt.in)
			wantCode(t, err, FieldPhone, tt.code)
			if got != tt.want {
				t.Errorf("NormalizePhone(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// now is the clock of the ID number tests: 2026-03-10 01:00 in China, which
// is still 2026-03-09 in UTC.
var now = time.Date(2026, 3, 9, 17, 0, 0, 0, time.UTC)

func TestParseIDNumber(t *testing.T) {
	date := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name, in, code string
		want           IDNumber
	}{
		{"GB 11643 example", "11010519491231002X", "", IDNumber{"11010519491231002X", "110105", date(1949, 12, 31), false}},
		{"lower-case x", "11010519491231002x", "", IDNumber{"11010519491231002X", "110105", date(1949, 12, 31), false}},
		{"spaces", " 370102199001011231 ", "", IDNumber{"370102199001011231", "370102", date(1990, 1, 1), true}},
		{"full width", "３７０１０２１９９００１０１１２３１", "", IDNumber{"370102199001011231", "370102", date(1990, 1, 1), true}},
		{"leap day", "310115200002290013", "", IDNumber{"310115200002290013", "310115", date(2000, 2, 29), true}},
		{"1900 is allowed", "110105190012310026", "", IDNumber{"110105190012310026", "110105", date(1900, 12, 31), false}},
		{"Hong Kong", "810000198506071234", "", IDNumber{"810000198506071234", "810000", date(1985, 6, 7), true}},
		{"born today in China", withCheck("11010520260310002"), "", IDNumber{withCheck("11010520260310002"), "110105", date(2026, 3, 10), false}},
		{"empty", "", "id_number_required", IDNumber{}},
		{"blank", "  ", "id_number_required", IDNumber{}},
		{"old 15 digits", "110105491231002", "id_number_format", IDNumber{}},
		{"17 digits", "11010519491231002", "id_number_format", IDNumber{}},
		{"19 chars", "11010519491231002X1", "id_number_format", IDNumber{}},
		{"letter inside", "1101051949A231002X", "id_number_format", IDNumber{}},
		{"Y at end", "11010519491231002Y", "id_number_format", IDNumber{}},
		{"inner space", "110105 19491231002X", "id_number_format", IDNumber{}},
		{"wrong check digit", "370102199001011234", "id_number_checksum", IDNumber{}},
		{"X where 0 belongs", "11010519491231003X", "id_number_checksum", IDNumber{}},
		{"region 99", "990000199001011239", "id_number_region", IDNumber{}},
		{"born 1880", "440524188001010014", "id_number_birth", IDNumber{}},
		{"born 1900-02-28 is 1900", "310115190002280011", "", IDNumber{"310115190002280011", "310115", date(1900, 2, 28), true}},
		{"no 2001-02-29", "320106200102290024", "id_number_birth", IDNumber{}},
		{"born 2099", "110105209912310029", "id_number_birth", IDNumber{}},
		{"born tomorrow in China", withCheck("11010520260311002"), "id_number_birth", IDNumber{}},
		{"month 13", withCheck("11010519901301002"), "id_number_birth", IDNumber{}},
		{"day 00", withCheck("11010519900100002"), "id_number_birth", IDNumber{}},
		{"day 32", withCheck("11010519900132002"), "id_number_birth", IDNumber{}},
		{"year 0000", withCheck("11010500000101002"), "id_number_birth", IDNumber{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIDNumber(tt.in, now)
			wantCode(t, err, FieldIDNumber, tt.code)
			if !got.Birth.Equal(tt.want.Birth) || got.Number != tt.want.Number || got.Region != tt.want.Region || got.Male != tt.want.Male {
				t.Errorf("ParseIDNumber(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

// withCheck appends the right check character to 17 digits, computed with
// the weights 2^(17-i) mod 11 rather than the package's table.
func withCheck(first17 string) string {
	sum, w := 0, 1
	for i := 16; i >= 0; i-- {
		w = w * 2 % 11
		sum += int(first17[i]-'0') * w
	}
	return first17 + string("0123456789X"[(12-sum%11)%11])
}

func TestWithCheckMatchesStandard(t *testing.T) {
	// The example of GB 11643-1999 and one more computed by hand.
	if got := withCheck("11010519491231002"); got != "11010519491231002X" {
		t.Fatalf("withCheck = %s", got)
	}
	if got := withCheck("44052418800101001"); got != "440524188001010014" {
		t.Fatalf("withCheck = %s", got)
	}
}

func TestIDNumberIsMaskedWhenPrinted(t *testing.T) {
	n, err := ParseIDNumber("370102199001011231", now)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "id", n)
	for _, s := range []string{fmt.Sprint(n), fmt.Sprintf("%v", n), buf.String()} {
		if strings.Contains(s, "199001011231") || !strings.Contains(s, "3701**********1231") {
			t.Errorf("printed as %q", s)
		}
	}
}

func TestValidateRealName(t *testing.T) {
	tests := []struct {
		in, want, code string
	}{
		{"张三", "张三", ""},
		{"欧阳娜娜", "欧阳娜娜", ""},
		{" 王小明 ", "王小明", ""},
		{"阿沛·阿旺晋美", "阿沛·阿旺晋美", ""},
		{"阿沛•阿旺晋美", "阿沛·阿旺晋美", ""},
		{"阿沛・阿旺晋美", "阿沛·阿旺晋美", ""},
		{"迪丽热巴·迪力木拉提", "迪丽热巴·迪力木拉提", ""},
		{"Zhang San", "Zhang San", ""},
		{"John  Smith", "John Smith", ""},
		{"Renée O'Neil", "Renée O'Neil", ""},
		{"Jean-Luc Picard", "Jean-Luc Picard", ""},
		{"Li", "Li", ""},
		{strings.Repeat("张", 30), strings.Repeat("张", 30), ""},
		{"", "", "real_name_required"},
		{"   ", "", "real_name_required"},
		{"张", "", "real_name_format"},
		{strings.Repeat("张", 31), "", "real_name_format"},
		{"张3", "", "real_name_format"},
		{"张 三", "", "real_name_format"},
		{"张三A", "", "real_name_format"},
		{"Zhang三", "", "real_name_format"},
		{"·张三", "", "real_name_format"},
		{"张三·", "", "real_name_format"},
		{"张··三", "", "real_name_format"},
		{"Zhang San2", "", "real_name_format"},
		{"Zhang_San", "", "real_name_format"},
		{"-Zhang", "", "real_name_format"},
		{"Zhang- San", "", "real_name_format"},
		{"Иван", "", "real_name_format"},
		{"张三\n", "张三", ""},
		{"张\x00三", "", "real_name_format"},
		{"张三😀", "", "real_name_format"},
		{"\xff\xfe", "", "real_name_format"},
		{"<script>", "", "real_name_format"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			wantCode(t, ValidateRealName(tt.in), FieldRealName, tt.code)
			got, err := NormalizeRealName(tt.in)
			wantCode(t, err, FieldRealName, tt.code)
			if got != tt.want {
				t.Errorf("NormalizeRealName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		in, want, code string
	}{
		{"zhangsan@example.com", "zhangsan@example.com", ""},
		{" ZhangSan@Example.COM ", "ZhangSan@example.com", ""},
		{"zhang.san+tag@mail.example.gov.cn", "zhang.san+tag@mail.example.gov.cn", ""},
		{"a@b.cn", "a@b.cn", ""},
		{"用户@例子.中国", "用户@例子.中国", ""},
		{"", "", "email_required"},
		{"zhangsan", "", "email_format"},
		{"zhangsan@", "", "email_format"},
		{"@example.com", "", "email_format"},
		{"zhangsan@localhost", "", "email_format"},
		{"zhangsan@example..com", "", "email_format"},
		{"zhangsan@-example.com", "", "email_format"},
		{"zhangsan@example.com.", "", "email_format"},
		{"zhang san@example.com", "", "email_format"},
		{"Zhang San <zhangsan@example.com>", "", "email_format"},
		{"<zhangsan@example.com>", "", "email_format"},
		{"zhangsan@example.com (home)", "", "email_format"},
		{"a@b@example.com", "", "email_format"},
		{"zhangsan@[127.0.0.1]", "", "email_format"},
		{"zhangsan@example.com\r\nBcc: x@y.z", "", "email_format"},
		{"zhangsan@exa_mple.com", "", "email_format"},
		{`"x,victim@evil.com"@example.com`, "", "email_format"},
		{`"zhang san"@example.com`, "", "email_format"},
		{strings.Repeat("a", 65) + "@example.com", "", "email_format"},
		{"a@" + strings.Repeat("b", 250) + ".com", "", "email_format"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeEmail(tt.in)
			wantCode(t, err, FieldEmail, tt.code)
			if got != tt.want {
				t.Errorf("NormalizeEmail(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if err == nil {
				if again, err := NormalizeEmail(got); err != nil || again != got {
					t.Errorf("NormalizeEmail(%q) = %q, %v; want it unchanged", got, again, err)
				}
			}
		})
	}
}

func FuzzRecognize(f *testing.F) {
	for _, s := range []string{
		"zhangsan", "ZhangSan_01", "admin", "abc", "a___", "Z" + strings.Repeat("9", 31),
		"13812345678", "+86 138-1234-5678", "008613812345678", "8613812345678", "１３８１２３４５６７８",
		"11010519491231002X", "11010519491231002x", "370102199001011231", "370102199001011234",
		"440524188001010014", "１１０１０５１９４９１２３１００２ｘ", "12812345678", "+8613812345678 ",
		"zhangsan@example.com", "张三", "", " ", "\u3000138 1234 5678\u3000", "x13812345678",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kind, norm := Recognize(s)
		switch kind {
		case KindLoginName:
			if code := loginNameFormat(norm); code != "" {
				t.Fatalf("login name %q: %s", norm, code)
			}
			if err := ValidateLoginName(norm); err != nil && problem.As(err).Code != "login_name_reserved" {
				t.Fatalf("login name %q: %v", norm, err)
			}
		case KindPhone:
			if p, err := NormalizePhone(norm); err != nil || p != norm || len(norm) != 11 {
				t.Fatalf("phone %q re-normalises to %q, %v", norm, p, err)
			}
		case KindIDNumber:
			if len(norm) != 18 || withCheck(norm[:17]) != norm {
				t.Fatalf("ID number %q has a wrong check character", norm)
			}
		case KindUnknown:
			if norm != strings.TrimSpace(s) {
				t.Fatalf("unknown %q returned as %q", s, norm)
			}
		default:
			t.Fatalf("kind %v", kind)
		}
		if k2, n2 := Recognize(norm); k2 != kind || n2 != norm {
			t.Fatalf("Recognize(%q) = %v %q, but Recognize(%q) = %v %q", s, kind, norm, norm, k2, n2)
		}
		// Whatever is a valid login name is taken for one, never for a
		// phone or ID number.
		if ValidateLoginName(strings.TrimSpace(s)) == nil && kind != KindLoginName {
			t.Fatalf("valid login name %q recognised as %v", s, kind)
		}
	})
}

func FuzzParseIDNumber(f *testing.F) {
	for _, s := range []string{
		"11010519491231002X", "11010519491231002x", "370102199001011231", "370102199001011234",
		"310115200002290013", "320106200102290024", "440524188001010014", "990000199001011239",
		"110105209912310029", "810000198506071234", "110105491231002", "", "３７０１０２１９９００１０１１２３１",
		"11010520260310003X", "000000000000000000", "99999999999999999X",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseIDNumber(s, now)
		if err != nil {
			p := problem.As(err)
			switch p.Code {
			case "id_number_required", "id_number_format", "id_number_checksum", "id_number_region", "id_number_birth":
			default:
				t.Fatalf("ParseIDNumber(%q): unexpected %v", s, err)
			}
			if p.Fields[FieldIDNumber] != p.Code {
				t.Fatalf("ParseIDNumber(%q): fields %v", s, p.Fields)
			}
			if n != (IDNumber{}) {
				t.Fatalf("ParseIDNumber(%q) failed but returned %+v", s, n)
			}
			return
		}
		if len(n.Number) != 18 || withCheck(n.Number[:17]) != n.Number {
			t.Fatalf("ParseIDNumber(%q) = %q: check character does not hold", s, n.Number)
		}
		re := n.Region + n.Birth.Format("20060102") + n.Number[14:17]
		if withCheck(re) != n.Number {
			t.Fatalf("ParseIDNumber(%q) = %+v does not format back to its number", s, n)
		}
		if n.Male != ((n.Number[16]-'0')%2 == 1) {
			t.Fatalf("ParseIDNumber(%q): Male = %v", s, n.Male)
		}
		if n.Birth.Year() < 1900 || n.Birth.After(now.Add(24*time.Hour)) || n.Birth.Location() != time.UTC || !n.Birth.Equal(n.Birth.Truncate(24*time.Hour)) {
			t.Fatalf("ParseIDNumber(%q): birth %v", s, n.Birth)
		}
		again, err := ParseIDNumber(n.Number, now)
		if err != nil || again != n {
			t.Fatalf("ParseIDNumber(%q) = %+v, %v; want %+v", n.Number, again, err, n)
		}
		if k, norm := Recognize(s); k != KindIDNumber || norm != n.Number {
			t.Fatalf("Recognize(%q) = %v %q, want the ID number %q", s, k, norm, n.Number)
		}
	})
}
