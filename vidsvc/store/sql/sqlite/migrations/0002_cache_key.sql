-- 0002_cache_key: the render cache. cache_key is the SHA-256 (hex) of everything that
-- determines a composition's output bytes (vidsvc/work/compositions/cache.py); it is written by finish() on
-- completion, so only a completed job with an output ever carries one that a lookup can match.
ALTER TABLE compositions ADD COLUMN cache_key TEXT;

-- find_cached: the newest completed job with a key. Partial: most rows never get a key.
CREATE INDEX ix_compositions_cache_key ON compositions (cache_key, finished_at)
    WHERE cache_key IS NOT NULL;
