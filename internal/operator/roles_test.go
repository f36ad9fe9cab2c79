package operator

import (
	"testing"

	"unid/internal/problem"
	"unid/internal/store"
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

// TestAllowRefusesCombinedRoles: an operator stored with two of the three
// roles (given before they were kept apart) may do nothing.
func TestAllowRefusesCombinedRoles(t *testing.T) {
	o := store.Operator{Roles: []string{RoleSysadmin, RoleSecadmin}}
	for _, want := range [][]string{nil, {RoleSysadmin}, {RoleSecadmin}} {
		if err := Allow(o, want...); problem.As(err).Code != "operator_roles_exclusive" {
			t.Errorf("Allow(%v) = %v", want, err)
		}
	}
	if err := Allow(store.Operator{Roles: []string{RoleAuditor, RoleReviewer}}, RoleReviewer); err != nil {
		t.Errorf("auditor and reviewer: %v", err)
	}
}
