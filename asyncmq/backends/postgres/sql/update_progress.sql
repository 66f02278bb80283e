-- update_progress: store progress on a job still active under the same token.
-- $1 queue text, $2 job id text, $3 token text, $4 progress (JSON) text.
-- Returns one row when stored.
-- Fenced by the lease token alone, by the primary key (see lease_token in schema.sql).
UPDATE {schema}.{prefix}jobs
SET progress = $4::text
WHERE queue = $1::text AND id = $2::text AND lease_token = $3::text
RETURNING id;
