-- 0002: the client registry (service systems) and which clients each
-- browser session signed in to (for back-channel and single logout).
-- Lists are JSON arrays of strings.

CREATE TABLE clients (
	id                        TEXT    NOT NULL PRIMARY KEY,
	name                      TEXT    NOT NULL,
	type                      TEXT    NOT NULL,
	secret_hash               BLOB,
	redirect_uris             TEXT    NOT NULL DEFAULT '[]',
	post_logout_redirect_uris TEXT    NOT NULL DEFAULT '[]',
	scopes                    TEXT    NOT NULL DEFAULT '[]',
	first_party               INTEGER NOT NULL DEFAULT 0,
	backchannel_logout_uri    TEXT    NOT NULL DEFAULT '',
	created_at                INTEGER NOT NULL,
	updated_at                INTEGER NOT NULL
) STRICT;

CREATE TABLE session_clients (
	sid        TEXT    NOT NULL,
	client_id  TEXT    NOT NULL,
	ref        TEXT    NOT NULL DEFAULT '',
	protocol   TEXT    NOT NULL,
	url        TEXT    NOT NULL DEFAULT '',
	user_id    TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (sid, client_id, ref)
) STRICT;
