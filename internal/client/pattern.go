package client

import (
	"errors"
	"net/url"
	"strings"
)

// MaxServiceLen bounds a service URL. CAS clients send the URL of the page
// that asked for a sign-in; no real one comes near this, and a bound keeps
// huge values away from the store and the logs.
const MaxServiceLen = 2048

// Errors of ParsePattern and ParseService.
var (
	ErrPattern = errors.New("cas: invalid service pattern")
	ErrService = errors.New("cas: invalid service URL")
)

// Pattern is one registered service URL pattern of a CAS client (the
// syntax is in the documentation of internal/sso/cas); ParsePattern is the
// only way to make one.
type Pattern struct {
	scheme   string // "https" or "http"
	host     string // lower-cased host with its port exactly as written, e.g. "hall.example:8443"
	path     string // escaped path; "/" for an empty one
	prefix   bool   // path ended in "/*": match path and everything below it
	query    string // the literal query to require, when !anyQuery
	anyQuery bool   // the pattern ended in "?*"
}

// Specificity orders patterns that match the same service: an exact pattern
// beats any prefix, and a longer prefix beats a shorter one.
func (p Pattern) Specificity() int {
	score := len(p.path)
	if !p.prefix {
		score += MaxServiceLen + 1
	}
	return score
}

// String returns the pattern in its registered form.
func (p Pattern) String() string {
	s := p.scheme + "://" + p.host + p.path
	if p.prefix {
		s += "*"
	}
	switch {
	case p.anyQuery:
		s += "?*"
	case p.query != "":
		s += "?" + p.query
	}
	return s
}

// ParsePattern checks and parses one service pattern.
func ParsePattern(s string) (Pattern, error) {
	var p Pattern
	if s == "" || len(s) > MaxServiceLen || !plainURLChars(s) {
		return p, ErrPattern
	}
	rest := s
	if r, ok := strings.CutSuffix(rest, "?*"); ok {
		p.anyQuery, rest = true, r
	}
	if r, ok := strings.CutSuffix(rest, "/*"); ok {
		p.prefix, rest = true, r+"/"
	}
	if strings.Contains(rest, "*") {
		return Pattern{}, ErrPattern // a wildcard anywhere else: in the host, mid-path, in the query
	}
	u, err := parseURL(rest)
	if err != nil {
		return Pattern{}, ErrPattern
	}
	if p.anyQuery && u.RawQuery != "" {
		return Pattern{}, ErrPattern
	}
	if p.prefix && (u.RawQuery != "" || u.ForceQuery) {
		return Pattern{}, ErrPattern // "…?x/*": the "/*" was inside the query
	}
	p.scheme, p.host, p.path, p.query = u.Scheme, strings.ToLower(u.Host), escapedPath(u), u.RawQuery
	if u.ForceQuery && !p.anyQuery {
		return Pattern{}, ErrPattern // a bare "?" says nothing: write "?*" or no query
	}
	return p, nil
}

// Match reports whether the service URL s is allowed by p. s must already
// have passed ParseService; Match is false for anything else.
func (p Pattern) Match(s string) bool {
	u, err := ParseService(s)
	if err != nil {
		return false
	}
	return p.MatchURL(u)
}

func (p Pattern) MatchURL(u *url.URL) bool {
	if u.Scheme != p.scheme || strings.ToLower(u.Host) != p.host {
		return false
	}
	path := escapedPath(u)
	if p.prefix {
		if !strings.HasPrefix(path, p.path) {
			return false
		}
	} else if path != p.path {
		return false
	}
	switch {
	case p.anyQuery:
		return true
	case u.ForceQuery:
		return false // "…?" with nothing after it is not the pattern's "no query"
	default:
		return u.RawQuery == p.query
	}
}

// ParseService checks a service URL as a browser would be sent to it: an
// absolute http(s) URL of at most MaxServiceLen printable ASCII characters,
// with a host and no user information, no fragment, no backslash, no
// percent-encoded slash or backslash and no dot segments in its path, and no
// percent sign in its host. Anything a browser and Go could read
// differently is refused rather than interpreted.
func ParseService(s string) (*url.URL, error) {
	if s == "" || len(s) > MaxServiceLen || !plainURLChars(s) {
		return nil, ErrService
	}
	u, err := parseURL(s)
	if err != nil {
		return nil, ErrService
	}
	return u, nil
}

// parseURL is the common part of ParsePattern and ParseService.
func parseURL(s string) (*url.URL, error) {
	// The scheme is checked on the raw text, so that "https:/x", "https:x"
	// and other forms that parse with an empty or odd authority are out.
	lower := strings.ToLower(s)
	if !strings.HasPrefix(lower, "https://") && !strings.HasPrefix(lower, "http://") {
		return nil, ErrService
	}
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.User != nil || u.Fragment != "" || u.RawFragment != "" {
		return nil, ErrService
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, ErrService
	}
	if !validHost(u.Host) {
		return nil, ErrService
	}
	path := escapedPath(u)
	if path[0] != '/' || !cleanPath(path) {
		return nil, ErrService
	}
	return u, nil
}

// escapedPath is the path as sent on the wire, "/" when empty.
func escapedPath(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	return p
}

// validHost accepts a DNS name, an IPv4 address or a bracketed IPv6
// address, optionally followed by ":" and a decimal port 1-65535. Hosts are
// ASCII (an internationalised name is written in its xn-- form).
func validHost(h string) bool {
	if h == "" {
		return false
	}
	name, port := h, ""
	if h[0] == '[' {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return false
		}
		name, port = h[:end+1], h[end+1:]
		inner := name[1 : len(name)-1]
		if inner == "" || strings.Trim(inner, "0123456789abcdefABCDEF:.") != "" {
			return false
		}
	} else {
		if i := strings.IndexByte(h, ':'); i >= 0 {
			name, port = h[:i], h[i:]
		}
		if !validDNSName(name) {
			return false
		}
	}
	if port == "" {
		return true
	}
	digits, ok := strings.CutPrefix(port, ":")
	if !ok || digits == "" || len(digits) > 5 || digits[0] == '0' {
		return false
	}
	n := 0
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n >= 1 && n <= 65535
}

// validDNSName accepts labels of letters, digits and hyphens (and dotted
// IPv4 addresses, which are such labels too), without a trailing dot.
func validDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// cleanPath refuses paths whose meaning depends on who resolves them: dot
// segments (also percent-encoded) and percent-encoded slashes or
// backslashes, which some servers decode before routing.
func cleanPath(p string) bool {
	lower := strings.ToLower(p)
	if strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") {
		return false
	}
	for seg := range strings.SplitSeq(lower, "/") {
		seg, _, _ = strings.Cut(seg, ";") // "..;x" is ".." to servlet containers
		seg = strings.ReplaceAll(seg, "%2e", ".")
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// plainURLChars reports whether s has only characters that RFC 3986 allows
// unencoded in a URL (and "%"): no space, no control character, no
// backslash, quote, angle bracket or other character that a browser would
// strip, re-encode or read differently from Go, and no "#": a service URL
// has no fragment.
func plainURLChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || strings.IndexByte("\"#<>`{}|^\\", c) >= 0 {
			return false
		}
	}
	return true
}

// WithTicket appends the ticket parameter to a service URL (which has no
// fragment: ParseService refuses one).
func WithTicket(service, ticket string) string {
	sep := "?"
	if strings.Contains(service, "?") {
		sep = "&"
		if strings.HasSuffix(service, "?") || strings.HasSuffix(service, "&") {
			sep = ""
		}
	}
	return service + sep + "ticket=" + ticket
}
