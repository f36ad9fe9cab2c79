package admin

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"unid/internal/httpx"
	"unid/internal/problem"
)

// Allowlist keeps the console and the operator API to the client
// addresses of the operators' networks (UNID_CONSOLE_ALLOW). An empty list
// allows every address.
type Allowlist struct {
	nets       []netip.Prefix
	trustProxy bool
}

// ParseAllowlist reads a comma-separated list of CIDR prefixes (a bare
// address is a prefix of one address); "" allows every address.
// trustProxy takes the client address from X-Forwarded-For, as
// httpx.ClientIP does everywhere.
func ParseAllowlist(list string, trustProxy bool) (*Allowlist, error) {
	a := &Allowlist{trustProxy: trustProxy}
	for part := range strings.SplitSeq(list, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			addr, aerr := netip.ParseAddr(part)
			if aerr != nil {
				return nil, fmt.Errorf("admin: console-allow: %q is not a CIDR prefix (10.1.0.0/16) or an address", part)
			}
			p = netip.PrefixFrom(addr, addr.BitLen())
		}
		a.nets = append(a.nets, p.Masked())
	}
	return a, nil
}

// Allows reports whether r comes from an allowed address.
func (a *Allowlist) Allows(r *http.Request) bool {
	if len(a.nets) == 0 {
		return true
	}
	addr, err := netip.ParseAddr(httpx.ClientIP(r, a.trustProxy))
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range a.nets {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// ConsolePath reports whether path is the console's or the operator
// API's: what the allowlist keeps.
func ConsolePath(path string) bool {
	return path == "/console" || strings.HasPrefix(path, "/console/") ||
		path == "/api/admin" || strings.HasPrefix(path, "/api/admin/")
}

// Wrap answers, before next runs, every request for the console or the
// operator API from an address not allowed: the page refuse for the
// console's pages, the problem operator_address_forbidden (403) through
// fail for the API.
func (a *Allowlist) Wrap(next http.Handler, fail func(http.ResponseWriter, *http.Request, error), refuse http.HandlerFunc) http.Handler {
	if len(a.nets) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ConsolePath(r.URL.Path) || a.Allows(r) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		if strings.HasPrefix(r.URL.Path, "/api/") {
			fail(w, r, errAddressForbidden)
			return
		}
		refuse(w, r)
	})
}

var errAddressForbidden = problem.New(problem.Forbidden, "operator_address_forbidden")
