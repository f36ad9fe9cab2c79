package operator_test

import (
	"testing"

	"unid/internal/operator"
)

func TestRelyingParty(t *testing.T) {
	tests := []struct {
		name, url, id, origin string
		bad                   bool
	}{
		{"a public host", "https://id.example.gov.cn/", "id.example.gov.cn", "https://id.example.gov.cn", false},
		{"a port is kept in the origin", "https://ID.Example.gov.cn:8443/unid", "id.example.gov.cn", "https://id.example.gov.cn:8443", false},
		{"loopback is localhost", "http://127.0.0.1:8080", "localhost", "http://localhost:8080", false},
		{"IPv6 loopback is localhost", "http://[::1]:8080", "localhost", "http://localhost:8080", false},
		{"an intranet address has no relying party", "https://10.1.2.3", "", "", true},
		{"no scheme", "id.example.gov.cn", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, origin, err := operator.RelyingParty(tt.url)
			if (err != nil) != tt.bad || id != tt.id || origin != tt.origin {
				t.Errorf("RelyingParty(%q) = %q, %q, %v", tt.url, id, origin, err)
			}
		})
	}
}
