-- update_progress: store progress on a job still active under the same token.
-- :queue, :id, :token, :progress (JSON or NULL) -> nothing; rowcount 1 if the lease was held

-- name: update_progress
UPDATE jobs SET progress = :progress
WHERE queue = :queue AND id = :id AND state = 'active' AND lease_token = :token;
