-- 0022: the retention anchor only moves forward, to a stored event below
-- the head, and carries that event's hash. Without this, anyone with
-- unid's own database role could move the anchor past events, delete
-- them (the delete trigger lets events up to the anchor go), and leave a
-- shorter trail that verifies. The anchor row is never inserted or
-- deleted, and neither table of the trail can be truncated, which row
-- triggers do not see.
CREATE FUNCTION audit_anchor_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	-- A NULL condition (no event NEW.seq) refuses as false does.
	IF TG_OP = 'UPDATE'
		AND NEW.id = OLD.id
		AND NEW.seq > OLD.seq
		AND NEW.seq < (SELECT seq FROM audit_head WHERE id = 1)
		AND NEW.hash IS NOT NULL
		AND NEW.hash = (SELECT hash FROM audit_events WHERE seq = NEW.seq) THEN
		RETURN NEW;
	END IF;
	RAISE EXCEPTION 'audit_anchor only moves forward, to a stored event below the head';
END;
$$;
CREATE TRIGGER audit_anchor_forward_only BEFORE INSERT OR UPDATE OR DELETE ON audit_anchor
	FOR EACH ROW EXECUTE FUNCTION audit_anchor_forward_only();

CREATE FUNCTION audit_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% cannot be truncated', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER audit_anchor_no_truncate BEFORE TRUNCATE ON audit_anchor
	FOR EACH STATEMENT EXECUTE FUNCTION audit_no_truncate();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
	FOR EACH STATEMENT EXECUTE FUNCTION audit_no_truncate();
