package operator

import (
	"slices"
	"strings"

	"unid/internal/problem"
	"unid/internal/store"
)

// Roles, with separation of duties (三员分立): none includes another.
const (
	// RoleSysadmin runs service systems, the configuration view and
	// operators other than auditors.
	RoleSysadmin = "sysadmin"
	// RoleSecadmin acts on citizens' accounts: unlock, disable, sign out.
	RoleSecadmin = "secadmin"
	// RoleAuditor reads the audit trail and the review queues and changes
	// nothing.
	RoleAuditor = "auditor"
	// RoleReviewer works the review queues: opens items and decides them.
	RoleReviewer = "reviewer"
)

// Roles lists every role, in the order the console shows them.
var Roles = []string{RoleSysadmin, RoleSecadmin, RoleAuditor, RoleReviewer}

// ParseRoles checks and normalises a list of roles ("reviewer,auditor" may
// come split or not): each must be one of Roles, and at least one given.
// An unknown one ("admin" among them: that is sysadmin or
// secadmin) is the field problem operator_role_unknown.
func ParseRoles(in []string) ([]string, error) {
	var out []string
	for _, part := range in {
		for r := range strings.SplitSeq(part, ",") {
			r = strings.ToLower(strings.TrimSpace(r))
			if r == "" {
				continue
			}
			if !slices.Contains(Roles, r) {
				return nil, problem.Field("role", "operator_role_unknown")
			}
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	if len(out) == 0 {
		return nil, problem.Field("role", "operator_role_required")
	}
	if combined(out) {
		return nil, problem.Field("role", "operator_roles_exclusive")
	}
	slices.SortFunc(out, func(a, b string) int { return slices.Index(Roles, a) - slices.Index(Roles, b) })
	return out, nil
}

// HasAny reports whether o holds at least one of roles: the one role
// comparison of unid.
func HasAny(o store.Operator, roles ...string) bool {
	return HasAnyRole(o.Roles, roles...)
}

// HasAnyRole reports whether held includes at least one of roles.
func HasAnyRole(held []string, roles ...string) bool {
	for _, r := range roles {
		if slices.Contains(held, r) {
			return true
		}
	}
	return false
}

// Allow reports whether o may do what roles may, as a Forbidden problem
// when not: operator_read_only for an auditor asking for something no
// auditor may do (an auditor reads and never acts), operator_role_forbidden
// otherwise. No roles at all means any operator.
func Allow(o store.Operator, roles ...string) error {
	// An operator given two of the three roles before they were kept
	// apart acts as neither until the server gives them one.
	if combined(o.Roles) {
		return problem.New(problem.Forbidden, "operator_roles_exclusive")
	}
	if len(roles) == 0 || HasAny(o, roles...) {
		return nil
	}
	if HasAny(o, RoleAuditor) && !slices.Contains(roles, RoleAuditor) {
		return problem.New(problem.Forbidden, "operator_read_only")
	}
	return problem.New(problem.Forbidden, "operator_role_forbidden")
}

// combined reports whether roles hold two of the three that 三员分立 keeps
// apart: the system administrator, the security administrator and the
// auditor are three people; a reviewer may be any of them.
func combined(roles []string) bool {
	n := 0
	for _, r := range roles {
		if r != RoleReviewer {
			n++
		}
	}
	return n > 1
}
