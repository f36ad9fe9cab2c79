// Package scaleout holds the test of unid as a province runs it: two
// instances of the real binary, in production mode, on one PostgreSQL
// database, one Redis and one key file, behind Debian's nginx running the
// site of examples/nginx/unid.conf. It has no code of its own.
//
// The test walks a citizen through registration (captcha, SMS code),
// sign-in, single sign-on over OpenID Connect and CAS, the SMS limits and
// the lockout, with nginx sending every request to the other instance
// than the one before; then it kills one instance with SIGKILL and checks
// that nothing the citizen was told had succeeded is lost: the session,
// the account, the SMS code, the OIDC code and the CAS ticket all still
// work through the other instance.
//
// The SMS gateway is a loopback peer of unid's gateway protocol
// (httpsigtest, which checks the signature with package httpsig) and
// plays the phone; captcha answers are read from the database, as a
// person reads the picture.
package scaleout
