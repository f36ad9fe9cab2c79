package address

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"unid/internal/account"
	"unid/internal/division"
	"unid/internal/problem"
)

// Field names of the address form, the problem fields of its errors.
const (
	FieldRecipient = "recipient"
	FieldPhone     = "phone"
	FieldDetail    = "detail"
	FieldProvince  = division.FieldProvince
	FieldCity      = division.FieldCity
	FieldCounty    = division.FieldCounty
	FieldPostcode  = division.FieldPostcode
)

// Limits of the detailed address, in characters.
const (
	DetailMinLength = 5
	DetailMaxLength = 120
)

// Input is an address as a form sends it.
type Input struct {
	Recipient string
	Phone     string // mainland mobile, or landline with area code; on update "" keeps the stored one
	Province  string // GB/T 2260 codes
	City      string
	County    string // "" for a city without counties
	Detail    string
	Postcode  string
	Default   bool // on create: make it the default
}

// valid is an Input that passed Validate, in normal form.
type valid struct {
	recipient, phone, detail, postcode string
	place                              division.Place
}

// Validate checks in and returns it normalised. Every broken rule is
// reported at once (problem code invalid_fields). keepPhone allows an empty
// phone (an update that keeps the stored one).
func validate(in Input, keepPhone bool) (valid, error) {
	f := problem.FieldSet{}
	var v valid
	var err error
	v.recipient, err = NormalizeRecipient(in.Recipient)
	f.Add(FieldRecipient, err)
	if !(keepPhone && strings.TrimSpace(in.Phone) == "") {
		v.phone, err = NormalizePhone(in.Phone)
		f.Add(FieldPhone, err)
	}
	v.place, err = division.Resolve(strings.TrimSpace(in.Province), strings.TrimSpace(in.City), strings.TrimSpace(in.County))
	if p, ok := err.(*problem.Problem); ok {
		for field, code := range p.Fields {
			f.Add(field, problem.Field(field, code))
		}
	}
	v.detail, err = NormalizeDetail(in.Detail)
	f.Add(FieldDetail, err)
	v.postcode, err = division.NormalizePostcode(in.Postcode)
	f.Add(FieldPostcode, err)
	if err == nil && v.place.Province.Code != "" {
		f.Add(FieldPostcode, division.CheckPostcode(v.place, v.postcode))
	}
	return v, f.Err()
}

// NormalizeRecipient checks a recipient's name with the rules of a real
// name (account.NormalizeRealName: 2–30 Chinese characters with middle dots
// between parts, or Latin letters with single spaces, hyphens or
// apostrophes) and returns it in the same normal form. Codes:
// recipient_required, recipient_format.
func NormalizeRecipient(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", problem.Field(FieldRecipient, "recipient_required")
	}
	n, err := account.NormalizeRealName(s)
	if err != nil {
		return "", problem.Field(FieldRecipient, "recipient_format")
	}
	return n, nil
}

// NormalizePhone accepts a mainland mobile number (as account.NormalizePhone
// does: 13812345678) or a landline number with its area code, optionally
// with an extension: 0531-88886666, (010)66668888, 0531 8888 6666 转 123.
// A mobile number is returned as 11 digits, a landline as
// "area-number[-extension]". Codes: phone_required, address_phone_format.
func NormalizePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", problem.Field(FieldPhone, "phone_required")
	}
	if m, err := account.NormalizePhone(s); err == nil {
		return m, nil
	}
	if l, ok := landline(s); ok {
		return l, nil
	}
	return "", problem.Field(FieldPhone, "address_phone_format")
}

// landline reads a fixed-line number: an area code (010 or 02X, else four
// digits starting with 0), a number of 7 or 8 digits not starting with 0
// or 1, and an optional extension of 1–6 digits after "-", "转", "ext" or
// "#". Spaces, hyphens and brackets may separate the parts; full-width
// digits are read as digits.
func landline(s string) (string, bool) {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= '０' && r <= '９':
			return r - '０' + '0'
		case r == '（':
			return '('
		case r == '）':
			return ')'
		case r == '－' || r == '—':
			return '-'
		case r == '\u3000':
			return ' '
		}
		return r
	}, s)
	for _, sep := range []string{"转", "ext.", "ext", "EXT", "Ext", "#"} {
		if m, e, ok := strings.Cut(s, sep); ok {
			return fixedLine(m, strings.TrimSpace(strings.Trim(strings.TrimSpace(e), "-")))
		}
	}
	if l, ok := fixedLine(s, ""); ok {
		return l, true
	}
	// 021-62345678-9: the extension after the last hyphen.
	if i := strings.LastIndexByte(s, '-'); i > 0 {
		return fixedLine(s[:i], strings.TrimSpace(s[i+1:]))
	}
	return "", false
}

// fixedLine reads the area code and number of main, with extension ext.
func fixedLine(main, ext string) (string, bool) {
	var digits []byte
	for i := 0; i < len(main); i++ {
		switch c := main[i]; {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == ' ' || c == '-' || c == '(' || c == ')':
		default:
			return "", false
		}
	}
	d := string(digits)
	if len(d) < 10 || d[0] != '0' {
		return "", false
	}
	area := 4
	if strings.HasPrefix(d, "010") || strings.HasPrefix(d, "02") {
		area = 3
	}
	number := d[area:]
	if len(number) < 7 || len(number) > 8 || number[0] == '0' || number[0] == '1' {
		return "", false
	}
	out := d[:area] + "-" + number
	if ext != "" {
		if len(ext) > 6 || strings.Trim(ext, "0123456789") != "" {
			return "", false
		}
		out += "-" + ext
	}
	return out, true
}

// MaskPhone shows a phone as lists show it: a mobile as 138****5678, a
// landline as 0531-****6666 (area code and last four digits; the extension
// is dropped).
func MaskPhone(s string) string {
	if s == "" {
		return ""
	}
	if area, rest, ok := strings.Cut(s, "-"); ok {
		number, _, _ := strings.Cut(rest, "-")
		if len(number) < 7 {
			return "****"
		}
		return area + "-" + strings.Repeat("*", len(number)-4) + number[len(number)-4:]
	}
	return account.MaskPhone(s)
}

// NormalizeDetail trims the detailed address (street, building, room) and
// turns runs of white space into one space; it must be 5–120 characters
// with no control or direction-changing characters. Codes: detail_required,
// detail_length, detail_characters.
func NormalizeDetail(s string) (string, error) {
	if !utf8.ValidString(s) || strings.ContainsFunc(s, badRune) {
		return "", problem.Field(FieldDetail, "detail_characters")
	}
	s = strings.Join(strings.Fields(s), " ")
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0:
		return "", problem.Field(FieldDetail, "detail_required")
	case n < DetailMinLength || n > DetailMaxLength:
		return "", problem.Field(FieldDetail, "detail_length")
	}
	return s, nil
}

// badRune: control characters (except the ordinary white space that
// NormalizeDetail folds), line and paragraph separators, and the bidi
// controls that make a text read in another order than it is stored.
func badRune(r rune) bool {
	switch {
	case r == ' ' || r == '\u3000':
		return false
	case unicode.IsControl(r), r == '\u2028', r == '\u2029':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', r == '\u200e', r == '\u200f':
		return true
	}
	return false
}
