package client

import (
	"net/url"
	"strings"
	"testing"
)

func TestParsePattern(t *testing.T) {
	good := []string{
		"https://hall.example/app/login",
		"https://hall.example/app/*",
		"https://hall.example/app/login?*",
		"https://hall.example/app/*?*",
		"https://hall.example/app/login?a=1",
		"https://hall.example",
		"https://hall.example/*",
		"http://127.0.0.1:8081/cb",
		"https://[::1]:8443/cb",
		"https://HALL.example/x",
	}
	for _, s := range good {
		if _, err := ParsePattern(s); err != nil {
			t.Errorf("ParsePattern(%q): %v", s, err)
		}
	}
	bad := []string{
		"",
		"https://*.hall.example/",
		"https://hall.*/",
		"https://hall.example/*/x",
		"https://hall.example/app*",
		"https://hall.example/app/**",
		"https://hall.example/app/x?a=*",
		"https://hall.example/app/x?",
		"https://hall.example/app/?a/*",
		"https://user@hall.example/",
		"https://hall.example/#x",
		"https://hall.example/a b",
		"https://hall.example\\x/",
		"ftp://hall.example/",
		"javascript:alert(1)",
		"//hall.example/",
		"/app/*",
		"https:hall.example/",
		"https:/hall.example/",
		"https://hall.example:/",
		"https://hall.example:0/",
		"https://hall.example:65536/",
		"https://hall.example:08443/",
		"https://hall%2eexample/",
		"https://hall.example./",
		"https://hall..example/",
		"https://-hall.example/",
		"https://hall.example/app/../x",
		"https://[::1%25eth0]/",
		"https://中国.example/",
		"https://hall.example/" + strings.Repeat("a", MaxServiceLen),
	}
	for _, s := range bad {
		if p, err := ParsePattern(s); err == nil {
			t.Errorf("ParsePattern(%q) = %v, want an error", s, p)
		}
	}
}

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pattern string
		match   []string
		refuse  []string
	}{
		{
			pattern: "https://hall.example/app/*",
			match: []string{
				"https://hall.example/app/",
				"https://hall.example/app/x",
				"https://hall.example/app/x/y/z",
				"https://HALL.EXAMPLE/app/x",
				"HTTPS://hall.example/app/x",
				"https://hall.example/app/a%20b",
				"https://hall.example/app//x",
				"https://hall.example/app/x.y/..z",
			},
			refuse: []string{
				"https://hall.example.evil/app/x",
				"https://hall.example.evil/",
				"https://evil.example/app/x",
				"https://evilhall.example/app/x",
				"https://hall.example/application",
				"https://hall.example/app",
				"https://hall.example/App/x",
				"https://hall.example/",
				"https://hall.example",
				"https://user@hall.example/app/x",
				"https://user:pw@hall.example/app/x",
				"https://hall.example@evil.example/app/x",
				"https://evil.example#@hall.example/app/x",
				"https://evil.example\\@hall.example/app/x",
				"https://hall.example\\@evil.example/app/x",
				"http://hall.example/app/x",
				"https://hall.example:8443/app/x",
				"https://hall.example:443/app/x",
				"https://hall.example:/app/x",
				"https://hall.example./app/x",
				"https://hall.example/app/x?y=1",
				"https://hall.example/app/x?",
				"https://hall.example/app/x#f",
				"https://hall.example/app/x#",
				"https://hall.example/app/../admin",
				"https://hall.example/app/./x",
				"https://hall.example/app/..",
				"https://hall.example/app/%2e%2e/admin",
				"https://hall.example/app/%2E%2e/admin",
				"https://hall.example/app/.%2e/admin",
				"https://hall.example/app/..;x/admin",
				"https://hall.example/app/%2fevil",
				"https://hall.example/app/%5cevil",
				"https://hall.example/app/\\evil",
				"https://hall.example/app/x y",
				"https://hall.example/app/\tx",
				"https://hall.example/app/\nx",
				"https://hall.example/app/<x>",
				"https://hall.example/app/\"x",
				"https://hall.example/app/\u00e9",
				"//hall.example/app/x",
				"/app/x",
				"hall.example/app/x",
				"https:/hall.example/app/x",
				"https:hall.example/app/x",
				"https:///hall.example/app/x",
				"javascript://hall.example/app/%0aalert(1)",
				"data:text/html,https://hall.example/app/",
				"",
			},
		},
		{
			pattern: "https://hall.example/app/login",
			match:   []string{"https://hall.example/app/login"},
			refuse: []string{
				"https://hall.example/app/login/",
				"https://hall.example/app/logins",
				"https://hall.example/app/login?a=1",
				"https://hall.example/app/login?",
				"https://hall.example/app/",
			},
		},
		{
			pattern: "https://hall.example/app/login?*",
			match:   []string{"https://hall.example/app/login", "https://hall.example/app/login?a=1&b=2", "https://hall.example/app/login?"},
			refuse:  []string{"https://hall.example/app/login/x?a=1", "https://hall.example/app/login#a"},
		},
		{
			pattern: "https://hall.example/app/*?*",
			match:   []string{"https://hall.example/app/x?next=https://evil.example/", "https://hall.example/app/"},
			refuse:  []string{"https://hall.example/ap?x=/app/"},
		},
		{
			pattern: "https://hall.example/cb?a=1",
			match:   []string{"https://hall.example/cb?a=1"},
			refuse:  []string{"https://hall.example/cb", "https://hall.example/cb?a=1&b=2", "https://hall.example/cb?a=2"},
		},
		{
			pattern: "https://hall.example",
			match:   []string{"https://hall.example", "https://hall.example/"},
			refuse:  []string{"https://hall.example/x"},
		},
		{
			pattern: "https://hall.example:8443/*",
			match:   []string{"https://hall.example:8443/", "https://hall.example:8443/x"},
			refuse:  []string{"https://hall.example/x", "https://hall.example:443/x", "https://hall.example:84430/x"},
		},
		{
			pattern: "http://127.0.0.1:8081/*",
			match:   []string{"http://127.0.0.1:8081/cb"},
			refuse:  []string{"https://127.0.0.1:8081/cb", "http://127.0.0.1:8082/cb", "http://127.1:8081/cb", "http://0x7f.0.0.1:8081/cb", "http://localhost:8081/cb"},
		},
	}
	for _, tt := range tests {
		p, err := ParsePattern(tt.pattern)
		if err != nil {
			t.Fatalf("ParsePattern(%q): %v", tt.pattern, err)
		}
		for _, s := range tt.match {
			if !p.Match(s) {
				t.Errorf("%s does not match %q", tt.pattern, s)
			}
		}
		for _, s := range tt.refuse {
			if p.Match(s) {
				t.Errorf("%s matches %q", tt.pattern, s)
			}
		}
	}
}

