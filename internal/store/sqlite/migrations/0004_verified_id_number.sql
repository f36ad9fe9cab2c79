-- 0004: an ID number is unique only among verified accounts.
--
-- Registration stores an ID number unverified (realname_level 0). Such a
-- number proves nothing, so it no longer blocks another account from
-- registering with it, and it no longer signs anyone in; once the real-name
-- flow verifies it (realname_level >= 1) it is unique, and a second
-- verification of the same number is a conflict to be settled by appeal.
--
-- Safe on existing data: the index dropped here made every ID-number index
-- unique across all accounts, so no two accounts, verified or not, hold the
-- same number when this runs, and the partial index below always builds.
DROP INDEX users_id_number_index_key;
CREATE UNIQUE INDEX users_id_number_index_verified_key ON users (id_number_index)
	WHERE realname_level >= 1;
