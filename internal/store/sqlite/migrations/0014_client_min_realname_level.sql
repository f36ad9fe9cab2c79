-- 0014: a client's minimum real-name level (0 not verified … 3 高级),
-- applied to every sign-in to it, OpenID Connect and CAS alike (step-up:
-- a user below it is sent to the upgrade page). 0 asks for nothing.

ALTER TABLE clients ADD COLUMN min_realname_level INTEGER NOT NULL DEFAULT 0;
