-- 0003_any_kind: a job's kind is whatever a handler names (vidsvc/work/kinds.py); the store
-- does not list them, so a new kind of work needs no migration.
-- SQLite cannot drop a CHECK in place: the table is rebuilt with the same columns in the same
-- order. Dropping the old table cascades (foreign_keys is on, and cannot be turned off inside
-- the migration's transaction) to job_metrics, so its rows are kept aside and put back.
CREATE TEMP TABLE kept_metrics AS SELECT * FROM job_metrics;

CREATE TABLE compositions_any_kind (
    id               TEXT PRIMARY KEY,
    user_id          TEXT,
    kind             TEXT NOT NULL DEFAULT 'composition',
    config           TEXT NOT NULL CHECK (json_valid(config)),      -- the accepted request body
    status           TEXT NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'processing', 'completed', 'failed', 'cancelled')),
    progress         TEXT NOT NULL CHECK (json_valid(progress)),    -- {stage, percentage, message}
    progress_seq     INTEGER NOT NULL DEFAULT 0,
    output_key       TEXT,
    thumbnail_key    TEXT,
    error            TEXT CHECK (error IS NULL OR json_valid(error)),  -- {code, message, details}
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL DEFAULT 3,
    lease_owner      TEXT,
    lease_token      TEXT,
    lease_expires_at TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    started_at       TEXT,
    finished_at      TEXT,
    metadata         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    cache_key        TEXT
);
INSERT INTO compositions_any_kind SELECT * FROM compositions;
DROP TABLE compositions;
ALTER TABLE compositions_any_kind RENAME TO compositions;

INSERT INTO job_metrics SELECT * FROM kept_metrics;
DROP TABLE kept_metrics;

CREATE INDEX ix_compositions_status ON compositions (status);
CREATE INDEX ix_compositions_user_id ON compositions (user_id);
CREATE INDEX ix_compositions_created_at ON compositions (created_at DESC);
CREATE INDEX ix_compositions_status_created_at ON compositions (status, created_at);
CREATE INDEX ix_compositions_cache_key ON compositions (cache_key, finished_at)
    WHERE cache_key IS NOT NULL;
