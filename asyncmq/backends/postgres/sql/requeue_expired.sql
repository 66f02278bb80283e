-- requeue_expired: active jobs whose lease ran out (lease_until <= now) get stalls + 1 and go
-- back to waiting with the lease cleared, or to failed with a StalledJobError once stalls
-- exceeds max_stalls; at most $4 per call (the caller repeats while a full batch moved).
-- Runs in a transaction with dependents.sql:cascade when a failed job has dependents.
-- $1 queue text, $2 now float8, $3 max_stalls integer, $4 batch size integer.
-- Returns id, state, has_dependents of each job moved; notifies when any went waiting.
WITH lost AS (
    SELECT ctid
    FROM {schema}.{prefix}jobs
    WHERE queue = $1::text AND state = 'active' AND lease_until <= $2::float8
    ORDER BY lease_until
    LIMIT $4::integer
    FOR UPDATE SKIP LOCKED
),
numbered AS (
    SELECT ctid, nextval('{schema}.{prefix}seq') AS seq FROM lost
),
moved AS (
    UPDATE {schema}.{prefix}jobs AS j
    SET stalls = j.stalls + 1,
        state = CASE WHEN j.stalls + 1 > $3::integer THEN 'failed' ELSE 'waiting' END,
        error = CASE
            WHEN j.stalls + 1 > $3::integer THEN json_build_object(
                'type', 'StalledJobError',
                'message', 'job lost its lease ' || (j.stalls + 1)
                    || ' times (max_stalls=' || $3::integer || ')',
                'traceback', ''
            )::text
            ELSE j.error
        END,
        finished_at = CASE WHEN j.stalls + 1 > $3::integer THEN $2::float8 ELSE j.finished_at END,
        lease_token = NULL,
        lease_until = NULL,
        seq = n.seq
    FROM numbered AS n
    -- By ctid, as claim.sql: the rows are locked above, and no statistics can misplan it
    WHERE j.ctid = ANY(ARRAY(SELECT ctid FROM lost)) AND j.ctid = n.ctid
    RETURNING j.id, j.state, j.has_dependents
),
notified AS (
    SELECT pg_notify('{channel}', $1::text)
    FROM (SELECT 1 FROM moved WHERE state = 'waiting' LIMIT 1) AS any_waiting
)
SELECT id, state, has_dependents, (SELECT count(*) FROM notified) AS notified FROM moved;
