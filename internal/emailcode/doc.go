// Package emailcode owns the six-digit codes unid mails to an address to
// prove the user reads it: binding or changing an account's email now,
// password recovery by email later. The rules are those of SMS codes
// (package smscode), with the address in place of the phone:
//
//   - a code is bound to (purpose, account, address): a code sent to bind
//     an address to one account cannot bind it to another, nor serve
//     another purpose; account is "" for a code that no account asks for
//     yet;
//   - rate limits per address (1/minute, 5/hour, 10/day, across purposes
//     and accounts) and per client address (30/hour); a refused send
//     counts nothing. There is no platform-wide budget: unlike a text, a
//     mail costs the platform nothing per message;
//   - only a keyed hash of the code is stored (store.Challenge of kind
//     store.ChallengeEmail), never the code or the address;
//   - the mail goes out once; if the mail server is down or refuses it the
//     challenge is withdrawn and the caller gets email_unavailable;
//   - 5 minutes, 5 attempts counted in the store before comparing, single
//     use (Check, then Use; or Verify for both).
//
// Verify, for one (purpose, account, address):
//
//	format wrong ─→ email_code_required / email_code_format (nothing counted)
//	no live code ─→ email_code_expired
//	attempts used up ─→ email_code_attempts (the code stays until it expires)
//	attempt counted ─→ wrong ─→ email_code_wrong
//	               └─→ right ─→ taken from the store: exactly one caller wins
//
// The mechanics (storing, counting, comparing, taking) are package otp's,
// the same as for SMS codes; this package keeps the limits and the mail.
//
// Errors and logs never contain the address or the code.
package emailcode
