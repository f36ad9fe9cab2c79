// Package otp owns the mechanics of the six-digit codes unid sends to prove
// that a user holds a phone (package smscode) or reads a mailbox (package
// emailcode); those packages keep what differs: the rate limits, the SMS
// budget, the sender and their exported API.
//
// A code is bound to a list of strings (purpose, phone; or purpose,
// account, address). It is kept as a store.Challenge whose ID is a keyed
// hash of the binding, so a new code replaces the earlier one, and whose
// Secret is a keyed hash of the binding and the code; the store never
// holds a code, a phone or an address in plain text.
//
// Check, then Use (or both at once in the services' Verify):
//
//	format wrong ─→ <kind>_code_required / <kind>_code_format (nothing counted)
//	no live code ─→ <kind>_code_expired
//	attempts used up ─→ <kind>_code_attempts (the code stays)
//	attempt counted ─→ wrong ─→ <kind>_code_wrong
//	               └─→ right ─→ Check leaves it; Use takes it: one caller wins
//
// The attempt is counted in the store before the code is compared, so
// parallel guesses cannot try more than MaxAttempts codes between them. A
// code whose attempts are used up is not withdrawn: a Check that found it
// right just before the budget ran out must still be able to Use it; every
// further Check is refused, and expiry or a new code clears it.
package otp
