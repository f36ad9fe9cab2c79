-- 0021: operators' personal API tokens. A script presents one
-- (Authorization: Bearer) to call the operator API as its operator, with
-- the operator's roles at the time of each call. Only the SHA-256 of the
-- token is stored; a call finds its token by that hash. Times are unix
-- milliseconds UTC; last_used_at is 0 until first used.
CREATE TABLE operator_tokens (
	id           TEXT   NOT NULL,
	operator_id  TEXT   NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
	name         TEXT   NOT NULL,
	token_hash   BYTEA  NOT NULL,
	created_at   BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL,
	last_used_at BIGINT NOT NULL DEFAULT 0,
	CONSTRAINT operator_tokens_pkey PRIMARY KEY (id)
);
CREATE UNIQUE INDEX IF NOT EXISTS operator_tokens_hash_idx ON operator_tokens (token_hash);
CREATE INDEX IF NOT EXISTS operator_tokens_operator_idx ON operator_tokens (operator_id);
CREATE INDEX IF NOT EXISTS operator_tokens_expires_idx ON operator_tokens (expires_at);
