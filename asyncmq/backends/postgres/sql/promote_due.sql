-- promote_due: delayed jobs with run_at <= now -> waiting, in run_at order, at most $3 per
-- call (the caller repeats while a full batch moved). Idempotent, safe from many processes.
-- Also compacts the queue's counts log (see schema.sql), which the scanner calls often enough.
-- $1 queue text, $2 now float8, $3 batch size integer.
-- Returns promoted (count) and next_run_at (earliest run_at still delayed, or NULL).
WITH due AS (
    SELECT ctid
    FROM {schema}.{prefix}jobs
    WHERE queue = $1::text AND state = 'delayed' AND run_at <= $2::float8
    ORDER BY run_at, seq
    LIMIT $3::integer
    FOR UPDATE SKIP LOCKED
),
numbered AS (
    SELECT ctid, nextval('{schema}.{prefix}seq') AS seq FROM due
),
promoted AS (
    UPDATE {schema}.{prefix}jobs AS j
    SET state = 'waiting', seq = n.seq
    FROM numbered AS n
    -- By ctid, as claim.sql: the rows are locked above, and no statistics can misplan it
    WHERE j.ctid = ANY(ARRAY(SELECT ctid FROM due)) AND j.ctid = n.ctid
    RETURNING j.id
),
logged AS (
    DELETE FROM {schema}.{prefix}counts WHERE queue = $1::text RETURNING state, n
),
compacted AS (
    INSERT INTO {schema}.{prefix}counts (queue, state, n)
    SELECT $1::text, state, sum(n) FROM logged GROUP BY state HAVING sum(n) <> 0
),
notified AS (
    SELECT pg_notify('{channel}', $1::text) FROM (SELECT 1 FROM promoted LIMIT 1) AS any_moved
)
SELECT
    (SELECT count(*) FROM promoted)::integer AS promoted,
    (
        SELECT min(run_at) FROM {schema}.{prefix}jobs
        WHERE queue = $1::text AND state = 'delayed' AND run_at > $2::float8
    ) AS next_run_at,
    (SELECT count(*) FROM notified)::integer AS notified
-- Called by every idle worker before it waits: its commit need not wait for the WAL flush. A
-- promotion lost in a server crash leaves the jobs delayed and due, so the next call promotes
-- them again; the compaction is undone as a whole, leaving the log as it was.
WHERE set_config('synchronous_commit', 'off', true) = 'off';
