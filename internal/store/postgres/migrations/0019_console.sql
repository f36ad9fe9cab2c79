-- 0019: the operator console.
--
-- Audit events name the account an event concerns when its actor is not
-- that account (an operator unlocking it, a failed sign-in on it) and the
-- service system it happened at (SSO sign-ins); both are '' otherwise and
-- are hashed into the chain when set. The viewer filters by them, by
-- actor, action, address and time through these indexes; every list is
-- newest first by seq.
ALTER TABLE audit_events ADD COLUMN account_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN client_id  TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS audit_events_account_idx ON audit_events (account_id, seq) WHERE account_id <> '';
CREATE INDEX IF NOT EXISTS audit_events_client_idx ON audit_events (client_id, seq) WHERE client_id <> '';
CREATE INDEX IF NOT EXISTS audit_events_action_idx ON audit_events (action, seq);
CREATE INDEX IF NOT EXISTS audit_events_ip_idx ON audit_events (ip COLLATE "C", seq);
CREATE INDEX IF NOT EXISTS audit_events_time_idx ON audit_events (time);

-- Retention: events up to audit_anchor.seq were archived to a file and
-- deleted; hash is the hash of that last archived event, from which the
-- chain still in the table verifies. Only such events may be deleted,
-- and nothing may be changed.
CREATE TABLE audit_anchor (
	id          INTEGER NOT NULL CHECK (id = 1),
	seq         BIGINT  NOT NULL,
	hash        BYTEA,
	archived_at BIGINT  NOT NULL,
	archive     TEXT    NOT NULL DEFAULT '',
	CONSTRAINT audit_anchor_pkey PRIMARY KEY (id)
);
INSERT INTO audit_anchor (id, seq, hash, archived_at, archive) VALUES (1, 0, NULL, 0, '');

CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' AND OLD.seq <= (SELECT seq FROM audit_anchor WHERE id = 1) THEN
		RETURN OLD;
	END IF;
	RAISE EXCEPTION 'audit_events is append-only';
END;
$$;

-- Counters of the dashboard, per metric, key (a service system's client
-- id, a result; '' for none) and hour (unix milliseconds UTC of the hour's
-- start). Instances add their counts every few seconds.
CREATE TABLE stats (
	metric TEXT   NOT NULL,
	key    TEXT   NOT NULL DEFAULT '',
	hour   BIGINT NOT NULL,
	count  BIGINT NOT NULL,
	CONSTRAINT stats_pkey PRIMARY KEY (metric, hour, key)
);

-- Operators' passkeys (WebAuthn credentials), as go-webauthn encodes a
-- credential (JSON); the sign count and last use change on each sign-in.
CREATE TABLE operator_passkeys (
	credential_id BYTEA  NOT NULL,
	operator_id   TEXT   NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
	name          TEXT   NOT NULL DEFAULT '',
	credential    TEXT   NOT NULL,
	created_at    BIGINT NOT NULL,
	last_used_at  BIGINT NOT NULL DEFAULT 0,
	CONSTRAINT operator_passkeys_pkey PRIMARY KEY (credential_id)
);
CREATE INDEX IF NOT EXISTS operator_passkeys_operator_idx ON operator_passkeys (operator_id);

-- The citizen list, newest accounts first (keyset on created_at, id), and
-- enterprises found by a prefix of their name.
CREATE INDEX IF NOT EXISTS users_created_idx ON users (created_at, id);
CREATE INDEX IF NOT EXISTS users_status_created_idx ON users (status, created_at, id);
CREATE INDEX IF NOT EXISTS enterprises_name_idx ON enterprises (name COLLATE "C");
