package claims

import (
	"strconv"
	"strings"

	"unid/internal/store"
)

// MaxLevel is the highest real-name level, 高级.
const MaxLevel = 3

// ACRPrefix makes the acr of each real-name level:
// urn:unid:acr:realname:0 (not verified) … :3 (高级).
const ACRPrefix = "urn:unid:acr:realname:"

// Verified reports whether a user of real-name level has a verified real
// name (初级 or better), so that the name and ID number may be released.
func Verified(level int) bool { return level >= 1 }

// Satisfies reports whether a user of real-name level meets required, the
// level a request asked for (RequiredLevel).
func Satisfies(level, required int) bool { return level >= required }

// ClampLevel returns level within 0…MaxLevel, for showing it.
func ClampLevel(level int) int { return min(max(level, 0), MaxLevel) }

// ACR returns the acr of a real-name level.
func ACR(level int) string { return ACRPrefix + strconv.Itoa(level) }

// ACRValues returns the acr of every level, lowest first: discovery's
// acr_values_supported.
func ACRValues() []string {
	out := make([]string, 0, MaxLevel+1)
	for level := 0; level <= MaxLevel; level++ {
		out = append(out, ACR(level))
	}
	return out
}

// ParseACR returns the level of an acr value of unid's; other values are
// not unid's to judge, and ok is false.
func ParseACR(v string) (level int, ok bool) {
	n, ok := strings.CutPrefix(v, ACRPrefix)
	if !ok || len(n) != 1 || n[0] < '0' || n[0] > '0'+MaxLevel {
		return 0, false
	}
	return int(n[0] - '0'), true
}

// RequiredLevel returns the level a request's acr_values ask for: the
// client accepts any of them, so the lowest of unid's levels among them;
// 0 when none is unid's.
func RequiredLevel(acrValues []string) int {
	required, first := 0, true
	for _, v := range acrValues {
		if level, ok := ParseACR(v); ok && (first || level < required) {
			required, first = level, false
		}
	}
	return required
}

// Required returns the real-name level a user needs to sign in to c: the
// level the request asked for (RequiredLevel of its acr_values; 0 for
// CAS, which has none) or c's registered minimum, whichever is higher.
// OpenID Connect and CAS both ask this before a sign-in goes on, and send
// a user who does not Satisfy it to the upgrade page.
func Required(c store.Client, requested int) int {
	return max(ClampLevel(requested), ClampLevel(c.MinRealnameLevel))
}
