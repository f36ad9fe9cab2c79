-- 0004 is held for a change prepared alongside this one; this placeholder
-- keeps the numbering whole until that change lands and takes its place.
SELECT 1;
