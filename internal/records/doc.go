// Package records owns what the personal space keeps for a citizen about
// their dealings with the platform. Today that is unid's own messages to
// them (我的消息): a real-name review decided, a verification moved to
// another account. The other record kinds of the personal space — cases
// (我的办件), consultations (我的咨询), complaints (我的投诉) and
// favorites (我的收藏) — join this package in a later issue, each a file
// beside messages.go.
//
// A message goes:
//
//	a domain service (realname) ──Tell──▶ app ──Post──▶ store (event + params)
//	the page /me/messages ──GET /api/v1/messages──▶ List: title and body
//	rendered from message.<event>.title / .body in the reader's language
//	──POST /api/v1/messages/{id}/read──▶ MarkRead
//
// The store keeps the event and the parameters of its texts, never the
// texts, so a message reads in whatever language its reader uses now.
// Post refuses an event without both texts in the catalog, parameters that
// leave a placeholder of the texts unfilled, and a link that is not a path
// on this site: a citizen never reads a raw key, a "{reference}" or a link to
// elsewhere. Parameters are kept in the clear, so whoever posts puts no
// personal data in them unmasked. Messages are a notice, not a security
// event: posting and reading them is not audited.
package records
