-- 0002: the client registry (service systems) and which clients each
-- browser session signed in to (for back-channel and single logout).
-- Lists are JSON arrays of strings, kept as TEXT for portability.

CREATE TABLE clients (
	id                        TEXT    NOT NULL,
	name                      TEXT    NOT NULL,
	type                      TEXT    NOT NULL,
	secret_hash               BYTEA,
	redirect_uris             TEXT    NOT NULL DEFAULT '[]',
	post_logout_redirect_uris TEXT    NOT NULL DEFAULT '[]',
	scopes                    TEXT    NOT NULL DEFAULT '[]',
	first_party               BOOLEAN NOT NULL DEFAULT FALSE,
	backchannel_logout_uri    TEXT    NOT NULL DEFAULT '',
	created_at                BIGINT  NOT NULL,
	updated_at                BIGINT  NOT NULL,
	CONSTRAINT clients_pkey PRIMARY KEY (id)
);

CREATE TABLE session_clients (
	sid        TEXT   NOT NULL,
	client_id  TEXT   NOT NULL,
	ref        TEXT   NOT NULL DEFAULT '',
	protocol   TEXT   NOT NULL,
	url        TEXT   NOT NULL DEFAULT '',
	user_id    TEXT   NOT NULL,
	created_at BIGINT NOT NULL,
	CONSTRAINT session_clients_pkey PRIMARY KEY (sid, client_id, ref)
);
