package claims_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"unid/internal/account"
	"unid/internal/claims"
	"unid/internal/store"
)

// The opener claims is given in production.
var _ claims.Opener = (*account.Protector)(nil).Open

// sealed stands for a sealed value; opener "opens" it and records what it
// opened, so a test can see that only released data is opened.
func sealed(v string) store.Sealed {
	if v == "" {
		return store.Sealed{}
	}
	return store.Sealed{Cipher: []byte("sealed:" + v)}
}

type opener struct{ opened []string }

func (o *opener) open(kind string, s store.Sealed) (string, error) {
	if s.Empty() {
		return "", nil
	}
	o.opened = append(o.opened, kind)
	return strings.TrimPrefix(string(s.Cipher), "sealed:"), nil
}

// Users of real-name level 0, 1 and 3. li_si never gave an email, and has
// no verified name or ID number.
var (
	level0 = store.User{ID: "u0", LoginName: "li_si", Phone: sealed("13900000000")}
	level1 = store.User{ID: "u1", LoginName: "zhang_san", Phone: sealed("13812345678"), Email: sealed("zs@example.com"),
		IDNumber: sealed("370102199001011234"), RealName: sealed("张三"), RealnameLevel: 1}
	level3 = store.User{ID: "u3", LoginName: "wang_wu", Phone: sealed("13700000000"),
		IDNumber: sealed("370102198001011234"), RealName: sealed("王五"), RealnameLevel: 3}
)

// Registrations.
var (
	hall    = store.Client{ID: "hall", Type: store.ClientOIDCConfidential, Scopes: []string{"openid", "profile", "phone", "email", "idcard", "offline_access"}}
	narrow  = store.Client{ID: "narrow", Type: store.ClientOIDCPublic, Scopes: []string{"openid", "profile"}}
	archive = store.Client{ID: "archive", Type: store.ClientCAS, Scopes: []string{"login_name", "realname_level", "acr", "phone", "email", "idcard"}}
	// registered out of order: CAS releases in the vocabulary's order
	records = store.Client{ID: "records", Type: store.ClientCAS, Scopes: []string{"idcard", "acr", "openid"}}
)

// format writes claims as name=value (Go syntax for the value), so a want
// states the types too: "realname_level=1" is an int, `name="张三"` a string.
func format(cs []claims.Claim) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s=%#v", c.Name, c.Value)
	}
	return strings.Join(parts, " ")
}

var all = []string{"openid", "profile", "phone", "email", "idcard", "offline_access"}

func TestRelease(t *testing.T) {
	tests := []struct {
		name   string
		form   claims.Form
		user   store.User
		client store.Client
		scopes []string
		want   string
	}{
		// OIDC userinfo
		{"userinfo level 0, every scope", claims.UserInfo, level0, hall, all,
			`preferred_username="li_si" nickname="li_si" phone_number="+8613900000000" phone_number_verified=true realname_level=0 acr="urn:unid:acr:realname:0"`},
		{"userinfo level 1, every scope", claims.UserInfo, level1, hall, all,
			`preferred_username="zhang_san" nickname="zhang_san" name="张三" phone_number="+8613812345678" phone_number_verified=true email="zs@example.com" email_verified=true id_number="370102199001011234" realname_level=1 acr="urn:unid:acr:realname:1"`},
		{"userinfo level 3, every scope", claims.UserInfo, level3, hall, all,
			`preferred_username="wang_wu" nickname="wang_wu" name="王五" phone_number="+8613700000000" phone_number_verified=true id_number="370102198001011234" realname_level=3 acr="urn:unid:acr:realname:3"`},
		{"userinfo openid alone", claims.UserInfo, level3, hall, []string{"openid"}, `realname_level=3 acr="urn:unid:acr:realname:3"`},
		{"userinfo profile: the name only when verified", claims.UserInfo, level0, hall, []string{"openid", "profile"},
			`preferred_username="li_si" nickname="li_si" realname_level=0 acr="urn:unid:acr:realname:0"`},
		{"userinfo idcard without profile gives the name", claims.UserInfo, level1, hall, []string{"openid", "idcard"},
			`name="张三" id_number="370102199001011234" realname_level=1 acr="urn:unid:acr:realname:1"`},
		{"userinfo idcard for an unverified user gives nothing", claims.UserInfo, level0, hall, []string{"openid", "idcard"}, `realname_level=0 acr="urn:unid:acr:realname:0"`},
		{"userinfo: scopes the client is not registered for are not released", claims.UserInfo, level3, narrow, all,
			`preferred_username="wang_wu" nickname="wang_wu" name="王五" realname_level=3 acr="urn:unid:acr:realname:3"`},
		{"userinfo: unknown scopes are ignored", claims.UserInfo, level1, hall, []string{"openid", "unid.admin", "address"}, `realname_level=1 acr="urn:unid:acr:realname:1"`},
		{"userinfo: no email given, none released", claims.UserInfo, level3, hall, []string{"openid", "email"}, `realname_level=3 acr="urn:unid:acr:realname:3"`},

		// OIDC ID token
		{"id token level 0", claims.IDToken, level0, hall, all, `acr="urn:unid:acr:realname:0" realname_level=0`},
		{"id token level 3", claims.IDToken, level3, narrow, nil, `acr="urn:unid:acr:realname:3" realname_level=3`},

		// CAS: what the service registered; requested scopes do not matter
		{"cas level 0, every attribute", claims.CAS, level0, archive, nil,
			`login_name="li_si" realname_level=0 acr="urn:unid:acr:realname:0" phone="13900000000"`},
		{"cas level 1, every attribute", claims.CAS, level1, archive, nil,
			`login_name="zhang_san" realname_level=1 acr="urn:unid:acr:realname:1" phone="13812345678" email="zs@example.com" name="张三" id_number="370102199001011234"`},
		{"cas level 3, every attribute", claims.CAS, level3, archive, []string{"openid"},
			`login_name="wang_wu" realname_level=3 acr="urn:unid:acr:realname:3" phone="13700000000" name="王五" id_number="370102198001011234"`},
		{"cas: the vocabulary's order, not the registration's", claims.CAS, level1, records, nil,
			`acr="urn:unid:acr:realname:1" name="张三" id_number="370102199001011234"`},
		{"cas idcard for an unverified user gives nothing", claims.CAS, level0, records, nil, `acr="urn:unid:acr:realname:0"`},
		{"cas nothing registered", claims.CAS, level3, store.Client{Type: store.ClientCAS}, all, ``},
	}
	tests = append(tests, enterpriseCases...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &opener{}
			var acting *claims.Enterprise
			if strings.Contains(tt.name, "acting") {
				acting = &claims.Enterprise{USCC: "91350100M000100Y43", Name: "福州示例科技有限公司", Role: "handler", Labels: []string{"财务", "人事"}}
			}
			got, err := claims.Release(claims.Request{Form: tt.form, User: tt.user, Client: tt.client, Scopes: tt.scopes, Open: o.open, Enterprise: acting})
			if err != nil {
				t.Fatal(err)
			}
			if format(got) != tt.want {
				t.Errorf("released\n %s\nwant\n %s", format(got), tt.want)
			}
			// Only what is released is opened (the real name at most twice
			// over, for profile and idcard).
			for _, kind := range o.opened {
				released := map[string][]string{
					account.FieldPhone: {"phone", "phone_number"}, account.FieldEmail: {"email"},
					account.FieldIDNumber: {"id_number"}, account.FieldRealName: {"name"},
				}[kind]
				if !slices.ContainsFunc(got, func(c claims.Claim) bool { return slices.Contains(released, c.Name) }) {
					t.Errorf("opened the %s of the user without releasing it", kind)
				}
			}
		})
	}
}

