// Package testenv owns how tests find the outside services they need
// (PostgreSQL, Redis, Chromium, nginx): an environment variable names each one, a
// test without it skips locally, and CI sets UNID_REQUIRE_ALL=1 so that a
// missing service fails the test instead of silently skipping it.
package testenv
