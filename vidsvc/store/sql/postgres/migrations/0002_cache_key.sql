-- 0002_cache_key: the render cache, as in sql/sqlite/migrations/0002_cache_key.sql.
-- A nullable column without a default is a catalog change only (no table rewrite). The index is
-- built inside the migration's transaction, which blocks writes to compositions while it builds:
-- on a very large table, build it CONCURRENTLY by hand before deploying (same name: IF NOT EXISTS).
ALTER TABLE compositions ADD COLUMN cache_key text COLLATE "C";

-- find_cached: the newest completed job with a key. Partial: most rows never get a key.
CREATE INDEX IF NOT EXISTS ix_compositions_cache_key ON compositions (cache_key, finished_at)
    WHERE cache_key IS NOT NULL;
