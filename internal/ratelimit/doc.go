// Package ratelimit owns the fixed-window rate limits and lockout counters of
// unid. It keeps no state of its own: every count lives in store.Counters
// (SQLite, PostgreSQL or Redis), so all unid instances behind a load balancer
// enforce one limit together.
//
// A Rule names a counter key, how many hits a window allows and how long the
// window lasts; the window is anchored at its first hit (see store.Counters).
// Keys must not contain personal data in plain text: callers key them by a
// keyed hash (for example of the phone number). Per-address limits key by
// Address, which counts an IPv6 client by its /64.
//
// Allow checks a request against several rules at once in two steps:
//
//	peek every rule ── any at its limit? ── yes → refuse, count nothing
//	        │ no
//	incr each rule in order ── over its limit? ── yes → refuse (lost a race),
//	        │ no, all                                count no further rules
//	      allow
//
// Counting nothing on a refusal matters: a user who clicks "send code" again
// before the minute is over must not burn the hourly or daily quota. Requests
// that race past the peek (on one instance or several) all count on the first
// rule; those whose increment went over the limit are refused there and go no
// further, so a limit is never exceeded and a burst cannot use up the quota
// of the later rules and lock out the request that won.
//
// Exceeded, Hit and Reset serve lockouts, where failures are counted one at a
// time (Hit), checked before an attempt (Exceeded) and forgotten after a
// success (Reset). Count reads a counter without counting, for callers that
// keep a number in one (a generation moved on with Hit).
package ratelimit
