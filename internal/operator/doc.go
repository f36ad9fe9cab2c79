// Package operator owns the accounts of the operator console: people of the
// government IT department who review, administer and audit, never
// citizens and never signed in as one. It creates them (auditors only by
// `unid operator create`, so that no operator appoints an auditor, and no
// operator grants a role to themselves), sets them up, signs them in with password + TOTP on their
// own cookie and session limits, and answers which roles an operator holds:
// the one place a role is compared. A system administrator may also create,
// disable, enable and reset operators in the console, under the rules of
// manage.go: never an auditor, never themselves.
//
// An operator goes:
//
//	created ──setup link (24 h, once)──▶ password + TOTP enrolled ──▶ signs in
//	   (no password yet)                  (signed in at once)            (password + code)
//
// Every step is audited with the operator as the actor (audit.Operator with
// the operator's ID); failed sign-ins name the login name typed. The same
// answer, operator_sign_in_failed, is given for an unknown login name, a
// wrong password, a wrong or replayed code and an operator not set up or
// disabled. Signing in is throttled before any password hash is paid:
// per client address (attempts a minute, failures in 15 minutes,
// operator_sign_in_rate_limited), by an image captcha, and by counting
// the attempt — before the check, so that concurrency cannot exceed the
// threshold — on the login name from the client's network and on the
// login name from all networks (operator_locked, whether or not the name
// exists). With the right password, a code is judged only while the
// operator has fewer than 10 wrong or replayed codes in 24 hours
// (operator_locked for every sign-in of theirs until the window ends).
// See SignIn and docs/design-notes.md, "Console sign-in throttling" and
// "Console sign-in: a cap on code guesses".
//
// A console session ends after Idle without a request (15 minutes) or Max
// after sign-in (8 hours); only the SHA-256 of its token is stored.
package operator
