-- 0007: the EMS addresses of each user (我的EMS). Recipient, phone and
-- detailed address are personal data, sealed (AES-GCM) like the users'
-- identifiers, and never looked up. division is the finest GB/T 2260 code
-- (a county, or a city without counties). One default per user, held by a
-- partial unique index. Times are unix milliseconds UTC.

CREATE TABLE addresses (
	id               TEXT    NOT NULL PRIMARY KEY,
	user_id          TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	recipient_cipher BLOB    NOT NULL,
	phone_cipher     BLOB    NOT NULL,
	detail_cipher    BLOB    NOT NULL,
	division         TEXT    NOT NULL,
	postcode         TEXT    NOT NULL,
	is_default       INTEGER NOT NULL DEFAULT 0,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX addresses_user_id_idx ON addresses (user_id, created_at);
CREATE UNIQUE INDEX addresses_default_idx ON addresses (user_id) WHERE is_default = 1;
