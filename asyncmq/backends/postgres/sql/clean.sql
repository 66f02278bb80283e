-- clean: delete up to $5 jobs in a finished state: those finished before $3 and those beyond
-- the newest $4, newest first (as the in-memory backend). Both bounds read the finished index
-- so a call costs O($4 + $5) whatever the table holds. Also compacts the counts log.
-- $1 queue text, $2 state text (finished), $3 finished_before float8 (NULL: no age bound),
-- $4 keep_last integer (NULL: no count bound), $5 limit integer.
-- Returns deleted (count).
WITH beyond AS (
    SELECT id, finished_at, seq
    FROM {schema}.{prefix}jobs
    WHERE queue = $1::text AND state = $2::text AND $4::integer IS NOT NULL
        AND state IN ('completed', 'failed', 'expired', 'cancelled')
    ORDER BY finished_at DESC, seq DESC
    OFFSET $4::integer LIMIT $5::integer
),
old AS (
    SELECT id, finished_at, seq
    FROM {schema}.{prefix}jobs
    WHERE queue = $1::text AND state = $2::text AND finished_at < $3::float8
        AND state IN ('completed', 'failed', 'expired', 'cancelled')
    ORDER BY finished_at DESC, seq DESC
    LIMIT $5::integer
),
doomed AS (
    SELECT id FROM (SELECT * FROM beyond UNION SELECT * FROM old) AS d
    ORDER BY finished_at DESC, seq DESC
    LIMIT $5::integer
),
deleted AS (
    DELETE FROM {schema}.{prefix}jobs AS j
    WHERE j.queue = $1::text AND j.id = ANY(ARRAY(SELECT id FROM doomed)) AND j.state = $2::text
    RETURNING j.id
),
logged AS (
    DELETE FROM {schema}.{prefix}counts WHERE queue = $1::text RETURNING state, n
),
compacted AS (
    INSERT INTO {schema}.{prefix}counts (queue, state, n)
    SELECT $1::text, state, sum(n) FROM logged GROUP BY state HAVING sum(n) <> 0
)
SELECT count(*)::integer AS deleted FROM deleted;
