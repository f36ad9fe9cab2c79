package httpregistry_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"unid/internal/enterprise"
	"unid/internal/enterprise/httpregistry"
	"unid/internal/enterprise/httpregistry/registrytest"
	"unid/internal/problem"
)

var acme = enterprise.Record{USCC: "91350100M000100Y43", Name: "示例有限公司（测试数据）", LegalRepName: "张三", LegalRepID: "11010519491231002X", Status: enterprise.StatusActive}

func unavailable(err error) bool {
	p := problem.As(err)
	return p.Kind == problem.Unavailable && p.Code == "registry_unavailable"
}

// TestHTTPRegistry runs the http provider against a loopback service that
// checks its signatures and deduplicates request ids.
func TestHTTPRegistry(t *testing.T) {
	tests := []struct {
		name    string
		uscc    string
		modes   []string
		secret  string
		found   bool
		down    bool
		lookups int
		refused int
	}{
		{"found", acme.USCC, nil, "", true, false, 1, 0},
		{"unknown", "91310115000000000Q", nil, "", false, false, 1, 0},
		{"a timeout, then the same request id: one lookup", acme.USCC, []string{registrytest.Slow}, "", true, false, 1, 0},
		{"a 5xx, then the same request id: one lookup", acme.USCC, []string{registrytest.Error5xx}, "", true, false, 1, 0},
		{"5xx three times: at most two retries", acme.USCC, []string{registrytest.Error5xx, registrytest.Error5xx, registrytest.Error5xx}, "", false, true, 1, 0},
		{"unsigned answer refused", acme.USCC, []string{registrytest.Unsigned}, "", false, true, 1, 0},
		{"forged answer refused", acme.USCC, []string{registrytest.Forged}, "", false, true, 1, 0},
		{"answer to another request refused", acme.USCC, []string{registrytest.OtherID}, "", false, true, 1, 0},
		{"malformed answer refused", acme.USCC, []string{registrytest.Malformed}, "", false, true, 1, 0},
		{"a wrong secret: the service refuses", acme.USCC, nil, "wrong", false, true, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := registrytest.Start(t, acme)
			svc.Next(tt.modes...)
			secret := svc.Secret
			if tt.secret != "" {
				secret = []byte(tt.secret)
			}
			r := httpregistry.New(httpregistry.Options{URL: svc.URL, Secret: secret, Timeout: 100 * time.Millisecond, Backoff: time.Millisecond})
			rec, found, err := r.Lookup(context.Background(), tt.uscc)
			switch {
			case tt.down && !unavailable(err):
				t.Errorf("got %+v %v %v; want registry_unavailable", rec, found, err)
			case !tt.down && (err != nil || found != tt.found || found && rec != acme):
				t.Errorf("got %+v %v %v", rec, found, err)
			}
			if n := svc.Lookups("lookup"); n != tt.lookups {
				t.Errorf("%d lookups at the service, want %d", n, tt.lookups)
			}
			if n := svc.Refused(); n != tt.refused {
				t.Errorf("%d refused, want %d", n, tt.refused)
			}
		})
	}
}

// TestHTTPRegistryDown: a service that does not answer at all.
func TestHTTPRegistryDown(t *testing.T) {
	srv := httptest.NewServer(nil)
	url := srv.URL
	srv.Close()
	r := httpregistry.New(httpregistry.Options{URL: url, Secret: []byte("s"), Timeout: 100 * time.Millisecond, Backoff: time.Millisecond})
	if _, _, err := r.Lookup(context.Background(), acme.USCC); !unavailable(err) {
		t.Errorf("down: %v", err)
	}
}
