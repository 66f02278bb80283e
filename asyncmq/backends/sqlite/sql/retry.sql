-- retry: active + same token -> delayed (run_at ahead) or waiting, keeping the error.
-- :queue, :id, :token, :error (JSON), :run_at, :now, :seq -> nothing; rowcount 1 if settled

-- name: retry
UPDATE jobs
SET state = CASE WHEN :run_at > :now THEN 'delayed' ELSE 'waiting' END,
    error = :error, run_at = :run_at, seq = :seq, lease_token = NULL, lease_until = NULL
WHERE queue = :queue AND id = :id AND state = 'active' AND lease_token = :token;
