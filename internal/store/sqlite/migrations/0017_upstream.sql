-- 0017: signing in through identity providers outside unid (Alipay, OpenID
-- providers). A link ties an account to one external identity: the
-- provider's id in unid's configuration, the application at the provider
-- the identity belongs to (Alipay app_id, OpenID issuer) and the subject
-- there (Alipay open_id, OpenID sub). An identity links to one account; an
-- account has at most one link per provider. alipay_user_id keeps Alipay's
-- user_id where it still comes; display is a masked nickname for the
-- person's list; certified is Alipay's is_certified=T and id_number_index
-- the blind index of the ID number Alipay certified (cert_no, where the
-- application may read it), evidence for the Alipay real-name path. Times
-- are unix milliseconds UTC.
--
-- A session, an authorization request and a grant remember how the user
-- signed in (amr: space-separated RFC 8176 values and unid's own, "" for
-- rows from before, which were all password sign-ins).

CREATE TABLE upstream_links (
	provider       TEXT    NOT NULL,
	app            TEXT    NOT NULL,
	subject        TEXT    NOT NULL,
	user_id        TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	alipay_user_id TEXT    NOT NULL DEFAULT '',
	display        TEXT    NOT NULL DEFAULT '',
	id_number_index BLOB   ,
	certified      INTEGER NOT NULL DEFAULT 0,
	linked_at      INTEGER NOT NULL,
	last_used_at   INTEGER NOT NULL,
	PRIMARY KEY (provider, app, subject)
) STRICT;
CREATE UNIQUE INDEX upstream_links_user_provider_key ON upstream_links (user_id, provider);

ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_auth_requests ADD COLUMN amr TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_grants ADD COLUMN amr TEXT NOT NULL DEFAULT '';
