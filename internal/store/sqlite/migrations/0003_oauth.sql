-- 0003: the OpenID provider: authorization requests and their codes, grants
-- with their refresh-token families, revoked access tokens, consents and
-- signing keys. Times are unix milliseconds UTC; 0 means "not yet".

CREATE TABLE oauth_auth_requests (
	id           TEXT    NOT NULL PRIMARY KEY,
	client_id    TEXT    NOT NULL,
	params       BLOB    NOT NULL,
	status       TEXT    NOT NULL,
	user_id      TEXT    NOT NULL DEFAULT '',
	sid          TEXT    NOT NULL DEFAULT '',
	auth_time    INTEGER NOT NULL DEFAULT 0,
	code_hash    BLOB,
	code_used_at INTEGER NOT NULL DEFAULT 0,
	grant_id     TEXT    NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX oauth_auth_requests_code_hash_key ON oauth_auth_requests (code_hash);
CREATE INDEX oauth_auth_requests_expires_at_idx ON oauth_auth_requests (expires_at);

-- A grant is what one code exchange gave a client for a user; its refresh
-- tokens form one family and go with it.
CREATE TABLE oauth_grants (
	id         TEXT    NOT NULL PRIMARY KEY,
	client_id  TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
	user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	sid        TEXT    NOT NULL DEFAULT '',
	scopes     TEXT    NOT NULL DEFAULT '[]',
	auth_time  INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked_at INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX oauth_grants_user_client_idx ON oauth_grants (user_id, client_id);
CREATE INDEX oauth_grants_client_id_idx ON oauth_grants (client_id);
CREATE INDEX oauth_grants_expires_at_idx ON oauth_grants (expires_at);

CREATE TABLE oauth_refresh_tokens (
	token_hash BLOB    NOT NULL PRIMARY KEY,
	grant_id   TEXT    NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX oauth_refresh_tokens_grant_id_idx ON oauth_refresh_tokens (grant_id);
CREATE INDEX oauth_refresh_tokens_expires_at_idx ON oauth_refresh_tokens (expires_at);

-- Access tokens are JWTs verified offline; the ones revoked before their
-- expiry are listed here until then.
CREATE TABLE oauth_revoked_tokens (
	jti        TEXT    NOT NULL PRIMARY KEY,
	expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX oauth_revoked_tokens_expires_at_idx ON oauth_revoked_tokens (expires_at);

CREATE TABLE oauth_consents (
	user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	client_id  TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
	scopes     TEXT    NOT NULL DEFAULT '[]',
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (user_id, client_id)
) STRICT;
CREATE INDEX oauth_consents_client_id_idx ON oauth_consents (client_id);

-- active is 1 for the one key that signs and NULL for retired keys; the
-- unique constraint lets only one instance win the race to create or rotate
-- it.
CREATE TABLE oauth_signing_keys (
	id          TEXT    NOT NULL PRIMARY KEY,
	algorithm   TEXT    NOT NULL,
	private_key BLOB    NOT NULL,
	public_jwk  BLOB    NOT NULL,
	active      INTEGER UNIQUE CHECK (active = 1),
	created_at  INTEGER NOT NULL,
	retired_at  INTEGER NOT NULL DEFAULT 0
) STRICT;
