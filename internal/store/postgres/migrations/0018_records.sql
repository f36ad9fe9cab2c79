-- 0018: the personal and enterprise records (我的办件/咨询/消息/投诉/收藏).
-- A record is a summary and a link that a service system keeps in unid for
-- a person (user_id) or an enterprise (uscc; handler_id the member who
-- acted for it, if the system said so): a case, a consultation, a
-- complaint, a message or a favorite. client_id is the system that wrote
-- it, '' for unid's own messages; external_id is the system's own id
-- (unid's messages: their id), unique per system and kind, so that a
-- write is an upsert. updated_at is the system's time of the write and
-- decides between writes that arrive out of order; submitted_at never
-- changes after the first write and orders the lists (keyset on
-- submitted_at, id). read_at is NULL while unread. unid's own messages
-- keep their event and the parameters of its texts (JSON) instead of a
-- title and a summary; the messages of 0013 move here.
--
-- history is the status history of a record (a JSON array of {"s":
-- status, "at": time}, oldest first, '' for none), appended only when the
-- status changes. It lives in the record's row, so that a write touches
-- one row of one table: a history table doubled the cost of ingest.
-- client_users and client_enterprises remember who signed in to a
-- system and which enterprises were acted for in it: a system writes
-- records only for them. They are filled from the grants
-- and session records of before. Times are unix milliseconds UTC.

CREATE TABLE records (
	id           TEXT    NOT NULL,
	kind         TEXT    NOT NULL,
	user_id      TEXT,
	uscc         TEXT,
	handler_id   TEXT,
	client_id    TEXT    NOT NULL,
	external_id  TEXT    NOT NULL,
	number       TEXT    NOT NULL DEFAULT '',
	title        TEXT    NOT NULL DEFAULT '',
	item_code    TEXT    NOT NULL DEFAULT '',
	department   TEXT    NOT NULL DEFAULT '',
	status       TEXT    NOT NULL DEFAULT '',
	summary      TEXT    NOT NULL DEFAULT '',
	link         TEXT    NOT NULL DEFAULT '',
	event        TEXT    NOT NULL DEFAULT '',
	params       TEXT    NOT NULL DEFAULT '',
	submitted_at BIGINT  NOT NULL,
	updated_at   BIGINT  NOT NULL,
	created_at   BIGINT  NOT NULL,
	read_at      BIGINT,
	history      TEXT    NOT NULL DEFAULT '',
	CONSTRAINT records_pkey PRIMARY KEY (id),
	CONSTRAINT records_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT records_handler_id_fkey FOREIGN KEY (handler_id) REFERENCES users (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX records_source_key ON records (client_id, external_id, kind);
CREATE INDEX records_user_idx ON records (user_id, kind, submitted_at, id) WHERE user_id IS NOT NULL;
CREATE INDEX records_uscc_idx ON records (uscc, kind, submitted_at, id) WHERE uscc IS NOT NULL;
CREATE INDEX records_unread_idx ON records (user_id, kind) WHERE read_at IS NULL;
CREATE INDEX records_handler_idx ON records (handler_id) WHERE handler_id IS NOT NULL;
CREATE INDEX records_retention_idx ON records (kind, updated_at);

CREATE TABLE client_users (
	client_id TEXT    NOT NULL,
	user_id   TEXT    NOT NULL,
	first_at  BIGINT  NOT NULL,
	CONSTRAINT client_users_pkey PRIMARY KEY (client_id, user_id),
	CONSTRAINT client_users_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX client_users_user_idx ON client_users (user_id);

CREATE TABLE client_enterprises (
	client_id TEXT    NOT NULL,
	uscc      TEXT    NOT NULL,
	first_at  BIGINT  NOT NULL,
	CONSTRAINT client_enterprises_pkey PRIMARY KEY (client_id, uscc)
);

INSERT INTO client_users (client_id, user_id, first_at)
	SELECT client_id, user_id, MIN(created_at) FROM (
		SELECT client_id, user_id, created_at FROM oauth_grants
		UNION ALL
		SELECT client_id, user_id, created_at FROM session_clients
	) s WHERE user_id IN (SELECT id FROM users) AND client_id IN (SELECT id FROM clients)
	GROUP BY client_id, user_id;

INSERT INTO records (id, kind, user_id, client_id, external_id, event, params, link, submitted_at, updated_at, created_at, read_at)
	SELECT id, 'message', user_id, '', id, event, params, link, created_at, created_at, created_at, read_at FROM messages;
DROP TABLE messages;
