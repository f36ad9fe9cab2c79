// Package stats keeps the counts the operators' dashboard draws:
// registrations, sign-ins (ok, failed, locked), sign-ins at each service
// system, SMS codes sent and real-name checks, per hour.
//
// The counts come from the audit log as things happen, never from
// scanning it: the log tells a Counter of every event it stores
// (audit.Log.Observe), the Counter maps the event to a metric through one
// table (rules) and adds it in memory, and every few seconds (and at
// shutdown) Flush adds what was counted to the store in one transaction
// (store.Stats.AddStats). A busy instance thus writes a few rows every few
// seconds, not one per event; several instances add to the same rows, and
// the store sums them.
//
//	audit event ──Observe──▶ pending counts ──Flush (every few s)──▶ stats table
//	                                                                   │
//	                                 Reader.Report / Reader.Systems ◀──┘
//
// Hours are UTC in the store. A Reader cuts them into the operators' days
// in a configured zone (Asia/Shanghai by default): "today" starts at
// midnight there.
package stats
