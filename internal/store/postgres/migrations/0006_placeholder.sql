-- 0006: a placeholder that keeps the version sequence whole on this branch;
-- the migration of this number from another branch replaces it at merge.
SELECT 1;
