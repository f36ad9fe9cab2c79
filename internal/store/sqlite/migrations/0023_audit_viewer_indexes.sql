-- 0023: see the PostgreSQL migration of the same number.
CREATE INDEX audit_events_client_action_idx ON audit_events (client_id, action, seq) WHERE client_id <> '';
CREATE INDEX audit_events_ip_action_idx ON audit_events (ip, action, seq);
DROP INDEX audit_events_ip_idx;
