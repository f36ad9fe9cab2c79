// Package devmode serves the pages that exist only with --dev: what unid
// would have sent (the notify.Outbox) and the answers of the captchas it
// drew, so that a developer or a test can finish registration and sign-in
// on a laptop with no phone and no SMS gateway.
//
//	GET /dev/                 index: outbox messages newest first, recent captchas with answers
//	GET /dev/outbox.json      {"messages": [notify.OutboxMessage…]}, newest first
//	GET /dev/captchas/{id}    {"id": …, "answer": …}
//
// Every one of them gives away codes, so they answer only a request made on
// this machine: from a loopback address, to a loopback Host (127.0.0.0/8,
// ::1, localhost, any port), and with no header a reverse proxy adds
// (Forwarded, X-Forwarded-For, X-Forwarded-Host, X-Forwarded-Proto,
// X-Real-IP). Anything else gets the site's ordinary 404, as if the pages
// did not exist. config.Config.Check adds the other half: --dev listens on
// loopback addresses only and refuses --trust-proxy and a public
// --public-url.
package devmode
