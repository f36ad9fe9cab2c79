-- 0010: account closure (注销). A closed account keeps its row, with its
-- status 'closed', the time in closed_at, its login name (reserved for
-- ever: it is public and named by audit records) and nothing personal.
-- The blind indexes of the phone and the verified ID number it held move
-- to closed_identifiers, where they block a new account until released_at
-- (the cooling-off); the janitor deletes released rows. Times are unix
-- milliseconds UTC.

ALTER TABLE users ADD COLUMN closed_at BIGINT;

CREATE TABLE closed_identifiers (
	kind        TEXT   NOT NULL,
	blind_index BYTEA  NOT NULL,
	released_at BIGINT NOT NULL,
	CONSTRAINT closed_identifiers_pkey PRIMARY KEY (kind, blind_index)
);
CREATE INDEX closed_identifiers_released_at_idx ON closed_identifiers (released_at);
