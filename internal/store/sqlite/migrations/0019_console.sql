-- 0019: the operator console. See the PostgreSQL migration of the same
-- number for what each part is for.
ALTER TABLE audit_events ADD COLUMN account_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN client_id  TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS audit_events_account_idx ON audit_events (account_id, seq) WHERE account_id <> '';
CREATE INDEX IF NOT EXISTS audit_events_client_idx ON audit_events (client_id, seq) WHERE client_id <> '';
CREATE INDEX IF NOT EXISTS audit_events_action_idx ON audit_events (action, seq);
CREATE INDEX IF NOT EXISTS audit_events_ip_idx ON audit_events (ip, seq);
CREATE INDEX IF NOT EXISTS audit_events_time_idx ON audit_events (time);

CREATE TABLE audit_anchor (
	id          INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	seq         INTEGER NOT NULL,
	hash        BLOB,
	archived_at INTEGER NOT NULL,
	archive     TEXT    NOT NULL DEFAULT ''
);
INSERT INTO audit_anchor (id, seq, hash, archived_at, archive) VALUES (1, 0, NULL, 0, '');

DROP TRIGGER audit_events_no_delete;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
	WHEN OLD.seq > (SELECT seq FROM audit_anchor WHERE id = 1)
BEGIN
	SELECT RAISE(ABORT, 'audit_events is append-only');
END;

CREATE TABLE stats (
	metric TEXT    NOT NULL,
	key    TEXT    NOT NULL DEFAULT '',
	hour   INTEGER NOT NULL,
	count  INTEGER NOT NULL,
	PRIMARY KEY (metric, hour, key)
);

CREATE TABLE operator_passkeys (
	credential_id BLOB    NOT NULL PRIMARY KEY,
	operator_id   TEXT    NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
	name          TEXT    NOT NULL DEFAULT '',
	credential    TEXT    NOT NULL,
	created_at    INTEGER NOT NULL,
	last_used_at  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS operator_passkeys_operator_idx ON operator_passkeys (operator_id);

CREATE INDEX IF NOT EXISTS users_created_idx ON users (created_at, id);
CREATE INDEX IF NOT EXISTS users_status_created_idx ON users (status, created_at, id);
CREATE INDEX IF NOT EXISTS enterprises_name_idx ON enterprises (name);
