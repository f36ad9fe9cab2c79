package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
)

// Environment variables read by the helpers.
const (
	RequireAllVar  = "UNID_REQUIRE_ALL"
	PostgresURLVar = "UNID_TEST_POSTGRES_URL"
	RedisURLVar    = "UNID_TEST_REDIS_URL"
)

// RequireAll reports whether missing services must fail tests
// (UNID_REQUIRE_ALL=1).
func RequireAll() bool { return os.Getenv(RequireAllVar) == "1" }

// Unavailable ends the test because a service it needs is missing: it skips,
// or fails when RequireAll. Use it for services found by other means than
// an environment variable, e.g. Chromium not on PATH.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if RequireAll() {
		t.Fatalf("%s (%s=1 requires every service)", msg, RequireAllVar)
		return
	}
	t.Skipf("%s; skipping", msg)
}

// Require returns the value of the environment variable name, or ends the
// test through Unavailable when it is unset or empty.
func Require(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		Unavailable(t, "%s is not set", name)
	}
	return v
}

// PostgresURL returns UNID_TEST_POSTGRES_URL, the URL of a PostgreSQL server
// on which tests may create and drop databases, e.g.
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
func PostgresURL(t testing.TB) string {
	t.Helper()
	return Require(t, PostgresURLVar)
}

// RedisURL returns UNID_TEST_REDIS_URL, e.g. redis://127.0.0.1:6379/0. Tests
// share the database and must use unique key prefixes.
func RedisURL(t testing.TB) string {
	t.Helper()
	return Require(t, RedisURLVar)
}

// Chromium returns the browser the browser tests drive: UNID_CHROMIUM, or
// chromium (chromium-browser, google-chrome) on PATH; without one the test
// ends through Unavailable.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("UNID_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Unavailable(t, "Chromium not found (set UNID_CHROMIUM or install the chromium package)")
	return ""
}

// NginxVar names the nginx binary of the tests that run unid behind the
// documented proxy set-up (examples/nginx).
const NginxVar = "UNID_NGINX"

// Nginx returns the nginx binary: UNID_NGINX, or Debian's /usr/sbin/nginx
// (package nginx), or nginx on PATH; without one the test ends through
// Unavailable.
func Nginx(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(NginxVar); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	Unavailable(t, "nginx not found (set %s, or run scripts/test as root to install Debian's nginx)", NginxVar)
	return ""
}

// FreePort returns a loopback port that was free a moment ago, for a
// server a test starts by address (another process, or one that takes an
// address rather than a listener).
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
