// Package pgtest gives tests a fresh PostgreSQL database: each call creates
// a uniquely named database on the server at UNID_TEST_POSTGRES_URL, and
// drops it when the test ends. Without the variable the test skips (fails
// under UNID_REQUIRE_ALL=1), see testenv.
package pgtest
