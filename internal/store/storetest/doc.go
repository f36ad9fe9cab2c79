// Package storetest owns the one conformance suite of store.Store: Run checks
// every method of a backend, RunCounters the rate-limit counters alone (for
// the Redis counters), and BenchLookup / BenchBulkCreate measure the hot
// paths against a seeded store. Every backend's test file is a few lines that
// call into it.
package storetest
