-- 0001_init: the seed's three tables. Applied by vidsvc.store.migrate inside one transaction.
-- Timestamps are ISO-8601 UTC text with microseconds ("2026-01-01T00:00:00.000000Z"), so text
-- order is time order and the lease comparisons in queries.sql are plain string comparisons.

-- Every job kind lives here (column kind); the name is the seed's. id is the composition_id.
CREATE TABLE compositions (
    id               TEXT PRIMARY KEY,
    user_id          TEXT,
    kind             TEXT NOT NULL DEFAULT 'composition'
                     CHECK (kind IN ('composition', 'clips')),
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
    metadata         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata))
);

CREATE INDEX ix_compositions_status ON compositions (status);
CREATE INDEX ix_compositions_user_id ON compositions (user_id);
CREATE INDEX ix_compositions_created_at ON compositions (created_at DESC);
CREATE INDEX ix_compositions_status_created_at ON compositions (status, created_at);

-- The internal API's table in the seed; the clip-processing issue starts writing it.
CREATE TABLE processing_jobs (
    processing_id  TEXT PRIMARY KEY,
    type           TEXT NOT NULL,
    source_service TEXT,
    config         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(config)),
    status         TEXT NOT NULL DEFAULT 'queued',
    callback_url   TEXT,
    result         TEXT CHECK (result IS NULL OR json_valid(result)),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

-- One row per finished run; deleting a job (dev reset-user) takes its metrics with it.
CREATE TABLE job_metrics (
    id               INTEGER PRIMARY KEY,
    job_id           TEXT NOT NULL REFERENCES compositions (id) ON DELETE CASCADE,
    job_type         TEXT NOT NULL,
    duration_seconds REAL,
    cpu_time         REAL,
    memory_peak_mb   REAL,
    ffmpeg_stats     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(ffmpeg_stats)),
    created_at       TEXT NOT NULL
);

CREATE INDEX ix_job_metrics_job_id ON job_metrics (job_id);
CREATE INDEX ix_job_metrics_job_type_created_at ON job_metrics (job_type, created_at);
