-- extend_lease: move the deadline of a job still active under the same token.
-- :queue, :id, :token, :until -> nothing; rowcount 1 if the lease was held

-- name: extend_lease
UPDATE jobs SET lease_until = :until
WHERE queue = :queue AND id = :id AND state = 'active' AND lease_token = :token;
