package enterprise

import (
	"strings"

	"unid/internal/problem"
)

// usccAlphabet is the characters of a credit code in the order of their
// values (GB 32100-2015: no I, O, S, V, Z).
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are the weights of the first 17 characters.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// USCCCheck returns the check character of the first 17 characters of a
// credit code, false when one is not of the alphabet.
func USCCCheck(first17 string) (byte, bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum := 0
	for i := range 17 {
		v := strings.IndexByte(usccAlphabet, first17[i])
		if v < 0 {
			return 0, false
		}
		sum += v * usccWeights[i]
	}
	return usccAlphabet[(31-sum%31)%31], true
}

// ParseUSCC checks a unified social credit code (GB 32100-2015: 18
// characters of 0-9 A-H J-N P-R T U W-Y, check character by the standard's
// weights mod 31), upper-cases it, and returns it; a problem.Field("uscc",
// "uscc_format") otherwise.
func ParseUSCC(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 18 {
		return "", problem.Field("uscc", "uscc_format")
	}
	c, ok := USCCCheck(s[:17])
	if !ok || c != s[17] {
		return "", problem.Field("uscc", "uscc_format")
	}
	return s, nil
}

// rank orders roles, strongest highest; unknown roles rank 0.
func rank(role string) int {
	switch role {
	case RoleLegalRep:
		return 3
	case RoleAdmin:
		return 2
	case RoleHandler:
		return 1
	}
	return 0
}

// AtLeast reports whether role is min or stronger; an unknown role is
// never enough, and an unknown min is never met.
func AtLeast(role, min string) bool {
	r, m := rank(role), rank(min)
	return r > 0 && m > 0 && r >= m
}
