-- update_progress: store progress on a job still active under the same token.
-- $1 queue text, $2 job id text, $3 token text, $4 progress (JSON) text.
-- Returns one row when stored.
UPDATE {schema}.{prefix}jobs
SET progress = $4::text
WHERE queue = $1::text AND id = $2::text AND state = 'active' AND lease_token = $3::text
RETURNING id;
