-- update_progress: store progress on a job still active under the same token.
-- $1 queue text, $2 job id text, $3 token text, $4 progress (JSON) text.
-- Returns one row when stored.
-- The token alone fences it: every transition out of `active` clears lease_token, so a
-- matching token means the job is active under that lease. Leaving `state = 'active'` out
-- keeps the planner on the primary key (queue, id): with it, the planner may pick the
-- jobs_active partial index and read every active row of the queue, dead versions included.
UPDATE {schema}.{prefix}jobs
SET progress = $4::text
WHERE queue = $1::text AND id = $2::text AND lease_token = $3::text
RETURNING id;
