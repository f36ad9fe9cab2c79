-- 0020: a service system can be disabled from the console: its sign-ins
-- are refused and its tokens stop working until it is enabled again.

ALTER TABLE clients ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
