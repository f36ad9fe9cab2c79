// Package records owns what the personal space keeps for a citizen, and
// the enterprise space for an enterprise, about their dealings with the
// platform's service systems: cases (我的办件), consultations (我的咨询),
// messages (我的消息), complaints (我的投诉) and favorites (我的收藏). The
// systems write them through the records API (Ingest, ingest.go); unid
// writes its own messages (Post); the person reads them (Service,
// read.go).
//
// Reading goes:
//
//	the pages /me/{kind} and /enterprise/{uscc} ──GET /api/v1/records/{kind}──▶ List
//	(filters: status, system, dates, words; keyset pages newest first by submission)
//	──GET …/{kind}/{id}──▶ Get (with the status history)
//	──POST …/{kind}/read, …/{kind}/{id}/read──▶ MarkRead
//	──DELETE …/favorites/{id}──▶ Remove (a favorite only)
//	the tiles of /me ──▶ Summary (unread per kind)
//	an enterprise's cases and consultations ──▶ ListEnterprise: the legal
//	representative and administrators see all, a handler those they acted in
//
// Every read names its owner: another person's record, or an enterprise
// the reader is not a live member of, is not found, as if it did not
// exist. Statuses are shown in the reader's language from the kind's
// vocabulary (records.status.<kind>.<status>), systems by their name in
// the client registry.
//
// unid's own messages are records of kind message with no system: the
// store keeps the event and the parameters of its texts, never the
// texts, so a message reads in whatever language its reader uses now.
// Post refuses an event without both texts in the catalog, parameters
// that leave a placeholder of the texts unfilled, and a link that is not
// a path on this site: a citizen never reads a raw key, a "{reference}"
// or a link to elsewhere. Parameters are kept in the clear, so whoever
// posts puts no personal data in them unmasked. Messages are a notice,
// not a security event: posting and reading them is not audited.
package records
