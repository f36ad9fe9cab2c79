-- 0022: the audit viewer filters a service system's events by action
-- (its sign-ins, its failures) without walking every event of the system
-- when the action is rare there or absent.
CREATE INDEX audit_events_client_action_idx ON audit_events (client_id, action, seq) WHERE client_id <> '';
