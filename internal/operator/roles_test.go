package operator

import (
	"testing"

	"unid/internal/problem"
)

// TestParseRolesSeparatesDuties: the system administrator, the security
// administrator and the auditor are three people (三员分立); a reviewer
// may be any of them.
func TestParseRolesSeparatesDuties(t *testing.T) {
	for _, in := range []string{"sysadmin,secadmin", "sysadmin,auditor", "secadmin,auditor", "sysadmin,secadmin,auditor,reviewer"} {
		if _, err := ParseRoles([]string{in}); problem.As(err).Fields["role"] != "operator_roles_exclusive" {
			t.Errorf("%s: %v, want operator_roles_exclusive", in, err)
		}
	}
	for _, in := range []string{"reviewer,auditor", "sysadmin,reviewer", "secadmin,reviewer", "auditor"} {
		if _, err := ParseRoles([]string{in}); err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
}
