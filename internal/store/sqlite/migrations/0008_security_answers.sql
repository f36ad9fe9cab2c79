-- 0008: security questions (密保问题). One row per account: the three
-- questions it chose (IDs of the configured list) and argon2id hashes of
-- the normalised answers; set_at is unix milliseconds UTC.

CREATE TABLE security_answers (
	user_id   TEXT    NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	question1 TEXT    NOT NULL,
	answer1   TEXT    NOT NULL,
	question2 TEXT    NOT NULL,
	answer2   TEXT    NOT NULL,
	question3 TEXT    NOT NULL,
	answer3   TEXT    NOT NULL,
	set_at    INTEGER NOT NULL
) STRICT;
