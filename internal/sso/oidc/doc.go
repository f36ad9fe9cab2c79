// Package oidc is unid's OpenID Provider: government service systems sign
// their users in with the authorization code flow (PKCE), call unid's APIs
// with client-credentials tokens, and learn of logouts over back-channel
// logout.
//
// The protocol work is github.com/zitadel/oidc/v3/pkg/op: request parsing,
// redirect-URI and PKCE validation, client authentication, error responses.
// Tokens are signed with go-jose through zitadel's claim types. This package
// adds what is unid's: the store behind it (codes, grants, refresh-token
// families, consents, signing keys), the browser session and consent. What
// each scope releases, and the real-name level as acr, are package claims's
// to decide; this package writes them into tokens and userinfo.
//
// An authorization request goes:
//
//	/oidc/authorize ─▶ checks client + redirect_uri (else a page, never a redirect)
//	      │ stores AuthRequest (pending)
//	      ▼
//	resume ─┬─ no session / prompt=login / max_age ─▶ /login?next=/oidc/authorize/callback?id=…
//	        ├─ user's level below acr_values or the client's minimum (claims.Required)
//	        │     ├─ prompt=none ─▶ error unmet_authentication_requirements
//	        │     └─ /settings/realname?next=/oidc/authorize/callback?id=…&level=N (the upgrade page links back at level N)
//	        ├─ consent missing / prompt=consent ─▶ /oidc/consent?id=… ─▶ POST /api/v1/consents
//	        └─ approved ─▶ code (AES-GCM of the request id, only its hash stored) ─▶ redirect_uri
//
//	/oidc/token code ─▶ the code is used once (a second use revokes the grant) ─▶ grant
//	      access token (JWT, typ at+jwt, jti names the grant), ID token, refresh token
//	/oidc/token refresh_token ─▶ rotate; a used token replayed revokes the grant (family)
//
// Access tokens are verified offline by service systems; unid keeps only
// the grants and the jtis revoked before expiry, so that introspection and
// userinfo can answer "inactive" for them. Signing keys live in the store,
// sealed; every instance loads them and reloads them every KeyRefresh, or
// at once when it meets an unknown kid.
package oidc
