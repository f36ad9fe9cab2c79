-- 0008: security questions (密保问题). One row per account: the three
-- questions it chose (IDs of the configured list) and argon2id hashes of
-- the normalised answers; set_at is unix milliseconds UTC.

CREATE TABLE security_answers (
	user_id   TEXT   NOT NULL,
	question1 TEXT   NOT NULL,
	answer1   TEXT   NOT NULL,
	question2 TEXT   NOT NULL,
	answer2   TEXT   NOT NULL,
	question3 TEXT   NOT NULL,
	answer3   TEXT   NOT NULL,
	set_at    BIGINT NOT NULL,
	CONSTRAINT security_answers_pkey PRIMARY KEY (user_id),
	CONSTRAINT security_answers_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
