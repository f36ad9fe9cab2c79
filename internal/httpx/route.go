package httpx

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"unid/internal/flow"
)

// Route is one endpoint: a net/http pattern and its handler.
type Route struct {
	Pattern string
	Handler http.HandlerFunc
}

// ClientIP returns the address of the caller of r. Behind a trusted reverse
// proxy it is the last address the proxy appended to X-Forwarded-For.
func ClientIP(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Client is who is on the other end of r, for rate limits and audit.
func Client(r *http.Request, trustProxy bool) flow.Client {
	return flow.NewClient(ClientIP(r, trustProxy), r.UserAgent())
}

// SameOrigin reports whether r is shown to come from one of unid's own
// pages, or from the user typing or bookmarking the address:
// Sec-Fetch-Site "same-origin" or "none", or, where the browser sends no
// Sec-Fetch-Site (old browsers, and every browser on a plain-HTTP
// intranet, which gets no Sec-Fetch-* headers), an Origin or else a Referer
// of this host. Anything else — another site, a sibling subdomain, or no
// evidence at all — is not: a request that would end the user's session
// everywhere then asks first.
func SameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	case "":
	default:
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		return sameHost(o, r.Host)
	}
	if ref := r.Referer(); ref != "" {
		return sameHost(ref, r.Host)
	}
	return false
}

// sameHost reports whether the URL u names host (host[:port]).
func sameHost(u, host string) bool {
	p, err := url.Parse(u)
	return err == nil && p.Host != "" && strings.EqualFold(p.Host, host)
}
