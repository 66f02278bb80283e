-- claim: unless the queue is paused, take up to $2 waiting jobs, lowest priority number first,
-- FIFO within one (FOR UPDATE SKIP LOCKED, so concurrent claims never share a job), taking one
-- token of the queue's shared rate-limit bucket per job in the same statement.
-- $1 queue text, $2 limit integer, $3 lease token text, $4 now float8,
-- $5 lease_until float8, $6 rate limit integer (NULL: no rate limit), $7 rate interval float8.
-- Waiting jobs never started whose ttl has passed end `expired` and are not taken; the caller
-- then resolves their dependents (dependents.sql:cascade).
-- Returns one row per taken job in claim order (or one row of NULL job columns when none):
-- granted (jobs the bucket allowed), tokens (bucket tokens left, NULL without rate limit),
-- expired (count), expired_parents (expired ids having dependents), then the job columns.

-- name: limited
-- With a rate limit ($6 not NULL).
WITH
flags AS (
    SELECT EXISTS (
        SELECT 1 FROM {schema}.{prefix}queues WHERE queue = $1::text AND paused
    ) AS paused
),
held AS (
    SELECT lim, per, tokens, updated_at
    FROM {schema}.{prefix}rate_limits
    WHERE queue = $1::text AND $6::integer IS NOT NULL
    FOR UPDATE
),
bucket AS (
    SELECT
        CASE
            WHEN $6::integer IS NULL THEN NULL
            WHEN h.lim IS NULL OR h.lim <> $6::integer OR h.per <> $7::float8 THEN $6::float8
            WHEN $4::float8 > h.updated_at THEN least(
                $6::float8,
                h.tokens + ($4::float8 - h.updated_at) * ($6::float8 / $7::float8)
            )
            ELSE h.tokens
        END AS tokens,
        CASE
            WHEN h.lim IS NULL OR h.lim <> $6::integer OR h.per <> $7::float8 THEN $4::float8
            ELSE greatest(h.updated_at, $4::float8)
        END AS updated_at
    FROM (VALUES (1)) AS one (x) LEFT JOIN held AS h ON true
),
wanted AS (
    SELECT
        CASE
            WHEN f.paused THEN 0
            WHEN b.tokens IS NULL THEN $2::integer
            ELSE greatest(least($2::float8, floor(b.tokens)), 0)::integer
        END AS n,
        b.tokens,
        b.updated_at,
        f.paused
    FROM flags AS f, bucket AS b
),
candidates AS (
    SELECT ctid, (ttl IS NOT NULL AND attempts = 0 AND created_at + ttl <= $4::float8) AS dead
    FROM {schema}.{prefix}jobs
    WHERE queue = $1::text AND state = 'waiting'
    ORDER BY priority, seq
    LIMIT (SELECT n FROM wanted)
    FOR UPDATE SKIP LOCKED
),
taken AS (
    UPDATE {schema}.{prefix}jobs AS j
    SET state = 'active', attempts = j.attempts + 1, started_at = $4::float8,
        lease_token = $3::text, lease_until = $5::float8
    -- By ctid: the rows are locked above, so their versions stay put until this UPDATE; a TID
    -- scan needs no statistics. By (queue, id) = ANY(...), a queue the statistics think empty
    -- (any queue newer than the last ANALYZE) got a plan reading every row of the queue.
    WHERE j.ctid = ANY(ARRAY(SELECT ctid FROM candidates WHERE NOT dead))
    RETURNING j.id, j.task_id, j.args, j.kwargs, j.priority, j.retries, j.backoff, j.ttl,
        j.timeout, j.depends_on, j.created_at, j.run_at, j.state, j.attempts, j.stalls,
        j.started_at, j.finished_at, j.result, j.error, j.progress, j.lease_token,
        j.lease_until, j.hard_timeout, j.context, j.seq
),
expired AS (
    UPDATE {schema}.{prefix}jobs AS j
    SET state = 'expired', finished_at = $4::float8, lease_token = NULL, lease_until = NULL,
        error = json_build_object(
            'type', 'JobExpiredError',
            -- float8 text drops a trailing ".0" that Python's repr keeps
            'message', 'not started within ttl='
                || CASE WHEN j.ttl::text ~ '^-?[0-9]+$' THEN j.ttl::text || '.0'
                        ELSE j.ttl::text END
                || 's',
            'traceback', ''
        )::text
    WHERE j.ctid = ANY(ARRAY(SELECT ctid FROM candidates WHERE dead))
    RETURNING j.id, j.has_dependents
),
saved AS (
    INSERT INTO {schema}.{prefix}rate_limits AS r (queue, lim, per, tokens, updated_at)
    SELECT $1::text, $6::integer, $7::float8,
        least($6::float8, w.tokens - (SELECT count(*) FROM taken)), w.updated_at
    FROM wanted AS w
    WHERE $6::integer IS NOT NULL AND NOT w.paused
    ON CONFLICT (queue) DO UPDATE
    SET lim = excluded.lim, per = excluded.per, tokens = excluded.tokens,
        updated_at = excluded.updated_at
    RETURNING r.tokens
),
summary AS (
    SELECT
        w.n AS granted,
        (SELECT tokens FROM saved) AS tokens,
        (SELECT count(*) FROM expired)::integer AS expired,
        (SELECT array_agg(id) FROM expired WHERE has_dependents) AS expired_parents
    FROM wanted AS w
    -- A claim lost in a server crash leaves its jobs waiting (the worker's settle then fails
    -- the token check and the job runs again: at-least-once), so this commit need not wait
    -- for the WAL flush. It halves the cost of a claim.
    WHERE set_config('synchronous_commit', 'off', true) = 'off'
)
SELECT s.granted, s.tokens, s.expired, s.expired_parents,
    t.id, t.task_id, t.args, t.kwargs, t.priority, t.retries, t.backoff, t.ttl, t.timeout,
    t.depends_on, t.created_at, t.run_at, t.state, t.attempts, t.stalls, t.started_at,
    t.finished_at, t.result, t.error, t.progress, t.lease_token, t.lease_until,
    t.hard_timeout, t.context
