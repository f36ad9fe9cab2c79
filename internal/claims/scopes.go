package claims

import (
	"slices"

	"unid/internal/store"
)

// Requested keeps, in order and once each, the scopes of a sign-in request
// that are user scopes and that c is registered for ("minimum
// necessary"); openid is always kept.
func Requested(requested []string, c store.Client) []string {
	var out []string
	for _, s := range requested {
		if slices.Contains(out, s) || !IsUserScope(s) {
			continue
		}
		if s == ScopeOpenID || slices.Contains(c.Scopes, s) {
			out = append(out, s)
		}
	}
	return out
}

// Grant is what a user of real-name level grants c: the requested scopes
// c is (still) registered for, without idcard for a user whose real name
// is not verified.
func Grant(requested []string, c store.Client, level int) []string {
	out := Requested(requested, c)
	if !Verified(level) {
		out = slices.DeleteFunc(out, func(s string) bool { return s == ScopeIDCard })
	}
	return out
}

// ForClient returns the scopes a client-credentials token of c may carry:
// c's registered scopes that are not about a user, those requested or,
// when none is, all of them.
func ForClient(requested []string, c store.Client) []string {
	var allowed []string
	for _, s := range c.Scopes {
		if !IsUserScope(s) && !slices.Contains(allowed, s) {
			allowed = append(allowed, s)
		}
	}
	if len(requested) == 0 {
		return allowed
	}
	var out []string
	for _, s := range requested {
		if slices.Contains(allowed, s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
