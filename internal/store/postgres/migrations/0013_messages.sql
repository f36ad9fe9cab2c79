-- 0013: unid's own messages to a citizen (我的消息). A message stores its
-- event and the parameters of its texts (JSON, never personal data
-- unmasked), not the texts: title and body are rendered from the message
-- keys of the event in the reader's language. read_at is NULL while
-- unread. Pages are read newest first by keyset on (created_at, id).
-- Times are unix milliseconds UTC.

CREATE TABLE messages (
	id         TEXT   NOT NULL,
	user_id    TEXT   NOT NULL,
	event      TEXT   NOT NULL,
	params     TEXT   NOT NULL,
	link       TEXT   NOT NULL,
	created_at BIGINT NOT NULL,
	read_at    BIGINT,
	CONSTRAINT messages_pkey PRIMARY KEY (id),
	CONSTRAINT messages_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX messages_user_id_idx ON messages (user_id, created_at, id);
CREATE INDEX messages_unread_idx ON messages (user_id) WHERE read_at IS NULL;