FROM summary AS s LEFT JOIN taken AS t ON true
ORDER BY t.priority, t.seq;

-- name: unlimited
-- Without a rate limit: $1 to $5 as above, no bucket to read or write (a fifth less work
-- per claim than limited with $6 NULL). Returns the same columns, tokens always NULL.
WITH
flags AS (
    SELECT EXISTS (
        SELECT 1 FROM {schema}.{prefix}queues WHERE queue = $1::text AND paused
    ) AS paused
),
candidates AS (
    SELECT ctid, (ttl IS NOT NULL AND attempts = 0 AND created_at + ttl <= $4::float8) AS dead
    FROM {schema}.{prefix}jobs
    WHERE queue = $1::text AND state = 'waiting'
        AND NOT (SELECT paused FROM flags)
    ORDER BY priority, seq
    LIMIT $2::integer
    FOR UPDATE SKIP LOCKED
),
taken AS (
    UPDATE {schema}.{prefix}jobs AS j
    SET state = 'active', attempts = j.attempts + 1, started_at = $4::float8,
        lease_token = $3::text, lease_until = $5::float8
    WHERE j.ctid = ANY(ARRAY(SELECT ctid FROM candidates WHERE NOT dead))
    RETURNING j.id, j.task_id, j.args, j.kwargs, j.priority, j.retries, j.backoff, j.ttl,
        j.timeout, j.depends_on, j.created_at, j.run_at, j.state, j.attempts, j.stalls,
        j.started_at, j.finished_at, j.result, j.error, j.progress, j.lease_token,
        j.lease_until, j.hard_timeout, j.context, j.seq
),
expired AS (
    UPDATE {schema}.{prefix}jobs AS j
    SET state = 'expired', finished_at = $4::float8, lease_token = NULL, lease_until = NULL,
        error = json_build_object(
            'type', 'JobExpiredError',
            -- float8 text drops a trailing ".0" that Python's repr keeps
            'message', 'not started within ttl='
                || CASE WHEN j.ttl::text ~ '^-?[0-9]+$' THEN j.ttl::text || '.0'
                        ELSE j.ttl::text END
                || 's',
            'traceback', ''
        )::text
    WHERE j.ctid = ANY(ARRAY(SELECT ctid FROM candidates WHERE dead))
    RETURNING j.id, j.has_dependents
),
summary AS (
    SELECT
        CASE WHEN f.paused THEN 0 ELSE $2::integer END AS granted,
        NULL::float8 AS tokens,
        (SELECT count(*) FROM expired)::integer AS expired,
        (SELECT array_agg(id) FROM expired WHERE has_dependents) AS expired_parents
    FROM flags AS f
    -- as in limited
    WHERE set_config('synchronous_commit', 'off', true) = 'off'
)
SELECT s.granted, s.tokens, s.expired, s.expired_parents,
    t.id, t.task_id, t.args, t.kwargs, t.priority, t.retries, t.backoff, t.ttl, t.timeout,
    t.depends_on, t.created_at, t.run_at, t.state, t.attempts, t.stalls, t.started_at,
    t.finished_at, t.result, t.error, t.progress, t.lease_token, t.lease_until,
    t.hard_timeout, t.context
FROM summary AS s LEFT JOIN taken AS t ON true
ORDER BY t.priority, t.seq;
