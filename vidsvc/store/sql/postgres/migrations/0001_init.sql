-- 0001_init: the seed's three tables, as in sql/sqlite/migrations/0001_init.sql (same names,
-- columns in the same order). Applied by vidsvc.store.migrate.migrate_postgres inside one
-- transaction, under an advisory lock. Valid on PostgreSQL 15 and later.
-- Times are timestamptz written from Python (never now()), so every backend uses one clock.
-- Ids sort with COLLATE "C": byte order, as in SQLite and Python, whatever the cluster locale.

-- Every job kind lives here (column kind); the name is the seed's. id is the composition_id.
CREATE TABLE compositions (
    id               text COLLATE "C" PRIMARY KEY,
    user_id          text,
    kind             text NOT NULL DEFAULT 'composition'
                     CHECK (kind IN ('composition', 'clips')),
    config           jsonb NOT NULL,                    -- the accepted request body
    status           text NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'processing', 'completed', 'failed', 'cancelled')),
    progress         jsonb NOT NULL,                    -- {stage, percentage, message}
    progress_seq     bigint NOT NULL DEFAULT 0,
    output_key       text,
    thumbnail_key    text,
    error            jsonb,                             -- {code, message, details}
    attempts         integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL DEFAULT 3,
    lease_owner      text,
    lease_token      text,
    lease_expires_at timestamptz,
    cancel_requested boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    started_at       timestamptz,
    finished_at      timestamptz,
    metadata         jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX ix_compositions_status ON compositions (status);
CREATE INDEX ix_compositions_user_id ON compositions (user_id);
CREATE INDEX ix_compositions_created_at ON compositions (created_at DESC);
-- claim_next reads the oldest queued row through this one.
CREATE INDEX ix_compositions_status_created_at ON compositions (status, created_at);

-- The internal API's table in the seed; the clip-processing issue starts writing it.
CREATE TABLE processing_jobs (
    processing_id  text COLLATE "C" PRIMARY KEY,
    type           text NOT NULL,
    source_service text,
    config         jsonb NOT NULL DEFAULT '{}',
    status         text NOT NULL DEFAULT 'queued',
    callback_url   text,
    result         jsonb,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);

-- One row per finished run; deleting a job (dev reset-user) takes its metrics with it.
CREATE TABLE job_metrics (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id           text COLLATE "C" NOT NULL REFERENCES compositions (id) ON DELETE CASCADE,
    job_type         text NOT NULL,
    duration_seconds double precision,
    cpu_time         double precision,
    memory_peak_mb   double precision,
    ffmpeg_stats     jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL
);

CREATE INDEX ix_job_metrics_job_id ON job_metrics (job_id);
CREATE INDEX ix_job_metrics_job_type_created_at ON job_metrics (job_type, created_at);
