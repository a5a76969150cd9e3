-- Named queries of PostgresJobStore, loaded by vidsvc.store.sql.load_queries("postgres").
-- The same names and parameter names as sql/sqlite/queries.sql. Every state change is ONE
-- conditional UPDATE ... WHERE status = ... [AND lease_token = ...] RETURNING *: the row is the
-- lock, and a stale worker's token matches nothing. A single statement commits on its own, so no
-- row lock outlives the call (docs/reliability.md Part D 1).
-- Parameters are written :name; PostgresJobStore numbers them $1, $2… in order of first use.
-- A parameter whose type PostgreSQL cannot infer from its place carries a cast (:now::timestamptz).
-- Times come from Python (vidsvc.jobs.utcnow), never now(): every backend uses one clock, and
-- the contract suite's time travel (reap_expired(now + 1 h)) means the same thing everywhere.

-- name: insert_job
INSERT INTO compositions (
    id, user_id, kind, config, status, progress, progress_seq, output_key, thumbnail_key, error,
    attempts, max_attempts, lease_owner, lease_token, lease_expires_at, cancel_requested,
    created_at, updated_at, started_at, finished_at, metadata
) VALUES (
    :id, :user_id, :kind, :config, :status, :progress, :progress_seq, :output_key,
    :thumbnail_key, :error, :attempts, :max_attempts, :lease_owner, :lease_token,
    :lease_expires_at, :cancel_requested, :created_at, :updated_at, :started_at, :finished_at,
    :metadata
)
RETURNING *;

-- name: get_job
SELECT * FROM compositions WHERE id = :id;

-- name: list_first
SELECT * FROM compositions
WHERE kind = :kind AND (:status::text IS NULL OR status = :status::text)
ORDER BY created_at DESC, id DESC
LIMIT :limit;

-- name: list_before
-- The cursor is a job id; a join on it yields nothing when the id is unknown.
SELECT c.* FROM compositions AS c
JOIN compositions AS cur ON cur.id = :before
WHERE c.kind = :kind AND (:status::text IS NULL OR c.status = :status::text)
  AND (c.created_at, c.id) < (cur.created_at, cur.id)
ORDER BY c.created_at DESC, c.id DESC
LIMIT :limit;

-- name: count_jobs
SELECT count(*) FROM compositions
WHERE status = :status AND (:kind::text IS NULL OR kind = :kind::text);

-- name: queued_ids
SELECT id FROM compositions WHERE status = 'queued' ORDER BY created_at, id LIMIT :limit;

-- name: claim
UPDATE compositions
SET status = 'processing', attempts = attempts + 1, lease_owner = :owner,
    lease_token = :token, lease_expires_at = :expires_at,
    started_at = coalesce(started_at, :now::timestamptz), progress_seq = progress_seq + 1,
    updated_at = :now::timestamptz
WHERE id = :id AND status = 'queued'
RETURNING *;

-- name: claim_next
-- SKIP LOCKED: concurrent claimers each lock a different queued row instead of queueing
-- behind the first one; the lock lasts only as long as this statement.
UPDATE compositions
SET status = 'processing', attempts = attempts + 1, lease_owner = :owner,
    lease_token = :token, lease_expires_at = :expires_at,
    started_at = coalesce(started_at, :now::timestamptz), progress_seq = progress_seq + 1,
    updated_at = :now::timestamptz
WHERE id = (
        SELECT id FROM compositions WHERE status = 'queued'
        ORDER BY created_at, id FOR UPDATE SKIP LOCKED LIMIT 1
    )
RETURNING *;

-- name: renew
UPDATE compositions SET lease_expires_at = :expires_at
WHERE id = :id AND status = 'processing' AND lease_token = :token
RETURNING id;

-- name: record_progress
-- The percentage keeps the larger of the stored and the new value, capped at 100.
UPDATE compositions
SET progress = jsonb_build_object(
        'stage', :stage::text,
        'percentage', least(100.0::float8,
                            greatest(coalesce((progress ->> 'percentage')::float8, 0.0),
                                     :percentage::float8)),
        'message', :message::text, 'eta_seconds', :eta_seconds::float8, 'speed', :speed::float8),
    progress_seq = progress_seq + 1, updated_at = :now::timestamptz
WHERE id = :id AND status = 'processing' AND lease_token = :token
RETURNING *;

-- name: fenced_metadata
-- Unused by PostgresJobStore: finish merges metadata with jsonb || inside its one UPDATE, so no
-- read-modify-write is needed. Kept so that both dialects define the same names.
SELECT metadata FROM compositions
WHERE id = :id AND status = 'processing' AND lease_token = :token
FOR UPDATE;

