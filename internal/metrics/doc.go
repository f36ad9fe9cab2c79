// Package metrics owns what unid tells Prometheus: one registry (not the
// process-wide default) with the Go runtime and process collectors, the
// HTTP requests by route, the security events counted from the audit log,
// and gauges read when Prometheus scrapes (the SMS budget, whether the
// database and Redis answer, sign-ins waiting to hash a password).
//
// The flow: the app's access-log middleware calls Request once per
// request with the matched route pattern; the audit log's observer calls
// Observe once per stored event, which counts what the dashboard's table
// of rules (stats.Match) counts, plus tokens issued by grant; Handler
// serves GET /metrics on the separate metrics listener. No label holds a
// raw path, an ID, a phone number or any other personal data.
package metrics
