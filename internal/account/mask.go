package account

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// masked is what every Mask function returns for input it cannot read: it
// never echoes malformed personal data, and it does not tell its length.
// Every Mask function returns "" for "": there is nothing to hide, and a
// view should say "not given" rather than show stars.
const masked = "****"

// MaskPhone shows a mobile number as 138****5678. It accepts any form that
// NormalizePhone accepts.
func MaskPhone(s string) string {
	if s == "" {
		return ""
	}
	p, err := NormalizePhone(s)
	if err != nil {
		return masked
	}
	return p[:3] + "****" + p[7:]
}

// MaskIDNumber shows an 18-character ID number as 3701**********1234: the
// province and city, and the last four characters.
func MaskIDNumber(s string) string {
	if s == "" {
		return ""
	}
	n, code := idNumberFormat(s)
	if code != "" && code != "id_number_checksum" {
		return masked
	}
	return n[:4] + strings.Repeat("*", 10) + n[14:]
}

// MaskEmail shows an e-mail address as z******n@example.com: the first and
// last character of the local part with one * for each character between.
// A local part of two characters keeps only the first (a*@example.com), one
// of one character is hidden (*@example.com). The domain is shown.
func MaskEmail(s string) string {
	if s == "" {
		return ""
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || !utf8.ValidString(s) || hasControl(s) {
		return masked
	}
	local := []rune(s[:at])
	switch len(local) {
	case 1:
		return "*" + s[at:]
	case 2:
		return string(local[0]) + "*" + s[at:]
	}
	return string(local[0]) + strings.Repeat("*", len(local)-2) + string(local[len(local)-1]) + s[at:]
}

// MaskName shows a real name with only its last character: 张三 → *三,
// 欧阳娜娜 → ***娜, Zhang San → ********n. A one-character name is hidden
// entirely.
func MaskName(s string) string {
	if s == "" {
		return ""
	}
	if !utf8.ValidString(s) || hasControl(s) {
		return masked
	}
	r := []rune(strings.TrimSpace(s))
	if len(r) == 0 {
		return masked
	}
	if len(r) == 1 {
		return "*"
	}
	return strings.Repeat("*", len(r)-1) + string(r[len(r)-1])
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// MaskIdentifier shows an identifier (Recognize's kind and value) the way
// the audit log may keep it: phone and ID number masked; the login name of
// an account as it is (login names are public); one that matches no
// account may be something else typed into the wrong box (a password,
// say), so only its first letter is kept.
func MaskIdentifier(kind Kind, ident string, found bool) string {
	switch kind {
	case KindPhone:
		return MaskPhone(ident)
	case KindIDNumber:
		return MaskIDNumber(ident)
	case KindLoginName:
		if found {
			return ident
		}
		return ident[:1] + "***"
	}
	return "(unrecognised)"
}
