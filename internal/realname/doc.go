// Package realname owns real-name verification (实名认证): which methods
// are offered at which level, the level rule, the checks sent to a
// verifier, the bindings a user's level is computed from, the identity an
// account holds once verified, and the review queue of counter
// verifications and appeals (it implements review.Queue).
//
// # Levels
//
// A binding is a passed check of one method. The level is 0 without a
// registry binding (初级, level 1: name and ID number against the
// population registry), and otherwise the highest level among the
// bindings (Level): every method above level 1 needs level 1 first
// (Allowed). The level is kept on the account row and recomputed in the
// same store transaction as every binding change; nothing outside this
// package (and claims, for comparisons) computes or compares levels.
//
// Once level ≥ 1 the real name and ID number are locked: the user center
// cannot change them, only a reviewer can (Correct). A verified ID number
// belongs to one account: a second account that proves it is told
// (id_number_verified_elsewhere) and may appeal; a reviewer who approves
// moves the verification, and the old account drops to level 0 and is
// told. Unverified ID numbers, typed at registration, block nobody.
//
// # Checks
//
// Every check costs money: it is counted against a per-user and a
// platform per-day limit before the verifier is asked, and recorded
// (method, provider, result, the verifier's reference) whatever its end.
// A failed check changes nothing but the count.
//
// # A redirect verification (face, netid, netid_face)
//
// StartRedirect asks the verifier to open an H5 verification and keeps its
// ticket in a flow record (kind "realname") bound to the user; the browser
// gets only the verifier's URL. The verifier sends the browser back to
// GET /realname/callback?flow=ID, where FinishRedirect asks the result
// with the ticket, server to server:
//
//	pending ──callback by the flow's user, result fetched──▶ done (pass: bound; else counted)
//	   │
//	   ├── callback of another user, a forged or unknown flow ID ──▶ refused, nothing changes
//	   ├── callback again once done (replay) ─────────────────────▶ refused, nothing changes
//	   ├── the verifier cannot be reached ────────────────────────▶ stays pending (the callback may be retried)
//	   └── ExpiresAt passed (realname.flow-ttl) ───────────────────▶ expired
//
// A result whose ID number is not the flow's person is refused and
// recorded as a failed check.
//
// # Alipay (支付宝认证, alipay)
//
// The alipay method asks no verifier: Alipay itself said, at the last
// sign-in through the account's Alipay link, that its user is certified
// (is_certified=T). That is evidence for level 2 on top of level 1,
// never for level 1 on its own (ParseMethods refuses alipay:1):
//
//	level ≥ 1 ── VerifyAlipay ──▶ no link:        realname_alipay_unlinked, nothing changes
//	                            link, uncertified: realname_alipay_uncertified, nothing changes
//	                            link, certified:   a passed check (provider alipay) and the binding,
//	                                               one transaction; not counted against the limits
//	unlinking Alipay ──▶ AlipayUnlinked: the alipay binding goes, the level is recomputed
//
// Deps.Alipay reads the link (the app wires the upstream service); without
// it the method is offered but not available.
//
// # Providers
//
// A Provider implements one interface per method. sandbox answers from a
// fixture of fictitious people (test data) and serves its own H5 page in
// dev mode; httpverifier calls a verification service with signed JSON
// (the wire format is in its package doc).
package realname
