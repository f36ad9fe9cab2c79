package api

import (
	"time"

	"unid/internal/account"
	"unid/internal/store"
)

// Profile is what the API shows of an account: personal data masked, never
// the hash or the ciphertexts.
type Profile struct {
	ID            string    `json:"id"`
	LoginName     string    `json:"login_name"`
	Phone         string    `json:"phone,omitempty"`
	IDNumber      string    `json:"id_number,omitempty"`
	RealName      string    `json:"real_name,omitempty"`
	Email         string    `json:"email,omitempty"`
	RealnameLevel int       `json:"realname_level"`
	CreatedAt     time.Time `json:"created_at"`
}

// NewProfile decrypts u's personal data and masks it.
func NewProfile(p *account.Protector, u store.User) (Profile, error) {
	out := Profile{ID: u.ID, LoginName: u.LoginName, RealnameLevel: u.RealnameLevel, CreatedAt: u.CreatedAt}
	for _, f := range []struct {
		kind   string
		sealed store.Sealed
		mask   func(string) string
		dst    *string
	}{
		{"phone", u.Phone, account.MaskPhone, &out.Phone},
		{"id_number", u.IDNumber, account.MaskIDNumber, &out.IDNumber},
		{"real_name", u.RealName, account.MaskName, &out.RealName},
		{"email", u.Email, account.MaskEmail, &out.Email},
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
