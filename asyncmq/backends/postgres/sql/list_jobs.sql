-- list_jobs: a page of jobs in one state, in that state's order. Every section takes
-- $1 queue text, $2 offset integer, $3 limit integer and returns the job columns.

-- name: waiting
-- Claim order.
SELECT id, task_id, args, kwargs, priority, retries, backoff, ttl, timeout, depends_on,
    created_at, run_at, state, attempts, stalls, started_at, finished_at, result, error,
    progress, lease_token, lease_until, hard_timeout, context
FROM {schema}.{prefix}jobs
WHERE queue = $1::text AND state = 'waiting'
ORDER BY priority, seq
OFFSET $2::integer LIMIT $3::integer;

-- name: delayed
-- By run_at.
SELECT id, task_id, args, kwargs, priority, retries, backoff, ttl, timeout, depends_on,
    created_at, run_at, state, attempts, stalls, started_at, finished_at, result, error,
    progress, lease_token, lease_until, hard_timeout, context
FROM {schema}.{prefix}jobs
WHERE queue = $1::text AND state = 'delayed'
ORDER BY run_at, seq
OFFSET $2::integer LIMIT $3::integer;

-- name: finished
-- $4 state text (a finished state). Newest finished_at first.
SELECT id, task_id, args, kwargs, priority, retries, backoff, ttl, timeout, depends_on,
    created_at, run_at, state, attempts, stalls, started_at, finished_at, result, error,
    progress, lease_token, lease_until, hard_timeout, context
FROM {schema}.{prefix}jobs
WHERE queue = $1::text AND state = $4::text
    -- repeats the partial index's predicate so a generic plan can use it
    AND state IN ('completed', 'failed', 'expired', 'cancelled')
ORDER BY finished_at DESC, seq DESC
OFFSET $2::integer LIMIT $3::integer;

-- name: active
-- Claim order.
SELECT id, task_id, args, kwargs, priority, retries, backoff, ttl, timeout, depends_on,
    created_at, run_at, state, attempts, stalls, started_at, finished_at, result, error,
    progress, lease_token, lease_until, hard_timeout, context
FROM {schema}.{prefix}jobs
WHERE queue = $1::text AND state = 'active'
ORDER BY seq
OFFSET $2::integer LIMIT $3::integer;

-- name: waiting_children
-- Arrival order.
SELECT id, task_id, args, kwargs, priority, retries, backoff, ttl, timeout, depends_on,
    created_at, run_at, state, attempts, stalls, started_at, finished_at, result, error,
    progress, lease_token, lease_until, hard_timeout, context
FROM {schema}.{prefix}jobs
WHERE queue = $1::text AND state = 'waiting-children'
ORDER BY seq
OFFSET $2::integer LIMIT $3::integer;