func TestPatternString(t *testing.T) {
	for _, s := range []string{"https://hall.example/app/*?*", "https://hall.example/app/x?a=1", "https://hall.example/", "http://127.0.0.1:8081/*"} {
		p, err := ParsePattern(s)
		if err != nil {
			t.Fatal(err)
		}
		if p.String() != s {
			t.Errorf("String() = %q, want %q", p.String(), s)
		}
	}
}

func TestWithTicket(t *testing.T) {
	for _, tt := range []struct{ service, want string }{
		{"https://h.example/a", "https://h.example/a?ticket=ST-X"},
		{"https://h.example/a?b=1", "https://h.example/a?b=1&ticket=ST-X"},
		{"https://h.example/a?", "https://h.example/a?ticket=ST-X"},
		{"https://h.example/a?b=1&", "https://h.example/a?b=1&ticket=ST-X"},
	} {
		if got := WithTicket(tt.service, "ST-X"); got != tt.want {
			t.Errorf("WithTicket(%q) = %q, want %q", tt.service, got, tt.want)
		}
	}
}

// FuzzPatternMatch checks, for any pattern and service, that a match sends
// the browser where the pattern says: the redirect with its ticket, read by
// net/url, has the pattern's scheme and host, no user information and no
// fragment, and the path the pattern allows.
func FuzzPatternMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"https://hall.example/app/*", "https://hall.example/app/x"},
		{"https://hall.example/app/*", "https://hall.example.evil/app/x"},
		{"https://hall.example/app/*?*", "https://hall.example/app/x?y=1"},
		{"https://hall.example/app/login", "https://user@hall.example/app/login"},
		{"https://hall.example/app/*", "https://hall.example/app/%2e%2e/x"},
		{"http://127.0.0.1:8081/*", "http://127.0.0.1:8081/a;b/../c"},
		{"https://[::1]:8443/cb?*", "https://[::1]:8443/cb?a#b"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, service string) {
		p, err := ParsePattern(pattern)
		if err != nil {
			return
		}
		if _, err := ParsePattern(p.String()); err != nil {
			t.Fatalf("String() of %q gives %q, which does not parse: %v", pattern, p.String(), err)
		}
		if !p.Match(service) {
			return
		}
		u, err := url.Parse(WithTicket(service, "ST-AAAAAAAAAAAAAAAAAAAAAAAAAA"))
		if err != nil {
			t.Fatalf("matched %q, but the redirect does not parse: %v", service, err)
		}
		if u.Scheme != p.scheme || strings.ToLower(u.Host) != p.host || u.User != nil || u.Fragment != "" || u.Opaque != "" {
			t.Fatalf("pattern %q matched %q: redirect goes to scheme %q host %q user %v fragment %q", pattern, service, u.Scheme, u.Host, u.User, u.Fragment)
		}
		if u.Query().Get("ticket") != "ST-AAAAAAAAAAAAAAAAAAAAAAAAAA" {
			t.Fatalf("pattern %q matched %q: the redirect's ticket parameter is %q", pattern, service, u.Query().Get("ticket"))
		}
		path := u.EscapedPath()
		if path == "" {
			path = "/"
		}
		if p.prefix && !strings.HasPrefix(path, p.path) || !p.prefix && path != p.path {
			t.Fatalf("pattern %q matched %q with path %q", pattern, service, path)
		}
		// Decoded, as a server routes it, the path has no dot segment (also
		// as servlet containers read "..;x") and no backslash, and stays
		// under the pattern's prefix.
		decoded, err := url.PathUnescape(path)
		if err != nil {
			t.Fatalf("pattern %q matched %q, whose path does not decode: %v", pattern, service, err)
		}
		for seg := range strings.SplitSeq(decoded, "/") {
			seg, _, _ = strings.Cut(seg, ";")
			if seg == "." || seg == ".." || strings.Contains(seg, "\\") {
				t.Fatalf("pattern %q matched %q, whose path %q has a dot segment or backslash", pattern, service, decoded)
			}
		}
		if prefix, _ := url.PathUnescape(p.path); p.prefix && !strings.HasPrefix(decoded, prefix) {
			t.Fatalf("pattern %q matched %q, whose decoded path %q leaves %q", pattern, service, decoded, prefix)
		}
		if strings.ContainsAny(service, " \t\r\n\\#") {
			t.Fatalf("pattern %q matched %q with characters browsers rewrite", pattern, service)
		}
	})
}

// FuzzParseService checks that ParseService never panics and accepts only
// what net/url reads as an absolute http(s) URL with a host.
func FuzzParseService(f *testing.F) {
	for _, s := range []string{"https://hall.example/app/x", "http://[::1]:80/", "https://a@b/", "https://h/%", "https://h:99999/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseService(s)
		if err != nil {
			return
		}
		if len(s) > MaxServiceLen || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			t.Fatalf("ParseService accepted %q: %#v", s, u)
		}
	})
}
