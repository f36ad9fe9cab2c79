package cas

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"unid/internal/i18n"
)

func TestNewTicket(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		tk := newTicket()
		if !ParseTicket(tk) || len(tk) != ticketLen || len(tk) > 32 {
			t.Fatalf("newTicket() = %q: not a ticket of %d characters", tk, ticketLen)
		}
		// CAS 3.7: only A-Z, a-z, 0-9 and "-".
		if strings.Trim(tk, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			t.Fatalf("ticket %q has characters outside the CAS set", tk)
		}
		if seen[tk] {
			t.Fatalf("ticket %q issued twice", tk)
		}
		seen[tk] = true
	}
}

func TestParseTicket(t *testing.T) {
	for _, s := range []string{"", "ST-", "ST-" + strings.Repeat("A", 25), "ST-" + strings.Repeat("A", 27), "PT-" + strings.Repeat("A", 26),
		"st-" + strings.Repeat("A", 26), "ST-" + strings.Repeat("a", 26), "ST-" + strings.Repeat("1", 26), "ST-" + strings.Repeat("A", 25) + "=",
		"TGT-" + strings.Repeat("A", 26), " ST-" + strings.Repeat("A", 26)} {
		if ParseTicket(s) {
			t.Errorf("ParseTicket(%q) = true", s)
		}
	}
}

// FuzzParseTicket: only "ST-" and 26 base32 characters pass, and the store
// key of a ticket is always the same 43 URL-safe characters.
func FuzzParseTicket(f *testing.F) {
	f.Add(newTicket())
	f.Add("PT-AAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("ST-<script>")
	f.Fuzz(func(t *testing.T, s string) {
		if !ParseTicket(s) {
			return
		}
		if len(s) != ticketLen || !strings.HasPrefix(s, "ST-") || strings.Trim(s[3:], "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
			t.Fatalf("ParseTicket accepted %q", s)
		}
		if k := ticketKey(s); len(k) != 43 || k == s {
			t.Fatalf("ticketKey(%q) = %q", s, k)
		}
	})
}

// TestPageMessages checks that every message key the pages use, listed or
// written in the source, is in the catalog.
func TestPageMessages(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	keys := append([]string(nil), pageKeys...)
	files, _ := filepath.Glob("*.go")
	re := regexp.MustCompile(`"(cas\.[a-z_.]+)"`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			if strings.Count(m[1], ".") >= 2 { // "cas.error.x", not the audit action "cas.ticket_issued"
				keys = append(keys, m[1])
			}
		}
	}
	for _, k := range keys {
		if !cat.Has(k) {
			t.Errorf("message %q is missing from the catalog", k)
		}
		if !slices.Contains(pageKeys, k) {
			t.Errorf("message %q is used but not in pageKeys", k)
		}
	}
}
