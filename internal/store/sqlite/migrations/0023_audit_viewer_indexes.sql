-- 0023: see the PostgreSQL migration of the same number.
CREATE INDEX IF NOT EXISTS audit_events_client_action_idx ON audit_events (client_id, action, seq) WHERE client_id <> '';
CREATE INDEX IF NOT EXISTS audit_events_ip_action_idx ON audit_events (ip, action, seq);
DROP INDEX IF EXISTS audit_events_ip_idx;

-- SQLite replaces a row on INSERT OR REPLACE without firing the delete
-- trigger (recursive triggers are off): an event may be inserted only
-- once, after the anchor.
CREATE TRIGGER audit_events_insert_once BEFORE INSERT ON audit_events
	WHEN EXISTS (SELECT 1 FROM audit_events WHERE seq = NEW.seq)
		OR NEW.seq <= (SELECT seq FROM audit_anchor WHERE id = 1)
BEGIN
	SELECT RAISE(ABORT, 'audit_events is append-only');
END;
