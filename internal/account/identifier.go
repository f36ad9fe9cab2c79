package account

import (
	"log/slog"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"unid/internal/problem"
)

// Field names of personal data. They are the problem field names of the
// forms, the kinds given to Protector.Seal and Protector.Index, and the
// fields named by store.ConflictError.
const (
	FieldLoginName = "login_name"
	FieldPassword  = "password"
	FieldPhone     = "phone"
	FieldIDNumber  = "id_number"
	FieldEmail     = "email"
	FieldRealName  = "real_name"
)

// Kind is what a sign-in identifier was recognised as.
type Kind int

// Kinds of identifier.
const (
	KindUnknown   Kind = iota // none of the formats below
	KindLoginName             // starts with a letter: 4–32 letters, digits, underscore
	KindPhone                 // mainland mobile number
	KindIDNumber              // 18-character resident identity card number
)

func (k Kind) String() string {
	switch k {
	case KindLoginName:
		return "login_name"
	case KindPhone:
		return "phone"
	case KindIDNumber:
		return "id_number"
	}
	return "unknown"
}

// Recognize tells which kind of identifier a user typed into the single
// sign-in box, and returns it in normalised form: a phone as 11 digits
// without country code or separators, an ID number with an upper-case X, a
// login name as typed (look it up with LoginNameKey). The formats cannot
// overlap: a login name starts with a letter, the others with a digit or +.
//
// Recognize checks format only: a reserved login name is still a login name
// here, and an ID number needs only a valid check digit (its date and region
// are checked at registration by ParseIDNumber). Anything else is
// KindUnknown with the trimmed input.
func Recognize(s string) (Kind, string) {
	s = strings.TrimSpace(s)
	if loginNameFormat(s) == "" {
		return KindLoginName, s
	}
	if p, err := NormalizePhone(s); err == nil {
		return KindPhone, p
	}
	if n, code := idNumberFormat(s); code == "" {
		return KindIDNumber, n
	}
	return KindUnknown, s
}

// Login name rules.
const (
	LoginNameMinLength = 4
	LoginNameMaxLength = 32
)

// reservedLoginNames may not be registered: they look like they speak for the
// platform. Compared against LoginNameKey.
var reservedLoginNames = map[string]bool{
	"admin": true, "administrator": true, "root": true, "system": true, "sys": true,
	"unid": true, "operator": true, "support": true, "service": true, "security": true,
	"official": true, "guest": true, "test": true, "null": true, "nobody": true,
	"superuser": true, "sysadmin": true, "webmaster": true, "postmaster": true,
	"hostmaster": true, "helpdesk": true, "kefu": true, "guanliyuan": true,
	"xitong": true, "zhengwu": true, "gov": true, "government": true, "audit": true,
	"anonymous": true, "user": true, "account": true, "login": true, "register": true,
}

// ValidateLoginName checks a login name chosen at registration (after
// trimming): 4–32 ASCII letters, digits or underscores, starting with a
// letter, and not a reserved name. Because it starts with a letter, a valid
// login name is never taken for a phone or ID number by Recognize.
func ValidateLoginName(s string) error {
	if code := loginNameFormat(s); code != "" {
		return problem.Field(FieldLoginName, code)
	}
	if reservedLoginNames[LoginNameKey(s)] {
		return problem.Field(FieldLoginName, "login_name_reserved")
	}
	return nil
}

// loginNameFormat returns the problem code of s as a login name, or "".
func loginNameFormat(s string) string {
	if s == "" {
		return "login_name_required"
	}
	if len(s) < LoginNameMinLength || len(s) > LoginNameMaxLength {
		// len counts bytes; a non-ASCII name is a format problem below
		// unless it is too long anyway.
		if n := utf8.RuneCountInString(s); n < LoginNameMinLength || n > LoginNameMaxLength {
			return "login_name_length"
		}
		return "login_name_format"
	}
	if !isASCIILetter(s[0]) {
		return "login_name_format"
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isASCIILetter(c) && !isASCIIDigit(c) && c != '_' {
			return "login_name_format"
		}
	}
	return ""
}

// LoginNameKey is the form of a login name used for lookup and uniqueness:
// "ZhangSan" and "zhangsan" are the same account.
func LoginNameKey(s string) string { return strings.ToLower(s) }

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isASCIIDigit(c byte) bool  { return '0' <= c && c <= '9' }

