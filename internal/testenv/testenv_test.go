package testenv

import (
	"fmt"
	"testing"
)

// recorder is a testing.TB that records how the test ended instead of
// ending it.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
}

func TestRequire(t *testing.T) {
	tests := []struct {
		name        string
		value       string
		requireAll  string
		want        string
		wantSkip    bool
		wantFailure bool
	}{
		{"set", "postgres://x", "", "postgres://x", false, false},
		{"set and required", "postgres://x", "1", "postgres://x", false, false},
		{"unset skips", "", "", "", true, false},
		{"unset fails when all are required", "", "1", "", false, true},
		{"only 1 means required", "", "true", "", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("UNID_TESTENV_PROBE", tt.value)
			t.Setenv(RequireAllVar, tt.requireAll)
			r := &recorder{TB: t}
			got := Require(r, "UNID_TESTENV_PROBE")
			if got != tt.want || r.skipped != tt.wantSkip || r.failed != tt.wantFailure {
				t.Errorf("Require = %q, skipped %v, failed %v; want %q, %v, %v",
					got, r.skipped, r.failed, tt.want, tt.wantSkip, tt.wantFailure)
			}
			if (r.skipped || r.failed) && r.msg == "" {
				t.Error("no message says which service is missing")
			}
		})
	}
}
