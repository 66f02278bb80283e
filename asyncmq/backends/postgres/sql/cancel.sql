-- cancel: any unfinished job -> cancelled, lease cleared (so its worker's settle is stale) and
-- its own unmet edges dropped. Runs in a transaction with dependents.sql:cascade when it has
-- dependents.
-- $1 queue text, $2 job id text, $3 now float8.
-- Returns id, has_dependents when the job was cancelled, else no row.
WITH cancelled AS (
    UPDATE {schema}.{prefix}jobs
    SET state = 'cancelled', finished_at = $3::float8, lease_token = NULL, lease_until = NULL,
        pending = 0
    WHERE queue = $1::text AND id = $2::text
        AND state NOT IN ('completed', 'failed', 'expired', 'cancelled')
    RETURNING id, has_dependents
),
unlinked AS (
    DELETE FROM {schema}.{prefix}deps AS d
    USING cancelled AS c
    WHERE d.queue = $1::text AND d.child_id = c.id
)
SELECT id, has_dependents FROM cancelled;
