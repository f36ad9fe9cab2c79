// Package claims owns what unid tells a service system about a user: the
// vocabulary of scopes and attributes a client registers for and asks for,
// the release policy that turns a user, a client's registration and the
// granted scopes into claims, and the real-name level as acr. OpenID
// Connect (userinfo, ID token) and CAS (p3/serviceValidate) only format
// what Release returns; the client registry asks Registrable what a client
// may be registered for; the consent page explains UserScopes. Every
// comparison of a real-name level lives here (Verified, Satisfies,
// RequiredLevel, Required).
//
// # Vocabulary
//
// OpenID Connect clients register and request scopes; CAS services register
// attribute names. A user scope is one a user grants (and the consent page
// explains), in the order below; a client-only scope is never about a
// user and only a confidential client may hold it.
//
//	name            kind                        OIDC claims (userinfo)                               CAS attributes
//	openid          user scope, always granted  sub, realname_level, acr                             —
//	profile         user scope                  preferred_username, nickname, name (verified only)   —
//	phone           user scope / CAS attribute  phone_number (+86…), phone_number_verified (true)    phone (11 digits)
//	email           user scope / CAS attribute  email, email_verified (true: proven by a code)     email
//	idcard          user scope / CAS attribute  name, id_number (verified only)                      name, id_number (verified only)
//	offline_access  user scope                  — (a refresh token)                                  —
//	unid.admin      client-only scope           — (the operator API)                                 —
//	login_name      CAS attribute               —                                                    login_name
//	realname_level  CAS attribute               (always, see openid)                                 realname_level
//	acr             CAS attribute               (always, see openid; in the tokens)                  acr
//
// # Policy
//
//	rule                                      applies to
//	only what the client is registered for     every scope and attribute ("minimum necessary")
//	openid is always kept                      OIDC requests
//	idcard needs real-name level ≥ 1           the grant (dropped), userinfo and CAS (not released)
//	name needs real-name level ≥ 1             profile and idcard
//	a value the user never gave is left out    phone, email, name, id_number
//	realname_level and acr always              userinfo, the ID token and introspection
//	CAS order is the vocabulary's order        CAS attributes
//
// Personal data is opened only when it is released, with the Opener the
// caller passes (account.Protector.Open), and never logged.
//
// # Real-name level and acr
//
// Level 0 is not verified, 1 初级, 2 中级, 3 高级. Each level is the acr
// urn:unid:acr:realname:<level>. A request's acr_values list the levels a
// client accepts, so the lowest of unid's among them is what the user
// must have; values that are not unid's are not unid's to judge and are
// ignored. A client may also be registered with a minimum level
// (store.Client.MinRealnameLevel) that applies to every sign-in, OpenID
// Connect and CAS alike; Required is the higher of the two.
package claims
