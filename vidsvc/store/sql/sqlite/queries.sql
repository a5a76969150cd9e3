-- Named queries of SqliteJobStore, loaded by vidsvc.store.sql.load_queries("sqlite").
-- Every state change is ONE conditional UPDATE ... WHERE status = ... [AND lease_token = ...]
-- RETURNING *: the row is the lock, and a stale worker's token matches nothing.
-- Parameters are named (:id); times are the sortable UTC text described in 0001_init.sql.

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
WHERE kind = :kind AND (:status IS NULL OR status = :status)
ORDER BY created_at DESC, id DESC
LIMIT :limit;

-- name: list_before
-- The cursor is a job id; a join on it yields nothing when the id is unknown.
SELECT c.* FROM compositions AS c
JOIN compositions AS cur ON cur.id = :before
WHERE c.kind = :kind AND (:status IS NULL OR c.status = :status)
  AND (c.created_at, c.id) < (cur.created_at, cur.id)
ORDER BY c.created_at DESC, c.id DESC
LIMIT :limit;

-- name: count_jobs
SELECT count(*) FROM compositions
WHERE status = :status AND (:kind IS NULL OR kind = :kind);

-- name: queued_ids
SELECT id FROM compositions WHERE status = 'queued' ORDER BY created_at, id LIMIT :limit;

-- name: claim
UPDATE compositions
SET status = 'processing', attempts = attempts + 1, lease_owner = :owner,
    lease_token = :token, lease_expires_at = :expires_at,
    started_at = coalesce(started_at, :now), progress_seq = progress_seq + 1, updated_at = :now
WHERE id = :id AND status = 'queued'
RETURNING *;

-- name: claim_next
UPDATE compositions
SET status = 'processing', attempts = attempts + 1, lease_owner = :owner,
    lease_token = :token, lease_expires_at = :expires_at,
    started_at = coalesce(started_at, :now), progress_seq = progress_seq + 1, updated_at = :now
WHERE id = (
        SELECT id FROM compositions WHERE status = 'queued' ORDER BY created_at, id LIMIT 1
    )
  AND status = 'queued'
RETURNING *;

-- name: renew
UPDATE compositions SET lease_expires_at = :expires_at
WHERE id = :id AND status = 'processing' AND lease_token = :token
RETURNING id;

-- name: record_progress
-- The percentage keeps the larger of the stored and the new value, capped at 100.
UPDATE compositions
SET progress = json_object(
        'stage', :stage,
        'percentage', min(100.0, max(coalesce(json_extract(progress, '$.percentage'), 0.0),
                                     :percentage)),
        'message', :message, 'eta_seconds', :eta_seconds, 'speed', :speed),
    progress_seq = progress_seq + 1, updated_at = :now
WHERE id = :id AND status = 'processing' AND lease_token = :token
RETURNING *;

-- name: fenced_metadata
-- Read inside the BEGIN IMMEDIATE of finish(), so the merge cannot lose a concurrent write.
SELECT metadata FROM compositions
WHERE id = :id AND status = 'processing' AND lease_token = :token;

-- name: finish
UPDATE compositions
SET status = :status, finished_at = :now, updated_at = :now,
    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
    progress = json_object(
        'stage', :status,
        'percentage', CASE WHEN :status = 'completed' THEN 100.0
                           ELSE json_extract(progress, '$.percentage') END,
        'message', :status),
    progress_seq = progress_seq + 1, error = :error,
    output_key = coalesce(:output_key, output_key),
    thumbnail_key = coalesce(:thumbnail_key, thumbnail_key),
    cache_key = coalesce(:cache_key, cache_key),
    metadata = coalesce(:metadata, metadata)
WHERE id = :id AND status = 'processing' AND lease_token = :token
RETURNING *;

-- name: find_cached
-- The render cache (vidsvc/work/compositions/cache.py): the newest completed job rendered from an identical
-- composition. Whether its blobs still exist is the caller's to find out.
SELECT * FROM compositions
WHERE cache_key = :cache_key AND status = 'completed'
  AND output_key IS NOT NULL AND thumbnail_key IS NOT NULL
ORDER BY finished_at DESC, id DESC
LIMIT 1;

-- name: requeue
-- A job whose cancel was requested is not handed back: it ends cancelled. A shutdown is our
-- choice, not the job's fault, so a handed-back job gets its attempt back (INV-5 stays exact).
UPDATE compositions
SET status = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'queued' END,
    attempts = CASE WHEN cancel_requested THEN attempts ELSE attempts - 1 END,
    finished_at = CASE WHEN cancel_requested THEN :now ELSE NULL END,
    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
    progress = CASE WHEN cancel_requested THEN json_set(progress, '$.stage', 'cancelled')
                    ELSE json_object('stage', 'queued', 'percentage', 0.0, 'message', '') END,
    progress_seq = progress_seq + 1, updated_at = :now
WHERE id = :id AND status = 'processing' AND lease_token = :token
RETURNING *;

