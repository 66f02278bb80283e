-- requeue_expired: active jobs whose lease ran out count a stall, then go back to waiting
-- (or fail as stalled, decided by the caller from the returned stall count).

-- name: stall
-- :queue, :now -> rows (id, stalls, seq) of the jobs whose lease ran out
UPDATE jobs SET stalls = stalls + 1
WHERE queue = :queue AND state = 'active' AND lease_until <= :now
RETURNING id, stalls, seq;

-- name: requeue
-- :queue, :id, :seq -> nothing
UPDATE jobs SET state = 'waiting', seq = :seq, lease_token = NULL, lease_until = NULL
WHERE queue = :queue AND id = :id;

-- name: any_expired
-- :queue, :now -> one row if some active job's lease ran out, else none. Read first on the
-- reader connection, so a scan with nothing to do never takes the write lock.
SELECT 1 FROM jobs
WHERE queue = :queue AND state = 'active' AND lease_until <= :now
LIMIT 1;
