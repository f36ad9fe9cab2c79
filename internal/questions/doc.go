// Package questions owns security questions (密保问题): the configured
// list, an account's choice of three with their answers, and checking
// answers for password recovery.
//
// Answers are normalised (Normalize: trimmed, full-width folded to
// half-width, case-folded, inner white space collapsed) so that "Jinan",
// " jinan " and "ＪＩＮＡＮ" are one answer, then hashed with the password
// hasher; the store keeps only the hashes and the question IDs. An owner
// sees only that questions are set, and when.
//
// Verify always costs three hash verifications — dummy ones for an
// account without questions or no account at all — so that recovery can
// treat every identifier alike; Decoy picks the three questions shown for
// an identifier that has none.
package questions
