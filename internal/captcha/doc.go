// Package captcha owns the image (and audio) captchas that unid asks for
// before a password login and before any SMS is sent.
//
// Pictures and sounds are drawn by github.com/dchest/captcha, but its global
// in-memory store is not used: the answer of every captcha is a
// store.Challenge of kind store.ChallengeCaptcha (Secret = the digits 0–9 as
// bytes), so that any unid instance behind a load balancer can draw, check or
// expire a captcha another instance created.
//
// The flow:
//
//	Create ─→ id ─→ WriteImage / WriteAudio (as often as the page asks)
//	                   │
//	                Verify(id, answer) ─→ the challenge is taken (deleted),
//	                                      whether the answer is right or wrong
//
// A captcha is single use: a wrong answer burns it and the page must show a
// new one, so an answer cannot be guessed by trying again with the same id.
// Answers are compared in constant time after spaces are removed; full-width
// digits (０–９), which Chinese input methods often produce, count as digits.
//
// Answer reveals a captcha's digits without using it up, and Recent lists
// the newest captchas with their answers (only when Options.Recent is set);
// they exist for the dev-mode pages under /dev/ (internal/devmode) and must
// not be reachable otherwise.
package captcha
