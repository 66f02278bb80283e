-- get_job: one job by id.
-- :queue, :id -> one row (the job columns) or none

-- name: get_job
SELECT queue, id, state, priority, run_at, created_at, ttl, attempts, stalls, started_at,
    finished_at, lease_token, lease_until, data, result, error, progress
FROM jobs WHERE queue = :queue AND id = :id;
