package oidc

// Audit actions of the OpenID provider. Details name grant types, client
// ids and key ids — never tokens, codes or personal data.
const (
	ActionTokenIssued       = "oidc.token_issued"        // Detail: grant type, client id
	ActionCodeReuse         = "oidc.code_reuse"          // a code used twice: its grant revoked
	ActionRefreshReuse      = "oidc.refresh_reuse"       // a used refresh token replayed: its family revoked
	ActionRefreshRefused    = "oidc.refresh_refused"     // the user fell below the client's minimum real-name level: grant revoked
	ActionTokenRevoked      = "oidc.token_revoked"       // RFC 7009 revocation by a client
	ActionConsentGranted    = "oidc.consent_granted"     // Detail: client id, scopes
	ActionConsentDenied     = "oidc.consent_denied"      // the user chose Deny
	ActionConsentRevoked    = "oidc.consent_revoked"     // the user withdrew a consent; the client's grants revoked
	ActionBackchannelLogout = "oidc.backchannel_logout"  // Result ok or failed; Detail {client_id, sid, reason}
	ActionKeyRotated        = "oidc.signing_key_rotated" // Detail: new kid and algorithm
)
