-- 0016: acting for an enterprise in single sign-on (法人账号切换). The
-- browser session remembers which identity it acts as ("" = the person,
-- else the enterprise's unified social credit code), a grant remembers the
-- identity it was issued for so that a refresh re-reads that membership,
-- and a client may require a least enterprise role ("" asks for none).

ALTER TABLE sessions ADD COLUMN acting_uscc TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_grants ADD COLUMN acting_uscc TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN min_enterprise_role TEXT NOT NULL DEFAULT '';
