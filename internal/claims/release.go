package claims

import (
	"fmt"
	"slices"

	"unid/internal/account"
	"unid/internal/store"
)

// Claim is one released claim or attribute. Value is a string, an int or
// a bool (the enterprise claim of OpenID Connect: an object); each
// protocol writes it in its own way. A CAS attribute with several values
// (enterprise_labels) comes as several claims of the same name.
type Claim struct {
	Name  string
	Value any
}

// Opener opens a sealed personal-data value of a kind (account.Field*):
// account.Protector.Open.
type Opener func(kind string, s store.Sealed) (string, error)

// Form is where released claims go, which decides their names and shapes.
type Form int

const (
	// UserInfo is the OpenID Connect userinfo response (without sub).
	UserInfo Form = iota + 1
	// IDToken is what an OpenID Connect ID token carries besides the
	// protocol's claims: the acr (which the access token carries too) and
	// the real-name level.
	IDToken
	// CAS is the attributes of CAS 3.0 (/cas/p3/serviceValidate) besides
	// the protocol's own.
	CAS
)

// Request is what a release depends on.
type Request struct {
	Form Form
	User store.User
	// Client is the client released to; its Scopes are what it is
	// registered for, and nothing else is ever released.
	Client store.Client
	// Scopes are the scopes the user granted (UserInfo, IDToken). CAS has
	// none: a service receives what it registered.
	Scopes []string
	// Open opens personal data; only what is released is opened.
	Open Opener
	// Enterprise is the enterprise the user acts for in this sign-in, as
	// re-read when the tokens are made; nil when acting as the person.
	Enterprise *Enterprise
}

// Enterprise is what a client learns of the enterprise a user acts for:
// its unified social credit code and name, the user's role in it and the
// permission labels the role carries.
type Enterprise struct {
	USCC   string
	Name   string
	Role   string
	Labels []string
}

// object is the enterprise claim of OpenID Connect.
func (e *Enterprise) object() map[string]any {
	labels := e.Labels
	if labels == nil {
		labels = []string{}
	}
	return map[string]any{"uscc": e.USCC, "name": e.Name, "role": e.Role, "labels": slices.Clone(labels)}
}

// Release returns what r.Client receives about r.User in r.Form, in a
// stable order (for CAS, the order of CASAttributes). A value the user
// never gave is left out.
func Release(r Request) ([]Claim, error) {
	rel := releaser{r: r}
	u := r.User
	verified := Verified(u.RealnameLevel)
	switch r.Form {
	case UserInfo:
		scopes := Grant(r.Scopes, r.Client, u.RealnameLevel)
		has := func(s string) bool { return slices.Contains(scopes, s) }
		if has(ScopeProfile) {
			rel.add(ClaimPreferredUsername, u.LoginName)
			rel.add(ClaimNickname, u.LoginName)
		}
		if (has(ScopeProfile) || has(ScopeIDCard)) && verified {
			rel.sealed(ClaimName, account.FieldRealName, u.RealName)
		}
		if has(ScopePhone) {
			if phone := rel.open(account.FieldPhone, u.Phone); phone != "" {
				rel.add(ClaimPhoneNumber, "+86"+phone)  // E.164; unid's numbers are mainland mobiles
				rel.add(ClaimPhoneNumberVerified, true) // proven by SMS code at registration
			}
		}
		if has(ScopeEmail) {
			if email := rel.open(account.FieldEmail, u.Email); email != "" {
				rel.add(ClaimEmail, email)
				rel.add(ClaimEmailVerified, true) // only an address proven by a mailed code is ever stored (account.Service.SetEmail)
			}
		}
		if has(ScopeIDCard) && verified {
			rel.sealed(ClaimIDNumber, account.FieldIDNumber, u.IDNumber)
		}
		rel.add(ClaimRealnameLevel, u.RealnameLevel)
		rel.add(ClaimACR, ACR(u.RealnameLevel))
		if has(ScopeEnterprise) && r.Enterprise != nil {
			rel.add(ClaimEnterprise, r.Enterprise.object())
		}
	case IDToken:
		rel.add(ClaimACR, ACR(u.RealnameLevel))
		rel.add(ClaimRealnameLevel, u.RealnameLevel)
		if r.Enterprise != nil && slices.Contains(Grant(r.Scopes, r.Client, u.RealnameLevel), ScopeEnterprise) {
			rel.add(ClaimEnterprise, r.Enterprise.object())
		}
	case CAS:
		registered := func(s string) bool { return slices.Contains(r.Client.Scopes, s) }
		for _, name := range casAttributes {
			if !registered(name) {
				continue
			}
			switch name {
			case AttrLoginName:
				rel.add(AttrLoginName, u.LoginName)
			case AttrRealnameLevel:
				rel.add(AttrRealnameLevel, u.RealnameLevel)
			case AttrACR:
				rel.add(AttrACR, ACR(u.RealnameLevel))
			case AttrPhone:
				rel.sealed(AttrPhone, account.FieldPhone, u.Phone)
			case AttrEmail:
				rel.sealed(AttrEmail, account.FieldEmail, u.Email)
			case ScopeIDCard:
				if verified {
					rel.sealed(AttrName, account.FieldRealName, u.RealName)
					rel.sealed(AttrIDNumber, account.FieldIDNumber, u.IDNumber)
				}
			case ScopeEnterprise:
				if e := r.Enterprise; e != nil {
					rel.add(AttrEnterpriseUSCC, e.USCC)
					rel.add(AttrEnterpriseName, e.Name)
					rel.add(AttrEnterpriseRole, e.Role)
					for _, l := range e.Labels {
						rel.add(AttrEnterpriseLabels, l)
					}
				}
			}
		}
	default:
		return nil, fmt.Errorf("claims: unknown form %d", r.Form)
	}
	if rel.err != nil {
		return nil, rel.err
	}
	return rel.out, nil
}

// releaser collects claims and the first error of opening one.
type releaser struct {
	r   Request
	out []Claim
	err error
}

func (rel *releaser) add(name string, v any) { rel.out = append(rel.out, Claim{name, v}) }

// sealed adds the claim name with the opened value of s, unless it is
// empty.
func (rel *releaser) sealed(name, kind string, s store.Sealed) {
	if v := rel.open(kind, s); v != "" {
		rel.add(name, v)
	}
}

// open returns the opened value of s, or "" after the first error.
func (rel *releaser) open(kind string, s store.Sealed) string {
	if rel.err != nil {
		return ""
	}
	if rel.r.Open == nil {
		rel.err = fmt.Errorf("claims: no opener for the %s of a user", kind)
		return ""
	}
	v, err := rel.r.Open(kind, s)
	if err != nil {
		rel.err = fmt.Errorf("claims: open %s of a user: %w", kind, err)
		return ""
	}
	return v
}
