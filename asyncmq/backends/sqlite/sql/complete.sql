-- complete: active + same token -> completed with the result (dependents are then released
-- by moves.sql in the same transaction).
-- :queue, :id, :token, :result (JSON or NULL), :now, :seq -> nothing; rowcount 1 if settled

-- name: complete
UPDATE jobs
SET state = 'completed', result = :result, finished_at = :now, seq = :seq,
    lease_token = NULL, lease_until = NULL
WHERE queue = :queue AND id = :id AND state = 'active' AND lease_token = :token;
