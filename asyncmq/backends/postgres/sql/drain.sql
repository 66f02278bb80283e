-- drain: delete up to $2 waiting, delayed and waiting-children jobs with their unmet edges
-- (the caller repeats while a full batch went). $1 queue text, $2 batch size integer.
-- Returns deleted (count).
WITH doomed AS (
    SELECT id
    FROM {schema}.{prefix}jobs
    WHERE queue = $1::text AND state IN ('waiting', 'delayed', 'waiting-children')
    LIMIT $2::integer
),
deleted AS (
    DELETE FROM {schema}.{prefix}jobs AS j
    WHERE j.queue = $1::text AND j.id = ANY(ARRAY(SELECT id FROM doomed))
        AND j.state IN ('waiting', 'delayed', 'waiting-children')
    RETURNING j.id
),
unlinked AS (
    DELETE FROM {schema}.{prefix}deps AS e
    USING deleted AS d
    WHERE e.queue = $1::text AND e.child_id = d.id
)
SELECT count(*)::integer AS deleted FROM deleted;