-- name: finish
-- metadata || :metadata is the shallow merge of vidsvc.store.rules.merge_metadata.
UPDATE compositions
SET status = :status::text, finished_at = :now::timestamptz, updated_at = :now::timestamptz,
    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
    progress = jsonb_build_object(
        'stage', :status::text,
        'percentage', CASE WHEN :status::text = 'completed' THEN 100.0::float8
                           ELSE (progress ->> 'percentage')::float8 END,
        'message', :status::text),
    progress_seq = progress_seq + 1, error = :error::jsonb,
    output_key = coalesce(:output_key::text, output_key),
    thumbnail_key = coalesce(:thumbnail_key::text, thumbnail_key),
    cache_key = coalesce(:cache_key::text, cache_key),
    metadata = metadata || coalesce(:metadata::jsonb, '{}'::jsonb)
WHERE id = :id AND status = 'processing' AND lease_token = :token
RETURNING *;

-- name: find_cached
-- The render cache (vidsvc/work/compositions/cache.py): the newest completed job rendered from an identical
-- composition. Whether its blobs still exist is the caller's to find out.
SELECT * FROM compositions
WHERE cache_key = :cache_key::text AND status = 'completed'
  AND output_key IS NOT NULL AND thumbnail_key IS NOT NULL
ORDER BY finished_at DESC, id DESC
LIMIT 1;

-- name: requeue
-- A job whose cancel was requested is not handed back: it ends cancelled. A shutdown is our
-- choice, not the job's fault, so a handed-back job gets its attempt back (INV-5 stays exact).
UPDATE compositions
SET status = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'queued' END,
    attempts = CASE WHEN cancel_requested THEN attempts ELSE attempts - 1 END,
    finished_at = CASE WHEN cancel_requested THEN :now::timestamptz ELSE NULL END,
    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
    progress = CASE WHEN cancel_requested
                    THEN jsonb_set(progress, '{stage}', '"cancelled"')
                    ELSE '{"stage": "queued", "percentage": 0.0, "message": ""}'::jsonb END,
    progress_seq = progress_seq + 1, updated_at = :now::timestamptz
WHERE id = :id AND status = 'processing' AND lease_token = :token
RETURNING *;

-- name: cancel
-- queued: cancelled at once; processing: only flagged, its worker stops FFmpeg and finishes it.
UPDATE compositions
SET status = CASE status WHEN 'queued' THEN 'cancelled' ELSE status END,
    finished_at = CASE status WHEN 'queued' THEN :now::timestamptz ELSE finished_at END,
    progress = CASE status WHEN 'queued' THEN jsonb_set(progress, '{stage}', '"cancelled"')
                           ELSE progress END,
    progress_seq = progress_seq + CASE status WHEN 'queued' THEN 1 ELSE 0 END,
    cancel_requested = true, updated_at = :now::timestamptz
WHERE id = :id AND status IN ('queued', 'processing')
RETURNING *;

-- name: reap_expired
-- Keep the message identical to vidsvc.store.rules.lease_lost_error (the contract suite checks).
-- SKIP LOCKED: reapers of several instances never deadlock on each other's rows, and never wait
-- on a row a worker is renewing or finishing right now (the next round sees its outcome).
UPDATE compositions
SET status = CASE WHEN cancel_requested THEN 'cancelled'
                  WHEN attempts >= max_attempts THEN 'failed'
                  ELSE 'queued' END,
    error = CASE WHEN NOT cancel_requested AND attempts >= max_attempts THEN jsonb_build_object(
                'code', 'PROCESSING_FAILED',
                'message', 'the worker stopped renewing its lease; attempt ' || attempts
                           || ' of ' || max_attempts,
                'details', jsonb_build_object('attempts', attempts, 'max_attempts', max_attempts))
            ELSE error END,
    finished_at = CASE WHEN cancel_requested OR attempts >= max_attempts
                       THEN :now::timestamptz ELSE NULL END,
    progress = CASE WHEN cancel_requested THEN jsonb_set(progress, '{stage}', '"cancelled"')
                    WHEN attempts >= max_attempts THEN jsonb_set(progress, '{stage}', '"failed"')
                    ELSE '{"stage": "queued", "percentage": 0.0, "message": ""}'::jsonb END,
    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
    progress_seq = progress_seq + 1, updated_at = :now::timestamptz
WHERE id IN (
        SELECT id FROM compositions
        WHERE status = 'processing' AND lease_expires_at < :expired_before
        FOR UPDATE SKIP LOCKED
    )
RETURNING *;

