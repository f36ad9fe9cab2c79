-- 0015: enterprise space (企业空间). enterprises are what unid knows of
-- an enterprise from the registry, keyed by its unified social credit
-- code, with the legal representative's name and ID number sealed (the
-- ID number with its blind index); enterprise_members are the roles
-- (legal_rep, admin, handler) people hold, labels a JSON array, at most
-- one legal_rep per enterprise and one default per user;
-- enterprise_grants are invitations waiting for the person to accept,
-- at most one per person and enterprise (a repeat refreshes it);
-- enterprise_applications are handler applications. Appeals with the
-- business licence are review_items of kind enterprise.appeal. Times are
-- unix milliseconds UTC.

CREATE TABLE enterprises (
	uscc                 TEXT    NOT NULL,
	name                 TEXT    NOT NULL,
	legal_rep_name_cipher BYTEA,
	legal_rep_id_cipher  BYTEA,
	legal_rep_id_index   BYTEA,
	status               TEXT    NOT NULL,
	checked_at           BIGINT NOT NULL,
	created_at           BIGINT NOT NULL,
	CONSTRAINT enterprises_pkey PRIMARY KEY (uscc)
);

CREATE TABLE enterprise_members (
	uscc        TEXT    NOT NULL,
	user_id     TEXT    NOT NULL,
	role        TEXT    NOT NULL,
	labels      TEXT    NOT NULL,
	valid_until BIGINT,
	is_default  BIGINT NOT NULL,
	granted_by  TEXT    NOT NULL,
	created_at  BIGINT NOT NULL,
	CONSTRAINT enterprise_members_pkey PRIMARY KEY (uscc, user_id),
	CONSTRAINT enterprise_members_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX enterprise_members_user_idx ON enterprise_members (user_id);
CREATE UNIQUE INDEX enterprise_members_legal_rep_key ON enterprise_members (uscc) WHERE role = 'legal_rep';
CREATE UNIQUE INDEX enterprise_members_default_key ON enterprise_members (user_id) WHERE is_default = 1;

CREATE TABLE enterprise_grants (
	id          TEXT    NOT NULL,
	uscc        TEXT    NOT NULL,
	user_id     TEXT    NOT NULL,
	role        TEXT    NOT NULL,
	labels      TEXT    NOT NULL,
	valid_until BIGINT,
	granted_by  TEXT    NOT NULL,
	created_at  BIGINT NOT NULL,
	expires_at  BIGINT NOT NULL,
	CONSTRAINT enterprise_grants_pkey PRIMARY KEY (id),
	CONSTRAINT enterprise_grants_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX enterprise_grants_user_idx ON enterprise_grants (user_id);
CREATE UNIQUE INDEX enterprise_grants_user_key ON enterprise_grants (uscc, user_id);
CREATE INDEX enterprise_grants_granted_by_idx ON enterprise_grants (granted_by);

CREATE TABLE enterprise_applications (
	id              TEXT    NOT NULL,
	uscc            TEXT    NOT NULL,
	user_id         TEXT    NOT NULL,
	reason          TEXT    NOT NULL,
	state           TEXT    NOT NULL,
	created_at      BIGINT NOT NULL,
	expires_at      BIGINT NOT NULL,
	decided_at      BIGINT,
	decided_by      TEXT    NOT NULL,
	decision_reason TEXT    NOT NULL,
	CONSTRAINT enterprise_applications_pkey PRIMARY KEY (id),
	CONSTRAINT enterprise_applications_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX enterprise_applications_user_idx ON enterprise_applications (user_id, created_at);
CREATE INDEX enterprise_applications_uscc_idx ON enterprise_applications (uscc, state, created_at);
CREATE UNIQUE INDEX enterprise_applications_pending_key ON enterprise_applications (uscc, user_id) WHERE state = 'pending';
