-- 0012: operators of the console (/console/), separate from citizens'
-- accounts, and their console sessions. The TOTP secret is sealed like
-- personal data; only the SHA-256 of the one-time setup token and of each
-- session token is stored. roles is a JSON array. Times are unix
-- milliseconds UTC.

CREATE TABLE operators (
	id               TEXT    NOT NULL PRIMARY KEY,
	login_name       TEXT    NOT NULL,
	login_name_key   TEXT    NOT NULL,
	password_hash    TEXT    NOT NULL,
	totp_cipher      BLOB,
	totp_last_step   INTEGER NOT NULL DEFAULT 0,
	roles            TEXT    NOT NULL,
	status           TEXT    NOT NULL,
	setup_hash       BLOB,
	setup_expires_at INTEGER NOT NULL,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX operators_login_name_key_idx ON operators (login_name_key);
CREATE UNIQUE INDEX operators_setup_hash_idx ON operators (setup_hash);

CREATE TABLE operator_sessions (
	token_hash   BLOB    NOT NULL PRIMARY KEY,
	operator_id  TEXT    NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	ip           TEXT    NOT NULL,
	user_agent   TEXT    NOT NULL
) STRICT;
CREATE INDEX operator_sessions_operator_id_idx ON operator_sessions (operator_id);
