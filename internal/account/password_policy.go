package account

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"unid/internal/problem"
)

// Password rules. Lengths count characters (runes), not bytes.
const (
	PasswordMinLength = 8
	PasswordMaxLength = 128
	// PasswordMinClasses of the four classes (lower-case letters, upper-case
	// letters, digits, anything else) must appear in a password.
	PasswordMinClasses = 3
	// loginNameMinCheck is the shortest login name that a password may not
	// contain; shorter ones would forbid too much by chance.
	loginNameMinCheck = 3
)

// commonPasswordsText is the refused-password list; its header names the
// sources and their licence.
//
//go:embed common-passwords.txt
var commonPasswordsText string

// commonPasswords is the list as a set of lower-cased passwords, built on
// first use.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 12000)
	for line := range strings.Lines(commonPasswordsText) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" || line[0] == '#' {
			continue
		}
		m[strings.ToLower(line)] = struct{}{}
	}
	return m
})

// IsCommonPassword reports whether password is on the embedded list of
// passwords that attackers try first, compared case-insensitively.
func IsCommonPassword(password string) bool {
	_, ok := commonPasswords()[strings.ToLower(password)]
	return ok
}

// CheckPassword applies the password policy to a new password: 8–128
// characters; at least three of lower-case letters, upper-case letters,
// digits and other characters; not containing the login name (ignoring case,
// when it has three or more characters); not on the common-password list
// (ignoring case). The problem is about field "password"; its codes, checked
// in this order: password_required, password_too_short, password_too_long,
// password_contains_login_name, password_common, password_too_simple.
//
// Spaces and any Unicode character are allowed, and the password is used
// exactly as given: it is never trimmed or normalised.
func CheckPassword(password, loginName string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case password == "":
		return problem.Field(FieldPassword, "password_required")
	case n < PasswordMinLength:
		return problem.Field(FieldPassword, "password_too_short")
	case n > PasswordMaxLength:
		return problem.Field(FieldPassword, "password_too_long")
	}
	lower := strings.ToLower(password)
	if utf8.RuneCountInString(loginName) >= loginNameMinCheck && strings.Contains(lower, strings.ToLower(loginName)) {
		return problem.Field(FieldPassword, "password_contains_login_name")
	}
	if _, ok := commonPasswords()[lower]; ok {
		return problem.Field(FieldPassword, "password_common")
	}
	if passwordClasses(password) < PasswordMinClasses {
		return problem.Field(FieldPassword, "password_too_simple")
	}
	return nil
}

// passwordClasses counts which of the four character classes appear in p.
func passwordClasses(p string) int {
	var lower, upper, digit, other int
	for _, r := range p {
		switch {
		case unicode.IsLower(r):
			lower = 1
		case unicode.IsUpper(r):
			upper = 1
		case unicode.IsDigit(r):
			digit = 1
		default:
			other = 1
		}
	}
	return lower + upper + digit + other
}
