-- 0011: real-name verification (实名认证). realname_checks records every
-- check sent to a verifier (what it cost, how it ended); realname_bindings
-- are the evidence a user's level is computed from (one per method);
-- review_items are the items a reviewer decides (counter verifications,
-- appeals), with their personal data sealed in data; review_files are the
-- sealed uploads of an item. A check's subject is a keyed MAC of the
-- name and ID number it was about, kept for an appeal to match. Times are unix milliseconds UTC.

CREATE TABLE realname_checks (
	id         TEXT    NOT NULL,
	user_id    TEXT    NOT NULL,
	method     TEXT    NOT NULL,
	provider   TEXT    NOT NULL,
	result     TEXT    NOT NULL,
	reference  TEXT    NOT NULL,
	subject    BYTEA,
	created_at BIGINT NOT NULL,
	CONSTRAINT realname_checks_pkey PRIMARY KEY (id)
);
CREATE INDEX realname_checks_user_idx ON realname_checks (user_id, created_at);

CREATE TABLE realname_bindings (
	user_id    TEXT    NOT NULL,
	method     TEXT    NOT NULL,
	level      BIGINT NOT NULL,
	detail     TEXT    NOT NULL,
	reference  TEXT    NOT NULL,
	created_at BIGINT NOT NULL,
	CONSTRAINT realname_bindings_pkey PRIMARY KEY (user_id, method)
);

CREATE TABLE review_items (
	id         TEXT    NOT NULL,
	kind       TEXT    NOT NULL,
	state      TEXT    NOT NULL,
	reference  TEXT    NOT NULL,
	user_id    TEXT    NOT NULL,
	subject    TEXT    NOT NULL,
	data       BYTEA,
	created_at BIGINT NOT NULL,
	decided_at BIGINT,
	decided_by TEXT    NOT NULL,
	reason     TEXT    NOT NULL,
	CONSTRAINT review_items_pkey PRIMARY KEY (id)
);
CREATE INDEX review_items_queue_idx ON review_items (state, created_at, id);
CREATE INDEX review_items_kind_queue_idx ON review_items (kind, state, created_at, id);
CREATE INDEX review_items_user_idx ON review_items (user_id, state);
-- At most one pending item of a kind per user, whatever races.
CREATE UNIQUE INDEX review_items_pending_key ON review_items (user_id, kind) WHERE state = 'pending';

CREATE TABLE review_files (
	id           TEXT    NOT NULL,
	item_id      TEXT    NOT NULL,
	label        TEXT    NOT NULL,
	content_type TEXT    NOT NULL,
	size         BIGINT NOT NULL,
	data         BYTEA   NOT NULL,
	CONSTRAINT review_files_pkey PRIMARY KEY (id)
);
CREATE INDEX review_files_item_idx ON review_files (item_id);
