-- 0003: the OpenID provider: authorization requests and their codes, grants
-- with their refresh-token families, revoked access tokens, consents and
-- signing keys. Times are unix milliseconds UTC; 0 means "not yet".

CREATE TABLE oauth_auth_requests (
	id           TEXT   NOT NULL,
	client_id    TEXT   NOT NULL,
	params       BYTEA  NOT NULL,
	status       TEXT   NOT NULL,
	user_id      TEXT   NOT NULL DEFAULT '',
	sid          TEXT   NOT NULL DEFAULT '',
	auth_time    BIGINT NOT NULL DEFAULT 0,
	code_hash    BYTEA,
	code_used_at BIGINT NOT NULL DEFAULT 0,
	grant_id     TEXT   NOT NULL DEFAULT '',
	created_at   BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL,
	CONSTRAINT oauth_auth_requests_pkey PRIMARY KEY (id)
);
CREATE UNIQUE INDEX oauth_auth_requests_code_hash_key ON oauth_auth_requests (code_hash);
CREATE INDEX oauth_auth_requests_expires_at_idx ON oauth_auth_requests (expires_at);

-- A grant is what one code exchange gave a client for a user; its refresh
-- tokens form one family and go with it.
CREATE TABLE oauth_grants (
	id         TEXT   NOT NULL,
	client_id  TEXT   NOT NULL,
	user_id    TEXT   NOT NULL,
	sid        TEXT   NOT NULL DEFAULT '',
	scopes     TEXT   NOT NULL DEFAULT '[]',
	auth_time  BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	revoked_at BIGINT NOT NULL DEFAULT 0,
	CONSTRAINT oauth_grants_pkey PRIMARY KEY (id),
	CONSTRAINT oauth_grants_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients (id) ON DELETE CASCADE,
	CONSTRAINT oauth_grants_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX oauth_grants_user_client_idx ON oauth_grants (user_id, client_id);
CREATE INDEX oauth_grants_client_id_idx ON oauth_grants (client_id);
CREATE INDEX oauth_grants_expires_at_idx ON oauth_grants (expires_at);

CREATE TABLE oauth_refresh_tokens (
	token_hash BYTEA  NOT NULL,
	grant_id   TEXT   NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at    BIGINT NOT NULL DEFAULT 0,
	CONSTRAINT oauth_refresh_tokens_pkey PRIMARY KEY (token_hash),
	CONSTRAINT oauth_refresh_tokens_grant_id_fkey FOREIGN KEY (grant_id) REFERENCES oauth_grants (id) ON DELETE CASCADE
);
CREATE INDEX oauth_refresh_tokens_grant_id_idx ON oauth_refresh_tokens (grant_id);
CREATE INDEX oauth_refresh_tokens_expires_at_idx ON oauth_refresh_tokens (expires_at);

-- Access tokens are JWTs verified offline; the ones revoked before their
-- expiry are listed here until then.
CREATE TABLE oauth_revoked_tokens (
	jti        TEXT   NOT NULL,
	expires_at BIGINT NOT NULL,
	CONSTRAINT oauth_revoked_tokens_pkey PRIMARY KEY (jti)
);
CREATE INDEX oauth_revoked_tokens_expires_at_idx ON oauth_revoked_tokens (expires_at);

CREATE TABLE oauth_consents (
	user_id    TEXT   NOT NULL,
	client_id  TEXT   NOT NULL,
	scopes     TEXT   NOT NULL DEFAULT '[]',
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	CONSTRAINT oauth_consents_pkey PRIMARY KEY (user_id, client_id),
	CONSTRAINT oauth_consents_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT oauth_consents_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients (id) ON DELETE CASCADE
);
CREATE INDEX oauth_consents_client_id_idx ON oauth_consents (client_id);

-- active is TRUE for the one key that signs and NULL for retired keys; the
-- unique constraint lets only one instance win the race to create or rotate
-- it.
CREATE TABLE oauth_signing_keys (
	id          TEXT    NOT NULL,
	algorithm   TEXT    NOT NULL,
	private_key BYTEA   NOT NULL,
	public_jwk  BYTEA   NOT NULL,
	active      BOOLEAN CHECK (active),
	created_at  BIGINT  NOT NULL,
	retired_at  BIGINT  NOT NULL DEFAULT 0,
	CONSTRAINT oauth_signing_keys_pkey PRIMARY KEY (id),
	CONSTRAINT oauth_signing_keys_active_key UNIQUE (active)
);
