-- claim: take waiting jobs in (priority, seq) order, expiring those whose ttl passed, and
-- take rate-limit tokens from the queue's bucket, all in one BEGIN IMMEDIATE transaction.

-- name: queue
-- :queue -> one row (paused, version, rate_limit, rate_interval, tokens, tokens_at) or none
SELECT paused, version, rate_limit, rate_interval, tokens, tokens_at
FROM queues WHERE name = :queue;

-- name: candidates
-- :queue, :now -> rows (rowid, id, ttl, expired) in claim order; read only as far as needed
SELECT rowid, id, ttl, (ttl IS NOT NULL AND attempts = 0 AND created_at + ttl <= :now)
FROM jobs
WHERE queue = :queue AND state = 'waiting'
ORDER BY priority, seq;

-- name: activate
-- :rowids (JSON array, claim order), :seq (the first of len(rowids) fresh numbers), :now,
-- :token, :until -> rows (rowid, then the job columns). seq records the claim order.
UPDATE jobs
SET state = 'active', attempts = attempts + 1, started_at = :now,
    lease_token = :token, lease_until = :until, seq = :seq + taken.key
FROM json_each(:rowids) AS taken
WHERE jobs.rowid = taken.value
RETURNING jobs.rowid, queue, id, state, priority, run_at, created_at, ttl, attempts, stalls,
    started_at, finished_at, lease_token, lease_until, data, result, error, progress;

-- name: save_bucket
-- :queue, :rate_limit, :rate_interval, :tokens, :tokens_at -> nothing
INSERT INTO queues (name, rate_limit, rate_interval, tokens, tokens_at)
VALUES (:queue, :rate_limit, :rate_interval, :tokens, :tokens_at)
ON CONFLICT (name) DO UPDATE SET
    rate_limit = excluded.rate_limit, rate_interval = excluded.rate_interval,
    tokens = excluded.tokens, tokens_at = excluded.tokens_at;
