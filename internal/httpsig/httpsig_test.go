package httpsig_test

import (
	"testing"

	"unid/internal/httpsig"
)

func TestSignVerify(t *testing.T) {
	secret, ts, body := []byte("s3cret"), "1700000000", []byte(`{"id":"a"}`)
	sig := httpsig.Sign(secret, ts, body)
	tests := []struct {
		name      string
		secret    []byte
		ts        string
		body      []byte
		header    string
		wantValid bool
	}{
		{"as signed", secret, ts, body, sig, true},
		{"one of several", secret, ts, body, "v0=abc, " + sig + ",v1=00", true},
		{"another body", secret, ts, []byte(`{"id":"b"}`), sig, false},
		{"another timestamp", secret, "1700000001", body, sig, false},
		{"another secret", []byte("other"), ts, body, sig, false},
		{"no signature", secret, ts, body, "", false},
		{"not hex", secret, ts, body, "v1=zz", false},
	}
	for _, tt := range tests {
		if got := httpsig.Verify(tt.secret, tt.ts, tt.body, tt.header); got != tt.wantValid {
			t.Errorf("%s: Verify = %v", tt.name, got)
		}
	}
}