// foldWidth maps the full-width digits, plus, minus and X that Chinese input
// methods produce to ASCII, so that "１３８…" is the same phone as "138…".
func foldWidth(s string) string {
	if isASCII(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '０' && r <= '９':
			return r - '０' + '0'
		case r == '＋':
			return '+'
		case r == '－':
			return '-'
		case r == 'Ｘ' || r == 'ｘ':
			return 'X'
		case r == '\u3000': // ideographic space
			return ' '
		}
		return r
	}, s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// NormalizePhone returns a mainland mobile number as 11 digits: 1, then 3–9,
// then 9 digits. It accepts a leading +86, 86 or 0086, spaces and hyphens
// anywhere, and full-width digits.
func NormalizePhone(s string) (string, error) {
	s = strings.TrimSpace(foldWidth(s))
	if s == "" {
		return "", problem.Field(FieldPhone, "phone_required")
	}
	var b [24]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '-':
			continue
		case isASCIIDigit(c) || c == '+' && n == 0:
			if n == len(b) {
				return "", problem.Field(FieldPhone, "phone_format")
			}
			b[n] = c
			n++
		default:
			return "", problem.Field(FieldPhone, "phone_format")
		}
	}
	d := string(b[:n])
	switch {
	case strings.HasPrefix(d, "+86"):
		d = d[3:]
	case strings.HasPrefix(d, "0086"):
		d = d[4:]
	case strings.HasPrefix(d, "86") && len(d) == 13:
		d = d[2:]
	}
	if len(d) != 11 || d[0] != '1' || d[1] < '3' || d[1] > '9' {
		return "", problem.Field(FieldPhone, "phone_format")
	}
	for i := 0; i < len(d); i++ {
		if !isASCIIDigit(d[i]) {
			return "", problem.Field(FieldPhone, "phone_format")
		}
	}
	return d, nil
}

// IDNumber is a parsed resident identity card number (居民身份证号码,
// GB 11643-1999). It holds personal data: its String and LogValue are
// masked, so it cannot be printed or logged in the clear by accident.
type IDNumber struct {
	Number string    // 18 characters, upper-case X
	Region string    // first 6 digits: the administrative division of first registration
	Birth  time.Time // date of birth at 00:00 UTC
	Male   bool      // the 17th digit is odd
}

func (n IDNumber) String() string { return MaskIDNumber(n.Number) }

// LogValue keeps the number masked in structured logs.
func (n IDNumber) LogValue() slog.Value { return slog.StringValue(MaskIDNumber(n.Number)) }

// idWeights are the GB 11643-1999 weights of the first 17 digits
// (2^(18-i) mod 11), and idCheckChars the check character for each sum mod 11.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheckChars = "10X98765432"

// idCheckDigit returns the check character of the first 17 digits of an ID
// number.
func idCheckDigit(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * idWeights[i]
	}
	return idCheckChars[sum%11]
}

// idNumberFormat normalises s (trimmed, full-width folded, x upper-cased) and
// returns the problem code of its format and check digit, or "".
func idNumberFormat(s string) (string, string) {
	s = strings.TrimSpace(foldWidth(s))
	if s == "" {
		return s, "id_number_required"
	}
	if len(s) != 18 {
		return s, "id_number_format"
	}
	for i := 0; i < 17; i++ {
		if !isASCIIDigit(s[i]) {
			return s, "id_number_format"
		}
	}
	switch last := s[17]; {
	case last == 'x':
		s = s[:17] + "X"
	case last != 'X' && !isASCIIDigit(last):
		return s, "id_number_format"
	}
	if idCheckDigit(s) != s[17] {
		return s, "id_number_checksum"
	}
	return s, ""
}

// provinces are the valid first two digits of an ID number: the provinces,
// autonomous regions and municipalities, 71 Taiwan, 81 Hong Kong, 82 Macao,
// 83 residence permits of Taiwan residents, 91 foreigners' permanent
// residence.
var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "81": true, "82": true, "83": true, "91": true,
}

// chinaTime is UTC+8, the zone in which a birth date "is not in the future".
var chinaTime = time.FixedZone("CST", 8*60*60)

// ParseIDNumber checks an 18-character resident identity card number the way
// GB 11643-1999 defines it: 17 digits and a check character (0–9 or X), the
// ISO 7064 MOD 11-2 check, a birth date that is a real calendar date between
// 1900-01-01 and today (in China, at now), and a known province code. The old
// 15-digit numbers are not accepted. Problem codes, checked in this order:
// id_number_required, id_number_format, id_number_checksum, id_number_region,
// id_number_birth.
func ParseIDNumber(s string, now time.Time) (IDNumber, error) {
	n, code := idNumberFormat(s)
	if code != "" {
		return IDNumber{}, problem.Field(FieldIDNumber, code)
	}
	if !provinces[n[:2]] {
		return IDNumber{}, problem.Field(FieldIDNumber, "id_number_region")
	}
	birth, ok := parseDate(n[6:14])
	if !ok {
		return IDNumber{}, problem.Field(FieldIDNumber, "id_number_birth")
	}
	y, m, d := now.In(chinaTime).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if birth.Year() < 1900 || birth.After(today) {
		return IDNumber{}, problem.Field(FieldIDNumber, "id_number_birth")
	}
	return IDNumber{
		Number: n,
		Region: n[:6],
		Birth:  birth,
		Male:   (n[16]-'0')%2 == 1,
	}, nil
}