func TestReleaseFailsWhenDataCannotBeOpened(t *testing.T) {
	broken := errors.New("key version 9 unknown")
	open := func(string, store.Sealed) (string, error) { return "", broken }
	for _, form := range []claims.Form{claims.UserInfo, claims.CAS} {
		got, err := claims.Release(claims.Request{Form: form, User: level1, Client: map[claims.Form]store.Client{claims.UserInfo: hall, claims.CAS: archive}[form], Scopes: all, Open: open})
		if !errors.Is(err, broken) || got != nil {
			t.Errorf("form %d: %v, %v; want the error and nothing released", form, format(got), err)
		}
	}
	if _, err := claims.Release(claims.Request{Form: claims.CAS, User: level1, Client: archive}); err == nil {
		t.Error("released personal data without an opener")
	}
	if _, err := claims.Release(claims.Request{Form: 0, User: level1, Client: hall}); err == nil {
		t.Error("released in an unknown form")
	}
}

// The enterprise a user acts for: released only through the scope (or the
// CAS attribute name) enterprise, only when the sign-in acts for one.
var (
	entHall = store.Client{ID: "ehall", Type: store.ClientOIDCConfidential, Scopes: []string{"openid", "enterprise"}}
	entCAS  = store.Client{ID: "ecas", Type: store.ClientCAS, Scopes: []string{"acr", "enterprise"}}

	entObject = `enterprise=map[string]interface {}{"labels":[]string{"财务", "人事"}, "name":"福州示例科技有限公司", "role":"handler", "uscc":"91350100M000100Y43"}`

	enterpriseCases = []struct {
		name   string
		form   claims.Form
		user   store.User
		client store.Client
		scopes []string
		want   string
	}{
		{"userinfo acting, scope enterprise", claims.UserInfo, level1, entHall, []string{"openid", "enterprise"},
			`realname_level=1 acr="urn:unid:acr:realname:1" ` + entObject},
		{"userinfo as the person, scope enterprise", claims.UserInfo, level1, entHall, []string{"openid", "enterprise"},
			`realname_level=1 acr="urn:unid:acr:realname:1"`},
		{"userinfo acting, scope not granted", claims.UserInfo, level1, entHall, []string{"openid"},
			`realname_level=1 acr="urn:unid:acr:realname:1"`},
		{"userinfo acting, client not registered for enterprise", claims.UserInfo, level1, hall, []string{"openid", "enterprise"},
			`realname_level=1 acr="urn:unid:acr:realname:1"`},
		{"id token acting", claims.IDToken, level1, entHall, []string{"openid", "enterprise"},
			`acr="urn:unid:acr:realname:1" realname_level=1 ` + entObject},
		{"id token acting, scope not granted", claims.IDToken, level1, entHall, []string{"openid"},
			`acr="urn:unid:acr:realname:1" realname_level=1`},
		{"cas acting", claims.CAS, level1, entCAS, nil,
			`acr="urn:unid:acr:realname:1" enterprise_uscc="91350100M000100Y43" enterprise_name="福州示例科技有限公司" enterprise_role="handler" enterprise_labels="财务" enterprise_labels="人事"`},
		{"cas as the person", claims.CAS, level1, entCAS, nil, `acr="urn:unid:acr:realname:1"`},
		{"cas acting, not registered for enterprise", claims.CAS, level1, archive, nil,
			`login_name="zhang_san" realname_level=1 acr="urn:unid:acr:realname:1" phone="13812345678" email="zs@example.com" name="张三" id_number="370102199001011234"`},
	}
)
