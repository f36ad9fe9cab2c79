package httpx

import (
	"strings"
	"testing"
)

func TestSafeNext(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"/me", "/me"},
		{"/", "/"},
		{"/cas/login?service=https%3A%2F%2Fexample.gov.cn%2F", "/cas/login?service=https%3A%2F%2Fexample.gov.cn%2F"},
		{"/a//b", "/a//b"},
		{"", ""},
		{"me", ""},
		{"//evil.example", ""},
		{"//evil.example/me", ""},
		{`/\evil.example`, ""},
		{`/me\..\`, ""},
		{"/\t/evil.example", ""},
		{"/\n/evil.example", ""},
		{"/\r\nLocation: x", ""},
		{"https://evil.example/", ""},
		{"http:/evil.example", ""},
		{"javascript:alert(1)", ""},
		{" /me", ""},
		{"/" + strings.Repeat("a", 3000), ""},
	}
	for _, tt := range tests {
		if got := SafeNext(tt.in); got != tt.want {
			t.Errorf("SafeNext(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
