-- 0001: accounts, sessions, challenges, counters and the audit chain.
-- Times are unix milliseconds UTC.

CREATE TABLE users (
	id               TEXT    NOT NULL PRIMARY KEY,
	login_name       TEXT    NOT NULL,
	login_name_key   TEXT    NOT NULL,
	password_hash    TEXT    NOT NULL,
	phone_cipher     BLOB,
	phone_index      BLOB,
	id_number_cipher BLOB,
	id_number_index  BLOB,
	email_cipher     BLOB,
	email_index      BLOB,
	real_name_cipher BLOB,
	realname_level   INTEGER NOT NULL DEFAULT 0,
	status           TEXT    NOT NULL,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX users_login_name_key_key ON users (login_name_key);
CREATE UNIQUE INDEX users_phone_index_key ON users (phone_index);
CREATE UNIQUE INDEX users_id_number_index_key ON users (id_number_index);
CREATE UNIQUE INDEX users_email_index_key ON users (email_index);

CREATE TABLE sessions (
	token_hash   BLOB    NOT NULL PRIMARY KEY,
	sid          TEXT    NOT NULL,
	user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	auth_time    INTEGER NOT NULL,
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	ip           TEXT    NOT NULL DEFAULT '',
	user_agent   TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_sid_idx ON sessions (sid);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
CREATE INDEX sessions_last_seen_at_idx ON sessions (last_seen_at);

CREATE TABLE challenges (
	kind       TEXT    NOT NULL,
	id         TEXT    NOT NULL,
	secret     BLOB,
	subject    BLOB,
	attempts   INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	PRIMARY KEY (kind, id)
) STRICT;
CREATE INDEX challenges_expires_at_idx ON challenges (expires_at);

CREATE TABLE counters (
	key        TEXT    NOT NULL PRIMARY KEY,
	count      INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX counters_expires_at_idx ON counters (expires_at);

CREATE TABLE audit_events (
	seq        INTEGER NOT NULL PRIMARY KEY,
	time       INTEGER NOT NULL,
	actor      TEXT    NOT NULL DEFAULT '',
	action     TEXT    NOT NULL,
	result     TEXT    NOT NULL DEFAULT '',
	ip         TEXT    NOT NULL DEFAULT '',
	user_agent TEXT    NOT NULL DEFAULT '',
	subject    TEXT    NOT NULL DEFAULT '',
	detail     TEXT    NOT NULL DEFAULT '',
	prev_hash  BLOB,
	hash       BLOB    NOT NULL
) STRICT;

-- audit_head is the one row that every append updates first: the last seq
-- and hash of the chain.
CREATE TABLE audit_head (
	id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	seq  INTEGER NOT NULL,
	hash BLOB
) STRICT;
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, NULL);

-- The audit log is append-only.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
	SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
	SELECT RAISE(ABORT, 'audit_events is append-only');
END;
