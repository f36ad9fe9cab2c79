// Package flow holds what the self-service flows share. Each flow lives in its
// own package (registration, login; recovery and settings follow) as a
// service with one entry point per step. A flow never speaks HTTP: the JSON
// API and the pages are adapters that turn requests into flow calls and
// *problem.Problem answers into responses.
//
// Short-lived state with a lifetime — captchas and SMS codes — is held by the
// challenge services (captcha, smscode) in the store, so every step can be
// served by any unid instance. An expired challenge answers problem.Gone
// (HTTP 410): start again.
package flow

import "strings"

// Client is who is on the other end of a request, for rate limits and audit.
type Client struct {
	IP        string
	UserAgent string
}

// NewClient bounds the user agent so that a huge header cannot bloat the
// audit log or the session table.
func NewClient(ip, userAgent string) Client {
	const max = 256
	if len(userAgent) > max {
		userAgent = strings.ToValidUTF8(userAgent[:max], "")
	}
	return Client{IP: ip, UserAgent: userAgent}
}
