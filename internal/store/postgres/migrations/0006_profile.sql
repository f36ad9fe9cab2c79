-- 0006: the personal information an owner keeps in the user center: a
-- nickname and a work unit (工作单位). Both are personal data and, like the
-- other fields of an account, stored only sealed (account.Protector); they
-- are never looked up, so they have no blind index. NULL: not set.
ALTER TABLE users ADD COLUMN nickname_cipher BYTEA;
ALTER TABLE users ADD COLUMN work_unit_cipher BYTEA;
