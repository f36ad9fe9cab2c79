package claims_test

import (
	"strings"
	"testing"

	"unid/internal/claims"
	"unid/internal/store"
)

func TestACR(t *testing.T) {
	for level := 0; level <= claims.MaxLevel; level++ {
		got, ok := claims.ParseACR(claims.ACR(level))
		if !ok || got != level {
			t.Errorf("ParseACR(ACR(%d)) = %d, %v", level, got, ok)
		}
	}
	if got := strings.Join(claims.ACRValues(), " "); got != "urn:unid:acr:realname:0 urn:unid:acr:realname:1 urn:unid:acr:realname:2 urn:unid:acr:realname:3" {
		t.Errorf("ACRValues = %s", got)
	}
	for _, v := range []string{"", "urn:unid:acr:realname:", "urn:unid:acr:realname:4", "urn:unid:acr:realname:-1",
		"urn:unid:acr:realname:10", "urn:unid:acr:realname:1 ", "URN:UNID:ACR:REALNAME:1", "urn:other:1", "0"} {
		if level, ok := claims.ParseACR(v); ok {
			t.Errorf("ParseACR(%q) = %d, want not unid's", v, level)
		}
	}
}

func TestRequiredLevel(t *testing.T) {
	tests := []struct {
		acrValues string
		want      int
	}{
		{"", 0},
		{"urn:unid:acr:realname:2", 2},
		{"urn:unid:acr:realname:2 urn:unid:acr:realname:3", 2}, // any of them will do: the lowest
		{"urn:unid:acr:realname:3 urn:unid:acr:realname:1", 1},
		{"urn:other urn:unid:acr:realname:3", 3}, // not unid's: ignored
		{"urn:unid:acr:realname:0 urn:other", 0},
		{"urn:other urn:unid:acr:realname:9", 0},
	}
	for _, tt := range tests {
		if got := claims.RequiredLevel(strings.Fields(tt.acrValues)); got != tt.want {
			t.Errorf("RequiredLevel(%s) = %d, want %d", tt.acrValues, got, tt.want)
		}
	}
}

func TestRequired(t *testing.T) {
	tests := []struct {
		name               string
		minimum, requested int
		want               int
	}{
		{"nothing asked", 0, 0, 0},
		{"acr_values only", 0, 2, 2},
		{"registered minimum only (CAS, or no acr_values)", 2, 0, 2},
		{"acr_values above the minimum", 1, 3, 3},
		{"minimum above acr_values: a request cannot lower it", 3, 1, 3},
		{"a minimum out of range is read within 0…3", 9, 0, 3},
	}
	for _, tt := range tests {
		if got := claims.Required(store.Client{MinRealnameLevel: tt.minimum}, tt.requested); got != tt.want {
			t.Errorf("%s: Required(minimum %d, requested %d) = %d, want %d", tt.name, tt.minimum, tt.requested, got, tt.want)
		}
	}
}

