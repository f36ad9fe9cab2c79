-- 0009: a person's own history (the user center's sign-ins and security
-- events) reads the newest events of one actor; without this index that is
-- a walk back through the whole log for anyone who has been quiet a while.

CREATE INDEX audit_events_actor_idx ON audit_events (actor, seq);
