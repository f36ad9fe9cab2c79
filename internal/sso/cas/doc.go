// Package cas is unid's CAS server: CAS protocol 1.0, 2.0 and 3.0 for
// government service systems that sign their users in with a CAS client
// (Apache mod_auth_cas, the Apereo Java client, phpCAS, …). It is an
// adapter over the browser session (internal/session) and the client
// registry (internal/client): the CAS ticket-granting session is unid's
// browser session, so a user signed in once is signed in for CAS and
// OpenID Connect alike, and signing out of either ends both.
//
// # Endpoints
//
//	/cas/login                 service, renew, gateway (method and warn are not supported)
//	/cas/login/continue        the way back from unid's login page
//	/cas/logout                service (CAS 3.0); the CAS 2.0 url parameter is ignored
//	/cas/validate              CAS 1.0: "yes\n<user>\n" or "no\n\n"
//	/cas/serviceValidate       CAS 2.0: XML, or JSON with format=JSON
//	/cas/p3/serviceValidate    CAS 3.0: as above, with <cas:attributes>
//
// # Login
//
//	GET /cas/login?service=S
//	  S not a registered pattern ──▶ error page (400), never a redirect
//	  signed in, no renew ──────────▶ 302 S?ticket=ST-… (after the level check below)
//	  not signed in, gateway ───────▶ 302 S (no ticket)
//	  otherwise (or renew) ─────────▶ pending login (flow "cas_login", state pending, 15 min)
//	                                  302 /login?next=/cas/login/continue?id=<pending>
//	GET /cas/login/continue?id=<pending>
//	  missing, expired or done ─────▶ error page (410), start again
//	  not signed in, or renew and the session's AuthTime is before the
//	  pending login was issued ─────▶ back to /login (the pending login stays)
//	  otherwise ────────────────────▶ pending login done (single use),
//	                                  302 S?ticket=ST-… (after the level check below)
//
//	level check: the user's real-name level below the service's registered
//	minimum (claims.Required) ──▶ no ticket, cas.login_refused audited, and
//	  gateway ──▶ 302 S (no ticket, no page)
//	  otherwise ─▶ 403 page: the level needed, the user's, and a link to
//	               /settings/realname?next=/cas/login?service=S (&renew=true)&level=N
//
// unid's login page always asks for credentials, even of a signed-in user,
// which is how renew works: the ticket is issued only once AuthTime is at
// or after the start of the /cas/login. Such a ticket is marked as from a
// new login; validation with renew=true refuses any other. A /cas/login
// without service sends the browser to the personal space (/me), which
// itself asks a visitor to sign in.
//
// # Service tickets
//
// A ticket is "ST-" and 128 random bits in base32 (29 characters: the
// characters the specification allows, within the 32 every client must
// accept). It is stored as a challenge of kind "cas_st" under the SHA-256
// of the ticket, with the service, client, user, session and whether it
// came from a new login, and lives 10 seconds by default (--cas-ticket-ttl).
// Validation takes it from the store before looking at anything else, so
// it is used up by the first attempt whatever its outcome: a replay is
// INVALID_TICKET, a ticket presented with another service is
// INVALID_SERVICE and gone. Errors, as in the specification (2.5.3):
//
//	INVALID_REQUEST  service or ticket missing, a parameter repeated, the query too long,
//	                 format neither XML nor JSON
//	INVALID_TICKET   malformed, unknown, used, expired, a proxy ticket, renew=true for a
//	                 ticket not from a new login, or the account is no longer active
//	INVALID_SERVICE  the ticket was issued for another service, or the service is no
//	                 longer registered or is disabled
//	INTERNAL_ERROR   the store failed
//
// Every answer of the validation endpoints to a GET is HTTP 200 with the
// protocol's document. Every CAS endpoint answers HEAD with 405, so that
// link checkers and prefetchers neither start sign-ins nor use up tickets. Proxying is not supported: pgtUrl is ignored (no
// proxyGrantingTicket is ever returned), /proxy and /proxyValidate do not
// exist, and a "PT-" ticket is INVALID_TICKET.
//
// # User and attributes
//
// <cas:user> is the account ID (store.User.ID): stable for the life of the
// account, never reused, and free of personal data. The login name, which
// a user may one day be allowed to change, is released as the attribute
// login_name. /cas/p3/serviceValidate releases, besides the three
// attributes of the specification (authenticationDate,
// longTermAuthenticationRequestTokenUsed — always false — and
// isFromNewLogin), the attributes named in the client's Scopes and only
// those (see claims.CASAttributes): login_name, realname_level, acr
// (urn:unid:acr:realname:<level>), phone, email, and, with idcard and only
// for users of real-name level 1 or more, name and id_number. A value the
// user never gave is left out. /cas/serviceValidate (2.0) and
// /cas/validate (1.0) release no attributes.
//
// # Service patterns
//
// A CAS client registers service URL patterns (store.Client.RedirectURIs).
// A service URL is accepted only when it matches a pattern of some CAS
// client; /cas/login and /cas/logout never redirect anywhere else. A
// pattern is an absolute http or https URL in one of these forms:
//
//	https://hall.example/app/login        exactly this URL, with no query
//	https://hall.example/app/*            this path and everything below it: /app/, /app/x/y
//	https://hall.example/app/login?*      exactly this path, with any query or none
//	https://hall.example/app/*?*          below /app/, with any query or none
//	https://hall.example/app/login?a=1    exactly this path and this query
//
// The scheme, the host and the port are always compared exactly (the host
// without regard to case; "hall.example" and "hall.example:443" are
// different), and a pattern has no wildcard anywhere else: none in the
// host, none mid-path. "/app/*" does not match "/app" or "/application".
// When several patterns match, an exact one wins over a prefix and a longer
// prefix over a shorter one; that client's Scopes decide the attributes.
//
// A service URL (and a pattern) must be at most 2048 characters of the
// characters RFC 3986 allows unencoded — no space, control character,
// backslash, quote, angle bracket, "{", "}", "|", "^" or "`" — and must
// have a host, and no user information ("https://user@hall.example/"), no
// fragment, no percent sign in the host, no percent-encoded "/" or "\" in
// the path, and no dot segment ("/./", "/../", also percent-encoded or
// followed by ";…"). Such URLs are refused rather than interpreted, because
// a browser, Go and the service's web server could read them differently.
// The ticket is appended to the service URL as sent, with "?" or "&".
//
// # Single logout
//
// Issuing a ticket records it against the session (store.SessionClients,
// protocol "cas"). When the session ends by logout — /cas/logout, the JSON
// API, OpenID Connect RP-initiated logout: any session.Manager.End —
// SingleLogout, registered with the manager's OnEnd, deletes the session's
// tickets that were never validated and POSTs to each service a form field
// logoutRequest holding a SAML 2.0 LogoutRequest whose SessionIndex is the
// ticket and whose NameID is the user. It goes to the client's
// BackchannelLogoutURI when set, else to the service URL of the ticket;
// concurrently, 3 seconds per request and 5 seconds in all; failures are
// logged and audited with the client ID only and not retried. Sessions that
// end by timing out send no single logout.
//
// # Audit
//
// cas.ticket_issued, cas.ticket_validated, cas.ticket_refused (Result: the
// CAS error code; only for tickets unid issued, so guessing does not fill
// the log), cas.login_refused (Result realname_level: a signed-in user
// below the service's minimum level; Detail the levels), and cas.logout_sent and cas.logout_failed, each naming the
// ended session's sid. The session manager writes the one session.logout
// of a /cas/logout (detail via "cas"), as it does for every protocol. No
// ticket is ever written to the audit log or the logs.
package cas
