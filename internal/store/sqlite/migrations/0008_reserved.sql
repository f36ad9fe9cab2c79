-- 0008: reserved for a change made in parallel; it takes this number's
-- place when the branches are merged. Does nothing.
SELECT 1;
