-- 0022: the retention anchor only moves forward, to a stored event below
-- the head, and carries that event's hash. Without this, anyone with
-- unid's own database role could move the anchor past events, delete
-- them, and leave a shorter trail that verifies. See the PostgreSQL
-- migration of the same number.
CREATE TRIGGER audit_anchor_no_delete BEFORE DELETE ON audit_anchor
BEGIN
	SELECT RAISE(ABORT, 'audit_anchor only moves forward');
END;

CREATE TRIGGER audit_anchor_no_insert BEFORE INSERT ON audit_anchor
BEGIN
	SELECT RAISE(ABORT, 'audit_anchor only moves forward');
END;

-- A condition that is NULL (no event NEW.seq) refuses as false does.
CREATE TRIGGER audit_anchor_forward BEFORE UPDATE ON audit_anchor
	WHEN (NEW.id = OLD.id
		AND NEW.seq > OLD.seq
		AND NEW.seq < (SELECT seq FROM audit_head WHERE id = 1)
		AND NEW.hash IS NOT NULL
		AND NEW.hash = (SELECT hash FROM audit_events WHERE seq = NEW.seq)) IS NOT 1
BEGIN
	SELECT RAISE(ABORT, 'audit_anchor only moves forward, to a stored event below the head');
END;
