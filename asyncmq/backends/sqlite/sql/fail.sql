-- fail: active + same token -> failed with the error (dependents then cascade via moves.sql).
-- :queue, :id, :token, :error (JSON), :now, :seq -> nothing; rowcount 1 if settled

-- name: fail
UPDATE jobs
SET state = 'failed', error = :error, finished_at = :now, seq = :seq,
    lease_token = NULL, lease_until = NULL
WHERE queue = :queue AND id = :id AND state = 'active' AND lease_token = :token;
