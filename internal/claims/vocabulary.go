package claims

import (
	"slices"

	"unid/internal/store"
)

// Scopes of OpenID Connect.
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopePhone         = "phone"
	ScopeEmail         = "email"
	ScopeIDCard        = "idcard" // ID number and real name; also a CAS attribute name
	ScopeOfflineAccess = "offline_access"
	// ScopeEnterprise asks for the enterprise the user acts for (法人账号
	//切换); also the CAS attribute name that releases the enterprise_*
	// attributes.
	ScopeEnterprise = "enterprise"
	ScopeAdmin      = "unid.admin" // client-only: admits a confidential client to the operator API
)

// Attributes of CAS: the names a CAS service registers (with ScopeIDCard)
// and the names of what it is given.
const (
	AttrLoginName     = "login_name"     // the login name as registered
	AttrRealnameLevel = "realname_level" // 0 not verified, 1 初级, 2 中级, 3 高级
	AttrACR           = "acr"            // urn:unid:acr:realname:<level>, as in OIDC
	AttrPhone         = "phone"          // mainland mobile number, 11 digits
	AttrEmail         = "email"          // when the user gave one
	AttrName          = "name"           // the real name (released through ScopeIDCard)
	AttrIDNumber      = "id_number"      // the ID number (released through ScopeIDCard)
	// The enterprise the user acts for, released through ScopeEnterprise;
	// the labels are one attribute value each.
	AttrEnterpriseUSCC   = "enterprise_uscc"
	AttrEnterpriseName   = "enterprise_name"
	AttrEnterpriseRole   = "enterprise_role"
	AttrEnterpriseLabels = "enterprise_labels"
)

// Claims of OpenID Connect beyond the tokens' own.
const (
	ClaimPreferredUsername   = "preferred_username"
	ClaimNickname            = "nickname"
	ClaimName                = "name"
	ClaimPhoneNumber         = "phone_number"
	ClaimPhoneNumberVerified = "phone_number_verified"
	ClaimEmail               = "email"
	ClaimEmailVerified       = "email_verified"
	ClaimIDNumber            = "id_number"
	ClaimRealnameLevel       = "realname_level"
	ClaimACR                 = "acr" // the real-name level as urn:unid:acr:realname:<level>
	// ClaimEnterprise is the enterprise the user acts for, an object
	// {"uscc","name","role","labels"}; absent when acting as the person.
	ClaimEnterprise = "enterprise"
)

// Scopes of the records API (/api/records/v1): a service system writes
// the records of a kind for the people and enterprises that signed in to
// it (client credentials, client-only), and reads a signed-in user's
// records of a kind with the user's access token (granted on consent).
// One pair per kind of records.Kinds, which names them the same way.
const (
	ScopeRecordsCasesWrite         = "records.cases:write"
	ScopeRecordsConsultationsWrite = "records.consultations:write"
	ScopeRecordsMessagesWrite      = "records.messages:write"
	ScopeRecordsComplaintsWrite    = "records.complaints:write"
	ScopeRecordsFavoritesWrite     = "records.favorites:write"
	ScopeRecordsCasesRead          = "records.cases:read"
	ScopeRecordsConsultationsRead  = "records.consultations:read"
	ScopeRecordsMessagesRead       = "records.messages:read"
	ScopeRecordsComplaintsRead     = "records.complaints:read"
	ScopeRecordsFavoritesRead      = "records.favorites:read"
)

// userScopes are the scopes a user can grant, in the order the consent page
// lists them. Arrays, so that no caller can change them.
var userScopes = [...]string{ScopeOpenID, ScopeProfile, ScopePhone, ScopeEmail, ScopeIDCard, ScopeEnterprise, ScopeOfflineAccess,
	ScopeRecordsCasesRead, ScopeRecordsConsultationsRead, ScopeRecordsMessagesRead, ScopeRecordsComplaintsRead, ScopeRecordsFavoritesRead}

// clientOnlyScopes are scopes that are never about a user.
var clientOnlyScopes = [...]string{ScopeAdmin,
	ScopeRecordsCasesWrite, ScopeRecordsConsultationsWrite, ScopeRecordsMessagesWrite, ScopeRecordsComplaintsWrite, ScopeRecordsFavoritesWrite}

// casAttributes are the names a CAS service may register, in the order
// their attributes are released.
var casAttributes = [...]string{AttrLoginName, AttrRealnameLevel, AttrACR, AttrPhone, AttrEmail, ScopeIDCard, ScopeEnterprise}

// claimsSupported are the claims of the discovery document.
var claimsSupported = [...]string{
	"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid", "at_hash",
	ClaimName, ClaimNickname, ClaimPreferredUsername, ClaimPhoneNumber, ClaimPhoneNumberVerified, ClaimEmail,
	ClaimEmailVerified, ClaimIDNumber, ClaimRealnameLevel, ClaimEnterprise,
}

// UserScopes returns the scopes a user can grant a client, in the order
// the consent page lists them: discovery's scopes_supported.
func UserScopes() []string { return slices.Clone(userScopes[:]) }

// IsUserScope reports whether s is a scope a user grants.
func IsUserScope(s string) bool { return slices.Contains(userScopes[:], s) }

// ClientOnlyScopes returns the scopes that are never about a user; only a
// confidential client may be registered for them.
func ClientOnlyScopes() []string { return slices.Clone(clientOnlyScopes[:]) }

// CASAttributes returns the names a CAS service may register, in the order
// their attributes are released.
func CASAttributes() []string { return slices.Clone(casAttributes[:]) }

// ClaimsSupported returns the claims of the discovery document.
func ClaimsSupported() []string { return slices.Clone(claimsSupported[:]) }

// AMR returns how the user authenticated, for the ID token's amr, from
// what the session recorded: a session from before unid recorded it was a
// password sign-in.
func AMR(recorded []string) []string {
	if len(recorded) == 0 {
		return []string{store.AMRPassword}
	}
	return slices.Clone(recorded)
}

// Registrable reports whether a client of type clientType (store.Client*)
// may be registered for name: a user scope or, for a confidential client, a
// client-only scope for OpenID Connect clients; an attribute name for CAS
// services. Nothing is registrable for an unknown type.
func Registrable(clientType, name string) bool {
	switch clientType {
	case store.ClientOIDCConfidential:
		return IsUserScope(name) || slices.Contains(clientOnlyScopes[:], name)
	case store.ClientOIDCPublic:
		return IsUserScope(name)
	case store.ClientCAS:
		return slices.Contains(casAttributes[:], name)
	}
	return false
}