-- name: cancel
-- queued: cancelled at once; processing: only flagged, its worker stops FFmpeg and finishes it.
UPDATE compositions
SET status = CASE status WHEN 'queued' THEN 'cancelled' ELSE status END,
    finished_at = CASE status WHEN 'queued' THEN :now ELSE finished_at END,
    progress = CASE status WHEN 'queued' THEN json_set(progress, '$.stage', 'cancelled')
                           ELSE progress END,
    progress_seq = progress_seq + (status = 'queued'),
    cancel_requested = 1, updated_at = :now
WHERE id = :id AND status IN ('queued', 'processing')
RETURNING *;

-- name: reap_expired
-- Keep the message identical to vidsvc.store.rules.lease_lost_error (the contract suite checks).
UPDATE compositions
SET status = CASE WHEN cancel_requested THEN 'cancelled'
                  WHEN attempts >= max_attempts THEN 'failed'
                  ELSE 'queued' END,
    error = CASE WHEN NOT cancel_requested AND attempts >= max_attempts THEN json_object(
                'code', 'PROCESSING_FAILED',
                'message', 'the worker stopped renewing its lease; attempt ' || attempts
                           || ' of ' || max_attempts,
                'details', json_object('attempts', attempts, 'max_attempts', max_attempts))
            ELSE error END,
    finished_at = CASE WHEN cancel_requested OR attempts >= max_attempts THEN :now
                       ELSE NULL END,
    progress = CASE WHEN cancel_requested THEN json_set(progress, '$.stage', 'cancelled')
                    WHEN attempts >= max_attempts THEN json_set(progress, '$.stage', 'failed')
                    ELSE json_object('stage', 'queued', 'percentage', 0.0, 'message', '') END,
    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
    progress_seq = progress_seq + 1, updated_at = :now
WHERE status = 'processing' AND lease_expires_at < :expired_before
RETURNING *;

-- name: insert_metrics
-- Selecting from compositions types the row by kind and makes an unknown job a no-op.
INSERT INTO job_metrics (
    job_id, job_type, duration_seconds, cpu_time, memory_peak_mb, ffmpeg_stats, created_at
)
SELECT id, coalesce(:job_type, kind), :duration_seconds, :cpu_time, :memory_peak_mb,
       :ffmpeg_stats, :now
FROM compositions WHERE id = :job_id;

-- name: list_metrics
SELECT job_id, job_type, duration_seconds, cpu_time, memory_peak_mb, ffmpeg_stats, created_at
FROM job_metrics WHERE job_id = :job_id ORDER BY id;

-- name: ping
SELECT 1;

-- name: job_metadata
-- Read inside the BEGIN IMMEDIATE of annotate(), so the merge cannot lose a concurrent write.
SELECT metadata FROM compositions WHERE id = :id;

-- name: annotate
-- Not fenced and any state: notes (callback attempts) are written after a job is terminal.
-- State and progress_seq stay as they are: this is not a transition clients wait for.
UPDATE compositions SET metadata = :metadata, updated_at = :now
WHERE id = :id
RETURNING *;

-- name: delete_user
-- Running jobs are left alone: their worker still owns them (the caller reports them).
DELETE FROM compositions
WHERE user_id = :user_id AND status IN ('queued', 'completed', 'failed', 'cancelled')
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
    :id, :job_id, :url, :origin, :state, :attempts, :notes, :next_at, :created_at, :updated_at
);

-- name: claim_callback
-- Run inside BEGIN IMMEDIATE: the write lock serializes claimers.
UPDATE callback_events
SET lease_owner = :owner, lease_token = :token, lease_expires_at = :expires_at,
    updated_at = :now
WHERE id = (
        SELECT e.id FROM callback_events AS e
        JOIN compositions AS j ON j.id = e.job_id
        WHERE e.state = 'pending' AND e.next_at <= :now
          AND (e.lease_expires_at IS NULL OR e.lease_expires_at < :now)
          AND j.status IN ('completed', 'failed', 'cancelled')
        ORDER BY e.next_at, e.id LIMIT 1
    )
RETURNING *;

-- name: record_callback
-- json_insert '$[#]' appends the attempt's note to the array.
UPDATE callback_events
SET attempts = attempts + 1, notes = json_insert(notes, '$[#]', json(:note)),
    state = :state, next_at = :next_at,
    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = :now,
    finished_at = CASE WHEN :state = 'pending' THEN NULL ELSE :now END
WHERE id = :id AND state = 'pending' AND lease_token = :token
RETURNING *;

-- name: release_callback
UPDATE callback_events
SET lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = :now
WHERE id = :id AND lease_token = :token
RETURNING *;

-- name: release_callbacks
UPDATE callback_events
SET lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = :now
WHERE lease_token IS NOT NULL AND lease_expires_at < :expired_before
RETURNING id;

-- name: get_callback
SELECT * FROM callback_events WHERE job_id = :job_id;
