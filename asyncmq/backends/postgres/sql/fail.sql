-- fail: active + same token -> failed (the dead-letter set) with the error. When a failed job
-- has dependents the caller runs dependents.sql:cascade next.
-- $1 queue text, $2 job ids text[], $3 tokens text[], $4 errors (JSON) text[], $5 now float8,
-- $6 synchronous_commit for this statement text ('on' or 'off').
-- Returns id, token, has_dependents of each job failed.
-- Fenced by the lease token alone, by the primary key (see lease_token in schema.sql).
UPDATE {schema}.{prefix}jobs AS j
SET state = 'failed', error = i.error, finished_at = $5::float8,
    lease_token = NULL, lease_until = NULL
FROM unnest($2::text[], $3::text[], $4::text[]) AS i(id, token, error)
WHERE j.queue = $1::text AND j.id = ANY($2::text[]) AND j.id = i.id AND j.lease_token = i.token
    AND set_config('synchronous_commit', $6::text, true) IS NOT NULL
RETURNING i.id, i.token, j.has_dependents;
