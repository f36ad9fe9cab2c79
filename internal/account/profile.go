package account

import (
	"time"

	"unid/internal/store"
)

// Profile is what the JSON API (GET /api/v1/me) and the pages show of an
// account: personal data masked, never the hash or the ciphertexts. An
// empty string means not set.
type Profile struct {
	ID            string `json:"id"`
	LoginName     string `json:"login_name"`
	Phone         string `json:"phone,omitempty"`
	IDNumber      string `json:"id_number,omitempty"`
	RealName      string `json:"real_name,omitempty"`
	Email         string `json:"email,omitempty"`
	Nickname      string `json:"nickname,omitempty"` // as the owner set it, not masked
	WorkUnit      string `json:"work_unit,omitempty"`
	RealnameLevel int    `json:"realname_level"` // 0 not verified, 1 primary, 2 intermediate, 3 advanced
	// HasPassword is false for an account made through a provider outside
	// unid without a password: its password page sets a first one.
	HasPassword bool      `json:"has_password"`
	CreatedAt   time.Time `json:"created_at"`
}

// plain shows what the owner wrote about themselves (nickname, work unit)
// as it is: it identifies nobody by itself, and the owner needs it to edit.
func plain(s string) string { return s }

// NewProfile decrypts u's personal data and masks it.
func NewProfile(p *Protector, u store.User) (Profile, error) {
	out := Profile{ID: u.ID, LoginName: u.LoginName, RealnameLevel: u.RealnameLevel, HasPassword: u.PasswordHash != "", CreatedAt: u.CreatedAt}
	for _, f := range []struct {
		kind   string
		sealed store.Sealed
		mask   func(string) string
		dst    *string
	}{
		{FieldPhone, u.Phone, MaskPhone, &out.Phone},
		{FieldIDNumber, u.IDNumber, MaskIDNumber, &out.IDNumber},
		{FieldRealName, u.RealName, MaskName, &out.RealName},
		{FieldEmail, u.Email, MaskEmail, &out.Email},
		{FieldNickname, u.Nickname, plain, &out.Nickname},
		{FieldWorkUnit, u.WorkUnit, plain, &out.WorkUnit},
	} {
		if f.sealed.Empty() {
			continue
		}
		v, err := p.Open(f.kind, f.sealed)
		if err != nil {
			return Profile{}, err
		}
		*f.dst = f.mask(v)
	}
	return out, nil
}
