package account

import (
	"strings"
	"testing"
)

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		name, password, loginName, code string
	}{
		{"three classes", "Blue7horse", "zhangsan", ""},
		{"four classes", "Blue7horse!", "zhangsan", ""},
		{"lower digit symbol", "blue7horse!", "zhangsan", ""},
		{"Chinese counts as other", "蓝色7horse", "zhangsan", ""},
		{"spaces count as other", "blue horse 7", "zhangsan", ""},
		{"exactly 8", "Bl7horse"[:8], "zhangsan", ""},
		{"exactly 128", "Aa1" + strings.Repeat("x", 125), "zhangsan", ""},
		{"128 Chinese characters", "Aa1" + strings.Repeat("码", 125), "zhangsan", ""},
		{"empty", "", "zhangsan", "password_required"},
		{"7 characters", "Bl7hors", "zhangsan", "password_too_short"},
		{"7 Chinese characters are short though 21 bytes", "密码密码密A1", "zhangsan", "password_too_short"},
		{"129", "Aa1" + strings.Repeat("x", 126), "zhangsan", "password_too_long"},
		{"lower only", "bluehorses", "zhangsan", "password_too_simple"},
		{"lower and digits", "bluehorse7", "zhangsan", "password_too_simple"},
		{"upper and lower", "BlueHorses", "zhangsan", "password_too_simple"},
		{"digits only", "39485761", "zhangsan", "password_too_simple"},
		{"contains login name", "Zhangsan#2024", "zhangsan", "password_contains_login_name"},
		{"contains login name ignoring case", "my!ZHANGSAN7", "ZhangSan", "password_contains_login_name"},
		{"is login name", "Zhang_san1", "Zhang_san1", "password_contains_login_name"},
		{"short login names are not checked", "Xyz!wq77", "xy", ""},
		{"3-character login names are", "Bob!wq77", "bob", "password_contains_login_name"},
		{"no login name yet", "Blue7horse", "", ""},
		{"common", "password", "zhangsan", "password_common"},
		{"common mixed case", "PassWord1", "zhangsan", "password_common"},
		{"common Chinese", "woaini1314", "zhangsan", "password_common"},
		{"common Chinese capitalised", "Woaini1314", "zhangsan", "password_common"},
		{"common with symbols", "Aa123456!", "zhangsan", "password_common"},
		{"common", "1qaz@WSX", "zhangsan", "password_common"},
		{"common", "P@ssw0rd", "zhangsan", "password_common"},
		{"common", "Admin@123", "zhangsan", "password_common"},
		{"common", "qq123456", "zhangsan", "password_common"},
		{"common", "Qwer1234", "zhangsan", "password_common"},
		{"not trimmed", " Blue7horse ", "zhangsan", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.password, func(t *testing.T) {
			wantCode(t, CheckPassword(tt.password, tt.loginName), FieldPassword, tt.code)
		})
	}
}

func TestCommonPasswordList(t *testing.T) {
	m := commonPasswords()
	if len(m) < 10000 {
		t.Fatalf("the common-password list has %d entries, want at least 10,000", len(m))
	}
	// One from each source, from the ends of the lists, to catch a cut-off.
	for _, p := range []string{
		"password", "123456", "eyphed", "blackcoc", // SecLists 10k: first, last, a joined line
		"5201314", "woaini1314", "821210", "zhangwei", // Chinese list: first lines and the last taken
		"aa123456", "1qaz@wsx", "woaini@1314", // added
	} {
		if !IsCommonPassword(p) {
			t.Errorf("%q is not on the list", p)
		}
	}
	for p := range m {
		if p != strings.ToLower(p) || p == "" || strings.HasPrefix(p, "#") || strings.ContainsAny(p, "\r\n") {
			t.Fatalf("bad entry %q", p)
		}
	}
	if IsCommonPassword("Blue7horse") {
		t.Error("an uncommon password is on the list")
	}
}

func TestPasswordClasses(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0}, {"abc", 1}, {"aB", 2}, {"aB1", 3}, {"aB1!", 4}, {"密码", 1}, {"ÄÖü", 2}, {"１２", 1},
	}
	for _, tt := range tests {
		if got := passwordClasses(tt.in); got != tt.want {
			t.Errorf("passwordClasses(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func BenchmarkCheckPassword(b *testing.B) {
	commonPasswords()
	for b.Loop() {
		CheckPassword("Blue7horse!", "zhangsan")
	}
}
