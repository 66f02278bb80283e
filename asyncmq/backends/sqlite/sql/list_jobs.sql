-- list_jobs: a page of jobs in one state, each state in its own order and index.
-- :queue, :limit, :offset (and :state for `finished` and `other`) -> rows (the job columns)

-- name: waiting
SELECT queue, id, state, priority, run_at, created_at, ttl, attempts, stalls, started_at,
    finished_at, lease_token, lease_until, data, result, error, progress
FROM jobs WHERE queue = :queue AND state = 'waiting'
ORDER BY priority, seq LIMIT :limit OFFSET :offset;

-- name: delayed
SELECT queue, id, state, priority, run_at, created_at, ttl, attempts, stalls, started_at,
    finished_at, lease_token, lease_until, data, result, error, progress
FROM jobs WHERE queue = :queue AND state = 'delayed'
ORDER BY run_at, seq LIMIT :limit OFFSET :offset;

-- name: finished
-- The IN term repeats the partial index's condition word for word so the planner uses it.
-- Jobs finished at the same instant list in the order they finished.
SELECT queue, id, state, priority, run_at, created_at, ttl, attempts, stalls, started_at,
    finished_at, lease_token, lease_until, data, result, error, progress
FROM jobs
WHERE queue = :queue AND state = :state
    AND state IN ('completed', 'failed', 'expired', 'cancelled')
ORDER BY finished_at DESC, seq LIMIT :limit OFFSET :offset;

-- name: other
-- active and waiting-children, in the order the jobs entered the state.
SELECT queue, id, state, priority, run_at, created_at, ttl, attempts, stalls, started_at,
    finished_at, lease_token, lease_until, data, result, error, progress
FROM jobs WHERE queue = :queue AND state = :state
ORDER BY seq LIMIT :limit OFFSET :offset;
