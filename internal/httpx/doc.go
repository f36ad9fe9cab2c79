// Package httpx is the HTTP layer every adapter of unid shares: the JSON
// API, the operator API, the pages and the single sign-on protocols. It
// holds what they would otherwise copy from each other — the route type,
// the one error shape and its status mapping (Responder), request decoding
// with its limits, the caller's address and client information, and the
// "signed in" and "signed in within N minutes" guards. Its subpackage
// pagekit holds what the two sets of HTML pages (web and console) share.
//
// Adapters import httpx and the domain packages below it; they never import
// each other. httpx itself knows no adapter.
package httpx
