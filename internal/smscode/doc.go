// Package smscode owns the six-digit codes unid texts to a phone to prove
// the user holds it: at registration, SMS login, password recovery and, later,
// phone change. The purpose is part of every code, so a code sent for login
// cannot complete a recovery.
//
// Send, in order:
//
//  1. rate limits, shared by all unid instances through store.Counters, per
//     phone (1/minute, 5/hour, 10/day by default, across purposes) and per
//     client IP (30/hour); a refused send counts nothing;
//  2. a uniform random code from crypto/rand;
//  3. a store.Challenge of kind store.ChallengeSMS whose ID is derived from
//     (purpose, phone), so a new code replaces the previous one; only a keyed
//     hash of the code is stored, never the code or the phone;
//  4. the text goes out through a notify.SMSSender; if that fails the
//     challenge is withdrawn (the rate limits still count the attempt).
//
// Verify, for one (purpose, phone):
//
//	format wrong ─→ sms_code_required / sms_code_format (nothing counted)
//	no live code ─→ sms_code_expired
//	attempts used up ─→ sms_code_attempts (the code stays until it expires)
//	attempt counted ─→ wrong ─→ sms_code_wrong
//	               └─→ right ─→ taken from the store: exactly one caller wins
//
// Check is Verify up to "right" and leaves the code in place; Use takes it
// afterwards. A flow uses the pair to answer questions about the rest of
// its request only to whoever holds the phone.
//
// The attempt is counted in the store before the code is compared, so
// parallel guesses cannot try more than MaxAttempts codes between them.
// These mechanics are package otp's, shared with email codes; this package
// keeps the limits, the SMS budget and the sender.
//
// Rate-limit keys and challenge ids are keyed hashes (Keyed) of the phone, so
// the store never holds a phone in plain text; errors never contain the phone
// or the code.
package smscode
