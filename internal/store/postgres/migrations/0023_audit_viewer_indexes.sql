-- 0023: the audit viewer filters a service system's events by action
-- (its sign-ins, its failures) without walking every event of the system
-- when the action is rare there or absent; and an address or a network
-- with an action (failed sign-ins from 10.1.2.0/24) reads its index alone:
-- (ip, action, seq) replaces (ip, seq), which an address alone still uses.
CREATE INDEX IF NOT EXISTS audit_events_client_action_idx ON audit_events (client_id, action, seq) WHERE client_id <> '';
CREATE INDEX IF NOT EXISTS audit_events_ip_action_idx ON audit_events (ip COLLATE "C", action, seq);
DROP INDEX IF EXISTS audit_events_ip_idx;
