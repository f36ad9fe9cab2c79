-- 0005: flow records, the one shape of multi-step state (store.Flow). Times
-- are unix milliseconds UTC. The CAS sign-ins that were waiting for the
-- login page as challenges of kind 'cas_login' move over unchanged.

CREATE TABLE flows (
	id         TEXT    NOT NULL PRIMARY KEY,
	kind       TEXT    NOT NULL,
	state      TEXT    NOT NULL,
	subject    TEXT    NOT NULL DEFAULT '',
	data       BLOB,
	issued_at  INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX flows_expires_at_idx ON flows (expires_at);

INSERT INTO flows (id, kind, state, subject, data, issued_at, expires_at, updated_at)
	SELECT id, kind, 'pending', '', secret, created_at, expires_at, created_at
	FROM challenges WHERE kind = 'cas_login';
DELETE FROM challenges WHERE kind = 'cas_login';
