-- 0005_callback_events: composition webhooks (vidsvc/callbacks/outbox.py). One row per job that
-- names a callback_url, inserted in the job's own commit (JobStore.create); due once its job is
-- terminal; claimed with a lease and each attempt recorded fenced by its token, as jobs are.
-- id is the event id receivers see (X-Vidsvc-Event-Id). Deleting a job deletes its event (a
-- later migration that rebuilds compositions must keep these rows aside, as 0003 did metrics).
CREATE TABLE callback_events (
    id               TEXT PRIMARY KEY,
    job_id           TEXT NOT NULL REFERENCES compositions (id) ON DELETE CASCADE,
    url              TEXT NOT NULL,
    origin           TEXT NOT NULL DEFAULT '',     -- the public origin at submit: body links
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    notes            TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(notes)),  -- one per attempt
    next_at          TEXT NOT NULL,                -- sortable UTC text, as 0001
    lease_owner      TEXT,
    lease_token      TEXT,
    lease_expires_at TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    finished_at      TEXT
);

-- One event per job (a job ends once); named, so both dialects list the same indexes.
CREATE UNIQUE INDEX ix_callback_events_job_id ON callback_events (job_id);

-- claim_callback: the oldest due event. Partial: delivered and failed rows are never claimed.
CREATE INDEX ix_callback_events_due ON callback_events (next_at) WHERE state = 'pending';