func TestLevels(t *testing.T) {
	tests := []struct {
		level, required     int
		verified, satisfies bool
	}{
		{0, 0, false, true},
		{0, 1, false, false},
		{1, 0, true, true},
		{1, 2, true, false},
		{2, 2, true, true},
		{3, 2, true, true},
		{3, 3, true, true},
	}
	for _, tt := range tests {
		if got := claims.Verified(tt.level); got != tt.verified {
			t.Errorf("Verified(%d) = %v", tt.level, got)
		}
		if got := claims.Satisfies(tt.level, tt.required); got != tt.satisfies {
			t.Errorf("Satisfies(%d, %d) = %v", tt.level, tt.required, got)
		}
	}
	for in, want := range map[int]int{-1: 0, 0: 0, 2: 2, 3: 3, 7: 3} {
		if got := claims.ClampLevel(in); got != want {
			t.Errorf("ClampLevel(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestGrant(t *testing.T) {
	tests := []struct {
		name       string
		requested  string
		registered string
		level      int
		requestedW string // Requested
		grantW     string // Grant
	}{
		{"everything registered, verified", "openid profile phone email idcard offline_access", "openid profile phone email idcard offline_access", 1,
			"openid profile phone email idcard offline_access", "openid profile phone email idcard offline_access"},
		{"idcard dropped for an unverified user", "openid idcard phone", "openid phone idcard", 0, "openid idcard phone", "openid phone"},
		{"minimum necessary: only what is registered", "openid profile phone email idcard", "openid profile", 3, "openid profile", "openid profile"},
		{"openid kept even when not registered", "profile openid", "profile", 0, "profile openid", "profile openid"},
		{"duplicates and unknown scopes dropped", "openid openid address unid.admin profile", "openid profile unid.admin", 0, "openid profile", "openid profile"},
		{"nothing", "", "openid", 3, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := store.Client{Scopes: strings.Fields(tt.registered)}
			if got := strings.Join(claims.Requested(strings.Fields(tt.requested), c), " "); got != tt.requestedW {
				t.Errorf("Requested = %q, want %q", got, tt.requestedW)
			}
			if got := strings.Join(claims.Grant(strings.Fields(tt.requested), c, tt.level), " "); got != tt.grantW {
				t.Errorf("Grant = %q, want %q", got, tt.grantW)
			}
		})
	}
}

func TestForClient(t *testing.T) {
	c := store.Client{Type: store.ClientOIDCConfidential, Scopes: []string{"openid", "unid.admin", "profile", "unid.admin"}}
	tests := []struct{ requested, want string }{
		{"", "unid.admin"}, // none asked for: all that are not about a user
		{"unid.admin", "unid.admin"},
		{"unid.admin unid.admin", "unid.admin"},
		{"openid profile", ""}, // user scopes never go to a client alone
		{"other", ""},
	}
	for _, tt := range tests {
		if got := strings.Join(claims.ForClient(strings.Fields(tt.requested), c), " "); got != tt.want {
			t.Errorf("ForClient(%q) = %q, want %q", tt.requested, got, tt.want)
		}
	}
}

func TestVocabulary(t *testing.T) {
	if got := strings.Join(claims.UserScopes(), " "); got != "openid profile phone email idcard enterprise offline_access "+
		"records.cases:read records.consultations:read records.messages:read records.complaints:read records.favorites:read" {
		t.Errorf("UserScopes = %s (the consent page's order)", got)
	}
	if got := strings.Join(claims.ClientOnlyScopes(), " "); got != "unid.admin records.cases:write records.consultations:write "+
		"records.messages:write records.complaints:write records.favorites:write" {
		t.Errorf("ClientOnlyScopes = %s", got)
	}
	if got := strings.Join(claims.CASAttributes(), " "); got != "login_name realname_level acr phone email idcard enterprise" {
		t.Errorf("CASAttributes = %s", got)
	}
	for _, c := range []string{"sub", "acr", "amr", "name", "phone_number", "email", "id_number", "realname_level", "enterprise"} {
		if !strings.Contains(" "+strings.Join(claims.ClaimsSupported(), " ")+" ", " "+c+" ") {
			t.Errorf("ClaimsSupported lacks %s", c)
		}
	}
	// The lists are copies: a caller cannot change the vocabulary.
	claims.UserScopes()[0] = "changed"
	claims.CASAttributes()[0] = "changed"
	if claims.UserScopes()[0] != "openid" || claims.CASAttributes()[0] != "login_name" {
		t.Error("changing a returned list changed the vocabulary")
	}
}

func TestRegistrable(t *testing.T) {
	conf, pub, cas := store.ClientOIDCConfidential, store.ClientOIDCPublic, store.ClientCAS
	tests := []struct {
		clientType, name string
		want             bool
	}{
		{conf, "openid", true},
		{conf, "idcard", true},
		{conf, "offline_access", true},
		{conf, "unid.admin", true},
		{pub, "profile", true},
		{pub, "unid.admin", false}, // only a confidential client may be an operator tool
		{conf, "login_name", false},
		{conf, "admin", false},
		{cas, "login_name", true},
		{cas, "realname_level", true},
		{cas, "acr", true},
		{cas, "idcard", true},
		{cas, "name", false}, // released through idcard, not registered alone
		{cas, "id_number", false},
		{cas, "openid", false},
		{cas, "unid.admin", false},
		{conf, "records.cases:write", true},
		{pub, "records.cases:write", false}, // a public client has no credentials to write with
		{cas, "records.cases:write", false},
		{pub, "records.cases:read", true},
		{"saml", "openid", false},
	}
	for _, tt := range tests {
		if got := claims.Registrable(tt.clientType, tt.name); got != tt.want {
			t.Errorf("Registrable(%s, %s) = %v, want %v", tt.clientType, tt.name, got, tt.want)
		}
	}
	for _, s := range claims.UserScopes() {
		if !claims.Registrable(conf, s) || !claims.Registrable(pub, s) {
			t.Errorf("user scope %s is not registrable for OpenID Connect clients", s)
		}
	}
	for _, a := range claims.CASAttributes() {
		if !claims.Registrable(cas, a) {
			t.Errorf("CAS attribute %s is not registrable for CAS services", a)
		}
	}
}
