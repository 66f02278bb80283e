-- extend_lease: set lease_until on each job still active under the same token.
-- $1 queue text, $2 job ids text[], $3 tokens text[], $4 until float8.
-- Returns id, token of each lease extended.
-- Fenced by the lease token alone, by the primary key (see lease_token in schema.sql).
UPDATE {schema}.{prefix}jobs AS j
SET lease_until = $4::float8
FROM unnest($2::text[], $3::text[]) AS l(id, token)
WHERE j.queue = $1::text AND j.id = ANY($2::text[]) AND j.id = l.id
    AND j.lease_token = l.token
    -- as for claim: an extension lost in a crash costs at most a second run, never a job
    AND set_config('synchronous_commit', 'off', true) = 'off'
RETURNING l.id, l.token;
