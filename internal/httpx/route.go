package httpx

import (
	"net"
	"net/http"
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
