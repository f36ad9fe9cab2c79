-- 0007: the EMS addresses of each user (我的EMS). Recipient, phone and
-- detailed address are personal data, sealed (AES-GCM) like the users'
-- identifiers, and never looked up. division is the finest GB/T 2260 code
-- (a county, or a city without counties). One default per user, held by a
-- partial unique index. Times are unix milliseconds UTC.

CREATE TABLE addresses (
	id               TEXT    NOT NULL,
	user_id          TEXT    NOT NULL,
	recipient_cipher BYTEA   NOT NULL,
	phone_cipher     BYTEA   NOT NULL,
	detail_cipher    BYTEA   NOT NULL,
	division         TEXT    NOT NULL,
	postcode         TEXT    NOT NULL,
	is_default       BOOLEAN NOT NULL DEFAULT FALSE,
	created_at       BIGINT  NOT NULL,
	updated_at       BIGINT  NOT NULL,
	CONSTRAINT addresses_pkey PRIMARY KEY (id),
	CONSTRAINT addresses_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX addresses_user_id_idx ON addresses (user_id, created_at);
CREATE UNIQUE INDEX addresses_default_idx ON addresses (user_id) WHERE is_default;
