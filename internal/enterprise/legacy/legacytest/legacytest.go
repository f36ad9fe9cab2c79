// Package legacytest writes legacy enterprise account files for the tests
// and the benchmark of the import: valid credit codes, phones and names,
// and the legacy hash formats of older systems.
package legacytest

import (
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"unid/internal/enterprise"
	"unid/internal/enterprise/legacy"
)

// USCC returns a valid unified social credit code numbered i: registration
// authority 9 (工商), kind 1 (企业), division 370102 (济南市历下区), an
// organisation code from i, and the GB 32100 check character.
func USCC(i int) string {
	first := fmt.Sprintf("91370102%09d", i)
	c, _ := enterprise.USCCCheck(first)
	return first + string(c)
}

// BadUSCC is USCC(i) with a wrong check character.
func BadUSCC(i int) string {
	s := USCC(i)
	for _, c := range "0123456789" {
		if byte(c) != s[17] {
			return s[:17] + string(c)
		}
	}
	return s
}

// Phone returns a valid mobile number numbered i.
func Phone(i int) string { return fmt.Sprintf("139%08d", i) }

// Name returns a valid real name numbered i (two to three Chinese
// characters).
func Name(i int) string {
	const given = "一二三四五六七八九十"
	r := []rune(given)
	return "企" + string(r[i%10]) + string(r[(i/10)%10])
}

// Hash formats of the older systems, as they exported them.
const (
	MD5       = "md5"     // bare hex
	SHA1      = "sha1"    // bare hex
	SHA256    = "sha256"  // bare hex
	SSHA256   = "ssha256" // {SSHA256}base64(sha256(password+salt)+salt)
	Bcrypt    = "bcrypt"  // $2a$, cost 4
	PBKDF2    = "pbkdf2"  // $pbkdf2-sha256$i=1000$salt$hash
	Django    = "django"  // pbkdf2_sha256$1000$salt$hash
	SaltedMD5 = "smd5"    // {SMD5}
)

// Formats are every format Hash makes.
var Formats = []string{MD5, SHA1, SHA256, SSHA256, Bcrypt, PBKDF2, Django, SaltedMD5}

// Hash returns password hashed in format, as an older system stored it.
func Hash(format, password string) string {
	salt := []byte("legacy-salt")
	switch format {
	case MD5:
		s := md5.Sum([]byte(password))
		return hex.EncodeToString(s[:])
	case SHA1:
		s := sha1.Sum([]byte(password))
		return strings.ToUpper(hex.EncodeToString(s[:]))
	case SHA256:
		s := sha256.Sum256([]byte(password))
		return hex.EncodeToString(s[:])
	case SSHA256:
		s := sha256.Sum256(append([]byte(password), salt...))
		return "{SSHA256}" + base64.StdEncoding.EncodeToString(append(s[:], salt...))
	case SaltedMD5:
		s := md5.Sum(append([]byte(password), salt...))
		return "{SMD5}" + base64.StdEncoding.EncodeToString(append(s[:], salt...))
	case Bcrypt:
		h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
		if err != nil {
			panic(err)
		}
		return string(h)
	case PBKDF2:
		k, _ := pbkdf2.Key(sha256.New, password, salt, 1000, 32)
		return "$pbkdf2-sha256$i=1000$" + base64.RawStdEncoding.EncodeToString(salt) + "$" + base64.RawStdEncoding.EncodeToString(k)
	case Django:
		k, _ := pbkdf2.Key(sha256.New, password, salt, 1000, 32)
		return "pbkdf2_sha256$1000$" + string(salt) + "$" + base64.StdEncoding.EncodeToString(k)
	}
	panic("legacytest: unknown format " + format)
}

// Row is one line of a legacy file.
type Row struct {
	LoginName, PasswordHash, USCC, EnterpriseName, ContactName, ContactPhone string
}

// Account returns a valid row numbered i with password hashed in format.
func Account(i int, format, password string) Row {
	return Row{
		LoginName: fmt.Sprintf("ent%06d", i), PasswordHash: Hash(format, password), USCC: USCC(i),
		EnterpriseName: fmt.Sprintf("济南测试企业%d有限公司", i), ContactName: Name(i), ContactPhone: Phone(i),
	}
}

// Write writes the header and rows as CSV.
func Write(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	cw.Write(legacy.Columns)
	for _, r := range rows {
		cw.Write([]string{r.LoginName, r.PasswordHash, r.USCC, r.EnterpriseName, r.ContactName, r.ContactPhone})
	}
	cw.Flush()
	return cw.Error()
}

// Generate writes a file of n valid rows, the hashes cycling through the
// cheap formats (MD5, SHA-1, SHA-256, salted SHA-256; bcrypt and PBKDF2
// would measure hashing, not the import, which copies hashes anyway):
// what the benchmark imports.
func Generate(w io.Writer, n int) error {
	cheap := []string{MD5, SHA1, SHA256, SSHA256}
	hashes := make([]string, len(cheap))
	for i, f := range cheap {
		hashes[i] = Hash(f, "Legacy#Pass2019")
	}
	cw := csv.NewWriter(w)
	cw.Write(legacy.Columns)
	for i := range n {
		cw.Write([]string{fmt.Sprintf("ent%06d", i), hashes[i%len(hashes)], USCC(i),
			fmt.Sprintf("济南测试企业%d有限公司", i), Name(i), Phone(i)})
	}
	cw.Flush()
	return cw.Error()
}
