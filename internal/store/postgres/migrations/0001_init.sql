-- 0001: accounts, sessions, challenges, counters and the audit chain.
-- Times are unix milliseconds UTC. Kept within what CockroachDB and
-- YugabyteDB accept.

CREATE TABLE users (
	id               TEXT    NOT NULL,
	login_name       TEXT    NOT NULL,
	login_name_key   TEXT    NOT NULL,
	password_hash    TEXT    NOT NULL,
	phone_cipher     BYTEA,
	phone_index      BYTEA,
	id_number_cipher BYTEA,
	id_number_index  BYTEA,
	email_cipher     BYTEA,
	email_index      BYTEA,
	real_name_cipher BYTEA,
	realname_level   INTEGER NOT NULL DEFAULT 0,
	status           TEXT    NOT NULL,
	created_at       BIGINT  NOT NULL,
	updated_at       BIGINT  NOT NULL,
	CONSTRAINT users_pkey PRIMARY KEY (id)
);
CREATE UNIQUE INDEX users_login_name_key_key ON users (login_name_key);
CREATE UNIQUE INDEX users_phone_index_key ON users (phone_index);
CREATE UNIQUE INDEX users_id_number_index_key ON users (id_number_index);
CREATE UNIQUE INDEX users_email_index_key ON users (email_index);

CREATE TABLE sessions (
	token_hash   BYTEA   NOT NULL,
	sid          TEXT    NOT NULL,
	user_id      TEXT    NOT NULL,
	auth_time    BIGINT  NOT NULL,
	created_at   BIGINT  NOT NULL,
	last_seen_at BIGINT  NOT NULL,
	expires_at   BIGINT  NOT NULL,
	ip           TEXT    NOT NULL DEFAULT '',
	user_agent   TEXT    NOT NULL DEFAULT '',
	CONSTRAINT sessions_pkey PRIMARY KEY (token_hash),
	CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_sid_idx ON sessions (sid);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
CREATE INDEX sessions_last_seen_at_idx ON sessions (last_seen_at);

CREATE TABLE challenges (
	kind       TEXT    NOT NULL,
	id         TEXT    NOT NULL,
	secret     BYTEA,
	subject    BYTEA,
	attempts   INTEGER NOT NULL DEFAULT 0,
	created_at BIGINT  NOT NULL,
	expires_at BIGINT  NOT NULL,
	CONSTRAINT challenges_pkey PRIMARY KEY (kind, id)
);
CREATE INDEX challenges_expires_at_idx ON challenges (expires_at);

CREATE TABLE counters (
	key        TEXT   NOT NULL,
	count      BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	CONSTRAINT counters_pkey PRIMARY KEY (key)
);
CREATE INDEX counters_expires_at_idx ON counters (expires_at);

CREATE TABLE audit_events (
	seq        BIGINT NOT NULL,
	time       BIGINT NOT NULL,
	actor      TEXT   NOT NULL DEFAULT '',
	action     TEXT   NOT NULL,
	result     TEXT   NOT NULL DEFAULT '',
	ip         TEXT   NOT NULL DEFAULT '',
	user_agent TEXT   NOT NULL DEFAULT '',
	subject    TEXT   NOT NULL DEFAULT '',
	detail     TEXT   NOT NULL DEFAULT '',
	prev_hash  BYTEA,
	hash       BYTEA  NOT NULL,
	CONSTRAINT audit_events_pkey PRIMARY KEY (seq)
);

-- audit_head is the one row that every append updates first: its row lock
-- serializes appends from every instance, and it holds the chain's head.
CREATE TABLE audit_head (
	id   INTEGER NOT NULL CHECK (id = 1),
	seq  BIGINT  NOT NULL,
	hash BYTEA,
	CONSTRAINT audit_head_pkey PRIMARY KEY (id)
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, NULL);

-- The audit log is append-only.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
	FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
