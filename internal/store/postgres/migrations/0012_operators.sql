-- 0012: operators of the console (/console/), separate from citizens'
-- accounts, and their console sessions. The TOTP secret is sealed like
-- personal data; only the SHA-256 of the one-time setup token and of each
-- session token is stored. roles is a JSON array. Times are unix
-- milliseconds UTC.

CREATE TABLE operators (
	id               TEXT    NOT NULL,
	login_name       TEXT    NOT NULL,
	login_name_key   TEXT    NOT NULL,
	password_hash    TEXT    NOT NULL,
	totp_cipher      BYTEA,
	totp_last_step   BIGINT  NOT NULL DEFAULT 0,
	roles            TEXT    NOT NULL,
	status           TEXT    NOT NULL,
	setup_hash       BYTEA,
	setup_expires_at BIGINT  NOT NULL,
	created_at       BIGINT  NOT NULL,
	updated_at       BIGINT  NOT NULL,
	CONSTRAINT operators_pkey PRIMARY KEY (id)
);
CREATE UNIQUE INDEX operators_login_name_key_idx ON operators (login_name_key);
CREATE UNIQUE INDEX operators_setup_hash_idx ON operators (setup_hash);

CREATE TABLE operator_sessions (
	token_hash   BYTEA   NOT NULL,
	operator_id  TEXT    NOT NULL,
	created_at   BIGINT  NOT NULL,
	last_seen_at BIGINT  NOT NULL,
	expires_at   BIGINT  NOT NULL,
	ip           TEXT    NOT NULL,
	user_agent   TEXT    NOT NULL,
	CONSTRAINT operator_sessions_pkey PRIMARY KEY (token_hash),
	CONSTRAINT operator_sessions_operator_id_fkey FOREIGN KEY (operator_id) REFERENCES operators (id) ON DELETE CASCADE
);
CREATE INDEX operator_sessions_operator_id_idx ON operator_sessions (operator_id);
