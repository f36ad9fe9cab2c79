package cas

import (
	"strconv"

	"unid/internal/account"
	"unid/internal/store"
)

// Names a CAS client may list in its Scopes (store.Client.Scopes) to be
// given attributes in /cas/p3/serviceValidate. Each releases the attribute
// of the same name, except ScopeIDCard, which releases AttrName and
// AttrIDNumber, and only for users of real-name level 1 or more. Other
// names are ignored.
const (
	AttrLoginName     = "login_name"     // the login name as registered
	AttrRealnameLevel = "realname_level" // 0 not verified, 1 初级, 2 中级, 3 高级
	AttrACR           = "acr"            // urn:unid:acr:realname:<level>, as in OIDC
	AttrPhone         = "phone"          // mainland mobile number, 11 digits
	AttrEmail         = "email"          // when the user gave one
	ScopeIDCard       = "idcard"         // releases name and id_number

	AttrName     = "name"      // the real name (released through ScopeIDCard)
	AttrIDNumber = "id_number" // the ID number (released through ScopeIDCard)
)

// Scopes lists the names a CAS client's Scopes may hold. The client
// registry checks registrations against its own copy,
// client.CASAttributes (it cannot import this package); a test keeps the
// two the same.
var Scopes = []string{AttrLoginName, AttrRealnameLevel, AttrACR, AttrPhone, AttrEmail, ScopeIDCard}

// ACRPrefix is the prefix of the acr attribute; the level follows it.
const ACRPrefix = "urn:unid:acr:realname:"

// attribute is one released attribute. Value is a string, an int or a bool:
// XML writes each as text, JSON as its own type.
type attribute struct {
	Name  string
	Value any
}

// release returns the attributes of u that client c may receive, in the
// order of Scopes. Personal data is opened only when released.
func release(p *account.Protector, c store.Client, u store.User) ([]attribute, error) {
	allowed := make(map[string]bool, len(c.Scopes))
	for _, s := range c.Scopes {
		allowed[s] = true
	}
	var out []attribute
	open := func(name, kind string, sealed store.Sealed) error {
		v, err := p.Open(kind, sealed)
		if err != nil {
			return err
		}
		if v != "" {
			out = append(out, attribute{name, v})
		}
		return nil
	}
	if allowed[AttrLoginName] {
		out = append(out, attribute{AttrLoginName, u.LoginName})
	}
	if allowed[AttrRealnameLevel] {
		out = append(out, attribute{AttrRealnameLevel, u.RealnameLevel})
	}
	if allowed[AttrACR] {
		out = append(out, attribute{AttrACR, ACRPrefix + strconv.Itoa(u.RealnameLevel)})
	}
	if allowed[AttrPhone] {
		if err := open(AttrPhone, account.FieldPhone, u.Phone); err != nil {
			return nil, err
		}
	}
	if allowed[AttrEmail] {
		if err := open(AttrEmail, account.FieldEmail, u.Email); err != nil {
			return nil, err
		}
	}
	if allowed[ScopeIDCard] && u.RealnameLevel >= 1 {
		if err := open(AttrName, account.FieldRealName, u.RealName); err != nil {
			return nil, err
		}
		if err := open(AttrIDNumber, account.FieldIDNumber, u.IDNumber); err != nil {
			return nil, err
		}
	}
	return out, nil
}
