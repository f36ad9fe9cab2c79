package account

import (
	"fmt"
	"strings"
	"time"

	"unid/internal/problem"
	"unid/internal/store"
)

// ActionImported is the audit action of an account brought over from an
// older system (unid import).
const ActionImported = "account.imported"

// LegacyHash checks a password hash exported from an older system and
// returns it as Verify reads it, or an error wrapping ErrHashFormat. The
// hash is copied, never recomputed: the password it stands for keeps
// working and is rehashed to argon2id at its first successful sign-in.
// Every format Verify lists is taken as it is; a bare hexadecimal digest,
// which is how most old systems stored unsalted MD5, SHA-1, SHA-256 and
// SHA-512, gets the {MD5}, {SHA}, {SHA256} or {SHA512} prefix by its
// length.
func LegacyHash(s string) (string, error) {
	s = strings.TrimSpace(s)
	if isHex(s) {
		switch len(s) {
		case 32:
			s = "{MD5}" + s
		case 40:
			s = "{SHA}" + s
		case 64:
			s = "{SHA256}" + s
		case 128:
			s = "{SHA512}" + s
		}
	}
	if _, err := parseHash(s); err != nil {
		return "", err
	}
	return s, nil
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !isASCIIDigit(c) && !('a' <= c && c <= 'f') && !('A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// LegacyAccount is an account of an older system to bring over, as its
// export gives it.
type LegacyAccount struct {
	LoginName    string
	PasswordHash string // one of the formats LegacyHash takes
	Phone        string
	RealName     string // stored unverified (real-name level 0), without an ID number
}

// PrepareImport checks and normalises la and returns the account to store
// for it: a new ID, the legacy hash as LegacyHash gives it, the phone and
// real name sealed, created at now. It writes nothing; the importer stores
// a batch of them with their audit events (store.Imports). Every broken
// rule is reported at once (problem.Invalid), the hash under the field
// "password_hash" with the code password_hash_format.
func (s *Service) PrepareImport(la LegacyAccount, now time.Time) (store.User, error) {
	f := problem.FieldSet{}
	v := NewAccount{LoginName: strings.TrimSpace(la.LoginName)}
	f.Add(FieldLoginName, ValidateLoginName(v.LoginName))
	hash, err := LegacyHash(la.PasswordHash)
	if err != nil {
		f.Add("password_hash", problem.Field("password_hash", "password_hash_format"))
	}
	phone, err := NormalizePhone(la.Phone)
	f.Add(FieldPhone, err)
	name, err := NormalizeRealName(la.RealName)
	f.Add(FieldRealName, err)
	if err := f.Err(); err != nil {
		return store.User{}, err
	}
	u := store.User{
		ID: NewUserID(), LoginName: v.LoginName, LoginNameKey: LoginNameKey(v.LoginName),
		PasswordHash: hash, Status: store.UserActive,
	}
	if u.Phone, err = s.prot.Seal(FieldPhone, phone); err != nil {
		return store.User{}, problem.Wrap(fmt.Errorf("account: prepare import: %w", err))
	}
	if u.RealName, err = s.prot.Seal(FieldRealName, name); err != nil {
		return store.User{}, problem.Wrap(fmt.Errorf("account: prepare import: %w", err))
	}
	u.RealName.Index = nil // names are not unique and are never looked up
	u.CreatedAt = now.UTC().Truncate(time.Millisecond)
	u.UpdatedAt = u.CreatedAt
	return u, nil
}