// parseDate parses YYYYMMDD as a real calendar date at 00:00 UTC.
func parseDate(s string) (time.Time, bool) {
	num := func(s string) int {
		v := 0
		for i := 0; i < len(s); i++ {
			v = v*10 + int(s[i]-'0')
		}
		return v
	}
	y, m, d := num(s[:4]), num(s[4:6]), num(s[6:8])
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

// Real name rules.
const (
	RealNameMinLength = 2
	RealNameMaxLength = 30
)

// middleDots are the separators people type between the parts of a
// transliterated name (e.g. 阿沛·阿旺晋美); NormalizeRealName turns them all
// into U+00B7.
var middleDots = map[rune]bool{'·': true, '•': true, '・': true, '‧': true, '∙': true, '･': true, '．': true}

// NormalizeRealName trims a real name, turns every kind of middle dot into
// "·" and runs of spaces into one, and checks it with the rules of
// ValidateRealName.
func NormalizeRealName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", problem.Field(FieldRealName, "real_name_required")
	}
	if !utf8.ValidString(s) {
		return "", problem.Field(FieldRealName, "real_name_format")
	}
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case middleDots[r]:
			b.WriteRune('·')
		case unicode.IsSpace(r):
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		default:
			b.WriteRune(r)
		}
		space = false
	}
	n := b.String()
	if !realNameOK(n) {
		return "", problem.Field(FieldRealName, "real_name_format")
	}
	return n, nil
}

// ValidateRealName checks a real name as typed (after trimming): 2–30
// characters, either Chinese characters with optional middle dots between
// parts (张三, 阿沛·阿旺晋美), or Latin letters (accents allowed) with single
// spaces, hyphens or apostrophes between them (Zhang San, O'Neil, Jean-Luc).
// Codes: real_name_required, real_name_format.
func ValidateRealName(s string) error {
	_, err := NormalizeRealName(s)
	return err
}

// realNameOK applies the real-name rules to a normalised name.
func realNameOK(s string) bool {
	runes := []rune(s)
	if len(runes) < RealNameMinLength || len(runes) > RealNameMaxLength {
		return false
	}
	han := unicode.Is(unicode.Han, runes[0])
	for i, r := range runes {
		first, last := i == 0, i == len(runes)-1
		switch {
		case han && unicode.Is(unicode.Han, r):
		case !han && unicode.Is(unicode.Latin, r) && unicode.IsLetter(r):
		case han && r == '·', !han && (r == ' ' || r == '-' || r == '\''):
			// a separator: not first, not last, not twice in a row
			if first || last || !unicode.IsLetter(runes[i-1]) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// Email rules.
const EmailMaxLength = 254

// NormalizeEmail checks a bare e-mail address (no display name, no angle
// brackets) with net/mail and returns it with the domain lower-cased; the
// local part keeps its case, as RFC 5321 says it may matter. The domain must
// have at least two labels. Codes: email_required, email_format.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", problem.Field(FieldEmail, "email_required")
	}
	// Quoted local parts ("a,b"@x) and comments are legal but would be
	// stored unquoted as an address nobody can send to: refuse them.
	if len(s) > EmailMaxLength || strings.ContainsAny(s, "<>\r\n\"() ,;:\\[]") {
		return "", problem.Field(FieldEmail, "email_format")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" {
		return "", problem.Field(FieldEmail, "email_format")
	}
	at := strings.LastIndexByte(a.Address, '@')
	if at <= 0 || at > 64 {
		return "", problem.Field(FieldEmail, "email_format")
	}
	local, domain := a.Address[:at], strings.ToLower(a.Address[at+1:])
	if !domainOK(domain) {
		return "", problem.Field(FieldEmail, "email_format")
	}
	return local + "@" + domain, nil
}

// domainOK reports whether d is a host name of two or more labels, each of
// letters, digits and inner hyphens (internationalised labels allowed).
func domainOK(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 || len(d) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return false
			}
		}
	}
	return true
}
