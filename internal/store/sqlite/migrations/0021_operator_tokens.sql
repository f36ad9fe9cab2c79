-- 0021: operators' personal API tokens. See the PostgreSQL migration of
-- the same number for what they are for.
CREATE TABLE operator_tokens (
	id           TEXT    NOT NULL PRIMARY KEY,
	operator_id  TEXT    NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
	name         TEXT    NOT NULL,
	token_hash   BLOB    NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	last_used_at INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS operator_tokens_hash_idx ON operator_tokens (token_hash);
CREATE INDEX IF NOT EXISTS operator_tokens_operator_idx ON operator_tokens (operator_id);
CREATE INDEX IF NOT EXISTS operator_tokens_expires_idx ON operator_tokens (expires_at);
