// Package redis owns the Redis implementation of store.Counters, so that
// setting UNID_REDIS_URL moves the hottest writes (rate limits, lockouts) off
// the database. It keeps the same anchored-window semantics as the SQL
// backends, judged by the caller's clock: each counter is a hash {c: count,
// e: window end in unix ms} updated by one Lua script, so an increment is
// atomic across every unid instance. Redis's own expiry only collects keys
// once their window is over.
package redis