-- name: insert_metrics
-- Selecting from compositions types the row by kind and makes an unknown job a no-op.
INSERT INTO job_metrics (
    job_id, job_type, duration_seconds, cpu_time, memory_peak_mb, ffmpeg_stats, created_at
)
SELECT id, coalesce(:job_type::text, kind), :duration_seconds::float8, :cpu_time::float8,
       :memory_peak_mb::float8, :ffmpeg_stats::jsonb, :now::timestamptz
FROM compositions WHERE id = :job_id;

-- name: list_metrics
SELECT job_id, job_type, duration_seconds, cpu_time, memory_peak_mb, ffmpeg_stats, created_at
FROM job_metrics WHERE job_id = :job_id ORDER BY id;

-- name: ping
SELECT 1;

-- name: job_metadata
-- Unused by PostgresJobStore (annotate merges with jsonb ||); kept so both dialects match.
SELECT metadata FROM compositions WHERE id = :id;

-- name: annotate
-- Not fenced and any state: notes (callback attempts) are written after a job is terminal.
-- metadata || :metadata is the shallow merge of vidsvc.store.rules.merge_metadata.
UPDATE compositions
SET metadata = metadata || :metadata::jsonb, updated_at = :now::timestamptz
WHERE id = :id
RETURNING *;

-- name: delete_user
-- Running jobs are left alone: their worker still owns them (the caller reports them).
DELETE FROM compositions
WHERE user_id = :user_id::text AND status IN ('queued', 'completed', 'failed', 'cancelled')
RETURNING *;

-- Templates (vidsvc/store/sql_templates.py): no state, so no conditional updates.

-- name: insert_template
-- No row back means the id was taken (the store says so with ValueError, as create() does).
INSERT INTO templates (id, name, composition, placeholders, created_at)
VALUES (:id, :name, :composition, :placeholders, :created_at)
ON CONFLICT (id) DO NOTHING
RETURNING *;

-- name: get_template
SELECT * FROM templates WHERE id = :id;

-- name: list_templates_first
SELECT * FROM templates ORDER BY created_at DESC, id DESC LIMIT :limit;

-- name: list_templates_before
-- As list_before: a join on the cursor yields nothing when its id is unknown.
SELECT t.* FROM templates AS t
JOIN templates AS cur ON cur.id = :before
WHERE (t.created_at, t.id) < (cur.created_at, cur.id)
ORDER BY t.created_at DESC, t.id DESC
LIMIT :limit;

-- name: delete_template
DELETE FROM templates WHERE id = :id RETURNING id;

-- Webhook events (vidsvc/store/sql_callbacks.py): claimed with a lease and fenced by its token,
-- as jobs are; due only once their job is terminal.

-- name: insert_callback
INSERT INTO callback_events (
    id, job_id, url, origin, state, attempts, notes, next_at, created_at, updated_at
) VALUES (
    :id, :job_id, :url, :origin, :state, :attempts, :notes::jsonb, :next_at, :created_at,
    :updated_at
);

-- name: claim_callback
-- SKIP LOCKED: claimers of several instances each take a different event; one that lost the
-- race re-checks the row it read (READ COMMITTED) and finds it leased.
UPDATE callback_events
SET lease_owner = :owner, lease_token = :token, lease_expires_at = :expires_at,
    updated_at = :now::timestamptz
WHERE id = (
        SELECT e.id FROM callback_events AS e
        JOIN compositions AS j ON j.id = e.job_id
        WHERE e.state = 'pending' AND e.next_at <= :now::timestamptz
          AND (e.lease_expires_at IS NULL OR e.lease_expires_at < :now::timestamptz)
          AND j.status IN ('completed', 'failed', 'cancelled')
        ORDER BY e.next_at, e.id
        FOR UPDATE OF e SKIP LOCKED
        LIMIT 1
    )
RETURNING *;

-- name: record_callback
UPDATE callback_events
SET attempts = attempts + 1, notes = notes || jsonb_build_array(:note::jsonb),
    state = :state::text, next_at = :next_at::timestamptz,
    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
    updated_at = :now::timestamptz,
    finished_at = CASE WHEN :state::text = 'pending' THEN NULL ELSE :now::timestamptz END
WHERE id = :id AND state = 'pending' AND lease_token = :token
RETURNING *;

-- name: release_callback
UPDATE callback_events
SET lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
    updated_at = :now::timestamptz
WHERE id = :id AND lease_token = :token
RETURNING *;

-- name: release_callbacks
UPDATE callback_events
SET lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
    updated_at = :now::timestamptz
WHERE lease_token IS NOT NULL AND lease_expires_at < :expired_before::timestamptz
RETURNING id;

-- name: get_callback
SELECT * FROM callback_events WHERE job_id = :job_id;
