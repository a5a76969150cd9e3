-- 0005_callback_events: composition webhooks, as in sql/sqlite/migrations/0005_callback_events.sql
-- (same names, columns in the same order). A new table: no rewrite of compositions.
CREATE TABLE callback_events (
    id               text COLLATE "C" PRIMARY KEY,
    job_id           text COLLATE "C" NOT NULL REFERENCES compositions (id) ON DELETE CASCADE,
    url              text NOT NULL,
    origin           text NOT NULL DEFAULT '',
    state            text NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    notes            jsonb NOT NULL DEFAULT '[]',
    next_at          timestamptz NOT NULL,
    lease_owner      text,
    lease_token      text,
    lease_expires_at timestamptz,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    finished_at      timestamptz
);

-- One event per job (a job ends once); named, so both dialects list the same indexes.
CREATE UNIQUE INDEX ix_callback_events_job_id ON callback_events (job_id);

-- claim_callback: the oldest due event. Partial: delivered and failed rows are never claimed.
CREATE INDEX ix_callback_events_due ON callback_events (next_at) WHERE state = 'pending';
