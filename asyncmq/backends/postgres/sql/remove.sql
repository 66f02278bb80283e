-- remove: delete a job in any state with its own unmet edges. Runs in a transaction with
-- dependents.sql:cascade ('was removed') when it has dependents.
-- $1 queue text, $2 job id text. Returns id, has_dependents when a job was deleted.
WITH removed AS (
    DELETE FROM {schema}.{prefix}jobs
    WHERE queue = $1::text AND id = $2::text
    RETURNING id, has_dependents
),
unlinked AS (
    DELETE FROM {schema}.{prefix}deps AS d
    USING removed AS r
    WHERE d.queue = $1::text AND d.child_id = r.id
)
SELECT id, has_dependents FROM removed;
