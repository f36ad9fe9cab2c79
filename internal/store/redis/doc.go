// Package redis owns the Redis implementations of store.Counters and
// store.Challenges, so that setting UNID_REDIS_URL moves the hottest writes
// (rate limits, lockouts, captchas, codes, CAS tickets) off the database.
// Counters keep the same anchored-window semantics as the SQL backends,
// judged by the caller's clock: each counter is a hash {c: count, e: window
// end in unix ms} updated by one Lua script, so an increment is atomic
// across every unid instance. Challenges are hashes with the fields of the
// database's rows (challenges.go). Redis's own expiry only collects keys
// once their window or challenge is over. Answers of a Redis that cannot
// serve for now (loading, a read-only replica, out of memory) are
// store.ErrUnavailable, as an outage is.
package redis
