// Package account owns the rules and the cryptography of a natural person's
// account (自然人账号):
//
//   - the account service (service.go): the life cycle of an account in the
//     store — Find by what a person types, Create, VerifyPassword,
//     SetPassword (ending every session and grant), Disable and Enable,
//     each audited with an explicit audit.Actor — the owner's changes in the
//     user center (settings.go: UpdateProfile, Reveal, SetPasswordKeeping,
//     SetPhone), the closure of an account by its owner (closure.go:
//     Close, with the cooling-off of its phone and ID number) and the one
//     masked Profile (profile.go) that the API and the pages show;
//   - identifiers (identifier.go): which of login name, mobile phone or
//     resident ID number a user typed (Recognize), and the checks and
//     normal forms of each, of real names and e-mail addresses;
//   - the password policy (password_policy.go): length, character classes,
//     not the login name, not a common password (an embedded list);
//   - password hashing (hasher.go): argon2id for new hashes, verification of
//     hashes imported from older systems (bcrypt, PBKDF2, salted and plain
//     digests) so that they are upgraded at the next sign-in, a bound on
//     concurrent hashing, and a dummy verification for unknown identifiers;
//   - personal-data protection (protector.go): AES-256-GCM sealing of phone,
//     ID number, e-mail and real name with versioned keys, keyed blind
//     indexes (HMAC) for lookup and uniqueness, keyed MACs for codes and
//     rate-limit keys, and the key file;
//   - masking (mask.go): the only form in which personal data appears in
//     pages, API answers, the audit log and logs (138****5678).
//
// The flow of personal data through unid: a form value is normalised here
// (NormalizePhone, ParseIDNumber, ...), sealed with Protector.Seal, and
// stored as a store.Sealed; a lookup normalises the same way and asks the
// store by Protector.Index; a view opens it with Protector.Open and shows it
// through a Mask function. Plain personal data is never stored or logged.
//
// Every error meant for a user is a *problem.Problem about one field, whose
// code (login_name_format, password_common, ...) is the key of its message
// in the catalog.
package account
