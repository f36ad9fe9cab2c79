// Package enterprise is the enterprise space (企业空间): people acting for
// enterprises identified by their unified social credit code (统一社会信用代码,
// GB 32100-2015, ParseUSCC).
//
// # Roles
//
// In one enterprise, strongest first (AtLeast compares them):
//
//	legal_rep  one per enterprise; bound from the registry (Bind) or by an
//	           approved appeal with the business licence; grants and
//	           revokes admins and handlers; unbinds the enterprise
//	admin      granted by the legal rep; grants and revokes handlers;
//	           decides handler applications
//	handler    acts for the enterprise; may carry permission labels
//	           (enterprise.labels, e.g. 财务, 人事) and a validity period
//
// A person holds roles in many enterprises and marks one default. A
// membership is live while its validity period lasts and the enterprise
// is not revoked or deregistered at the registry (Memberships, Acting).
//
// # Binding as legal representative
//
//	Bind(uscc, name) ── level < bind-min-level ──▶ realname_level_required
//	   │
//	   ├─ registry down ─────────────────────────▶ 503 registry_unavailable
//	   ├─ revoked / deregistered ────────────────▶ 409 enterprise_deregistered
//	   ├─ names someone else / name differs ─────▶ enterprise_not_legal_rep ──▶ Appeal (licence)
//	   ├─ another account is legal rep ──────────▶ 409 enterprise_bound
//	   └─ names this person ─────────────────────▶ legal_rep
//
//	Appeal ──▶ review item enterprise.appeal ──approve──▶ legal_rep (any old one loses it)
//	                                          └─reject───▶ nothing changes
//
//	Recheck (sign-in via Acting when stale or never checked, daily
//	RecheckAll over every enterprise with a member, bound, imported or
//	appealed): the registry names someone else ──▶ the old legal rep loses
//	the role (and their pending grants); the new one can bind. Revoked,
//	deregistered or unknown to the registry ──▶ nobody acts for it.
//
// # Grants and applications
//
//	Grant(phone, real name, role) ── no exact match: same answer and work, nothing kept
//	   │  (limited per granter and per enterprise; told off the request path)
//	   └─ match ──▶ pending grant (one per person and enterprise; a repeat refreshes it, untold)
//	                       ├──accept, granter still entitled──▶ membership
//	                       ├──────decline, withdrawal──▶ gone
//	                       ├──────the granter loses the role──▶ gone
//	                       └──────expiry (enterprise.grant-ttl)──▶ gone
//
//	Apply(uscc, name, reason) ──▶ pending ──legal rep/admin approve──▶ handler (one transaction with the audit event)
//	                                 ├──────────────────────reject───▶ rejected (reason)
//	                                 └──expiry (enterprise.application-ttl)
//
// Revoking (legal rep: admins and handlers; admin: handlers), leaving,
// and unbinding (legal rep, after re-authentication: every member loses
// the role) end memberships. Every grant, acceptance, approval,
// rejection, revocation and unbinding is audited with its actor, and the
// citizen is told through Deps.Tell (the Event constants).
package enterprise
